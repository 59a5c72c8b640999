/**
 * `repair snapshots` (restic 0.16): rewrites snapshots so they no longer refer to data the
 * repository lacks. A file loses the blobs that are not in the index (its size is corrected); a
 * directory whose tree cannot be read becomes empty; a snapshot whose root tree cannot be read
 * is removed. Run `repair index` first, so the index lists what the packs really hold.
 */
import type {Snapshot} from '../format/snapshot.js';
import type {TreeNode} from '../format/tree.js';
import type {Repository} from '../repository/repository.js';
import {replaceSnapshots, type ReplaceOutcome} from './replace-snapshot.js';
import {TreeRewriter} from './tree-rewriter.js';

/** One thing repaired, as restic prints it. */
export type RepairNote =
	| {readonly kind: 'file-content'; readonly path: string}
	| {readonly kind: 'file-size'; readonly path: string}
	| {readonly kind: 'dir-unreadable'; readonly path: string}
	| {readonly kind: 'dir-emptied'; readonly path: string};

/** Settings of {@link repairSnapshots}. */
export interface RepairSnapshotsOptions {
	readonly forget?: boolean;
	readonly dryRun?: boolean;
	readonly signal?: AbortSignal;
	readonly onSnapshot?: (snapshot: Snapshot) => void;
	readonly onNote?: (note: RepairNote) => void;
	readonly onOutcome?: (snapshot: Snapshot, outcome: ReplaceOutcome) => void;
}

/**
 * Repairs a file node against the index (pure apart from the lookup): keeps only the content
 * blobs `hasBlob` finds and sets the size to the sum of their plaintext sizes. Returns the same
 * node when nothing changes.
 */
export function repairFileNode(node: TreeNode, sizeOf: (id: string) => number | undefined): {node: TreeNode; missing: boolean; resized: boolean} {
	if (node.type !== 'file') return {node, missing: false, resized: false};
	const content: string[] = [];
	let size = 0;
	let missing = false;
	for (const id of node.content ?? []) {
		const blobSize = sizeOf(id);
		if (blobSize === undefined) missing = true;
		else {
			content.push(id);
			size += blobSize;
		}
	}
	const resized = !missing && size !== (node.size ?? 0);
	if (!missing && !resized && node.content !== null) return {node, missing, resized};
	return {node: {...node, content, size}, missing, resized};
}

/** Repairs the snapshots; resolves with the number changed. The caller holds an exclusive lock and has loaded the index. */
export async function repairSnapshots(repo: Repository, snapshots: readonly Snapshot[], options: RepairSnapshotsOptions): Promise<number> {
	const sizeOf = (id: string): number | undefined => {
		const location = repo.index.lookup('data', id);
		if (!location) return undefined;
		return location.uncompressedLength > 0 ? location.uncompressedLength : plaintextLength(location.length);
	};
	let emptyTree: string | undefined;
	const rewriter: TreeRewriter = new TreeRewriter(repo, {
		cacheByTree: true,
		dryRun: options.dryRun,
		signal: options.signal,
		rewriteNode: (node, path) => {
			const result = repairFileNode(node, sizeOf);
			if (result.missing) options.onNote?.({kind: 'file-content', path});
			else if (result.resized) options.onNote?.({kind: 'file-size', path});
			return result.node;
		},
		replaceUnreadableTree: async (_id, path): Promise<string | undefined> => {
			if (path === '/') {
				options.onNote?.({kind: 'dir-unreadable', path});
				return undefined;
			}
			options.onNote?.({kind: 'dir-emptied', path});
			emptyTree ??= await rewriter.saveTree([]);
			return emptyTree;
		},
	});
	return replaceSnapshots(repo, snapshots, () => rewriter, {...options, addTag: 'repaired'});
}

/** Plaintext length of an uncompressed encrypted blob (IV 16 + MAC 16). */
function plaintextLength(encrypted: number): number {
	return encrypted - 32;
}
