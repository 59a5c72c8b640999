/**
 * Finding every blob that snapshots still need: each snapshot's tree, every tree below it and the
 * data blobs of every file. Prune must never proceed on a partial answer, so any tree that cannot
 * be found or read stops it.
 */
import type {PackedBlob} from '../format/pack.js';
import {decodeTree} from '../format/tree.js';
import {CairnError} from '../errors.js';
import type {Repository} from '../repository/repository.js';
import {mapConcurrent} from '../util/concurrency.js';
import {blobKey} from './pack-index.js';

/** Where the copies of a blob are stored. */
export type BlobCopies = ReadonlyMap<string, ReadonlyArray<{packId: string; blob: PackedBlob}>>;

/** The blobs snapshots need, and the needed blobs no index lists. */
export interface UsedBlobs {
	/** Keys `type:id` of every needed blob. */
	readonly used: Set<string>;
	/** Keys of needed blobs that no index lists (prune refuses to run when there are any). */
	readonly missing: Set<string>;
	/** Distinct trees read. */
	readonly trees: number;
}

/** Loads one tree from the first stored copy that verifies; throws a CairnError when none does. */
async function loadTree(repo: Repository, id: string, copies: BlobCopies, stored: ReadonlyMap<string, number> | undefined, signal?: AbortSignal): Promise<Buffer> {
	const failures: string[] = [];
	const all = copies.get(blobKey('tree', id)) ?? [];
	const present = stored ? all.filter((copy) => stored.has(copy.packId)) : all;
	if (present.length === 0) {
		throw new CairnError(`tree ${id} is only in pack files missing from storage (${all.map((c) => c.packId).join(', ')}); prune stopped before changing anything, because the data below that tree would look unused. Run \`cairn check\` to see which snapshots are affected`);
	}
	for (const {packId, blob} of present) {
		try {
			const raw = await repo.storage.load({type: 'data', name: packId}, {offset: blob.offset, length: blob.length, signal});
			return await repo.decodeBlob('tree', id, raw, packId, blob.uncompressedLength);
		} catch (error) {
			if (signal?.aborted) throw error;
			failures.push(`in pack ${packId}: ${(error as Error).message}`);
		}
	}
	throw new CairnError(`tree ${id} cannot be read (${failures.join('; ')}); prune stopped before changing anything, because the data below that tree would look unused. Run \`cairn check --read-data\` to see what is damaged`);
}

/**
 * Walks the trees of the given snapshot roots breadth-first (each tree once) and collects the
 * keys of every tree and data blob they need. Trees missing from the index are recorded in
 * `missing` (their contents cannot be known); a tree that is indexed but unreadable throws, as does
 * one whose packs are all absent from `stored` (the pack files in storage), when given.
 */
export async function findUsedBlobs(repo: Repository, rootTrees: readonly string[], copies: BlobCopies, options: {signal?: AbortSignal; concurrency?: number; onTree?: (done: number) => void; stored?: ReadonlyMap<string, number>} = {}): Promise<UsedBlobs> {
	const used = new Set<string>();
	const missing = new Set<string>();
	let trees = 0;
	let level: string[] = [];
	const visit = (id: string): void => {
		const key = blobKey('tree', id);
		if (used.has(key)) return;
		used.add(key);
		if (copies.has(key)) level.push(id);
		else missing.add(key);
	};
	for (const id of rootTrees) visit(id);
	while (level.length > 0) {
		const current = level;
		level = [];
		const decoded = await mapConcurrent(current, options.concurrency ?? 8, async (id) => {
			const bytes = await loadTree(repo, id, copies, options.stored, options.signal);
			try {
				return decodeTree(bytes, id).nodes;
			} catch (error) {
				throw new CairnError(`tree ${id} cannot be decoded (${(error as Error).message}); prune stopped before changing anything. Run \`cairn check\` to see what is damaged`, {cause: error});
			} finally {
				options.onTree?.(++trees);
			}
		});
		for (const nodes of decoded) {
			for (const node of nodes) {
				if (node.type === 'file') {
					for (const id of node.content ?? []) {
						const key = blobKey('data', id);
						if (used.has(key)) continue;
						used.add(key);
						if (!copies.has(key)) missing.add(key);
					}
				} else if (node.type === 'dir' && typeof node.subtree === 'string' && node.subtree !== '') {
					visit(node.subtree);
				}
			}
		}
	}
	return {used, missing, trees};
}
