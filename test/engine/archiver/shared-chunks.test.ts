/**
 * A large file is chunked by one worker and its chunks are hashed, compressed and sealed by all
 * of them: the result must be exactly what one sequential chunker gives (same boundaries, same
 * blob IDs, each blob stored once), and a repository restic 0.14 checks and restores.
 */
import {execFile} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import type {Storage} from '../../../adapters/storage.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {CancelledError} from '../../../engine/errors.js';
import {decodeTree, type TreeNode} from '../../../engine/format/tree.js';
import {Repository} from '../../../engine/repository/repository.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';

const run = promisify(execFile);
const PASSWORD = 'shared chunks';

let work: string;
let source: string;
let file: string;
let fileBytes: Buffer;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-shared-chunks-'));
	source = path.join(work, 'src');
	await fs.mkdir(source);
	// Random regions (many chunks), a region repeated twice (the same blobs met twice, possibly by
	// two workers at once), and compressible text.
	// 12 MiB: long enough for the chunker to resynchronise and cut whole chunks inside both copies.
	const repeated = randomBytes(12 * 1024 * 1024);
	const text = Buffer.from(Array.from({length: 120_000}, (_, i) => `line ${i} of a compressible log file\n`).join(''));
	fileBytes = Buffer.concat([randomBytes(4 * 1024 * 1024), repeated, text, repeated, randomBytes(3 * 1024 * 1024 + 12345)]);
	file = path.join(source, 'disk.img');
	await fs.writeFile(file, fileBytes);
	await fs.writeFile(path.join(source, 'small.txt'), 'a small file beside it\n');
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** The node of `target` (an absolute path) in a snapshot. */
async function findNode(repo: Repository, snapshotId: string, target: string): Promise<TreeNode> {
	let treeId = (await loadSnapshot(repo, snapshotId)).tree;
	const parts = target.split('/').filter(Boolean);
	for (let i = 0; i < parts.length; i++) {
		const node = decodeTree(await repo.loadBlob('tree', treeId)).nodes.find((n) => n.name === parts[i]);
		if (!node) throw new Error(`${parts.slice(0, i + 1).join('/')} is not in the snapshot`);
		if (i === parts.length - 1) return node;
		treeId = node.subtree!;
	}
	throw new Error('empty path');
}

describe('one large file on several workers', () => {
	it('gives the blob list of one sequential chunker, stores each blob once, and restic checks and restores it', async () => {
		const repoDir = path.join(work, 'repo');
		const repo = await Repository.init(createLocalStorage(repoDir), PASSWORD);
		const shared = await runBackup(repo, {paths: [source], workers: 3, scan: false});
		const sharedNode = await findNode(repo, shared.snapshot_id, file);
		const content = sharedNode.content!;
		// The file has several chunks, and the repeated region gives at least one blob twice.
		expect(content.length).toBeGreaterThan(8);
		expect(new Set(content).size).toBeLessThan(content.length);
		// Each distinct blob is stored once, although several workers met it.
		expect(shared.data_blobs).toBe(new Set(content).size + 1);
		expect(repo.index.count().data).toBe(shared.data_blobs);
		// The blobs, in order, are the file.
		const pieces: Buffer[] = [];
		for (const id of content) {
			const blob = await repo.loadBlob('data', id);
			expect(createHash('sha256').update(blob).digest('hex')).toBe(id);
			pieces.push(blob);
		}
		expect(Buffer.concat(pieces).equals(fileBytes)).toBe(true);

		// One worker, reading everything again: the same chunks, and nothing new to store.
		const single = await runBackup(repo, {paths: [source], workers: 1, parent: false, scan: false});
		expect((await findNode(repo, single.snapshot_id, file)).content).toEqual(content);
		expect(single.data_blobs).toBe(0);
		await repo.close();

		// restic agrees: the repository is sound, and its own backup of the file (same chunker
		// parameters) adds no data, so the boundaries are restic's too.
		const env = {...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(work, 'restic-cache')};
		const check = await run('restic', ['-r', repoDir, 'check', '--read-data'], {env});
		expect(check.stdout).toContain('no errors were found');
		const backup = await run('restic', ['-r', repoDir, 'backup', '--json', '--force', source], {env, maxBuffer: 64 * 1024 * 1024});
		const summary = JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as {message_type: string; data_blobs: number};
		expect(summary.message_type).toBe('summary');
		expect(summary.data_blobs).toBe(0);
		const target = path.join(work, 'restored');
		await run('restic', ['-r', repoDir, 'restore', shared.snapshot_id, '--target', target], {env});
		expect((await fs.readFile(path.join(target, file))).equals(fileBytes)).toBe(true);
	}, 120_000);

	it('leaves a repository restic checks when cancelled while workers share a file, and the next backup completes it', async () => {
		const repoDir = path.join(work, 'repo-cancelled');
		const controller = new AbortController();
		let dataPacks = 0;
		// Cancels once the first data pack is stored, while the workers still hold chunks.
		const cancelling = (storage: Storage): Storage => new Proxy(storage, {
			get: (target, key, receiver) => key !== 'save' ? Reflect.get(target, key, receiver) : (async (...args: Parameters<Storage['save']>) => {
				await target.save(...args);
				if (args[0].type === 'data' && ++dataPacks === 1) controller.abort();
			}),
		});
		const first = await Repository.init(cancelling(createLocalStorage(repoDir)), PASSWORD, {packSize: 2 * 1024 * 1024});
		await expect(runBackup(first, {paths: [source], workers: 3, scan: false, signal: controller.signal})).rejects.toBeInstanceOf(CancelledError);
		await first.close();
		expect(dataPacks).toBeGreaterThan(0);
		const env = {...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(work, 'restic-cache')};
		expect((await run('restic', ['-r', repoDir, 'check'], {env})).stdout).toContain('no errors were found');

		const repo = await Repository.open(createLocalStorage(repoDir), PASSWORD);
		const summary = await runBackup(repo, {paths: [source], workers: 2, scan: false});
		const content = (await findNode(repo, summary.snapshot_id, file)).content!;
		await repo.close();
		expect(content.length).toBeGreaterThan(8);
		expect((await run('restic', ['-r', repoDir, 'check', '--read-data'], {env})).stdout).toContain('no errors were found');
		const target = path.join(work, 'restored-after-cancel');
		await run('restic', ['-r', repoDir, 'restore', summary.snapshot_id, '--target', target], {env});
		expect((await fs.readFile(path.join(target, file))).equals(fileBytes)).toBe(true);
	}, 120_000);
});
