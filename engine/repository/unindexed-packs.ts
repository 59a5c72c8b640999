/**
 * Packs that reached storage but that no index lists: what a backup killed before it wrote its
 * index leaves behind. A backup indexes them before it starts (after verifying each pack's
 * encrypted header and size), so that it reuses their blobs instead of uploading them again.
 * This only adds an index file; it never deletes anything.
 */
import {openBytes} from '../crypto/cipher.js';
import type {PackEntry} from '../format/index-file.js';
import {decodePackHeader, headerEntrySize, type PackedBlob} from '../format/pack.js';
import {CIPHERTEXT_OVERHEAD} from '../crypto/cipher.js';
import {mapConcurrent} from '../util/concurrency.js';
import {findHeldLocks, listLocks, type LockInfo} from './lock.js';
import type {Repository} from './repository.js';

/** Bytes read from the end of a pack in the first request: enough for the header of most packs. */
const TAIL_BYTES = 64 * 1024;
/** Bytes of the header-length field at the end of a pack. */
const LENGTH_FIELD = 4;

/** What {@link indexUnindexedPacks} did. */
export interface AdoptedPacks {
	/** Packs now indexed. */
	readonly packs: number;
	readonly blobs: number;
	/** Bytes of those pack files. */
	readonly bytes: number;
	/** Unindexed packs left alone because their header could not be read or did not fit their size. */
	readonly skipped: number;
	/** True when nothing was looked at because another process holds a live lock. */
	readonly deferred: boolean;
}

/** Size of a pack file holding exactly these blobs. */
export function computePackSize(blobs: readonly PackedBlob[]): number {
	let size = CIPHERTEXT_OVERHEAD + LENGTH_FIELD;
	for (const blob of blobs) size += blob.length + headerEntrySize(blob.uncompressedLength > 0);
	return size;
}

/**
 * Reads and verifies the header of one pack (MAC, format, and the pack's size against the blobs it
 * lists); returns its blobs, or undefined when the pack is not a sound, complete pack.
 */
export async function readStoredPackHeader(repo: Repository, packId: string, size: number, signal?: AbortSignal): Promise<PackedBlob[] | undefined> {
	if (size < LENGTH_FIELD + CIPHERTEXT_OVERHEAD) return undefined;
	const tailLength = Math.min(size, TAIL_BYTES);
	const tail = Buffer.from(await repo.storage.load({type: 'data', name: packId}, {offset: size - tailLength, length: tailLength, signal}));
	const headerLength = tail.readUInt32LE(tail.length - LENGTH_FIELD);
	if (headerLength + LENGTH_FIELD > size) return undefined;
	const header = headerLength + LENGTH_FIELD <= tail.length
		? tail.subarray(tail.length - LENGTH_FIELD - headerLength, tail.length - LENGTH_FIELD)
		: await repo.storage.load({type: 'data', name: packId}, {offset: size - LENGTH_FIELD - headerLength, length: headerLength, signal});
	try {
		const blobs = decodePackHeader(openBytes(repo.key, header));
		return blobs.length > 0 && computePackSize(blobs) === size ? blobs : undefined;
	} catch {
		return undefined;
	}
}

/** The two listings {@link indexUnindexedPacks} needs, started early (see {@link listPacksAndLocks}). */
export interface PackAndLockListings {
	readonly packs: Promise<Array<{name: string; size: number}>>;
	readonly locks: Promise<LockInfo[]>;
}

/**
 * Starts listing the packs in storage and the locks of other processes, so that both run while
 * the index loads (round trips at once on a slow link). `ownLock`: a lock of this process not yet
 * held (being taken), to leave out. Pass the result to
 * {@link indexUnindexedPacks}; its promises never reject unobserved.
 */
export function listPacksAndLocks(repo: Repository, signal?: AbortSignal, ownLock?: string): PackAndLockListings {
	const own = new Set(findHeldLocks(repo).map((lock) => lock.id));
	// A lock being taken (listed from acquireLock's `meanwhile`) is not registered as held yet.
	if (ownLock !== undefined) own.add(ownLock);
	const packs = (async () => {
		const listed: Array<{name: string; size: number}> = [];
		for await (const info of repo.storage.list('data', {signal})) listed.push(info);
		return listed;
	})();
	const locks = listLocks(repo, signal, {skip: own});
	packs.catch(() => undefined);
	locks.catch(() => undefined);
	return {packs, locks};
}

/**
 * Finds packs in storage that the loaded index (`repo.index`) does not list, verifies their
 * headers and saves one index file for them, adding them to `repo.index`. Does nothing while
 * another process holds a live lock: its packs may be unindexed only because it has not written
 * its index yet (indexing them too would be harmless, but would list them twice).
 * Call after `repo.loadIndex`, holding a lock; `listings` (from {@link listPacksAndLocks}, started
 * while the index loaded) saves listing the packs and locks here.
 */
export async function indexUnindexedPacks(repo: Repository, options: {signal?: AbortSignal; listings?: PackAndLockListings} = {}): Promise<AdoptedPacks> {
	const {signal} = options;
	const listings = options.listings ?? listPacksAndLocks(repo, signal);
	const others = (await listings.locks).filter((lock) => !lock.stale);
	if (others.length > 0) return {packs: 0, blobs: 0, bytes: 0, skipped: 0, deferred: true};
	const candidates = (await listings.packs).filter((info) => !repo.index.hasPack(info.name));
	if (candidates.length === 0) return {packs: 0, blobs: 0, bytes: 0, skipped: 0, deferred: false};
	const found = await mapConcurrent(candidates, 4, async ({name, size}) => {
		try {
			const blobs = await readStoredPackHeader(repo, name, size, signal);
			const entry: PackEntry = {packId: name, blobs: blobs ?? []};
			return blobs ? {entry, size} : undefined;
		} catch (error) {
			if (signal?.aborted) throw error;
			return undefined;
		}
	});
	const adopted = found.filter((item): item is {entry: PackEntry; size: number} => item !== undefined);
	if (adopted.length > 0) {
		await repo.saveIndex(adopted.map((item) => item.entry), [], signal);
		for (const item of adopted) repo.index.addPack(item.entry);
	}
	return {
		packs: adopted.length,
		blobs: adopted.reduce((sum, item) => sum + item.entry.blobs.length, 0),
		bytes: adopted.reduce((sum, item) => sum + item.size, 0),
		skipped: candidates.length - adopted.length,
		deferred: false,
	};
}
