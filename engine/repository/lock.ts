/**
 * Repository locks in restic's format: encrypted JSON files in `locks/`. Backup, restore and
 * check take non-exclusive locks; prune takes an exclusive one. restic honours cairn's locks
 * and cairn honours restic's.
 */
import * as os from 'node:os';
import {isStorageError} from '../../adapters/storage.js';
import {stringifyGoJson} from '../format/json.js';
import {formatGoTime, nowNs, parseGoTime, toDate} from '../format/time.js';
import {LockError} from '../errors.js';
import type {Repository} from './repository.js';

/** The JSON of a lock file. */
export interface LockJson {
	time: string;
	exclusive: boolean;
	hostname: string;
	username: string;
	pid: number;
	uid?: number;
	gid?: number;
}

/** A lock found in the repository. */
export interface LockInfo extends LockJson {
	id: string;
	/** Why the lock is stale, or undefined when it is live. */
	stale?: string;
}

/** A lock older than this (not refreshed) is stale. */
export const STALE_AFTER_MS = 30 * 60_000;
/** Held locks are refreshed this often. */
export const REFRESH_EVERY_MS = 5 * 60_000;

function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Decides whether a lock is stale: too old, or held by a process of this host that is gone. */
export function findStaleReason(lock: LockJson, now = Date.now(), hostname = os.hostname()): string | undefined {
	let time: number;
	try {
		time = Number(parseGoTime(lock.time) / 1_000_000n);
	} catch {
		return 'its time cannot be read';
	}
	if (now - time > STALE_AFTER_MS) return `not refreshed for ${Math.round((now - time) / 60_000)} minutes`;
	if (lock.hostname === hostname && !isProcessAlive(lock.pid)) return `process ${lock.pid} on this host has exited`;
	return undefined;
}

/** Describes who holds a lock, for messages. */
export function describeLock(lock: LockInfo): string {
	const kind = lock.exclusive ? 'an exclusive' : 'a shared';
	let since = lock.time;
	try {
		since = toDate(parseGoTime(lock.time)).toISOString();
	} catch {
		// keep the raw text
	}
	return `${kind} lock ${lock.id.slice(0, 8)} held by ${lock.username}@${lock.hostname} (PID ${lock.pid}) since ${since}`;
}

/** What {@link listLocks} may leave out or take from an earlier listing. */
export interface ListLocksOptions {
	/** Lock IDs not to load or return (this process's own locks). */
	skip?: ReadonlySet<string>;
	/**
	 * Locks loaded before, by ID: a lock file never changes (its name is the hash of its bytes),
	 * so one listed again is not loaded again (a round trip less on a slow link).
	 */
	known?: ReadonlyMap<string, LockJson>;
	/** The lock file names, listed already (see {@link Repository.takeEarlyLockIds}); default: list them now. */
	ids?: readonly string[];
}

/** Loads every lock; unreadable lock files are skipped (they may be mid-removal). */
export async function listLocks(repo: Repository, signal?: AbortSignal, options: ListLocksOptions = {}): Promise<LockInfo[]> {
	const ids = (options.ids ?? await repo.listIds('locks', signal)).filter((id) => !options.skip?.has(id));
	const locks: LockInfo[] = [];
	await Promise.all(ids.map(async (id) => {
		try {
			const json = options.known?.get(id) ?? await repo.loadJson<LockJson>('locks', id, signal);
			locks.push({...json, id, stale: findStaleReason(json)});
		} catch (error) {
			if (isStorageError(error, 'not-found')) return;
			locks.push({time: '', exclusive: true, hostname: '?', username: '?', pid: 0, id, stale: `unreadable: ${(error as Error).message}`});
		}
	}));
	return locks;
}

/** The readable locks of a listing by ID, for {@link ListLocksOptions.known}. */
function byId(locks: readonly LockInfo[]): Map<string, LockJson> {
	const map = new Map<string, LockJson>();
	for (const {id, stale, ...json} of locks) if (!stale?.startsWith('unreadable')) map.set(id, json);
	return map;
}

function findConflict(locks: LockInfo[], exclusive: boolean, ownId?: string): LockInfo | undefined {
	return locks.find((l) => l.id !== ownId && !l.stale && (exclusive || l.exclusive));
}

/** A held lock. Call `release` when the operation ends. */
export interface HeldLock {
	/** The lock file's ID; it changes at each refresh. */
	readonly id: string;
	readonly exclusive: boolean;
	/** Stops refreshing and removes the lock file. */
	release(): Promise<void>;
}

