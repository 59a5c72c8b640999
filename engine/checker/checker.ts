/**
 * `check`: verifies a repository's consistency and, on request, its data. The passes:
 * 1. every index file loads (index-files.ts);
 * 2. the pack files in storage agree with the index: none missing, none of the wrong size,
 *    unindexed ones noted (pack-files.ts);
 * 3. every snapshot loads and every tree reachable from them loads, decodes and refers only to
 *    indexed blobs (structure.ts);
 * 4. with `readData` / `readDataSubset`, packs are read whole and every byte verified (read-data.ts).
 * Damage is reported as problems and the check goes on; only listing failures, a lock conflict
 * and cancellation throw.
 */
import {acquireLock} from '../repository/lock.js';
import type {Repository} from '../repository/repository.js';
import {CancelledError, UsageError} from '../errors.js';
import {ProgressTracker} from '../progress.js';
import {loadIndexFiles, type IndexedPack} from './index-files.js';
import {comparePackFiles} from './pack-files.js';
import {readPacks} from './read-data.js';
import {checkTrees, loadAllSnapshots} from './structure.js';
import {selectPacks, validateSubset} from './subset.js';
import type {CheckContext, CheckOptions, CheckProblem, CheckReport} from './types.js';

export type {CheckOptions, CheckProblem, CheckReport, ReadDataSubset} from './types.js';

/** Requests the metadata passes run at once, at most. */
const MAX_CONCURRENCY = 8;

/** Lists the files of a type with their sizes, sorted by name. */
async function listSorted(repo: Repository, type: 'index' | 'snapshots' | 'data', signal?: AbortSignal): Promise<Map<string, number>> {
	const found: Array<[string, number]> = [];
	for await (const info of repo.storage.list(type, {signal})) found.push([info.name, info.size]);
	found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	return new Map(found);
}

/** The packs the read-data pass reads: indexed packs present in storage, narrowed to the subset. */
function choosePacksToRead(options: CheckOptions, indexed: ReadonlyMap<string, IndexedPack>, stored: ReadonlyMap<string, number>): IndexedPack[] {
	if (!options.readData && !options.readDataSubset) return [];
	const present = [...indexed.keys()].filter((id) => stored.has(id)).sort();
	const chosen = options.readDataSubset ? selectPacks(present, options.readDataSubset, options.random) : present;
	return chosen.map((id) => indexed.get(id)!);
}

/** Data blobs whose every indexed copy is in a pack missing from storage. */
function findLostDataBlobs(indexed: ReadonlyMap<string, IndexedPack>, missingPacks: ReadonlySet<string>): Set<string> {
	const lost = new Set<string>();
	if (missingPacks.size === 0) return lost;
	for (const id of missingPacks) for (const blob of indexed.get(id)!.blobs) if (blob.type === 'data') lost.add(blob.id);
	for (const [id, pack] of indexed) {
		if (missingPacks.has(id)) continue;
		for (const blob of pack.blobs) if (blob.type === 'data') lost.delete(blob.id);
	}
	return lost;
}

/**
 * Checks a repository opened with `Repository.open` (whose index need not be loaded yet: the
 * check loads it, file by file). Returns every problem found; `ok` is false when any is an error.
 * Throws UsageError for contradictory options, LockError when an exclusive lock is held,
 * CancelledError when the signal fires, and storage errors when a listing fails.
 */
export async function runCheck(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
	if (options.readData && options.readDataSubset) throw new UsageError('readData and readDataSubset cannot be used together: readData already reads every pack');
	if (options.readDataSubset) validateSubset(options.readDataSubset);
	const {signal} = options;
	const problems: CheckProblem[] = [];
	const progress = new ProgressTracker('check', options.onProgress);
	const ctx: CheckContext = {
		repo,
		signal,
		progress,
		concurrency: Math.max(1, Math.min(MAX_CONCURRENCY, repo.storage.capabilities.concurrency)),
		report(file, message, severity = 'error') {
			const problem: CheckProblem = {file, message, severity};
			problems.push(problem);
			if (severity === 'error') progress.errors++;
			try {
				options.onProblem?.(problem);
			} catch {
				// a listener must never break the check
			}
		},
	};
	let lock: Awaited<ReturnType<typeof acquireLock>> | undefined;
	try {
		lock = options.noLock ? undefined : await acquireLock(repo, {exclusive: false, signal});
		const indexIds = [...(await listSorted(repo, 'index', signal)).keys()];
		const snapshotIds = [...(await listSorted(repo, 'snapshots', signal)).keys()];
		const stored = await listSorted(repo, 'data', signal);
		progress.filesTotal = indexIds.length + snapshotIds.length;
		progress.emit();

		const {packs: indexed, loaded: indexFiles} = await loadIndexFiles(ctx, indexIds);
		comparePackFiles(ctx, indexed, stored);

		const toRead = choosePacksToRead(options, indexed, stored);
		progress.filesTotal += toRead.length;
		progress.bytesTotal = toRead.reduce((sum, pack) => sum + (stored.get(pack.packId) ?? 0), 0);

		const snapshots = await loadAllSnapshots(ctx, snapshotIds);
		const missingPacks = new Set([...indexed.keys()].filter((id) => !stored.has(id)));
		const structure = await checkTrees(ctx, snapshots, missingPacks, findLostDataBlobs(indexed, missingPacks));
		const read = await readPacks(ctx, toRead);

		progress.currentFile = undefined;
		return {
			problems,
			packs: stored.size,
			snapshots: structure.snapshots,
			trees: structure.trees,
			blobsChecked: structure.blobsChecked + read.blobsChecked,
			dataBlobsReferenced: structure.dataBlobsReferenced,
			indexFiles,
			packsRead: toRead.length,
			bytesRead: read.bytesRead,
			ok: problems.every((p) => p.severity !== 'error'),
		};
	} catch (error) {
		if (signal?.aborted && !(error instanceof CancelledError)) throw new CancelledError('check cancelled', {cause: error});
		throw error;
	} finally {
		progress.finish();
		await lock?.release();
	}
}
