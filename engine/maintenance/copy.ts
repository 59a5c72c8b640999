/**
 * `copy`: copies snapshots from one repository to another, as restic does. Blobs keep their IDs
 * (they are decrypted with the source's key and stored with the destination's, compressed as the
 * destination compresses, never re-chunked); only blobs the destination lacks are uploaded, and a
 * snapshot the destination already holds a copy of is skipped. A copy records the source
 * snapshot's `original` (or the source's ID) and drops `parent`.
 */
import type {Snapshot, SnapshotJson} from '../format/snapshot.js';
import {decodeTree} from '../format/tree.js';
import type {BlobType} from '../format/pack.js';
import type {Repository} from '../repository/repository.js';
import {listSnapshots, samePaths, saveSnapshot} from '../repository/snapshots.js';
import {sameGoTime} from '../format/time.js';
import {mapConcurrent} from '../util/concurrency.js';
import {CancelledError, IntegrityError} from '../errors.js';
import {snapshotFields} from './select.js';
import {acquireLock} from '../repository/lock.js';

/** Progress of a copy, emitted as it goes. */
export interface CopyProgress {
	readonly phase: 'scan' | 'copy' | 'save' | 'skip' | 'done';
	/** 1-based position of the current snapshot among those asked for. */
	readonly snapshot: number;
	readonly snapshots: number;
	/** The source snapshot being worked on. */
	readonly snapshotId?: string;
	/**
	 * Blobs (and their stored bytes in the source) to copy for the current snapshot, and done so
	 * far; in the final `done` event, the totals over every snapshot copied.
	 */
	readonly blobsDone: number;
	readonly blobsTotal: number;
	readonly bytesDone: number;
	readonly bytesTotal: number;
	/** Snapshots copied and skipped so far. */
	readonly copied: number;
	readonly skipped: number;
}

/** What happened to one source snapshot. */
export type CopyOutcome =
	| {readonly kind: 'skipped'; readonly snapshot: Snapshot; readonly existing: string}
	| {readonly kind: 'copied'; readonly snapshot: Snapshot; readonly newId: string; readonly blobs: number; readonly bytes: number; readonly packs: number};

/** Settings of {@link copySnapshots}. */
export interface CopyOptions {
	readonly signal?: AbortSignal;
	readonly onProgress?: (progress: CopyProgress) => void;
	/** Told before each snapshot is looked at. */
	readonly onSnapshot?: (snapshot: Snapshot) => void;
	readonly onOutcome?: (outcome: CopyOutcome) => void;
	/** Destination snapshots to compare with (default: all of them; restic applies the filters here too). */
	readonly destinationSnapshots?: readonly Snapshot[];
}

/** Tells whether two snapshots are copies of each other: every field but parent and original matches (restic's rule; pure). */
export function isSimilarSnapshot(a: SnapshotJson, b: SnapshotJson): boolean {
	if (!sameGoTime(a.time, b.time) || a.tree !== b.tree || (a.hostname ?? '') !== (b.hostname ?? '') || (a.username ?? '') !== (b.username ?? '')) return false;
	if ((a.uid ?? 0) !== (b.uid ?? 0) || (a.gid ?? 0) !== (b.gid ?? 0)) return false;
	const excludesA = a.excludes ?? [];
	const excludesB = b.excludes ?? [];
	if (excludesA.length !== excludesB.length || excludesA.some((e, i) => e !== excludesB[i])) return false;
	const tagsA = a.tags ?? [];
	const tagsB = b.tags ?? [];
	if (tagsA.length !== tagsB.length || !tagsB.every((t) => tagsA.includes(t))) return false;
	return samePaths(a.paths, b.paths);
}

/** Destination snapshots by the ID they are a copy of: their `original`, and their own ID (pure). */
export function indexByOriginal(snapshots: readonly Snapshot[]): Map<string, Snapshot[]> {
	const byOriginal = new Map<string, Snapshot[]>();
	const add = (key: string, snapshot: Snapshot): void => {
		const list = byOriginal.get(key);
		if (list) list.push(snapshot);
		else byOriginal.set(key, [snapshot]);
	};
	for (const snapshot of snapshots) {
		if (snapshot.original && !/^0+$/.test(snapshot.original)) add(snapshot.original, snapshot);
		add(snapshot.id, snapshot);
	}
	return byOriginal;
}