/** Locks this process holds, per open repository (so nested operations can reuse them). */
const heldLocks = new WeakMap<Repository, Set<HeldLock>>();

/**
 * The locks this process holds on a repository through this Repository object and has not released.
 * An operation that needs an exclusive lock (prune) uses one found here instead of taking a second,
 * which would conflict with the first.
 */
export function findHeldLocks(repo: Repository): HeldLock[] {
	return [...(heldLocks.get(repo) ?? [])];
}

/**
 * Takes a lock. Throws LockError naming the holder when a live conflicting lock exists, and
 * re-checks after writing to catch a racing process. The lock is refreshed every 5 minutes.
 *
 * `meanwhile` runs once the lock file is written, during the wait and the recheck (on a slow link
 * that wait and a round trip are otherwise idle): for reads that are sound once this lock is in
 * place, such as loading the index. A process that held an exclusive lock meanwhile is seen by the
 * recheck, and then acquireLock throws (after `meanwhile` settles), so nothing read is used. When
 * `meanwhile` rejects, the lock is removed and its error thrown.
 */
export async function acquireLock(repo: Repository, options: {exclusive: boolean; signal?: AbortSignal; recheckDelayMs?: number; meanwhile?: (lockId: string) => Promise<void>}): Promise<HeldLock> {
	// A listing made while the repository was opened serves: a lock that appeared since then is
	// found by the recheck below, as one that appears just after a fresh listing is.
	const before = await listLocks(repo, options.signal, {ids: await repo.takeEarlyLockIds()});
	const conflict = findConflict(before, options.exclusive);
	if (conflict) throw lockErrorFor(conflict, repo);
	const user = os.userInfo();
	const make = (): Buffer => Buffer.from(stringifyGoJson({
		time: formatGoTime(nowNs()), exclusive: options.exclusive, hostname: os.hostname(), username: user.username, pid: process.pid, uid: user.uid, gid: user.gid,
	} satisfies LockJson));
	let id = await repo.saveUnpacked('locks', make(), options.signal);
	const work = options.meanwhile?.(id);
	work?.catch(() => undefined);
	let late: LockInfo | undefined;
	try {
		await new Promise((resolve) => setTimeout(resolve, options.recheckDelayMs ?? 200));
		// Only locks that appeared meanwhile are loaded: not this one, nor those checked above.
		late = findConflict(await listLocks(repo, options.signal, {skip: new Set([id]), known: byId(before)}), options.exclusive, id);
		if (late && (options.exclusive || late.exclusive)) throw lockErrorFor(late, repo);
		await work;
	} catch (error) {
		// Cancelled, a conflict, or a failure between writing the lock and checking it: leave no lock behind.
		await work?.catch(() => undefined);
		await repo.storage.remove({type: 'locks', name: id}).catch(() => undefined);
		throw error;
	}
	let released = false;
	let refreshing: Promise<void> = Promise.resolve();
	const timer = setInterval(() => {
		refreshing = (async () => {
			const old = id;
			id = await repo.saveUnpacked('locks', make());
			await repo.storage.remove({type: 'locks', name: old}).catch(() => undefined);
		})().catch(() => undefined);
	}, REFRESH_EVERY_MS);
	timer.unref();
	const held: HeldLock = {
		get id() {
			return id;
		},
		exclusive: options.exclusive,
		async release() {
			if (released) return;
			released = true;
			heldLocks.get(repo)?.delete(held);
			clearInterval(timer);
			await refreshing;
			await repo.storage.remove({type: 'locks', name: id}).catch(() => undefined);
		},
	};
	let set = heldLocks.get(repo);
	if (!set) heldLocks.set(repo, set = new Set());
	set.add(held);
	return held;
}

function lockErrorFor(lock: LockInfo, repo: Repository): LockError {
	return new LockError(`repository ${repo.storage.location} is locked: ${describeLock(lock)}. Wait for that operation to finish; if that process is gone, run \`cairn unlock\``);
}

/** Removes stale locks (or every lock with `all`); returns the removed locks. */
export async function removeLocks(repo: Repository, options: {all?: boolean; signal?: AbortSignal} = {}): Promise<LockInfo[]> {
	const locks = await listLocks(repo, options.signal);
	const doomed = locks.filter((l) => options.all || l.stale);
	for (const lock of doomed) await repo.storage.remove({type: 'locks', name: lock.id}).catch(() => undefined);
	return doomed;
}
