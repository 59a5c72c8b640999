/**
 * Collects encrypted blobs into packs (one open pack per blob type), uploads full packs with a
 * bounded number in flight, adds them to the index once stored, and writes index files while
 * work goes on so that an interrupted run's packs are found by the next one.
 */
import type {Storage} from '../../adapters/storage.js';
import {CIPHERTEXT_OVERHEAD, sealBytes, type MasterKey} from '../crypto/cipher.js';
import {encodePackHeader, headerEntrySize, type BlobType, type PackedBlob} from '../format/pack.js';
import type {PackEntry} from '../format/index-file.js';
import {hashHex, hashHexOffThread} from '../util/hash.js';
import type {MasterIndex} from './master-index.js';

/** Write an index file after this many packs have been stored without one. */
const PACKS_PER_INDEX = 24;
/**
 * ...or once the packs stored without one hold this many blobs (restic's index files hold at
 * most 50,000): their entries wait in memory as objects until written, about 200 bytes each,
 * which a backup of many small files would otherwise keep for hundreds of thousands of blobs.
 */
const BLOBS_PER_INDEX = 32_768;
/** ...or after this long since the last index write. */
const INDEX_INTERVAL_MS = 60_000;
/**
 * Uploads of this uploader's own packs in flight before `add` waits. Packs laid out elsewhere
 * ({@link PackUploader.storeFinished}) are bounded by their owner: the chunk worker pool holds at
 * most its memory budget's pack buffers.
 */
const MAX_UPLOADS = 2;

/** Room in an open pack's buffer beyond the pack size, for the header and a last blob. */
const PACK_ROOM = 512 * 1024;

interface OpenPack {
	/**
	 * Encrypted blobs, laid out in order as they come (no copy when the pack is finished). Made
	 * with room for a full pack but only filled pages are resident, so a pack of a few trees
	 * costs a few pages.
	 */
	buffer: Buffer | undefined;
	blobs: PackedBlob[];
	size: number;
}

function newPack(): OpenPack {
	return {buffer: undefined, blobs: [], size: 0};
}

/** Bytes of a pack header listing `blobs`, sealed, plus its length field. */
function headerBytes(blobs: readonly PackedBlob[]): number {
	let size = CIPHERTEXT_OVERHEAD + 4;
	for (const blob of blobs) size += headerEntrySize(blob.uncompressedLength > 0);
	return size;
}

/** Lays out a finished pack in its own buffer when the header fits there: blobs, then the encrypted header and its length. */
function layOutPack(key: MasterKey, pack: OpenPack): Buffer {
	const header = sealBytes(key, encodePackHeader(pack.blobs));
	const total = pack.size + header.length + 4;
	let bytes = pack.buffer ?? Buffer.alloc(0);
	if (bytes.length < total) {
		const grown = Buffer.allocUnsafeSlow(total);
		grown.set(bytes.subarray(0, pack.size));
		bytes = grown;
	}
	bytes.set(header, pack.size);
	bytes.writeUInt32LE(header.length, pack.size + header.length);
	pack.buffer = undefined;
	return bytes.subarray(0, total);
}

/** Assembles a pack file from encrypted blobs; returns the bytes and its ID. */
export function assemblePack(key: MasterKey, parts: readonly Uint8Array[], blobs: readonly PackedBlob[]): {bytes: Buffer; id: string} {
	const size = parts.reduce((sum, part) => sum + part.length, 0);
	const buffer = Buffer.allocUnsafeSlow(size + headerBytes(blobs));
	let offset = 0;
	for (const part of parts) {
		buffer.set(part, offset);
		offset += part.length;
	}
	const bytes = layOutPack(key, {buffer, blobs: [...blobs], size});
	return {bytes, id: hashHex(bytes)};
}

export class PackUploader {
	private readonly open: Record<BlobType, OpenPack> = {data: newPack(), tree: newPack()};
	private readonly pending: Record<BlobType, Set<string>> = {data: new Set(), tree: new Set()};
	/** Every upload in flight (what flush and salvage wait for). */
	private readonly inFlight = new Set<Promise<void>>();
	/** The uploads in flight of this uploader's own packs (bounded by MAX_UPLOADS). */
	private readonly ownInFlight = new Set<Promise<void>>();
	private unindexed: PackEntry[] = [];
	/** Blobs in `unindexed`. */
	private unindexedBlobs = 0;
	private lastIndexWrite = Date.now();
	private failure: Error | undefined;
	uploadedBytes = 0;

	constructor(
		private readonly storage: Storage,
		private readonly key: MasterKey,
		private readonly index: MasterIndex,
		private readonly packSize: number,
		private readonly writeIndex: (packs: PackEntry[]) => Promise<unknown>,
	) {}

	/** True when a blob is being packed or uploaded right now. */
	isPending(type: BlobType, id: string): boolean {
		return this.pending[type].has(id);
	}

	/** Reserves a blob ID so concurrent savers of the same content store it once. */
	markPending(type: BlobType, id: string): void {
		this.pending[type].add(id);
	}

