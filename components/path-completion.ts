/**
 * Tab completion of file-system paths in text fields.
 */
import {readdir, stat} from 'node:fs/promises';
import {join, resolve} from 'node:path';

/** The completed text and, when several names fit, the names to show. */
export interface Completion {
	readonly value: string;
	readonly candidates: readonly string[];
}

/** Expands a leading `~` and resolves the path against `cwd`. */
export function expandPath(text: string, cwd: string, home: string): string {
	const expanded = text === '~' ? home : text.startsWith('~/') ? join(home, text.slice(2)) : text;
	return resolve(cwd, expanded);
}

/** The longest common start of some names. */
export function findCommonPrefix(names: readonly string[]): string {
	if (names.length === 0) return '';
	let prefix = names[0]!;
	for (const name of names) {
		while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
	}
	return prefix;
}

/**
 * Completes the last component of `text` against the directory it names. One match is
 * completed in full (with `/` after a directory); several are completed to their common start
 * and listed. Hidden names are offered only when the typed start begins with a dot.
 */
export async function completePath(text: string, cwd: string, home: string): Promise<Completion> {
	const slash = text.lastIndexOf('/');
	const head = slash >= 0 ? text.slice(0, slash + 1) : '';
	const start = slash >= 0 ? text.slice(slash + 1) : text;
	if (text === '~') return {value: '~/', candidates: []};
	const directory = head === '' ? cwd : expandPath(head, cwd, home);
	let entries: Array<{name: string; dir: boolean}>;
	try {
		const dirents = await readdir(directory, {withFileTypes: true});
		entries = await Promise.all(dirents.map(async (d) => ({name: d.name, dir: d.isDirectory() || (d.isSymbolicLink() && (await isDirectory(join(directory, d.name))))})));
	} catch {
		return {value: text, candidates: []};
	}
	const matches = entries
		.filter((e) => e.name.startsWith(start) && (start.startsWith('.') || !e.name.startsWith('.')))
		.sort((a, b) => a.name.localeCompare(b.name));
	if (matches.length === 0) return {value: text, candidates: []};
	if (matches.length === 1) {
		const only = matches[0]!;
		return {value: head + only.name + (only.dir ? '/' : ''), candidates: []};
	}
	const prefix = findCommonPrefix(matches.map((m) => m.name));
	return {value: head + (prefix.length > start.length ? prefix : start), candidates: matches.map((m) => m.name + (m.dir ? '/' : ''))};
}

async function isDirectory(path: string): Promise<boolean> {
	try {
		return (await stat(path)).isDirectory();
	} catch {
		return false;
	}
}
