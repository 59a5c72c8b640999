/**
 * `prune`: removes data no snapshot needs. Under an exclusive lock it reads the whole index and
 * every snapshot's trees, plans what to delete and repack (plan.ts), and then changes the
 * repository in an order that leaves it sound if the process dies at any moment:
 *
 * 1. delete pack files no index lists (nothing refers to them);
 * 2. copy the needed blobs of the packs being repacked into new packs (unreferenced until step 3);
 * 3. save a new index covering every pack that stays plus the new ones, superseding the old index files;
 * 4. delete the old index files (the new index already lists everything that stays);
 * 5. delete the repacked and unused packs (no index lists them any more).
 *
 * A kill before step 3 leaves unreferenced packs; between 3 and 4, packs listed twice; during 5,
 * unreferenced packs. All of these are allowed by the format, and the next prune removes them.
 */
import {isStorageError} from '../../adapters/storage.js';
import type {PackEntry} from '../format/index-file.js';
import {CairnError, CancelledError, LockError} from '../errors.js';
import {acquireLock, findHeldLocks, listLocks, type HeldLock} from '../repository/lock.js';
import type {Repository} from '../repository/repository.js';
import {listSnapshots} from '../repository/snapshots.js';
import {mapConcurrent} from '../util/concurrency.js';
import {loadPackIndex, mapBlobCopies} from './pack-index.js';
import {planPrune} from './plan.js';
import {repackBlobs} from './repack.js';
import type {PruneOptions, PruneProgress, PruneReport} from './types.js';
import {findUsedBlobs} from './used-blobs.js';

export type {PruneOptions, PruneProgress, PruneReport, PrunePhase} from './types.js';
export {PruneRefusedError} from './plan.js';

/** The default of `maxUnused`, in percent. */
export const DEFAULT_MAX_UNUSED = 5;
/** Blobs per new index file (restic's limit for a full index file). */
const BLOBS_PER_INDEX_FILE = 50_000;

function throwIfCancelled(signal?: AbortSignal): void {
	if (signal?.aborted) throw new CancelledError('prune cancelled');
}

/** Lists the pack files in storage with their sizes. */
async function listStoredPacks(repo: Repository, signal?: AbortSignal): Promise<Map<string, number>> {
	const stored = new Map<string, number>();
	for await (const info of repo.storage.list('data', {signal})) stored.set(info.name, info.size);
	return stored;
}

/** Splits packs into groups of at most BLOBS_PER_INDEX_FILE blobs (one group per index file). */
function groupForIndexFiles(packs: readonly PackEntry[]): PackEntry[][] {
	const groups: PackEntry[][] = [];
	let current: PackEntry[] = [];
	let blobs = 0;
	for (const pack of packs) {
		if (current.length > 0 && blobs + pack.blobs.length > BLOBS_PER_INDEX_FILE) {
			groups.push(current);
			current = [];
			blobs = 0;
		}
		current.push(pack);
		blobs += pack.blobs.length;
	}
	if (current.length > 0 || groups.length === 0) groups.push(current);
	return groups;
}

/**
 * Before anything is deleted: makes sure no other process holds a live lock. One could only if our
 * exclusive lock had gone (removed by `unlock --remove-all`, or not refreshed in time), and then
 * deleting could destroy data that process is writing.
 */
async function ensureAlone(repo: Repository, own: ReadonlySet<string>, signal?: AbortSignal): Promise<void> {
	const others = (await listLocks(repo, signal)).filter((lock) => !lock.stale && !own.has(lock.id));
	if (others.length > 0) {
		const who = others.map((l) => `${l.username}@${l.hostname} (PID ${l.pid})`).join(', ');
		throw new LockError(`prune stopped before deleting anything: another process (${who}) locked the repository while prune was running, which means prune's exclusive lock was removed or went stale. Nothing needed was lost; run prune again when that process has finished`);
	}
}

/** Deletes files a few at a time; returns the names that could not be deleted. */
async function removeFiles(repo: Repository, type: 'data' | 'index', names: readonly string[], concurrency: number, signal?: AbortSignal, onDone?: (done: number) => void): Promise<string[]> {
	const failed: string[] = [];
	let done = 0;
	await mapConcurrent(names, concurrency, async (name) => {
		throwIfCancelled(signal);
		try {
			await repo.storage.remove({type, name}, {signal});
		} catch (error) {
			if (signal?.aborted) throw new CancelledError('prune cancelled', {cause: error});
			// Already gone is as good as deleted.
			if (!isStorageError(error, 'not-found')) failed.push(name);
		}
		onDone?.(++done);
	});
	return failed;
}

/**
 * Prunes a repository opened with Repository.open (its in-memory index is not used, and is stale
 * afterwards: reopen the repository before reading blobs). Takes an exclusive lock unless
 * `noLock` is set or this process already holds one on `repo` (forget --prune does). Throws
 * LockError (exit 11) when another process holds a lock, PruneRefusedError when the repository is
 * damaged in a way that makes pruning unsafe (nothing is changed then), CancelledError on abort.
 */
