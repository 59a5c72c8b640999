/**
 * Repacking: the needed blobs of the packs a prune rewrites are copied, still encrypted, into new
 * packs. Each blob is verified first (MAC, decompression, SHA-256 against its ID), so damage is
 * never copied. The new packs are saved but not indexed: until the prune saves its new index they
 * are unreferenced packs, which the format allows, and the old packs still hold every blob.
 */
import type {PackEntry} from '../format/index-file.js';
import type {BlobType, PackedBlob} from '../format/pack.js';
import {CairnError} from '../errors.js';
import {assemblePack} from '../repository/pack-uploader.js';
import type {Repository} from '../repository/repository.js';
import {mapConcurrent} from '../util/concurrency.js';
import {blobKey, type IndexedPack} from './pack-index.js';
import type {BlobCopies} from './used-blobs.js';

/** Packs read at once (each needed range is held in memory). */
const READ_CONCURRENCY = 2;

/** Collects encrypted blobs of one type and saves them as packs of about `packSize` bytes. */
class PackWriter {
	private parts: Uint8Array[] = [];
	private blobs: PackedBlob[] = [];
	private size = 0;
	private saving: Promise<void> = Promise.resolve();
	readonly written: PackEntry[] = [];
	bytesWritten = 0;

	constructor(private readonly repo: Repository, private readonly packSize: number, private readonly signal?: AbortSignal) {}

	/** Appends a blob; starts saving the pack when it is full (one save at a time). */
	async add(blob: PackedBlob, sealed: Uint8Array): Promise<void> {
		this.blobs.push({...blob, offset: this.size});
		this.parts.push(sealed);
		this.size += sealed.length;
		if (this.size >= this.packSize) await this.finish();
	}

	/** Saves the open pack, if any, after the one being saved. */
	async finish(): Promise<void> {
		if (this.blobs.length === 0) return this.saving;
		const parts = this.parts;
		const blobs = this.blobs;
		this.parts = [];
		this.blobs = [];
		this.size = 0;
		const previous = this.saving;
		this.saving = (async () => {
			await previous;
			const {bytes, id} = assemblePack(this.repo.key, parts, blobs);
			await this.repo.storage.save({type: 'data', name: id}, bytes, {signal: this.signal});
			this.written.push({packId: id, blobs});
			this.bytesWritten += bytes.length;
		})();
		return this.saving;
	}
}

/** What the repack wrote. */
export interface RepackResult {
	/** The new packs and their blobs, for the new index. */
	readonly packs: PackEntry[];
	readonly bytesWritten: number;
}

/** Reads the byte range of a pack that covers the given blobs (in offset order). */
async function loadRange(repo: Repository, packId: string, blobs: readonly PackedBlob[], signal?: AbortSignal): Promise<{bytes: Uint8Array; start: number}> {
	const start = blobs[0]!.offset;
	const end = blobs.at(-1)!.offset + blobs.at(-1)!.length;
	const bytes = await repo.storage.load({type: 'data', name: packId}, {offset: start, length: end - start, signal});
	return {bytes, start};
}

/**
 * Copies every blob in `keep` out of the packs in `packs` into new packs, each once, verifying it
 * first. A blob whose copy is damaged is taken from another copy in `fallback` packs when there is
 * one; a needed blob with no sound copy throws a CairnError (the new packs are then unreferenced,
 * which is harmless, and nothing has been deleted).
 */
export async function repackBlobs(repo: Repository, packs: readonly IndexedPack[], keep: ReadonlySet<string>, copies: BlobCopies, fallback: ReadonlySet<string>, options: {signal?: AbortSignal; onPack?: (done: number) => void} = {}): Promise<RepackResult> {
	const {signal} = options;
	const remaining = new Set(keep);
	const writers: Record<BlobType, PackWriter> = {data: new PackWriter(repo, repo.packSize, signal), tree: new PackWriter(repo, repo.packSize, signal)};
	const failures = new Map<string, string[]>();
	let done = 0;

	const copyBlob = async (packId: string, blob: PackedBlob, raw: Uint8Array): Promise<void> => {
		const key = blobKey(blob.type, blob.id);
		if (!remaining.has(key)) return;
		try {
			await repo.decodeBlob(blob.type, blob.id, raw, packId, blob.uncompressedLength);
		} catch (error) {
			if (signal?.aborted) throw error;
			const list = failures.get(key) ?? [];
			list.push(`in pack ${packId}: ${(error as Error).message}`);
			failures.set(key, list);
			return;
		}
		if (!remaining.delete(key)) return; // another pack's copy got there first
		await writers[blob.type].add(blob, raw);
	};

	await mapConcurrent(packs, READ_CONCURRENCY, async (pack) => {
		const wanted = pack.blobs.filter((blob) => remaining.has(blobKey(blob.type, blob.id)));
		if (wanted.length > 0) {
			const {bytes, start} = await loadRange(repo, pack.packId, wanted, signal);
			for (const blob of wanted) {
				await copyBlob(pack.packId, blob, bytes.subarray(blob.offset - start, blob.offset - start + blob.length));
			}
		}
		options.onPack?.(++done);
	});

	// Blobs whose copies in the repacked packs failed: try their other copies in packs that go.
	for (const key of [...remaining]) {
		const repacked = new Set(packs.map((p) => p.packId));
		for (const {packId, blob} of copies.get(key) ?? []) {
			if (!remaining.has(key)) break;
			if (repacked.has(packId) || !fallback.has(packId)) continue;
			try {
				const raw = await repo.storage.load({type: 'data', name: packId}, {offset: blob.offset, length: blob.length, signal});
				await copyBlob(packId, blob, raw);
			} catch (error) {
				if (signal?.aborted) throw error;
				failures.set(key, [...(failures.get(key) ?? []), `in pack ${packId}: ${(error as Error).message}`]);
			}
		}
	}
	await Promise.all([writers.data.finish(), writers.tree.finish()]);

	if (remaining.size > 0) {
		const described = [...remaining].slice(0, 5).map((key) => `${key.replace(':', ' blob ')} (${(failures.get(key) ?? ['not found in the packs being repacked']).join('; ')})`);
		throw new CairnError(`prune stopped: ${remaining.size} needed blobs could not be copied out of the packs being repacked: ${described.join('; ')}${remaining.size > 5 ? '; …' : ''}. Nothing was deleted. Run \`cairn check --read-data\` to see what is damaged`);
	}
	return {packs: [...writers.data.written, ...writers.tree.written], bytesWritten: writers.data.bytesWritten + writers.tree.bytesWritten};
}
