/**
 * The cold snapshot listing and its round trips: small unpacked files decompressed synchronously
 * (engine/format/zstd-sync.ts) give the same bytes as the asynchronous path, a cold listing fills the local cache
 * (every snapshot file and the decoded list) so a warm one reads no snapshot from the repository,
 * opening a repository fetches the config while the keys are tried, and a lock's recheck loads
 * only locks it has not seen.
 */
import {execFileSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {FileHandle, Storage} from '../../../adapters/storage.js';
import {compressZstd, decompressZstd} from '../../../engine/format/compression.js';
import {formatGoTime} from '../../../engine/format/time.js';
import {acquireLock} from '../../../engine/repository/lock.js';
import {Repository} from '../../../engine/repository/repository.js';
import {listSnapshots, loadSnapshot, saveSnapshot} from '../../../engine/repository/snapshots.js';
import {canDecompressSync, decompressZstdSync, describeSyncZstd, loadWasmZstd, NeedsAsyncError} from '../../../engine/format/zstd-sync.js';
import {RepositoryNotFoundError} from '../../../engine/errors.js';

const PASSWORD = 'listing test';
let work: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-listing-'));
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** Counts loads per file type and the order of requests; never closes the store it wraps. */
function withCounting(inner: Storage): Storage & {count(type: FileHandle['type']): number; log: string[]} {
	const log: string[] = [];
	return {
		location: inner.location,
		capabilities: inner.capabilities,
		log,
		count: (type) => log.filter((line) => line.startsWith(`load ${type}/`)).length,
		create: (o) => inner.create(o),
		save: (h, d, o) => inner.save(h, d, o),
		load: (h, o) => {
			log.push(`load ${h.type}/${h.name}`);
			return inner.load(h, o);
		},
		stat: (h, o) => {
			log.push(`stat ${h.type}/${h.name}`);
			return inner.stat(h, o);
		},
		list: (t, o) => {
			log.push(`list ${t}`);
			return inner.list(t, o);
		},
		remove: (h, o) => inner.remove(h, o),
		close: async () => undefined,
	};
}

function snapshotJson(i: number) {
	return {
		time: formatGoTime(BigInt(1_700_000_000 + i * 3600) * 1_000_000_000n),
		tree: 'ab'.repeat(32),
		paths: [`/home/user${i % 3}`],
		hostname: `host-${i % 4}`,
		username: 'me',
		tags: i % 2 === 0 ? ['daily'] : [],
	};
}

describe('synchronous zstd for small files', () => {
	const sync = decompressZstdSync;

	it('exists on this runtime: WebAssembly, with node:zlib (Node 22.15+) or libzstd through koffi behind it', async () => {
		expect(await loadWasmZstd()).toBe(true);
		expect(canDecompressSync()).toBe(true);
		expect(describeSyncZstd()).toMatch(/^WebAssembly zstd/);
		expect(describeSyncZstd()).toMatch(/node:zlib zstdDecompressSync|libzstd/);
	});

	it('gives the bytes the asynchronous path gives: frames with and without a recorded size, several frames', async () => {
		const text = Buffer.from(JSON.stringify(Array.from({length: 300}, (_, i) => snapshotJson(i))));
		// The native binding's frames (cairn's own files).
		const native = await compressZstd(text, 2);
		// The zstd tool's frames record their size (as restic's do).
		const tool = execFileSync('zstd', ['-q', '-c', '-3'], {input: text});
		const random = randomBytes(5000);
		const twoFrames = Buffer.concat([tool, await compressZstd(random, 1)]);
		await loadWasmZstd();
		// Also a frame whose output is larger than the WebAssembly path's guess (no recorded size, ratio over 32).
		const large = Buffer.from('y'.repeat(3_000_000));
		const highRatio = await compressZstd(large, 2);
		for (const input of [native, tool, twoFrames, highRatio]) {
			const expected = await decompressZstd(input);
			expect(sync!(input).equals(expected)).toBe(true);
		}
		expect(sync!(twoFrames).equals(Buffer.concat([text, random]))).toBe(true);
		expect(sync!(highRatio).equals(large)).toBe(true);
		// Inputs over the small-input limit are left to the asynchronous path.
		expect(() => sync!(randomBytes(300 * 1024))).toThrow(NeedsAsyncError);
	});

	it('refuses damaged input instead of returning wrong bytes', async () => {
		const good = await compressZstd(Buffer.from('x'.repeat(10_000) + 'tail'), 2);
		const damaged = Buffer.from(good);
		damaged[damaged.length - 3]! ^= 0xff;
		let result: Buffer | undefined;
		let failure: unknown;
		try {
			result = sync!(damaged);
		} catch (error) {
			failure = error;
		}
		// Either an error, or (when the damage hit a part the decoder cannot check) never the same bytes silently accepted as the original's length of garbage.
		if (failure === undefined) expect(result!.equals(await decompressZstd(good))).toBe(false);
		else expect(failure).toBeInstanceOf(Error);
		expect(() => sync!(Buffer.from('not zstd at all'))).toThrow();
		expect(new NeedsAsyncError()).toBeInstanceOf(Error);
	});
});

describe('a cold listing', () => {
	it('fills the cache with the decoded list (not a file per snapshot); a warm listing reads no snapshot', async () => {
		const store = createMemoryStorage();
		const writer = await Repository.init(store, PASSWORD);
		const ids: string[] = [];
		for (let i = 0; i < 60; i++) ids.push(await saveSnapshot(writer, snapshotJson(i)));
		const base = path.join(work, 'cache-cold');

		const cold = withCounting(store);
		const repo = await Repository.open(cold, PASSWORD, {cacheDir: base});
		const first = await listSnapshots(repo);
		expect(first.map((s) => s.id).sort()).toEqual([...ids].sort());
		expect(cold.count('snapshots')).toBe(60);
		const dir = path.join(base, repo.config.id);
		// Creating one cache file per snapshot was most of a cold listing's time: none is made.
		expect(await fs.readdir(path.join(dir, 'snapshots'))).toEqual([]);
		expect((await fs.stat(path.join(dir, 'snapshot-list'))).mode & 0o777).toBe(0o600);
		// A snapshot loaded after the listing comes from it, not from the storage.
		const before = cold.count('snapshots');
		expect((await loadSnapshot(repo, ids[7]!)).tree).toBe(first.find((s) => s.id === ids[7])!.tree);
		expect(cold.count('snapshots')).toBe(before);

		const warm = withCounting(store);
		const again = await Repository.open(warm, PASSWORD, {cacheDir: base});
		const second = await listSnapshots(again);
		expect(second).toEqual(first);
		expect(warm.count('snapshots')).toBe(0);

		// One new snapshot: only it is read (and cached).
		const added = await saveSnapshot(writer, snapshotJson(99));
		const third = withCounting(store);
		const repo3 = await Repository.open(third, PASSWORD, {cacheDir: base});
		expect((await listSnapshots(repo3)).map((s) => s.id)).toContain(added);
		expect(third.log.filter((line) => line.startsWith('load snapshots/'))).toEqual([`load snapshots/${added}`]);
		expect(await fs.readdir(path.join(dir, 'snapshots'))).toEqual([]);
	});
});

describe('round trips', () => {
	it('opening fetches the config without a stat first, and still tells a missing repository', async () => {
		const store = createMemoryStorage();
		await Repository.init(store, PASSWORD);
		const counting = withCounting(store);
		await Repository.open(counting, PASSWORD);
		expect(counting.log.filter((line) => line.startsWith('stat'))).toEqual([]);
		expect(counting.log[0]).toBe('load config/');

		await expect(Repository.open(createMemoryStorage(), PASSWORD)).rejects.toBeInstanceOf(RepositoryNotFoundError);
	});

	it('a lock\'s recheck loads only the locks that appeared after the first look', async () => {
		const store = createMemoryStorage();
		const other = await Repository.init(store, PASSWORD);
		const foreign = await acquireLock(other, {exclusive: false, recheckDelayMs: 1});
		const counting = withCounting(store);
		const repo = await Repository.open(counting, PASSWORD);
		const lock = await acquireLock(repo, {exclusive: false, recheckDelayMs: 1});
		// The foreign lock once (first look), the own lock never.
		expect(counting.log.filter((line) => line.startsWith('load locks/'))).toEqual([`load locks/${foreign.id}`]);
		expect(counting.log.filter((line) => line === 'list locks')).toHaveLength(2);
		await lock.release();
		await foreign.release();
	});

	it('a lock runs `meanwhile` after its file is written; a failure there or a conflict leaves no lock', async () => {
		const store = createMemoryStorage();
		const repo = await Repository.init(store, PASSWORD);
		let seen: string[] = [];
		const lock = await acquireLock(repo, {exclusive: false, recheckDelayMs: 30, meanwhile: async (id) => {
			// The lock file is there while `meanwhile` runs.
			seen = await repo.listIds('locks');
			expect(seen).toContain(id);
		}});
		expect(seen).toEqual([lock.id]);
		await lock.release();

		await expect(acquireLock(repo, {exclusive: false, recheckDelayMs: 1, meanwhile: async () => {
			throw new Error('index unreadable');
		}})).rejects.toThrow('index unreadable');
		expect(await repo.listIds('locks')).toEqual([]);

		// An exclusive lock of another host written during the wait (a racing prune that had not
		// seen this one yet): the recheck refuses, after `meanwhile` has settled, and leaves no lock.
		let settled = false;
		let racing = '';
		await expect(acquireLock(repo, {exclusive: false, recheckDelayMs: 100, meanwhile: async () => {
			racing = await repo.saveUnpacked('locks', Buffer.from(JSON.stringify({time: formatGoTime(BigInt(Date.now()) * 1_000_000n), exclusive: true, hostname: 'elsewhere', username: 'prune', pid: 1})));
			await new Promise((resolve) => setTimeout(resolve, 150));
			settled = true;
		}})).rejects.toThrow(/locked/);
		expect(settled).toBe(true);
		expect(await repo.listIds('locks')).toEqual([racing]);
	});
});

