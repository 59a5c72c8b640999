/**
 * The cold-storage pre-pass of `cairn restore --thaw`: find the packs a restore will read, ask the
 * storage to thaw those held in a cold class (S3 GLACIER / DEEP_ARCHIVE, Azure Archive), and wait
 * until they are readable.
 *
 * Tree blobs live in packs too, so the work runs in stages: the snapshot's trees are walked, and
 * tree packs that turn out to be cold are thawed first (after which the walk is repeated, as
 * deeper trees may sit in other packs); then the data packs of the files to restore are thawed.
 * Nothing is requested before `onEvent` has been told what is needed (a `plan` event), so a
 * caller can explain the cost and time first.
 */
import {isStorageError, type ThawState} from '../../adapters/storage.js';
import {isColdStorageError} from '../../adapters/shared/storage-errors.js';
import type {TreeNode} from '../format/tree.js';
import {CancelledError} from '../errors.js';
import {loadSnapshot} from '../repository/snapshots.js';
import type {Repository} from '../repository/repository.js';
import {mapConcurrent} from '../util/concurrency.js';
import {loadTree} from './walk.js';
import {compileIncludes} from './restorer.js';
import {checkNodeName} from '../format/tree.js';

/** Which packs a stage is about: those holding the snapshot's trees, or its file contents. */
export type ThawStage = 'trees' | 'data';

/** Counts of the packs of one stage by state. */
export interface ThawCounts {
	/** Packs the stage needs. */
	readonly packs: number;
	/** Their approximate size in bytes (from the index). */
	readonly bytes: number;
	readonly ready: number;
	readonly pending: number;
	/** Cold and not yet requested (only before requests are made). */
	readonly frozen: number;
	/** Requested by this run. */
	readonly started: number;
}

/**
 * What the pre-pass reports. `plan` comes once per stage before any request, `requested` after the
 * requests, `waiting` after each poll that still found packs thawing, `ready` when the stage is done.
 */
export interface ThawEvent extends ThawCounts {
	readonly type: 'plan' | 'requested' | 'waiting' | 'ready';
	readonly stage: ThawStage;
	/** Packs still thawing, for listing (IDs). */
	readonly thawing: readonly string[];
}

