/**
 * Choosing snapshots the way restic's read commands do (`--host`, `--tag`, `--path`, explicit
 * IDs and `latest`), and the shared lock those commands take.
 */
import * as path from 'node:path';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {findSnapshotId, listSnapshots, loadSnapshot} from '../../engine/repository/snapshots.js';
import {acquireLock, type HeldLock} from '../../engine/repository/lock.js';
import type {Repository} from '../../engine/repository/repository.js';
import {CairnError} from '../../engine/errors.js';

/** The snapshot filter flags. `tag` entries are comma-separated lists (a snapshot needs every tag of one list). */
export interface SnapshotFilterFlags {
	host?: string[];
	tag?: string[];
	path?: string[];
}

/** restic's filter: any of the hosts, any of the tag lists (all tags of it), all of the paths. */
export function matchesFilter(s: Snapshot, filter: SnapshotFilterFlags): boolean {
	if (filter.host?.length && !filter.host.includes(s.hostname ?? '')) return false;
	if (filter.tag?.length && !filter.tag.some((list) => list.split(',').filter(Boolean).every((t) => (s.tags ?? []).includes(t)))) return false;
	if (filter.path?.length && !filter.path.every((p) => s.paths.includes(p))) return false;
	return true;
}

/** The newest snapshot matching the filter (paths made absolute and clean, as restic's latest does). */
export async function findLatestSnapshot(repo: Repository, filter: SnapshotFilterFlags, signal?: AbortSignal): Promise<Snapshot | undefined> {
	const paths = filter.path?.map((p) => path.resolve(p));
	const all = await listSnapshots(repo, {signal, onError: () => undefined});
	return all.filter((s) => matchesFilter(s, {...filter, path: paths})).at(-1);
}

/**
 * The snapshots a read command works on: the given IDs (`latest` honours the filter; others ignore
 * it, with a warning), or every snapshot matching the filter, oldest first. Unknown IDs are
 * warned about and skipped, as restic does.
 */
export async function selectSnapshots(repo: Repository, ids: readonly string[], filter: SnapshotFilterFlags, warn: (message: string) => void, signal?: AbortSignal): Promise<Snapshot[]> {
	if (ids.length === 0) {
		return (await listSnapshots(repo, {signal, onError: (id, error) => warn(`could not load snapshot ${id.slice(0, 8)}: ${error.message}`)})).filter((s) => matchesFilter(s, filter));
	}
	const found: string[] = [];
	let usedFilter = false;
	for (const ref of ids) {
		if (ref === 'latest') {
			usedFilter = true;
			const latest = await findLatestSnapshot(repo, filter, signal);
			if (!latest) {
				warn(`Ignoring "latest", no snapshot matched given filter (Paths:[${(filter.path ?? []).join(' ')}] Tags:[${(filter.tag ?? []).join(' ')}] Hosts:[${(filter.host ?? []).join(' ')}])`);
				continue;
			}
			found.push(latest.id);
			continue;
		}
		try {
			found.push(await findSnapshotId(repo, ref, {}, signal));
		} catch (error) {
			warn(`Ignoring "${ref}": ${(error as Error).message}`);
		}
	}
	if (!usedFilter && (filter.host?.length || filter.tag?.length || filter.path?.length)) warn('Ignoring filters as there are explicit snapshot ids given');
	const snapshots: Snapshot[] = [];
	for (const id of [...new Set(found)]) {
		try {
			snapshots.push(await loadSnapshot(repo, id, signal));
		} catch (error) {
			warn(`Ignoring "${id}", could not load snapshot: ${(error as Error).message}`);
		}
	}
	return snapshots;
}

/** Resolves one snapshot argument: `latest` (narrowed by the filter) or an ID prefix. */
export async function resolveSnapshot(repo: Repository, ref: string, filter: SnapshotFilterFlags, signal?: AbortSignal): Promise<Snapshot> {
	if (ref === 'latest') {
		const latest = await findLatestSnapshot(repo, filter, signal);
		if (!latest) throw new CairnError(`no snapshot matched the filter (paths [${(filter.path ?? []).join(' ')}], hosts [${(filter.host ?? []).join(' ')}], tags [${(filter.tag ?? []).join(' ')}]): run \`cairn snapshots\` to see what there is`);
		return latest;
	}
	return loadSnapshot(repo, await findSnapshotId(repo, ref, {}, signal), signal);
}

/** Flags of the lock every read command takes. */
export interface LockFlags {
	/** False with `--no-lock`. */
	lock?: boolean;
}

/**
 * Runs `work` under a shared (non-exclusive) lock, as restic's read commands do, unless `--no-lock`
 * was given. A live exclusive lock (prune, forget) makes it fail with exit code 11.
 */
export async function withSharedLock<T>(repo: Repository, flags: LockFlags, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
	let lock: HeldLock | undefined;
	if (flags.lock !== false) lock = await acquireLock(repo, {exclusive: false, signal});
	try {
		return await work();
	} finally {
		await lock?.release();
	}
}
