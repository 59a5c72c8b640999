/**
 * Locks: when a lock is stale, who conflicts with whom, what the error says, refreshing, removing
 * stale locks, and the registry of locks this process holds.
 */
import {spawnSync} from 'node:child_process';
import * as os from 'node:os';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {Storage} from '../../../adapters/storage.js';
import {watchStorage} from '../../helpers/watched-storage.js';
import {LockError} from '../../../engine/errors.js';
import {formatGoTime} from '../../../engine/format/time.js';
import {acquireLock, findHeldLocks, findStaleReason, listLocks, REFRESH_EVERY_MS, removeLocks, STALE_AFTER_MS, type LockJson} from '../../../engine/repository/lock.js';
import {addKey} from '../../../engine/repository/keys.js';
import {EARLY_LOCK_LISTING_MS, Repository} from '../../../engine/repository/repository.js';

const PASSWORD = 'locks';

/** A PID that belonged to a process that has exited. */
function findDeadPid(): number {
	const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
	return Number(child.stdout.toString());
}

function lockJson(fields: Partial<LockJson> & {ageMs?: number} = {}): LockJson {
	const {ageMs = 0, ...rest} = fields;
	return {time: formatGoTime(BigInt(Date.now() - ageMs) * 1_000_000n), exclusive: false, hostname: 'other-host', username: 'bob', pid: 4242, ...rest};
}

async function newRepository(): Promise<Repository> {
	const storage = createMemoryStorage();
	const repo = await Repository.init(storage, PASSWORD);
	await addKey(storage, repo.key, PASSWORD, {params: {N: 1024, r: 8, p: 1}});
	return repo;
}

async function writeLock(repo: Repository, json: LockJson): Promise<string> {
	return repo.saveUnpacked('locks', Buffer.from(JSON.stringify(json)));
}

describe('findStaleReason', () => {
	it('calls a lock of this host whose process has exited stale, and one whose process runs live', () => {
		const dead = findDeadPid();
		expect(findStaleReason(lockJson({hostname: os.hostname(), pid: dead}))).toBe(`process ${dead} on this host has exited`);
		expect(findStaleReason(lockJson({hostname: os.hostname(), pid: process.pid}))).toBeUndefined();
	});

	it('calls a lock of another host live until it has gone 30 minutes without a refresh', () => {
		expect(findStaleReason(lockJson({ageMs: STALE_AFTER_MS - 60_000}))).toBeUndefined();
		expect(findStaleReason(lockJson({ageMs: STALE_AFTER_MS + 60_000}))).toBe('not refreshed for 31 minutes');
		expect(findStaleReason(lockJson({time: 'yesterday'}))).toBe('its time cannot be read');
	});
});

describe('acquireLock', () => {
	it('lets shared locks coexist and refuses an exclusive one, naming the holder and when it started', async () => {
		const repo = await newRepository();
		await writeLock(repo, lockJson({username: 'alice', hostname: 'laptop', pid: 777, time: '2030-01-02T03:04:05.5+01:00'}));
		const shared = await acquireLock(repo, {exclusive: false, recheckDelayMs: 0});
		await shared.release();
		const attempt = acquireLock(repo, {exclusive: true, recheckDelayMs: 0});
		await expect(attempt).rejects.toThrow(LockError);
		await expect(attempt).rejects.toThrow(/a shared lock [0-9a-f]{8} held by alice@laptop \(PID 777\) since 2030-01-02T02:04:05\.500Z.*cairn unlock/);
		await expect(attempt).rejects.toMatchObject({exitCode: 11});
		expect(await listLocks(repo)).toHaveLength(1);
	});

	it('refuses a shared lock while a live exclusive lock exists, and ignores a stale one', async () => {
		const repo = await newRepository();
		const live = await writeLock(repo, lockJson({exclusive: true}));
		await expect(acquireLock(repo, {exclusive: false, recheckDelayMs: 0})).rejects.toThrow(/an exclusive lock/);
		await repo.storage.remove({type: 'locks', name: live});
		await writeLock(repo, lockJson({exclusive: true, hostname: os.hostname(), pid: findDeadPid()}));
		const lock = await acquireLock(repo, {exclusive: true, recheckDelayMs: 0});
		await lock.release();
	});

	it('notices a conflicting lock written while it waited, and backs off', async () => {
		const repo = await newRepository();
		const racing = acquireLock(repo, {exclusive: true, recheckDelayMs: 100});
		await new Promise((resolve) => setTimeout(resolve, 30));
		await writeLock(repo, lockJson({exclusive: false}));
		await expect(racing).rejects.toThrow(LockError);
		// Its own lock file is gone again; only the racer's remains.
		expect((await listLocks(repo)).map((l) => l.username)).toEqual(['bob']);
	});

	it('records held locks per repository until they are released', async () => {
		const repo = await newRepository();
		const other = await Repository.open(repo.storage, PASSWORD);
		const lock = await acquireLock(repo, {exclusive: true, recheckDelayMs: 0});
		expect(findHeldLocks(repo)).toEqual([lock]);
		expect(lock.exclusive).toBe(true);
		expect(findHeldLocks(other)).toEqual([]);
		await lock.release();
		expect(findHeldLocks(repo)).toEqual([]);
		expect(await listLocks(repo)).toEqual([]);
	});
});

