/**
 * `rewrite`: new snapshots without the paths that match exclude patterns (restic 0.15+).
 */
import {compileExcludes} from '../archiver/excludes.js';
import type {Snapshot} from '../format/snapshot.js';
import type {Repository} from '../repository/repository.js';
import {replaceSnapshots, type ReplaceOutcome} from './replace-snapshot.js';
import {TreeRewriter} from './tree-rewriter.js';

/** Settings of {@link rewriteSnapshots}. */
export interface RewriteOptions {
	/** restic exclude patterns (as `backup --exclude`). */
	readonly excludes: readonly string[];
	/** Patterns matched without regard to case (`--iexclude`, as restic: both sides lowercased). */
	readonly iexcludes?: readonly string[];
	readonly forget?: boolean;
	readonly dryRun?: boolean;
	readonly signal?: AbortSignal;
	/** Told before each snapshot is rewritten. */
	readonly onSnapshot?: (snapshot: Snapshot) => void;
	/** Told of each excluded path. */
	readonly onExcluded?: (path: string) => void;
	/** Told what became of each snapshot. */
	readonly onOutcome?: (snapshot: Snapshot, outcome: ReplaceOutcome) => void;
}

/**
 * Rewrites each snapshot without the excluded paths; resolves with the number of snapshots
 * changed. The caller holds the lock restic takes (exclusive with `forget`, shared otherwise).
 */
export async function rewriteSnapshots(repo: Repository, snapshots: readonly Snapshot[], options: RewriteOptions): Promise<number> {
	const exact = compileExcludes(options.excludes);
	const folded = compileExcludes((options.iexcludes ?? []).map((pattern) => pattern.toLowerCase()));
	const excluded = (path: string): boolean => exact(path) || folded(path.toLowerCase());
	const rewriterFor = (): TreeRewriter => new TreeRewriter(repo, {
		requireStableEncoding: true,
		dryRun: options.dryRun,
		signal: options.signal,
		rewriteNode: (node, path) => {
			if (!excluded(path)) return node;
			options.onExcluded?.(path);
			return undefined;
		},
	});
	return replaceSnapshots(repo, snapshots, rewriterFor, {...options, addTag: 'rewrite'});
}