/** The copy the destination already holds of a source snapshot, if any (pure). */
export function findExistingCopy(byOriginal: ReadonlyMap<string, readonly Snapshot[]>, snapshot: Snapshot): Snapshot | undefined {
	return byOriginal.get(snapshot.original || snapshot.id)?.find((candidate) => isSimilarSnapshot(candidate, snapshot));
}

interface WantedBlob {
	readonly type: BlobType;
	readonly id: string;
	readonly offset: number;
	readonly length: number;
	readonly uncompressedLength: number;
}

/**
 * Copies the snapshots from `src` to `dst`. Both indexes must be loaded; the caller holds shared
 * locks on both. Each snapshot is saved only after all its blobs are stored and indexed, so an
 * interrupted copy leaves no snapshot that points at missing data.
 */
export async function copySnapshots(src: Repository, dst: Repository, snapshots: readonly Snapshot[], options: CopyOptions = {}): Promise<CopyOutcome[]> {
	const {signal} = options;
	const byOriginal = indexByOriginal(options.destinationSnapshots ?? await listSnapshots(dst, {signal, onError: () => undefined}));
	const visitedTrees = new Set<string>();
	const outcomes: CopyOutcome[] = [];
	let copied = 0;
	let skipped = 0;
	let allBlobs = 0;
	let allBytes = 0;
	const emit = (progress: Omit<CopyProgress, 'snapshots' | 'copied' | 'skipped'>): void => {
		try {
			options.onProgress?.({...progress, snapshots: snapshots.length, copied, skipped});
		} catch {
			// a listener must never break the copy
		}
	};
	try {
		for (const [i, snapshot] of snapshots.entries()) {
			if (signal?.aborted) throw new CancelledError('copy cancelled: the snapshots copied so far are complete');
			options.onSnapshot?.(snapshot);
			const position = i + 1;
			const existing = findExistingCopy(byOriginal, snapshot);
			if (existing) {
				skipped++;
				const outcome: CopyOutcome = {kind: 'skipped', snapshot, existing: existing.id};
				outcomes.push(outcome);
				options.onOutcome?.(outcome);
				emit({phase: 'skip', snapshot: position, snapshotId: snapshot.id, blobsDone: 0, blobsTotal: 0, bytesDone: 0, bytesTotal: 0});
				continue;
			}
			emit({phase: 'scan', snapshot: position, snapshotId: snapshot.id, blobsDone: 0, blobsTotal: 0, bytesDone: 0, bytesTotal: 0});
			const wanted = await collectMissingBlobs(src, dst, snapshot.tree, visitedTrees, signal);
			const byPack = new Map<string, WantedBlob[]>();
			let bytesTotal = 0;
			for (const blob of wanted) {
				const location = src.index.lookup(blob.type, blob.id);
				if (!location) throw new IntegrityError(`snapshot ${snapshot.id.slice(0, 8)} refers to ${blob.type} blob ${blob.id}, which the source index does not list: nothing of this snapshot was copied. Run \`cairn check\` on the source (and \`cairn repair index\` / \`cairn repair snapshots\` if it reports missing data)`);
				bytesTotal += location.length;
				const list = byPack.get(location.packId);
				const entry = {type: blob.type, id: blob.id, offset: location.offset, length: location.length, uncompressedLength: location.uncompressedLength};
				if (list) list.push(entry);
				else byPack.set(location.packId, [entry]);
			}
			let blobsDone = 0;
			let bytesDone = 0;
			const progress = (): void => emit({phase: 'copy', snapshot: position, snapshotId: snapshot.id, blobsDone, blobsTotal: wanted.length, bytesDone, bytesTotal});
			progress();
			await mapConcurrent(byPack, Math.max(1, Math.min(4, src.storage.capabilities.concurrency)), async ([packId, blobs]) => {
				await copyPackBlobs(src, dst, packId, blobs, signal, (bytes) => {
					blobsDone++;
					bytesDone += bytes;
					progress();
				});
			});
			emit({phase: 'save', snapshot: position, snapshotId: snapshot.id, blobsDone, blobsTotal: wanted.length, bytesDone, bytesTotal});
			await dst.flush(signal);
			const {parent: _parent, ...fields} = snapshotFields(snapshot);
			const newId = await saveSnapshot(dst, {...fields, original: snapshot.original || snapshot.id}, signal);
			copied++;
			const outcome: CopyOutcome = {kind: 'copied', snapshot, newId, blobs: wanted.length, bytes: bytesTotal, packs: byPack.size};
			outcomes.push(outcome);
			options.onOutcome?.(outcome);
			const copy: Snapshot = {...fields, original: snapshot.original || snapshot.id, id: newId};
			for (const key of [copy.original!, newId]) byOriginal.set(key, [...(byOriginal.get(key) ?? []), copy]);
		}
	} catch (error) {
		// Index the packs that reached storage, so a second run does not upload them again.
		await dst.salvage().catch(() => undefined);
		throw error;
	}
	emit({phase: 'done', snapshot: snapshots.length, blobsDone: allBlobs, blobsTotal: allBlobs, bytesDone: allBytes, bytesTotal: allBytes});
	return outcomes;
}

