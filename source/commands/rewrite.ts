/**
 * `cairn rewrite`: new snapshots without the files that match exclude patterns (restic 0.15+).
 * Shared lock, or exclusive with --forget; no lock and nothing written with --dry-run.
 */
import {readFile} from 'node:fs/promises';
import {UsageError} from '../../engine/errors.js';
import {rewriteSnapshots} from '../../engine/maintenance/rewrite.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {makeVerbose, replaceSelectedSnapshots, type SnapshotFilterFlags} from './maintenance-common.js';

/** Flags of `cairn rewrite`. */
export interface RewriteFlags extends GlobalFlags, SnapshotFilterFlags {
	exclude?: string[];
	excludeFile?: string[];
	iexclude?: string[];
	iexcludeFile?: string[];
	forget?: boolean;
	dryRun?: boolean;
}

/** Reads exclude files as restic does: one pattern a line, blank lines and `#` comments skipped, $VARS expanded. */
export async function readExcludePatternFiles(files: readonly string[] = []): Promise<string[]> {
	const patterns: string[] = [];
	for (const file of files) {
		let text: string;
		try {
			text = await readFile(file, 'utf8');
		} catch (error) {
			throw new UsageError(`cannot read the exclude file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
		}
		for (const raw of text.split(/\r?\n/)) {
			const line = raw.trim();
			if (!line || line.startsWith('#')) continue;
			patterns.push(line.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => process.env[a ?? b ?? ''] ?? ''));
		}
	}
	return patterns;
}

/** `cairn rewrite [ID...]`. */
export async function runRewriteCommand(ids: string[], flags: RewriteFlags, signal: AbortSignal): Promise<number> {
	const excludes = [...(flags.exclude ?? []), ...(await readExcludePatternFiles(flags.excludeFile))];
	const iexcludes = [...(flags.iexclude ?? []), ...(await readExcludePatternFiles(flags.iexcludeFile))];
	if (excludes.length === 0 && iexcludes.length === 0) throw new UsageError('nothing to do: no excludes given; use --exclude PATTERN or --exclude-file FILE (--iexclude / --iexclude-file ignore case)');
	const verbose = makeVerbose(flags);
	const repo = await openRepository(flags, signal);
	try {
		let lock;
		if (!flags.dryRun) {
			if (flags.forget) verbose('create exclusive lock for repository\n');
			lock = await acquireLock(repo, {exclusive: Boolean(flags.forget), signal});
		}
		try {
			return await replaceSelectedSnapshots(repo, ids, flags, verbose, signal, (snapshots, settings) => rewriteSnapshots(repo, snapshots, {
				excludes, iexcludes, ...settings,
				onExcluded: (path) => verbose(`excluding ${path}\n`),
			}));
		} finally {
			await lock?.release();
		}
	} finally {
		await repo.close();
	}
}
