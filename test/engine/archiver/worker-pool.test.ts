/**
 * The chunk worker pool starts one worker and grows only when the work is bound by bytes: a
 * folder of small files stays on one worker (each costs ~45 MiB), a large file brings in the
 * others, which then share its chunks. The chunks are those of a pool of fixed size either way,
 * and the repository is one restic checks.
 */
import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import {ChunkWorkerPool, findDefaultWorkerCount, SLOW_STORE_MS, type ChunkInfo} from '../../../engine/archiver/worker-pool.js';
import {findMemoryBudget} from '../../../engine/util/memory-budget.js';
import {Repository} from '../../../engine/repository/repository.js';

const run = promisify(execFile);
const PASSWORD = 'worker pool';

let work: string;
let smallFiles: string[];
let largeFile: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-worker-pool-'));
	await fs.mkdir(path.join(work, 'src'));
	smallFiles = [];
	for (let i = 0; i < 200; i++) {
		const file = path.join(work, 'src', `small-${i}.txt`);
		await fs.writeFile(file, `small file number ${i}\n`.repeat(1 + (i % 40)));
		smallFiles.push(file);
	}
	largeFile = path.join(work, 'src', 'large.img');
	await fs.writeFile(largeFile, Buffer.concat([randomBytes(14 * 1024 * 1024), Buffer.from('compressible line\n'.repeat(200_000))]));
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** `growOnLoad` off keeps a busy lone worker (the machine's load) from growing the pool: only the byte rules act. */
function startPool(repo: Repository, size?: number, maxWorkers?: number, growOnLoad = true): ChunkWorkerPool {
	return new ChunkWorkerPool({
		polynomial: repo.config.chunker_polynomial,
		key: repo.key,
		compression: repo.compression,
		packSize: repo.packSize,
		isKnown: (id) => repo.index.has('data', id),
		storePack: (bytes, id, blobs) => repo.storePack(bytes, id, blobs),
	}, size, maxWorkers, growOnLoad);
}

function restoreTmpdir(saved: string | undefined): void {
	if (saved === undefined) delete process.env.TMPDIR;
	else process.env.TMPDIR = saved;
}

/** The chunk IDs of each file, in order. */
async function chunkFiles(pool: ChunkWorkerPool, files: string[]): Promise<string[][]> {
	return Promise.all(files.map(async (file) => {
		const chunks: ChunkInfo[] = [];
		await pool.processFile(file, (chunk) => chunks.push(chunk));
		return chunks.map((chunk) => chunk.id);
	}));
}

describe('the chunk worker pool', () => {
	it('keeps small files on one worker, grows for a large file, and stores what a fixed pool stores', async () => {
		const repoDir = path.join(work, 'repo');
		const repo = await Repository.init(createLocalStorage(repoDir), PASSWORD, {packSize: 4 * 1024 * 1024});
		const pool = startPool(repo, undefined, 3, false);
		try {
			expect(pool.size).toBe(1);
			const small = await chunkFiles(pool, smallFiles);
			expect(small.every((ids) => ids.length === 1)).toBe(true);
			expect(pool.size).toBe(1);
			const [large] = await chunkFiles(pool, [largeFile]);
			expect(pool.size).toBe(3);
			expect(large!.length).toBeGreaterThan(4);
			await pool.flush();
			await repo.flush();
		} finally {
			await pool.close();
		}
		const stored = repo.index.count().data;
		await repo.close();

		// A pool of one fixed worker cuts the same chunks; everything is already stored.
		const again = await Repository.open(createLocalStorage(repoDir), PASSWORD);
		await again.loadIndex();
		const fixed = startPool(again, 1);
		let expected: string[][];
		try {
			expect(fixed.size).toBe(1);
			expected = await chunkFiles(fixed, [...smallFiles, largeFile]);
			await fixed.flush();
		} finally {
			await fixed.close();
		}
		expect(new Set(expected.flat()).size).toBe(stored);
		expect(expected.flat().every((id) => again.index.has('data', id))).toBe(true);
		await again.close();

		const env = {...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(work, 'restic-cache')};
		expect((await run('restic', ['-r', repoDir, 'check', '--read-data'], {env})).stdout).toContain('no errors were found');
	}, 120_000);

	it('closes its temporary pack files with the pool, and leaves none in the temporary directory', async () => {
		const tmp = path.join(work, 'tmp');
		await fs.mkdir(tmp);
		const saved = process.env.TMPDIR;
		process.env.TMPDIR = tmp;
		const before = (await fs.readdir('/proc/self/fd')).length;
		const repo = await Repository.init(createLocalStorage(path.join(work, 'repo-files')), PASSWORD);
		try {
			const pool = startPool(repo, 2);
			try {
				expect((await fs.readdir('/proc/self/fd')).length).toBeGreaterThanOrEqual(before + 4);
				await chunkFiles(pool, [...smallFiles.slice(0, 50), largeFile]);
				await pool.flush();
				await repo.flush();
				// (tsx, which runs the workers' TypeScript under the test runner, keeps a folder there.)
				expect((await fs.readdir(tmp)).filter((name) => name.startsWith('cairn'))).toEqual([]);
			} finally {
				await pool.close();
			}
		} finally {
			restoreTmpdir(saved);
			await repo.close();
		}
		// Descriptors of the workers' pack files (and of their message ports) are gone.
		expect((await fs.readdir('/proc/self/fd')).length).toBeLessThanOrEqual(before);
		expect(repo.index.count().data).toBeGreaterThan(50);
	});

	it('refuses to start when the temporary directory cannot hold pack files, saying what to do', async () => {
		const repo = await Repository.init(createLocalStorage(path.join(work, 'repo-no-tmp')), PASSWORD);
		const saved = process.env.TMPDIR;
		process.env.TMPDIR = path.join(work, 'no-such-dir');
		try {
			expect(() => startPool(repo)).toThrow(/cannot create a temporary file for packs in .*no-such-dir.*set TMPDIR/);
		} finally {
			restoreTmpdir(saved);
			await repo.close();
		}
	});

	it('starts every worker at once when given a size', async () => {
		const repo = await Repository.init(createLocalStorage(path.join(work, 'repo-fixed')), PASSWORD);
		const pool = startPool(repo, 2, 3);
		try {
			expect(pool.size).toBe(2);
			const ids = await chunkFiles(pool, smallFiles.slice(0, 20));
			expect(ids.flat()).toHaveLength(20);
			await pool.flush();
		} finally {
			await pool.close();
		}
		await repo.close();
	});
});

describe('the chunk worker count', () => {
	it('is one per usable core, at most 8, and no more than the memory budget allows', () => {
		const budget = findMemoryBudget(16 * 1024 ** 3);
		expect(findDefaultWorkerCount(1, budget)).toBe(1);
		expect(findDefaultWorkerCount(2, budget)).toBe(2);
		expect(findDefaultWorkerCount(64, budget)).toBe(8);
		expect(findDefaultWorkerCount(4, findMemoryBudget(768 * 1024 ** 2))).toBe(2);
		expect(findDefaultWorkerCount(4, findMemoryBudget(256 * 1024 ** 2))).toBe(1);
		expect(findDefaultWorkerCount()).toBe(Math.min(8, findMemoryBudget().maxWorkers, os.availableParallelism()));
	});

	it('follows the CPU affinity (taskset): one core starts one worker and never grows the pool', async () => {
		const script = `
			const {findDefaultWorkerCount, countUsableCores} = await import(${JSON.stringify(new URL('../../../engine/archiver/worker-pool.ts', import.meta.url).href)});
			console.log(JSON.stringify({cores: countUsableCores(), workers: findDefaultWorkerCount()}));
		`;
		const {stdout} = await run('taskset', ['-c', '0', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {encoding: 'utf8'});
		expect(JSON.parse(stdout.trim())).toEqual({cores: 1, workers: 1});
		const repo = await Repository.init(createLocalStorage(path.join(work, 'repo-one-core')), PASSWORD);
		const pool = startPool(repo, undefined, 1);
		try {
			await chunkFiles(pool, [largeFile]);
			await pool.flush();
			expect(pool.size).toBe(1);
		} finally {
			await pool.close();
		}
		await repo.close();
	});
});

describe('the packs the pool stores at once', () => {
	/**
	 * Chunks the large file through a 2-worker pool with 1 MiB packs, whose stores take `delayMs`;
	 * returns the most stores seen at once, whether a store started while the first still ran, and
	 * the pool's limit at the end.
	 */
	async function storePacks(name: string, delayMs: number): Promise<{packs: number; most: number; besideFirst: boolean; limit: number}> {
		const repo = await Repository.init(createLocalStorage(path.join(work, name)), PASSWORD);
		let running = 0;
		let most = 0;
		let packs = 0;
		let firstRunning = false;
		let besideFirst = false;
		const pool = new ChunkWorkerPool({
			polynomial: repo.config.chunker_polynomial,
			key: repo.key,
			compression: repo.compression,
			packSize: 1024 * 1024,
			isKnown: () => false,
			storePack: async () => {
				running++;
				packs++;
				most = Math.max(most, running);
				const first = packs === 1;
				if (first) firstRunning = true;
				else if (firstRunning) besideFirst = true;
				await new Promise((resolve) => setTimeout(resolve, delayMs));
				if (first) firstRunning = false;
				running--;
			},
		}, 2);
		try {
			await chunkFiles(pool, [largeFile]);
			await pool.flush();
			return {packs, most, besideFirst, limit: pool.packStoreLimit};
		} finally {
			await pool.close();
			await repo.close();
		}
	}

	it('stores one pack at a time while the repository keeps up (one pack buffer in memory)', async () => {
		const result = await storePacks('repo-fast-stores', 0);
		expect(result.packs).toBeGreaterThan(4);
		expect(result.most).toBe(1);
		expect(result.besideFirst).toBe(false);
		expect(result.limit).toBe(1);
	});

	it('stores as many at once as the memory budget allows once a store is slow, starting beside the first slow one', async () => {
		const result = await storePacks('repo-slow-stores', SLOW_STORE_MS * 4);
		const budget = findMemoryBudget().packBuffers;
		expect(result.packs).toBeGreaterThan(4);
		expect(result.limit).toBe(budget);
		expect(result.most).toBe(budget);
		expect(result.besideFirst).toBe(budget > 1);
	});
});