export async function runPrune(repo: Repository, options: PruneOptions = {}): Promise<PruneReport> {
	const {signal} = options;
	const maxUnused = options.maxUnused ?? DEFAULT_MAX_UNUSED;
	if (!(maxUnused >= 0 && maxUnused < 100)) throw new CairnError(`invalid maxUnused ${maxUnused}: give a percentage from 0 up to (not including) 100`, {exitCode: 2});
	const progress = (phase: PruneProgress['phase'], done = 0, total?: number): void => {
		try {
			options.onProgress?.({phase, done, total});
		} catch {
			// a listener must never break the prune
		}
	};
	const concurrency = Math.max(2, Math.min(8, repo.storage.capabilities.concurrency));

	progress('lock');
	const heldBefore = findHeldLocks(repo).filter((lock) => lock.exclusive);
	let lock: HeldLock | undefined;
	if (!options.noLock && heldBefore.length === 0) lock = await acquireLock(repo, {exclusive: true, signal});
	const ownLocks = (): Set<string> => new Set(findHeldLocks(repo).map((l) => l.id));
	try {
		progress('index');
		const index = await loadPackIndex(repo, {signal, concurrency});
		const stored = await listStoredPacks(repo, signal);
		const copies = mapBlobCopies(index);

		progress('snapshots');
		const snapshots = await listSnapshots(repo, {signal}).catch((error: unknown) => {
			if (signal?.aborted) throw error;
			throw new CairnError(`${(error as Error).message}; prune stopped before changing anything, because the data of that snapshot would look unused. Run \`cairn check\` to see what is damaged`, {cause: error});
		});
		progress('trees', 0);
		const usage = await findUsedBlobs(repo, snapshots.map((s) => s.tree), copies, {signal, concurrency, stored, onTree: (done) => progress('trees', done)});
		throwIfCancelled(signal);

		progress('plan');
		const plan = planPrune({index, used: usage.used, stored, maxUnused});
		const {stats} = plan;
		const removedPacks = [...plan.unreferencedPacks, ...plan.removePacks, ...plan.repackPacks].sort();
		const report = {
			dryRun: Boolean(options.dryRun), snapshots: snapshots.length,
			blobs: stats.blobs, bytes: stats.bytes, packs: stats.packs, removedPacks,
			packsWritten: 0, bytesWritten: 0, indexFilesWritten: 0, indexFilesDeleted: 0, deleteFailures: [] as string[],
		} satisfies PruneReport;
		if (options.dryRun) {
			progress('done');
			return report;
		}

		// 1. Pack files no index lists.
		if (plan.unreferencedPacks.length > 0) {
			await ensureAlone(repo, ownLocks(), signal);
			progress('delete-unreferenced', 0, plan.unreferencedPacks.length);
			report.deleteFailures.push(...await removeFiles(repo, 'data', plan.unreferencedPacks, concurrency, signal, (done) => progress('delete-unreferenced', done, plan.unreferencedPacks.length)));
		}

		// 2. New packs with the needed blobs of the repacked ones.
		let written: PackEntry[] = [];
		if (plan.repackPacks.size > 0) {
			const packs = [...plan.repackPacks].sort().map((id) => index.packs.get(id)!);
			progress('repack', 0, packs.length);
			const fallback = new Set([...plan.removePacks]);
			const result = await repackBlobs(repo, packs, plan.keepBlobs, copies, fallback, {signal, onPack: (done) => progress('repack', done, packs.length)});
			written = result.packs;
			report.packsWritten = result.packs.length;
			report.bytesWritten = result.bytesWritten;
		}
		throwIfCancelled(signal);

		// 3. The new index: every pack that stays, listed once, plus the new packs.
		const goes = (id: string): boolean => plan.removePacks.has(id) || plan.repackPacks.has(id) || plan.missingPacks.has(id);
		const rewrite = plan.removePacks.size + plan.repackPacks.size + plan.missingPacks.size > 0 || index.hasRepeatedPacks;
		if (rewrite) {
			const staying: PackEntry[] = [...index.packs.values()].filter((p) => !goes(p.packId)).map((p) => ({packId: p.packId, blobs: p.blobs}));
			const groups = groupForIndexFiles([...staying, ...written]);
			progress('write-index', 0, groups.length);
			for (const group of groups) {
				throwIfCancelled(signal);
				await repo.saveIndex(group, index.indexIds, signal);
				progress('write-index', ++report.indexFilesWritten, groups.length);
			}

			// 4. The old index files. If one cannot be deleted, it still lists the packs that were to
			// go, so they must stay: stop here.
			await ensureAlone(repo, ownLocks(), signal);
			progress('delete-index', 0, index.indexIds.length);
			const stuck = await removeFiles(repo, 'index', index.indexIds, concurrency, signal, (done) => progress('delete-index', done, index.indexIds.length));
			report.indexFilesDeleted = index.indexIds.length - stuck.length;
			if (stuck.length > 0) {
				throw new CairnError(`prune could not delete ${stuck.length} old index files (${stuck.slice(0, 3).join(', ')}), so the packs they list were kept; the repository is sound. Check that deleting files in the repository is allowed, then run prune again`);
			}
		}

		// 5. The repacked and unused packs.
		const doomed = [...plan.removePacks, ...plan.repackPacks].sort();
		if (doomed.length > 0) {
			await ensureAlone(repo, ownLocks(), signal);
			progress('delete-packs', 0, doomed.length);
			report.deleteFailures.push(...await removeFiles(repo, 'data', doomed, concurrency, signal, (done) => progress('delete-packs', done, doomed.length)));
		}
		progress('done');
		return report;
	} catch (error) {
		if (signal?.aborted && !(error instanceof CancelledError)) throw new CancelledError('prune cancelled: the repository is sound; run prune again to finish', {cause: error});
		throw error;
	} finally {
		await lock?.release();
	}
}
