/**
 * The index as prune needs it: every pack with its full blob list and every copy of every blob
 * (the master index keeps only one location per blob, which cannot tell duplicates apart).
 */
import {decodeIndexFile} from '../format/index-file.js';
import type {BlobType, PackedBlob} from '../format/pack.js';
import {CairnError} from '../errors.js';
import {findMalformedEntry} from '../checker/index-files.js';
import type {Repository} from '../repository/repository.js';
import {mapConcurrent} from '../util/concurrency.js';

/** One indexed pack. */
export interface IndexedPack {
	readonly packId: string;
	/** Blobs in offset order. */
	readonly blobs: readonly PackedBlob[];
}

/** Every pack the index files list, and where each blob is stored. */
export interface PackIndex {
	/** Packs by ID (a pack listed by several index files appears once). */
	readonly packs: ReadonlyMap<string, IndexedPack>;
	/** The index files read, sorted. */
	readonly indexIds: readonly string[];
	/** True when some pack is listed by more than one index file. */
	readonly hasRepeatedPacks: boolean;
}

/** The key of a blob in sets and maps: `type:id`. */
export function blobKey(type: BlobType, id: string): string {
	return `${type}:${id}`;
}

/** A canonical text of a blob list, to tell whether two index files agree about a pack. */
function describeBlobs(blobs: readonly PackedBlob[]): string {
	return blobs.map((b) => `${b.type}:${b.id}:${b.offset}:${b.length}:${b.uncompressedLength}`).join(',');
}

/**
 * Reads every index file. Any index file that cannot be read, or that disagrees with another about
 * a pack, stops the prune with a CairnError: the packs it lists would otherwise look unused.
 */
export async function loadPackIndex(repo: Repository, options: {signal?: AbortSignal; concurrency?: number} = {}): Promise<PackIndex> {
	const indexIds = (await repo.listIds('index', options.signal)).sort();
	const docs = await mapConcurrent(indexIds, options.concurrency ?? 8, async (id) => {
		let packs;
		try {
			packs = decodeIndexFile(await repo.loadJson('index', id, options.signal), id).packs;
		} catch (error) {
			if (options.signal?.aborted) throw error;
			throw new CairnError(`index/${id} cannot be read (${(error as Error).message}); prune stopped before changing anything, because the packs that index file lists would look unused. Run \`cairn check\` to see what is damaged`, {cause: error});
		}
		const malformed = findMalformedEntry(packs);
		if (malformed) throw new CairnError(`index/${id} is malformed (${malformed}); prune stopped before changing anything. Run \`cairn check\` to see what is damaged`);
		return packs;
	});
	const packs = new Map<string, IndexedPack>();
	const signatures = new Map<string, string>();
	let hasRepeatedPacks = false;
	for (const [position, id] of indexIds.entries()) {
		for (const entry of docs[position]!) {
			const blobs = [...entry.blobs].sort((a, b) => a.offset - b.offset);
			const signature = describeBlobs(blobs);
			const seen = signatures.get(entry.packId);
			if (seen === undefined) {
				packs.set(entry.packId, {packId: entry.packId, blobs});
				signatures.set(entry.packId, signature);
			} else {
				hasRepeatedPacks = true;
				if (seen !== signature) {
					throw new CairnError(`pack ${entry.packId} is described differently by two index files (one of them index/${id}); prune stopped before changing anything. Run \`cairn check\` to see what is damaged`);
				}
			}
		}
	}
	return {packs, indexIds, hasRepeatedPacks};
}

/** Every stored copy of every blob: `type:id` → the packs and entries holding it. */
export function mapBlobCopies(index: PackIndex): Map<string, Array<{packId: string; blob: PackedBlob}>> {
	const copies = new Map<string, Array<{packId: string; blob: PackedBlob}>>();
	for (const pack of index.packs.values()) {
		for (const blob of pack.blobs) {
			const key = blobKey(blob.type, blob.id);
			let list = copies.get(key);
			if (!list) copies.set(key, list = []);
			list.push({packId: pack.packId, blob});
		}
	}
	return copies;
}
