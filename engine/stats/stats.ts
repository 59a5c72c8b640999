/**
 * restic's `stats` in its four counting modes. Pure apart from the tree loader and the index
 * lookups it is given; feed it one snapshot tree after another, then read the result.
 */
import {createHash} from 'node:crypto';
import type {BlobType} from '../format/pack.js';
import type {TreeNode} from '../format/tree.js';
import {walkRestic, type TreeLoader} from '../walker/walker.js';

/** The counting modes. */
export const STATS_MODES = ['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data'] as const;
export type StatsMode = typeof STATS_MODES[number];

/** The result, with restic's JSON field names (total_blob_count is left out when 0). */
export interface StatsResult {
	total_size: number;
	total_file_count: number;
	total_blob_count?: number;
	snapshots_count: number;
}

/** Index lookups the counting needs. */
export interface StatsIndex {
	/** Plaintext size of a data blob (blobs-per-file). */
	plaintextSize(type: BlobType, id: string): number | undefined;
	/** Size of the blob as stored in its pack, encrypted (raw-data). */
	storedSize(type: BlobType, id: string): number | undefined;
}

/** Counts snapshots in one mode, as restic does. */
export class StatsCounter {
	private totalSize = 0;
	private fileCount = 0;
	private blobCount = 0;
	private snapshots = 0;
	private readonly uniqueFiles = new Set<string>();
	private readonly fileBlobs = new Map<string, Set<string>>();
	/** raw-data: every blob the snapshots use (`t<id>` / `d<id>`). */
	private readonly blobs = new Set<string>();

	constructor(readonly mode: StatsMode, private readonly load: TreeLoader, private readonly index: StatsIndex) {}

	/** Adds one snapshot (its root tree). */
	async addSnapshot(rootTree: string): Promise<void> {
		this.snapshots++;
		if (this.mode === 'raw-data') {
			await this.collectBlobs(rootTree);
			return;
		}
		const uniqueInodes = new Set<number>();
		await walkRestic(this.load, rootTree, (parentTree, nodePath, node, error) => {
			if (error) throw error;
			if (!node) return {ignore: true};
			if (this.mode === 'files-by-contents' || this.mode === 'blobs-per-file') this.countByContents(parentTree, nodePath, node);
			if (this.mode === 'restore-size') {
				this.fileCount++;
				const inode = node.inode ?? 0;
				if (inode === 0 || !uniqueInodes.has(inode)) {
					uniqueInodes.add(inode);
					this.totalSize += node.size ?? 0;
				}
				return {ignore: false};
			}
			return {ignore: true};
		}, new Set());
	}

	private countByContents(parentTree: string, nodePath: string, node: TreeNode): void {
		const hash = createHash('sha256');
		for (const id of node.content ?? []) hash.update(Buffer.from(id, 'hex'));
		const fileId = hash.digest('hex');
		if (this.uniqueFiles.has(fileId)) return;
		this.uniqueFiles.add(fileId);
		if (this.mode === 'files-by-contents') {
			this.totalSize += node.size ?? 0;
			this.fileCount++;
			return;
		}
		// restic keys files by the walk path joined with the name once more; kept for equal counts.
		const key = `${nodePath}/${node.name}`;
		for (const id of node.content ?? []) {
			let seen = this.fileBlobs.get(key);
			if (!seen) {
				seen = new Set();
				this.fileBlobs.set(key, seen);
				this.fileCount++;
			}
			if (seen.has(id)) continue;
			const size = this.index.plaintextSize('data', id);
			if (size === undefined) throw new Error(`blob ${id} not found for tree ${parentTree}`);
			this.totalSize += size;
			seen.add(id);
			this.blobCount++;
		}
	}

	private async collectBlobs(treeId: string): Promise<void> {
		const key = `t${treeId}`;
		if (this.blobs.has(key)) return;
		this.blobs.add(key);
		for (const node of await this.load(treeId)) {
			if (node.type === 'file') for (const id of node.content ?? []) this.blobs.add(`d${id}`);
			else if (node.type === 'dir' && node.subtree) await this.collectBlobs(node.subtree);
		}
	}

	/** The totals so far. raw-data sizes are summed here; a blob missing from the index throws. */
	result(): StatsResult {
		let totalSize = this.totalSize;
		let blobCount = this.blobCount;
		if (this.mode === 'raw-data') {
			for (const key of this.blobs) {
				const type: BlobType = key[0] === 't' ? 'tree' : 'data';
				const size = this.index.storedSize(type, key.slice(1));
				if (size === undefined) throw new Error(`blob <${type}/${key.slice(1, 9)}> not found`);
				totalSize += size;
				blobCount++;
			}
		}
		return blobCount
			? {total_size: totalSize, total_file_count: this.fileCount, total_blob_count: blobCount, snapshots_count: this.snapshots}
			: {total_size: totalSize, total_file_count: this.fileCount, snapshots_count: this.snapshots};
	}
}