/** Walks the snapshot's trees (each tree once per copy) and lists the blobs the destination lacks, each once. */
async function collectMissingBlobs(src: Repository, dst: Repository, root: string, visitedTrees: Set<string>, signal?: AbortSignal): Promise<Array<{type: BlobType; id: string}>> {
	const wanted: Array<{type: BlobType; id: string}> = [];
	const queued = new Set<string>();
	const want = (type: BlobType, id: string): void => {
		const key = `${type}:${id}`;
		if (queued.has(key) || dst.index.has(type, id)) return;
		queued.add(key);
		wanted.push({type, id});
	};
	let level = [root];
	while (level.length > 0) {
		const fresh = [...new Set(level)].filter((id) => !visitedTrees.has(id));
		for (const id of fresh) visitedTrees.add(id);
		const trees = await mapConcurrent(fresh, 8, async (id) => {
			if (signal?.aborted) throw new CancelledError('copy cancelled');
			return {id, tree: decodeTree(await src.loadBlob('tree', id, signal), id)};
		});
		const next: string[] = [];
		for (const {id, tree} of trees) {
			want('tree', id);
			for (const node of tree.nodes) {
				for (const blob of node.content ?? []) want('data', blob);
				if (node.type === 'dir' && node.subtree) next.push(node.subtree);
			}
		}
		level = next;
	}
	return wanted;
}

/** Reads the span of one source pack that holds the blobs, then decodes and stores each in `dst`. */
async function copyPackBlobs(src: Repository, dst: Repository, packId: string, blobs: WantedBlob[], signal: AbortSignal | undefined, onBlob: (bytes: number) => void): Promise<void> {
	blobs.sort((a, b) => a.offset - b.offset);
	// Read runs of blobs with small gaps in one request; a large gap starts a new request.
	const MAX_GAP = 256 * 1024;
	let start = 0;
	while (start < blobs.length) {
		let end = start + 1;
		while (end < blobs.length && blobs[end]!.offset - (blobs[end - 1]!.offset + blobs[end - 1]!.length) <= MAX_GAP && blobs[end]!.offset + blobs[end]!.length - blobs[start]!.offset <= 8 * 1024 * 1024) end++;
		const first = blobs[start]!;
		const last = blobs[end - 1]!;
		const span = Buffer.from(await src.storage.load({type: 'data', name: packId}, {offset: first.offset, length: last.offset + last.length - first.offset, signal}));
		for (const blob of blobs.slice(start, end)) {
			const raw = span.subarray(blob.offset - first.offset, blob.offset - first.offset + blob.length);
			const plaintext = await src.decodeBlob(blob.type, blob.id, raw, packId, blob.uncompressedLength);
			await dst.saveBlob(blob.type, plaintext, blob.id, signal);
			onBlob(blob.length);
		}
		start = end;
	}
}

/**
 * Copies snapshots between two open repositories the way `cairn copy` does: shared locks on both
 * (restic's), both indexes loaded, then {@link copySnapshots}. For callers that hold no lock yet
 * (the app). The locks are released however it ends.
 */
export async function copyBetweenRepositories(src: Repository, dst: Repository, snapshots: readonly Snapshot[], options: CopyOptions = {}): Promise<CopyOutcome[]> {
	const srcLock = await acquireLock(src, {exclusive: false, signal: options.signal});
	try {
		const dstLock = await acquireLock(dst, {exclusive: false, signal: options.signal});
		try {
			// An index already loaded (the app's open repository) is not read again.
			if (src.indexFiles.size === 0) await src.loadIndex({signal: options.signal});
			if (dst.indexFiles.size === 0) await dst.loadIndex({signal: options.signal});
			return await copySnapshots(src, dst, snapshots, options);
		} finally {
			await dstLock.release();
		}
	} finally {
		await srcLock.release();
	}
}