describe('the lock listing made while opening', () => {
	/** The repository's storage, counting its listings of lock files. */
	function countLockListings(storage: Storage): {storage: Storage; listings: () => number} {
		let listings = 0;
		const counted = watchStorage(storage, ({op, type}) => {
			if (op === 'list' && type === 'locks') listings++;
		});
		return {storage: counted, listings: () => listings};
	}

	it('is listed during open and serves the first lock, which then lists only for its recheck', async () => {
		const made = await newRepository();
		await writeLock(made, lockJson({username: 'carol'}));
		const {storage, listings} = countLockListings(made.storage);
		const repo = await Repository.open(storage, PASSWORD, {listLocksEarly: true});
		expect(listings()).toBe(1);
		const lock = await acquireLock(repo, {exclusive: false, recheckDelayMs: 0});
		expect(listings()).toBe(2);
		await lock.release();
		// Once only: a second lock lists again before writing.
		const second = await acquireLock(repo, {exclusive: false, recheckDelayMs: 0});
		expect(listings()).toBe(4);
		await second.release();
		// Not asked for: nothing is listed while opening.
		const plain = countLockListings(made.storage);
		await Repository.open(plain.storage, PASSWORD);
		expect(plain.listings()).toBe(0);
	});

	it('still refuses a lock that conflicts, whether it was there before opening or came after the listing', async () => {
		const made = await newRepository();
		const before = await writeLock(made, lockJson({exclusive: true}));
		const early = await Repository.open(made.storage, PASSWORD, {listLocksEarly: true});
		await expect(acquireLock(early, {exclusive: false, recheckDelayMs: 0})).rejects.toThrow(/an exclusive lock/);
		await made.storage.remove({type: 'locks', name: before});
		// An exclusive lock written after the listing: found by the recheck, and no lock of ours is left.
		const late = await Repository.open(made.storage, PASSWORD, {listLocksEarly: true});
		const racer = await writeLock(made, lockJson({exclusive: true, username: 'dave'}));
		await expect(acquireLock(late, {exclusive: false, recheckDelayMs: 0})).rejects.toThrow(/an exclusive lock .* held by dave@/);
		expect((await listLocks(made)).map((l) => l.id)).toEqual([racer]);
	});

	it('is given once, and not once it is older than EARLY_LOCK_LISTING_MS', async () => {
		const made = await newRepository();
		const id = await writeLock(made, lockJson());
		const repo = await Repository.open(made.storage, PASSWORD, {listLocksEarly: true});
		expect(await repo.takeEarlyLockIds()).toEqual([id]);
		expect(await repo.takeEarlyLockIds()).toBeUndefined();
		const old = await Repository.open(made.storage, PASSWORD, {listLocksEarly: true});
		expect(await old.takeEarlyLockIds(Date.now() + EARLY_LOCK_LISTING_MS + 1)).toBeUndefined();
	});
});

describe('refreshing', () => {
	beforeEach(() => {
		vi.useFakeTimers({toFake: ['setInterval', 'clearInterval']});
	});
	afterEach(() => {
		vi.useRealTimers();
	});

	it('replaces the lock file with a new one every 5 minutes', async () => {
		const repo = await newRepository();
		const lock = await acquireLock(repo, {exclusive: false, recheckDelayMs: 0});
		const first = lock.id;
		const firstTime = (await listLocks(repo))[0]!.time;
		await new Promise((resolve) => setTimeout(resolve, 5));
		vi.advanceTimersByTime(REFRESH_EVERY_MS);
		await vi.waitFor(async () => {
			expect(lock.id).not.toBe(first);
			expect((await listLocks(repo)).map((l) => l.id)).toEqual([lock.id]);
		});
		expect((await listLocks(repo))[0]!.time > firstTime).toBe(true);
		await lock.release();
		expect(await listLocks(repo)).toEqual([]);
	});
});

describe('removeLocks', () => {
	it('removes stale locks only, or every lock with all', async () => {
		const repo = await newRepository();
		await writeLock(repo, lockJson({username: 'old', ageMs: STALE_AFTER_MS * 2}));
		await writeLock(repo, lockJson({username: 'gone', hostname: os.hostname(), pid: findDeadPid()}));
		await writeLock(repo, lockJson({username: 'alive'}));
		const removed = await removeLocks(repo);
		expect(removed.map((l) => l.username).sort()).toEqual(['gone', 'old']);
		expect(removed.every((l) => l.stale)).toBe(true);
		expect((await listLocks(repo)).map((l) => l.username)).toEqual(['alive']);
		expect((await removeLocks(repo, {all: true})).map((l) => l.username)).toEqual(['alive']);
		expect(await listLocks(repo)).toEqual([]);
	});
});
