/**
 * Listing, loading, finding and saving snapshots.
 */
import {encodeSnapshot, validateSnapshot, type Snapshot, type SnapshotJson} from '../format/snapshot.js';
import {parseGoTime} from '../format/time.js';
import {CairnError} from '../errors.js';
import {mapConcurrent} from '../util/concurrency.js';
import type {Repository} from './repository.js';
import {readSnapshotList, writeSnapshotList} from './snapshot-list-cache.js';

/**
 * Snapshot files read at once: enough to keep a link with latency busy (each is a few hundred
 * bytes, so the limit is round trips; the storage's own concurrency wrapper still applies).
 */
const SNAPSHOT_LOADS = 32;

/**
 * The snapshots the last listing of each repository gave in this process: a snapshot file never
 * changes (its name is the SHA-256 of its bytes), so {@link loadSnapshot} answers from here.
 */
const listed = new WeakMap<Repository, Map<string, SnapshotJson>>();

/** Loads one snapshot by its full ID (from the last listing in this process when it had it). */
export async function loadSnapshot(repo: Repository, id: string, signal?: AbortSignal): Promise<Snapshot> {
	const known = listed.get(repo)?.get(id);
	if (known) return {...known, id};
	const json = await repo.loadJson<SnapshotJson>('snapshots', id, signal);
	return {...validateSnapshot(json, id), id};
}

/**
 * Loads every snapshot, oldest first. Unreadable snapshot files are passed to `onError`
 * (and skipped) when it is given; otherwise the first failure throws.
 *
 * With a local cache, the snapshots are also kept there as one decoded list
 * (snapshot-list-cache.ts), read first; only the files it lacks are read, many at a time (they are
 * not cached one by one: the list, rewritten when it changed, holds them).
 */
export async function listSnapshots(repo: Repository, options: {signal?: AbortSignal; onError?: (id: string, error: Error) => void} = {}): Promise<Snapshot[]> {
	// The list file is read (in libuv's pool) while the snapshot files are listed; it never rejects.
	const [ids, known] = await Promise.all([repo.listIds('snapshots', options.signal), readSnapshotList(repo)]);
	const loaded = await mapConcurrent(ids, SNAPSHOT_LOADS, async (id): Promise<Snapshot | undefined> => {
		const cached = known.get(id);
		if (cached) return {...cached, id};
		try {
			return await loadSnapshot(repo, id, options.signal);
		} catch (error) {
			if (!options.onError) throw error;
			options.onError(id, error as Error);
			return undefined;
		}
	});
	const snapshots = loaded.filter((s): s is Snapshot => s !== undefined);
	const memo = new Map<string, SnapshotJson>();
	for (const {id, ...json} of snapshots) memo.set(id, json);
	listed.set(repo, memo);
	if (repo.cache && (snapshots.length !== known.size || snapshots.some((s) => !known.has(s.id)))) {
		await writeSnapshotList(repo, memo);
	}
	return sortSnapshots(snapshots);
}

/** Sorts snapshots by time, oldest first (ties by ID). */
export function sortSnapshots(snapshots: Snapshot[]): Snapshot[] {
	const keyed = snapshots.map((s) => ({s, t: safeTime(s.time)}));
	keyed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.s.id.localeCompare(b.s.id)));
	return keyed.map((k) => k.s);
}

function safeTime(text: string): bigint {
	try {
		return parseGoTime(text);
	} catch {
		return 0n;
	}
}

/**
 * Resolves `latest`, a full ID or a unique ID prefix to a snapshot ID.
 * `latest` may be narrowed by host and paths.
 */
export async function findSnapshotId(repo: Repository, ref: string, filter: {host?: string; paths?: string[]} = {}, signal?: AbortSignal): Promise<string> {
	if (ref === 'latest') {
		let snapshots = await listSnapshots(repo, {signal, onError: () => undefined});
		if (filter.host) snapshots = snapshots.filter((s) => s.hostname === filter.host);
		if (filter.paths?.length) snapshots = snapshots.filter((s) => samePaths(s.paths, filter.paths!));
		const last = snapshots.at(-1);
		if (!last) throw new CairnError('no snapshot found: the repository has no snapshots' + (filter.host || filter.paths ? ' matching the host/paths given' : ''));
		return last.id;
	}
	if (!/^[0-9a-f]+$/.test(ref)) throw new CairnError(`invalid snapshot ID ${JSON.stringify(ref)}: give a hex ID, a unique prefix, or "latest"`);
	const ids = await repo.listIds('snapshots', signal);
	const matches = ids.filter((id) => id.startsWith(ref));
	if (matches.length === 0) throw new CairnError(`no snapshot with ID ${ref}: run \`cairn snapshots\` to list them`);
	if (matches.length > 1) throw new CairnError(`snapshot prefix ${ref} is ambiguous (${matches.length} snapshots match): give more characters`);
	return matches[0]!;
}

/** Tells whether two path lists are the same set. */
export function samePaths(a: readonly string[], b: readonly string[]): boolean {
	if (a.length !== b.length) return false;
	const sa = [...a].sort();
	const sb = [...b].sort();
	return sa.every((p, i) => p === sb[i]);
}

/** Saves a snapshot; returns its ID. */
export async function saveSnapshot(repo: Repository, snapshot: SnapshotJson, signal?: AbortSignal): Promise<string> {
	return repo.saveUnpacked('snapshots', encodeSnapshot(snapshot), signal);
}
