/**
 * Read-only sources of real files for the corpus: the project's node_modules and system
 * folders. Entries are walked in name order so that a corpus of a given size is reproducible on
 * one machine; unreadable entries are skipped.
 */
import {promises as fs} from 'node:fs';
import * as path from 'node:path';

/** A folder files are copied from. */
export interface Source {
	/** Short name used as a folder name in the corpus. */
	label: string;
	root: string;
}

/** A regular file or symlink met while walking a source. */
export interface SourceEntry {
	/** Path relative to the source root. */
	rel: string;
	abs: string;
	kind: 'file' | 'symlink';
	size: number;
}

/** The candidate sources that exist here, project first. */
export async function findSources(projectRoot: string): Promise<Source[]> {
	const candidates: Source[] = [
		{label: 'node_modules', root: path.join(projectRoot, 'node_modules')},
		{label: 'usr-share', root: '/usr/share'},
		{label: 'usr-lib', root: '/usr/lib'},
		{label: 'usr-bin', root: '/usr/bin'},
	];
	const found: Source[] = [];
	for (const candidate of candidates) {
		const stats = await fs.stat(candidate.root).catch(() => undefined);
		if (stats?.isDirectory()) found.push(candidate);
	}
	return found;
}

/** Walks a source depth-first in name order, yielding regular files and symlinks. */
export async function* walkSource(root: string, rel = ''): AsyncGenerator<SourceEntry> {
	const dir = path.join(root, rel);
	let entries;
	try {
		entries = await fs.readdir(dir, {withFileTypes: true});
	} catch {
		return;
	}
	entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	for (const entry of entries) {
		const childRel = rel ? `${rel}/${entry.name}` : entry.name;
		const abs = path.join(root, childRel);
		if (entry.isDirectory()) {
			yield* walkSource(root, childRel);
		} else if (entry.isSymbolicLink()) {
			yield {rel: childRel, abs, kind: 'symlink', size: 0};
		} else if (entry.isFile()) {
			const stats = await fs.stat(abs).catch(() => undefined);
			if (stats) yield {rel: childRel, abs, kind: 'file', size: stats.size};
		}
	}
}

/**
 * A position in one source's walk. When the walk ends the cursor starts over and counts a new
 * pass, so a corpus larger than the sources repeats them into numbered folders.
 */
export class SourceCursor {
	pass = 0;
	private iterator: AsyncGenerator<SourceEntry>;

	constructor(readonly source: Source) {
		this.iterator = walkSource(source.root);
	}

	/** The next entry of the current pass, or undefined when the pass is over (the cursor then restarts). */
	async next(): Promise<SourceEntry | undefined> {
		const result = await this.iterator.next();
		if (!result.done) return result.value;
		this.iterator = walkSource(this.source.root);
		this.pass++;
		return undefined;
	}
}
