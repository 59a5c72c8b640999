import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {createHash, randomBytes} from 'node:crypto';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {Storage} from '../../../adapters/storage.js';
import {watchStorage} from '../../helpers/watched-storage.js';
import {Repository} from '../../../engine/repository/repository.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {ContentFlow, DEFAULT_CONTENT_LIMITS, findJobLimit, writeFileContents, type ContentFile, type ContentLimits} from '../../../engine/restorer/content.js';
import {MallocTrimmer} from '../../../engine/restorer/malloc-trim.js';
import {walkTree} from '../../../engine/restorer/walk.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';
import {BlobCodecPool} from '../../../engine/repository/codec-pool.js';
import {CancelledError} from '../../../engine/errors.js';

let work: string;
let source: string;
let storage: Storage;
let snapshotId: string;
/** Relative path → SHA-256 of the source files. */
const digests = new Map<string, string>();

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-content-'));
	source = path.join(work, 'src');
	const files: Record<string, Uint8Array> = {};
	for (let i = 0; i < 40; i++) files[`small/d${i % 4}/f${i}.txt`] = Buffer.from(`file ${i}\n`.repeat(i + 1));
	files['small/empty-1'] = Buffer.alloc(0);
	files['small/d1/empty-2'] = Buffer.alloc(0);
	const big = randomBytes(3 * 1024 * 1024 + 5);
	files['big/random.bin'] = big;
	files['big/copy-of-random.bin'] = big; // the same blobs twice
	files['big/tail-zeros.bin'] = Buffer.concat([randomBytes(700 * 1024), Buffer.alloc(3 * 1024 * 1024)]);
	files['big/zeros.bin'] = Buffer.alloc(2 * 1024 * 1024);
	for (const [rel, data] of Object.entries(files)) {
		await fs.mkdir(path.dirname(path.join(source, rel)), {recursive: true});
		await fs.writeFile(path.join(source, rel), data);
		digests.set(rel, sha(data));
	}
	await fs.chmod(path.join(source, 'small/d0/f0.txt'), 0o640);
	storage = createMemoryStorage();
	const repo = await Repository.init(storage, 'secret');
	snapshotId = (await runBackup(repo, {paths: [source], workers: 2})).snapshot_id;
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** Every file below `dir` (relative paths). */
async function listFiles(dir: string): Promise<string[]> {
	const entries = await fs.readdir(dir, {recursive: true, withFileTypes: true});
	return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

/** Source files whose restored copy under `restored` is missing or differs. */
async function findDifferences(restored: string): Promise<string[]> {
	const wrong: string[] = [];
	for (const [rel, digest] of digests) {
		try {
			if (sha(await fs.readFile(path.join(restored, rel))) !== digest) wrong.push(rel);
		} catch {
			wrong.push(rel);
		}
	}
	return wrong;
}

/** A copy of the test repository's storage, for damaging. */
async function copyStorage(): Promise<Storage> {
	const copy = createMemoryStorage();
	for (const type of ['config', 'keys', 'snapshots', 'index', 'data'] as const) {
		for await (const info of storage.list(type)) {
			const handle = {type, name: info.name};
			await copy.save(handle, await storage.load(handle));
		}
	}
	return copy;
}

describe('restoring file contents pack by pack', () => {
	it('loads the index while its lock waits for the recheck, once, and leaves no lock', async () => {
		const calls: string[] = [];
		const watched = watchStorage(storage, ({op, type}) => {
			if (op !== 'load') calls.push(`${op} ${type}`);
		});
		const repo = await Repository.open(watched, 'secret');
		calls.length = 0;
		const target = path.join(work, 'locked');
		const summary = await runRestore(repo, snapshotId, target);
		expect(summary.errors).toEqual([]);
		expect(await findDifferences(path.join(target, source))).toEqual([]);
		expect(calls).toEqual(['list locks', 'save locks', 'list index', 'list locks']);
		expect(await repo.listIds('locks')).toEqual([]);
	});

	it('restores every file byte for byte, with holes for zeros, shared blobs and empty files', async () => {
		const repo = await Repository.open(storage, 'secret');
		const target = path.join(work, 'full');
		const summary = await runRestore(repo, snapshotId, target, {noLock: true});
		expect(summary.errors).toEqual([]);
		expect(summary.filesRestored).toBe(digests.size);
		const restored = path.join(target, source);
		expect(await findDifferences(restored)).toEqual([]);
		expect((await fs.stat(path.join(restored, 'big/tail-zeros.bin'))).size).toBe(700 * 1024 + 3 * 1024 * 1024);
		expect((await fs.stat(path.join(restored, 'small/d0/f0.txt'))).mode & 0o777).toBe(0o640);
		const sourceTime = (await fs.stat(path.join(source, 'big/random.bin'))).mtimeMs;
		expect(Math.abs((await fs.stat(path.join(restored, 'big/random.bin'))).mtimeMs - sourceTime)).toBeLessThan(1);
		expect((await listFiles(target)).filter((f) => path.basename(f).startsWith('.cairn-restore'))).toEqual([]);
	});

	it('keeps within tiny limits: many small jobs, files split across jobs, descriptors closed and reopened', async () => {
		const repo = await Repository.open(storage, 'secret');
		await repo.loadIndex();
		const snapshot = await loadSnapshot(repo, snapshotId);
		const target = path.join(work, 'limits');
		const files: ContentFile[] = [];
		await walkTree(repo, snapshot.tree, async ({path: rel, node}) => {
			const dest = path.join(target, rel);
			if (node.type === 'dir') await fs.mkdir(dest, {recursive: true});
			else if (node.type === 'file') files.push({rel, dest, node});
		});
		const restored: string[] = [];
		const failed: string[] = [];
		let bytes = 0;
		const codecs = new BlobCodecPool(repo.key, 2);
		try {
			await writeFileContents(repo, codecs, files, {
				onRestored: (file) => restored.push(file.rel),
				onFailed: (file, message) => failed.push(`${file.rel}: ${message}`),
				onBytes: (n) => {
					bytes += n;
				},
			}, {limits: {maxRange: 1, maxGap: 0, maxBytesInFlight: 1024 * 1024, maxJobs: 2, maxOpenFiles: 1, maxFilesPerJob: 1}});
		} finally {
			await codecs.close();
		}
		expect(failed).toEqual([]);
		expect(restored.length).toBe(files.length);
		expect(bytes).toBe(files.reduce((sum, f) => sum + (f.node.size ?? 0), 0));
		expect(await findDifferences(path.join(target, source))).toEqual([]);
		expect((await listFiles(target)).filter((f) => path.basename(f).startsWith('.cairn-restore'))).toEqual([]);
	});

	it('reports the files of a damaged blob by name, leaves nothing of them, and restores the rest', async () => {
		const damaged = await copyStorage();
		const repo = await Repository.open(damaged, 'secret');
		await repo.loadIndex();
		const snapshot = await loadSnapshot(repo, snapshotId);
		let firstBlob: string | undefined;
		await walkTree(repo, snapshot.tree, ({path: rel, node}) => {
			if (rel.endsWith('small/d2/f6.txt')) firstBlob = node.content![0];
		});
		const where = repo.index.lookup('data', firstBlob!)!;
		const pack = new Uint8Array(await damaged.load({type: 'data', name: where.packId}));
		pack[where.offset + 20]! ^= 0xff;
		await damaged.save({type: 'data', name: where.packId}, pack);

		const target = path.join(work, 'damaged');
		const reported: string[] = [];
		const summary = await runRestore(repo, snapshotId, target, {noLock: true, onError: (p, message) => reported.push(`${p}: ${message}`)});
		const victim = path.join(source, 'small/d2/f6.txt').slice(1);
		expect(summary.errors.map((e) => e.path)).toEqual([victim]);
		expect(reported[0]).toContain(where.packId);
		expect(reported[0]).toMatch(/damaged/);
		const restored = path.join(target, source);
		expect(await findDifferences(restored)).toEqual(['small/d2/f6.txt']);
		await expect(fs.access(path.join(restored, 'small/d2/f6.txt'))).rejects.toThrow();
		expect((await listFiles(target)).filter((f) => path.basename(f).startsWith('.cairn-restore'))).toEqual([]);
	});

	it('names the pack when a pack cannot be read, and restores the files of other packs', async () => {
		const damaged = await copyStorage();
		const repo = await Repository.open(damaged, 'secret');
		await repo.loadIndex();
		const snapshot = await loadSnapshot(repo, snapshotId);
		let blob: string | undefined;
		await walkTree(repo, snapshot.tree, ({path: rel, node}) => {
			if (rel.endsWith('big/random.bin')) blob = node.content!.at(-1);
		});
		const packId = repo.index.lookup('data', blob!)!.packId;
		await damaged.remove({type: 'data', name: packId});
		const target = path.join(work, 'missing-pack');
		const summary = await runRestore(repo, snapshotId, target, {noLock: true});
		expect(summary.errors.length).toBeGreaterThan(0);
		for (const error of summary.errors) expect(error.message).toContain(`cannot read pack ${packId}`);
		const failed = new Set(summary.errors.map((e) => path.relative(source.slice(1), e.path)));
		expect(failed.has('big/random.bin')).toBe(true);
		const wrong = await findDifferences(path.join(target, source));
		expect(wrong.sort()).toEqual([...failed].sort());
		expect((await listFiles(target)).filter((f) => path.basename(f).startsWith('.cairn-restore'))).toEqual([]);
	});

	it('stops when cancelled, leaving only complete files under their names and no temporary files', async () => {
		const controller = new AbortController();
		let contentReads = 0;
		// Cancels while the first range of file contents is being read.
		const cancelling = new Proxy(storage, {
			get: (target, key, receiver) => key !== 'load' ? Reflect.get(target, key, receiver) : (async (handle: Parameters<Storage['load']>[0], options: Parameters<Storage['load']>[1]) => {
				if (handle.type === 'data' && (options?.length ?? 0) > 64 * 1024 && ++contentReads === 1) controller.abort();
				return target.load(handle, options);
			}),
		});
		const repo = await Repository.open(cancelling, 'secret');
		const target = path.join(work, 'cancelled');
		const outcome = runRestore(repo, snapshotId, target, {noLock: true, signal: controller.signal});
		await expect(outcome).rejects.toBeInstanceOf(CancelledError);
		const restored = path.join(target, source);
		const present = await listFiles(restored).catch(() => [] as string[]);
		expect(present.filter((f) => path.basename(f).startsWith('.cairn-restore'))).toEqual([]);
		for (const rel of present) expect(sha(await fs.readFile(path.join(restored, rel))), rel).toBe(digests.get(rel));
	});
});

/**
 * Restores the files of the test snapshot that `pick` chooses through a storage whose pack reads
 * take a while, with `workers` decoding workers; returns the most pack reads seen at once, and the
 * most reads of at least {@link DEFAULT_CONTENT_LIMITS.largeBlobBytes} seen at once (a big file's
 * last chunk can be smaller: the data and the chunker's polynomial are random in each run).
 */
async function restoreCountingReads(name: string, pick: (rel: string) => boolean, workers: number, limits: Partial<ContentLimits>, flow?: ContentFlow): Promise<{maxReads: number; maxLargeReads: number; failed: string[]; restored: number; wanted: number}> {
	let reads = 0;
	let maxReads = 0;
	let largeReads = 0;
	let maxLargeReads = 0;
	const slow = new Proxy(storage, {
		get(target, key) {
			if (key === 'load') {
				return async (...args: Parameters<Storage['load']>) => {
					if (args[0].type !== 'data') return target.load(...args);
					const large = (args[1]?.length ?? Infinity) >= DEFAULT_CONTENT_LIMITS.largeBlobBytes;
					maxReads = Math.max(maxReads, ++reads);
					if (large) maxLargeReads = Math.max(maxLargeReads, ++largeReads);
					try {
						await new Promise((resolve) => setTimeout(resolve, 20));
						return await target.load(...args);
					} finally {
						reads--;
						if (large) largeReads--;
					}
				};
			}
			const value = Reflect.get(target, key) as unknown;
			return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
		},
	});
	const repo = await Repository.open(slow, 'secret');
	await repo.loadIndex();
	const snapshot = await loadSnapshot(repo, snapshotId);
	const target = path.join(work, name);
	const files: ContentFile[] = [];
	await walkTree(repo, snapshot.tree, async ({path: rel, node}) => {
		const dest = path.join(target, rel);
		if (node.type === 'dir') await fs.mkdir(dest, {recursive: true});
		else if (node.type === 'file' && pick(rel) && (node.content?.length ?? 0) > 0) files.push({rel, dest, node});
	});
	const failed: string[] = [];
	let restored = 0;
	const codecs = new BlobCodecPool(repo.key, workers);
	maxReads = 0; // the walk read tree packs ahead, several at once
	maxLargeReads = 0;
	try {
		await writeFileContents(repo, codecs, files, {
			onRestored: () => restored++,
			onFailed: (file, message) => failed.push(`${file.rel}: ${message}`),
			onBytes: () => undefined,
		}, {limits, flow});
	} finally {
		await codecs.close();
	}
	const wanted = new Set(files.map((file) => path.relative(source, path.join('/', file.rel))));
	const wrong = (await findDifferences(path.join(target, source))).filter((rel) => wanted.has(rel));
	failed.push(...wrong.map((rel) => `${rel}: differs`));
	return {maxReads, maxLargeReads, failed, restored, wanted: files.length};
}

describe('reads in flight', () => {
	const isBig = (rel: string) => rel.includes('/big/') && !rel.endsWith('zeros.bin');
	const isSmall = (rel: string) => rel.includes('/small/');
	const oneBlobReads = {maxRange: 1, maxGap: 0, maxFilesPerJob: 1, maxBytesInFlight: 64 * 1024 * 1024};

	it('holds reads of large blobs to the lower byte limit, and reads of small blobs to the full one', async () => {
		const held = await restoreCountingReads('large-held', isBig, 2, {...oneBlobReads, maxLargeBytesInFlight: 1});
		expect(held.failed).toEqual([]);
		expect(held.restored).toBe(held.wanted);
		expect(held.maxLargeReads).toBe(1);
		const free = await restoreCountingReads('large-free', isBig, 2, {...oneBlobReads, maxLargeBytesInFlight: 64 * 1024 * 1024});
		expect(free.failed).toEqual([]);
		expect(free.maxLargeReads).toBeGreaterThan(1);
		const small = await restoreCountingReads('small-free', isSmall, 2, {...oneBlobReads, maxLargeBytesInFlight: 1});
		expect(small.failed).toEqual([]);
		expect(small.restored).toBe(small.wanted);
		expect(small.maxReads).toBeGreaterThan(1);
	});

	it('keeps two reads in flight per decoding worker, at most four', async () => {
		expect([1, 2, 3, 16].map(findJobLimit)).toEqual([2, 4, 4, 4]);
		const one = await restoreCountingReads('one-worker', isSmall, 1, oneBlobReads);
		expect(one.failed).toEqual([]);
		expect(one.restored).toBe(one.wanted);
		expect(one.maxReads).toBe(2);
		const two = await restoreCountingReads('two-workers', isSmall, 2, oneBlobReads);
		expect(two.failed).toEqual([]);
		expect(two.maxReads).toBe(4);
	});
});

describe('memory during a restore', () => {
	it('returns freed memory once per given number of pack bytes restored', async () => {
		let trims = 0;
		const flow = new ContentFlow(new MallocTrimmer(() => trims++, 1));
		// one read per blob: the big files hold about 4 MiB of random data, in chunks of 512 KiB to 8 MiB
		const result = await restoreCountingReads('trimmed', (rel) => rel.includes('/big/'), 2, {maxRange: 1, maxGap: 0}, flow);
		expect(result.failed).toEqual([]);
		expect(result.restored).toBe(result.wanted);
		expect(trims).toBeGreaterThanOrEqual(3);
		let none = 0;
		const idle = new ContentFlow(new MallocTrimmer(() => none++, 1024 ** 3));
		await restoreCountingReads('untrimmed', (rel) => rel.includes('/big/'), 2, {maxRange: 1, maxGap: 0}, idle);
		expect(none).toBe(0);
	});
});