	/**
	 * Appends an encrypted blob to the open pack of its type (copied into the pack's buffer);
	 * uploads the pack when it is full.
	 */
	async add(type: BlobType, id: string, sealed: Uint8Array, uncompressedLength: number, signal?: AbortSignal): Promise<void> {
		if (this.failure) throw this.failure;
		let pack = this.open[type];
		const growth = sealed.length + headerEntrySize(uncompressedLength > 0);
		if (pack.buffer && pack.blobs.length > 0 && pack.size + growth + headerBytes(pack.blobs) > pack.buffer.length) {
			// The blob and the header would not fit the buffer: this pack is full.
			this.open[type] = newPack();
			await this.startUpload(type, pack, signal);
			pack = this.open[type];
		}
		pack.buffer ??= Buffer.allocUnsafeSlow(Math.max(this.packSize + PACK_ROOM, growth + headerBytes([])));
		pack.buffer.set(sealed, pack.size);
		pack.blobs.push({type, id, offset: pack.size, length: sealed.length, uncompressedLength});
		pack.size += sealed.length;
		if (pack.size >= this.packSize) {
			this.open[type] = newPack();
			await this.startUpload(type, pack, signal);
		}
	}

	/**
	 * Stores a pack laid out elsewhere (a chunk worker's), then indexes it like its own packs.
	 * Starts at once (its owner bounds how many it stores at once); resolves once the pack is
	 * stored and indexed, and rejects when it could not be stored.
	 */
	async storeFinished(bytes: Uint8Array, id: string, blobs: PackedBlob[], signal?: AbortSignal): Promise<void> {
		const {done} = await this.beginUpload(() => this.storeAndIndex(bytes, id, blobs, signal), false);
		await done;
	}

	private async startUpload(type: BlobType, pack: OpenPack, signal?: AbortSignal): Promise<void> {
		await this.beginUpload(() => this.upload(type, pack, signal), true);
	}

	/**
	 * Starts `run` as a tracked upload, for an own pack (`own`) once one of MAX_UPLOADS slots is
	 * free. `done` settles with it; a failure is also kept in `failure` (so later calls throw it),
	 * which makes `done` safe to leave unawaited.
	 */
	private async beginUpload(run: () => Promise<void>, own: boolean): Promise<{done: Promise<void>}> {
		while (own && this.ownInFlight.size >= MAX_UPLOADS) await Promise.race(this.ownInFlight);
		if (this.failure) throw this.failure;
		const done = run();
		const tracked = done.catch((error: Error) => {
			this.failure ??= error;
		});
		this.inFlight.add(tracked);
		if (own) this.ownInFlight.add(tracked);
		void tracked.finally(() => {
			this.inFlight.delete(tracked);
			this.ownInFlight.delete(tracked);
		});
		return {done};
	}

	private async upload(type: BlobType, pack: OpenPack, signal?: AbortSignal): Promise<void> {
		const blobs = pack.blobs;
		const bytes = layOutPack(this.key, pack);
		await this.storeAndIndex(bytes, await hashHexOffThread(bytes), blobs, signal);
		for (const blob of blobs) this.pending[type].delete(blob.id);
	}

	/** Saves a pack, adds it to the in-memory index, and writes an index file when one is due. */
	private async storeAndIndex(bytes: Uint8Array, id: string, blobs: PackedBlob[], signal?: AbortSignal): Promise<void> {
		await this.storage.save({type: 'data', name: id}, bytes, {signal});
		this.uploadedBytes += bytes.length;
		const entry: PackEntry = {packId: id, blobs};
		this.index.addPack(entry);
		this.unindexed.push(entry);
		this.unindexedBlobs += blobs.length;
		if (this.unindexed.length >= PACKS_PER_INDEX || this.unindexedBlobs >= BLOBS_PER_INDEX || Date.now() - this.lastIndexWrite > INDEX_INTERVAL_MS) {
			await this.writePendingIndex();
		}
	}

	private async writePendingIndex(): Promise<void> {
		if (this.unindexed.length === 0) return;
		const packs = this.unindexed;
		this.unindexed = [];
		this.unindexedBlobs = 0;
		this.lastIndexWrite = Date.now();
		try {
			await this.writeIndex(packs);
		} catch (error) {
			this.unindexed.push(...packs);
			this.unindexedBlobs += packs.reduce((sum, pack) => sum + pack.blobs.length, 0);
			throw error;
		}
	}

	/**
	 * Starts uploading the packs being filled, waiting only for an upload slot (not for the
	 * uploads); {@link flush} waits for them and writes the index.
	 */
	async uploadOpenPacks(signal?: AbortSignal): Promise<void> {
		for (const type of ['data', 'tree'] as const) {
			const pack = this.open[type];
			if (pack.blobs.length > 0) {
				this.open[type] = newPack();
				await this.startUpload(type, pack, signal);
			}
		}
	}

	/** Uploads open packs, waits for all uploads and writes the index for every stored pack. */
	async flush(signal?: AbortSignal): Promise<void> {
		await this.uploadOpenPacks(signal);
		while (this.inFlight.size > 0) await Promise.race(this.inFlight);
		if (this.failure) {
			// Packs that did reach storage are still indexed so a later run can reuse them.
			await this.writePendingIndex().catch(() => undefined);
			throw this.failure;
		}
		await this.writePendingIndex();
	}

	/**
	 * After a failure or cancellation: waits for uploads already under way and indexes the packs
	 * that reached storage, dropping blobs that were still being packed.
	 */
	async salvage(): Promise<void> {
		while (this.inFlight.size > 0) await Promise.race(this.inFlight);
		this.open.data = newPack();
		this.open.tree = newPack();
		this.pending.data.clear();
		this.pending.tree.clear();
		await this.writePendingIndex();
	}
}
