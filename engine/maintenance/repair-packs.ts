/**
 * `repair packs ID...` (restic 0.17): salvages the intact blobs of damaged pack files. Every blob
 * the index lists for such a pack is read and verified; the good ones are stored again in new
 * packs, the index is rewritten without the damaged packs, and those are removed. Blobs that
 * cannot be read are lost; `repair snapshots` then removes the references to them.
 * The caller holds an exclusive lock; the index must NOT be loaded yet (this loads it without the
 * damaged packs, so their blobs are saved again).
 */
import {decodeIndexFile, type PackEntry} from '../format/index-file.js';
import type {PackedBlob} from '../format/pack.js';
import type {Repository} from '../repository/repository.js';
import {mapConcurrent} from '../util/concurrency.js';
import {groupPacksForIndex} from './repair-index.js';

/** Something worth telling while packs are salvaged. */
export type RepairPacksEvent =
	| {readonly kind: 'no-blobs'; readonly packId: string}
	| {readonly kind: 'blob-lost'; readonly packId: string; readonly blobId: string; readonly error: Error}
	| {readonly kind: 'pack-done'; readonly packId: string; readonly salvaged: number; readonly lost: number};

/** What {@link repairPacks} did. */
export interface RepairPacksResult {
	readonly salvaged: number;
	readonly lost: number;
	readonly packsRemoved: number;
}

/** Salvages the packs `ids`; see the module comment. */
export async function repairPacks(repo: Repository, ids: readonly string[], options: {signal?: AbortSignal; onEvent?: (event: RepairPacksEvent) => void} = {}): Promise<RepairPacksResult> {
	const {signal} = options;
	const damaged = new Set(ids);
	const oldIndexIds = await repo.listIds('index', signal);
	const staying = new Map<string, PackEntry>();
	const salvage = new Map<string, PackedBlob[]>();
	await mapConcurrent(oldIndexIds, 8, async (id) => {
		for (const pack of decodeIndexFile(await repo.loadJson('index', id, signal), id).packs) {
			if (damaged.has(pack.packId)) {
				const list = salvage.get(pack.packId) ?? [];
				for (const blob of pack.blobs) if (!list.some((b) => b.id === blob.id && b.type === blob.type)) list.push(blob);
				salvage.set(pack.packId, list);
			} else if (!staying.has(pack.packId)) {
				staying.set(pack.packId, pack);
			}
		}
	});
	// The in-memory index lacks the damaged packs, so their blobs count as missing and are saved again.
	for (const pack of staying.values()) repo.index.addPack(pack);
	let salvaged = 0;
	let lost = 0;
	for (const packId of ids) {
		const blobs = salvage.get(packId);
		if (!blobs?.length) {
			options.onEvent?.({kind: 'no-blobs', packId});
			continue;
		}
		let bytes: Buffer | undefined;
		try {
			bytes = Buffer.from(await repo.storage.load({type: 'data', name: packId}, {signal}));
		} catch (error) {
			if (signal?.aborted) throw error;
		}
		let packSalvaged = 0;
		let packLost = 0;
		for (const blob of blobs) {
			try {
				if (!bytes) throw new Error('the pack file cannot be read');
				if (blob.offset + blob.length > bytes.length) throw new Error('the pack file is truncated before this blob ends');
				const plaintext = await repo.decodeBlob(blob.type, blob.id, bytes.subarray(blob.offset, blob.offset + blob.length), packId, blob.uncompressedLength);
				await repo.saveBlob(blob.type, plaintext, blob.id, signal);
				packSalvaged++;
			} catch (error) {
				if (signal?.aborted) throw error;
				packLost++;
				options.onEvent?.({kind: 'blob-lost', packId, blobId: blob.id, error: error as Error});
			}
		}
		salvaged += packSalvaged;
		lost += packLost;
		options.onEvent?.({kind: 'pack-done', packId, salvaged: packSalvaged, lost: packLost});
	}
	await repo.flush(signal);
	// The new index: every pack but the damaged ones (the salvaged blobs' packs are in the index file flush wrote).
	for (const group of groupPacksForIndex([...staying.values()])) await repo.saveIndex(group, oldIndexIds, signal);
	for (const id of oldIndexIds) await repo.storage.remove({type: 'index', name: id}, {signal});
	let packsRemoved = 0;
	for (const packId of ids) {
		try {
			await repo.storage.remove({type: 'data', name: packId}, {signal});
			packsRemoved++;
		} catch (error) {
			if (signal?.aborted) throw error;
			// prune removes it later: no index lists it any more
		}
	}
	return {salvaged, lost, packsRemoved};
}