/** Options of {@link thawSnapshotPacks}. */
export interface ThawPassOptions {
	/** Paths inside the snapshot that the restore will write, as for runRestore; everything when empty. */
	readonly includes?: string[];
	readonly signal?: AbortSignal;
	/** Keep polling until every pack is readable (default true); false requests and returns. */
	readonly wait?: boolean;
	/** Time between polls; default 10 minutes. */
	readonly pollIntervalMs?: number;
	readonly onEvent?: (event: ThawEvent) => void;
	/** Replaces the wait between polls (tests). */
	readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The outcome: `ready` means the restore can read every pack it needs. */
export interface ThawResult {
	readonly ready: boolean;
	/** The stage that is still thawing when not ready. */
	readonly stage?: ThawStage;
	/** Packs still thawing when not ready. */
	readonly thawing: readonly string[];
	/** Thaw requests made by this run. */
	readonly requested: number;
	/** False when the storage has no cold storage at all (nothing was done). */
	readonly supported: boolean;
}

const DEFAULT_POLL_MS = 10 * 60 * 1000;

/**
 * Makes every pack the restore of `snapshotId` (limited to `includes`) will read readable.
 * Resolves once they are (or, with `wait: false`, once the thaws are requested). Needs the
 * repository's index loaded; loads it when empty.
 */
export async function thawSnapshotPacks(repo: Repository, snapshotId: string, options: ThawPassOptions = {}): Promise<ThawResult> {
	const storage = repo.storage;
	if (storage.thaw === undefined || storage.capabilities.coldStorage !== true) return {ready: true, thawing: [], requested: 0, supported: false};
	if (repo.index.count().packs === 0) await repo.loadIndex({signal: options.signal});
	const sizes = estimatePackSizes(repo);
	const snapshot = await loadSnapshot(repo, snapshotId, options.signal);
	const included = compileIncludes(options.includes ?? []);
	let requested = 0;
	for (;;) {
		const walk = await walkSnapshot(repo, snapshot.tree, included, options.signal);
		const stage: ThawStage = walk.coldTreePacks.size > 0 ? 'trees' : 'data';
		const packs = stage === 'trees' ? walk.coldTreePacks : walk.dataPacks;
		const outcome = await thawPacks(repo, stage, [...packs], sizes, options);
		requested += outcome.requested;
		if (outcome.thawing.length > 0) return {ready: false, stage, thawing: outcome.thawing, requested, supported: true};
		if (stage === 'data') return {ready: true, thawing: [], requested, supported: true};
	}
}

/**
 * Thaws a given set of packs (e.g. every pack holding trees, so that `ls`, `check` and `prune`
 * can read them), with the same events and waiting as {@link thawSnapshotPacks}.
 */
export async function thawPackIds(repo: Repository, stage: ThawStage, packIds: Iterable<string>, options: Omit<ThawPassOptions, 'includes'> = {}): Promise<ThawResult> {
	if (repo.storage.thaw === undefined || repo.storage.capabilities.coldStorage !== true) return {ready: true, thawing: [], requested: 0, supported: false};
	if (repo.index.count().packs === 0) await repo.loadIndex({signal: options.signal});
	const outcome = await thawPacks(repo, stage, [...new Set(packIds)], estimatePackSizes(repo), options);
	return outcome.thawing.length > 0 ? {ready: false, stage, thawing: outcome.thawing, requested: outcome.requested, supported: true} : {ready: true, thawing: [], requested: outcome.requested, supported: true};
}

/** Thaws one stage's packs: checks them all, requests the frozen ones, then polls while `wait`. */
async function thawPacks(repo: Repository, stage: ThawStage, packs: string[], sizes: Map<string, number>, options: ThawPassOptions): Promise<{thawing: string[]; requested: number}> {
	const thaw = repo.storage.thaw!.bind(repo.storage);
	const concurrency = Math.max(1, repo.storage.capabilities.concurrency);
	const bytes = packs.reduce((sum, id) => sum + (sizes.get(id) ?? 0), 0);
	type Checked = {id: string; state: ThawState};
	/** Asks the store; while waiting (`tolerant`), a passing fault counts as "still thawing" and is asked again at the next poll. */
	const check = (ids: string[], checkOnly: boolean, tolerant = false): Promise<Checked[]> =>
		mapConcurrent(ids, concurrency, async (id) => {
			try {
				return {id, state: await thaw({type: 'data', name: id}, {checkOnly, signal: options.signal})};
			} catch (error) {
				if (tolerant && isStorageError(error, 'transient')) return {id, state: 'pending' as ThawState};
				throw error;
			}
		});
	/** An event from the states of the packs not known to be ready; the others count as ready. */
	const summarise = (type: ThawEvent['type'], open: Checked[]): ThawEvent => {
		const count = (state: ThawState) => open.filter((item) => item.state === state).length;
		const thawing = open.filter((item) => item.state !== 'ready').map((item) => item.id);
		return {type, stage, packs: packs.length, bytes, ready: packs.length - thawing.length, pending: count('pending'), frozen: count('frozen'), started: count('started'), thawing};
	};
	/** Requests a thaw for the frozen ones among `checked`. */
	const request = async (checked: Checked[]): Promise<Checked[]> => [
		...checked.filter((item) => item.state !== 'frozen'),
		...(await check(checked.filter((item) => item.state === 'frozen').map((item) => item.id), false)),
	];

	const first = await check(packs, true);
	options.onEvent?.(summarise('plan', first));
	let open = await request(first);
	const requested = open.filter((item) => item.state === 'started').length;
	if (first.some((item) => item.state === 'frozen')) options.onEvent?.(summarise('requested', open));
	const sleep = options.sleep ?? sleepFor;
	let total = requested;
	for (;;) {
		open = open.filter((item) => item.state !== 'ready');
		if (open.length === 0) {
			options.onEvent?.(summarise('ready', open));
			return {thawing: [], requested: total};
		}
		if (options.wait === false) return {thawing: open.map((item) => item.id), requested: total};
		await sleep(options.pollIntervalMs ?? DEFAULT_POLL_MS, options.signal);
		// A thawed copy can expire before it is read and then reads as frozen again: ask once more.
		open = await request(await check(open.map((item) => item.id), true, true));
		total += open.filter((item) => item.state === 'started').length;
		if (open.some((item) => item.state !== 'ready')) options.onEvent?.(summarise('waiting', open));
	}
}

/** Walks the snapshot's trees; trees in cold packs are recorded (their packs) and not descended into. */
async function walkSnapshot(repo: Repository, rootTree: string, included: ((path: string) => boolean) | undefined, signal?: AbortSignal): Promise<{coldTreePacks: Set<string>; dataPacks: Set<string>}> {
	const coldTreePacks = new Set<string>();
	const dataPacks = new Set<string>();
	const visit = async (treeId: string, prefix: string, parentIncluded: boolean): Promise<void> => {
		if (signal?.aborted) throw new CancelledError('thaw cancelled: nothing was restored; thaws already requested keep running');
		const location = repo.index.lookup('tree', treeId);
		if (location !== undefined && coldTreePacks.has(location.packId)) return;
		let nodes: TreeNode[];
		try {
			nodes = await loadTree(repo, treeId, signal);
		} catch (error) {
			if (!isColdStorageError(error) || location === undefined) throw error;
			coldTreePacks.add(location.packId);
			return;
		}
		for (const node of nodes) {
			if (checkNodeName(node.name)) continue;
			const path = prefix === '' ? node.name : `${prefix}/${node.name}`;
			const isIncluded = included === undefined || parentIncluded || included(path);
			if (node.type === 'dir' && node.subtree) await visit(node.subtree, path, isIncluded);
			else if (isIncluded && node.type === 'file') {
				for (const blob of node.content ?? []) {
					const packId = repo.index.lookup('data', blob)?.packId;
					if (packId !== undefined) dataPacks.add(packId);
				}
			}
		}
	};
	await visit(rootTree, '', false);
	return {coldTreePacks, dataPacks};
}

/** Approximate pack sizes: the end of the last blob the index lists in each pack. */
function estimatePackSizes(repo: Repository): Map<string, number> {
	const sizes = new Map<string, number>();
	for (const {location} of repo.index.entries()) {
		const end = location.offset + location.length;
		if (end > (sizes.get(location.packId) ?? 0)) sizes.set(location.packId, end);
	}
	return sizes;
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(new CancelledError('thaw cancelled while waiting: thaws already requested keep running; run the same command again later'));
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		const onAbort = (): void => {
			clearTimeout(timer);
			reject(new CancelledError('thaw cancelled while waiting: thaws already requested keep running; run the same command again later'));
		};
		signal?.addEventListener('abort', onAbort, {once: true});
	});
}
