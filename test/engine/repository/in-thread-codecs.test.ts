/**
 * The in-thread codec paths of the repository: tree blobs decompressed in the calling thread, small
 * unpacked files (locks, snapshots) compressed in it. Each must give the same bytes, and the same errors, as the asynchronous paths.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {openBytes, sealBytes} from '../../../engine/crypto/cipher.js';
import {compressZstd} from '../../../engine/format/compression.js';
import {loadWasmZstd} from '../../../engine/format/zstd-sync.js';
import {decodeStoredBlob} from '../../../engine/repository/blob-codec.js';
import {Repository} from '../../../engine/repository/repository.js';
import {addKey} from '../../../engine/repository/keys.js';
import {hashHex} from '../../../engine/util/hash.js';

const PASSWORD = 'in-thread';
const dirs: string[] = [];

afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

/** A tree-like JSON document of `count` nodes. */
function treeBytes(count: number): Buffer {
	const nodes = Array.from({length: count}, (_, i) => ({name: `file-${i}`, type: 'file', mode: 420, mtime: `2024-01-0${(i % 9) + 1}T00:00:00Z`, content: [hashHex(Buffer.from(String(i)))]}));
	return Buffer.from(JSON.stringify({nodes}) + '\n');
}

async function newRepository(): Promise<Repository> {
	const storage = createMemoryStorage();
	const repo = await Repository.init(storage, PASSWORD);
	await addKey(storage, repo.key, PASSWORD, {params: {N: 1024, r: 8, p: 1}});
	return repo;
}

describe('decodeStoredBlob in this thread', () => {
	it('decodes compressed blobs of several sizes to the same bytes as the asynchronous path', async () => {
		expect(await loadWasmZstd()).toBe(true);
		const repo = await newRepository();
		for (const count of [1, 40, 5000]) {
			const plain = treeBytes(count);
			const id = hashHex(plain);
			const sealed = sealBytes(repo.key, await compressZstd(plain, 3));
			const inThread = await decodeStoredBlob(repo.key, 'tree', id, sealed, 'pack', plain.length, true);
			const async = await decodeStoredBlob(repo.key, 'tree', id, sealed, 'pack', plain.length, false);
			expect(inThread.equals(plain)).toBe(true);
			expect(async.equals(plain)).toBe(true);
		}
	});

	it('reports damaged compressed data as a damaged blob, as the asynchronous path does', async () => {
		expect(await loadWasmZstd()).toBe(true);
		const repo = await newRepository();
		const plain = treeBytes(30);
		const id = hashHex(plain);
		const compressed = await compressZstd(plain, 3);
		const broken = Buffer.from(compressed);
		broken.fill(0xff, 4, Math.min(broken.length, 40));
		const sealed = sealBytes(repo.key, broken);
		for (const inThread of [true, false]) {
			await expect(decodeStoredBlob(repo.key, 'tree', id, sealed, 'pack1', plain.length, inThread)).rejects.toThrow(/pack pack1: tree blob .* is damaged/);
		}
		// A blob that decompresses but does not match its ID is caught after decompression too.
		const other = sealBytes(repo.key, await compressZstd(treeBytes(31), 3));
		await expect(decodeStoredBlob(repo.key, 'tree', id, other, 'pack1', treeBytes(31).length, true)).rejects.toThrow(/does not match its ID/);
	});

	it('lets Repository.loadBlob read tree blobs saved through the packer', async () => {
		const repo = await newRepository();
		const plain = treeBytes(200);
		const {id} = await repo.saveBlob('tree', plain);
		await repo.flush();
		expect((await repo.loadBlob('tree', id)).equals(plain)).toBe(true);
	});
});

describe('small unpacked files compressed in this thread', () => {
	it('writes a version-2 compressed lock and snapshot that cairn reads back', async () => {
		expect(await loadWasmZstd()).toBe(true);
		const repo = await newRepository();
		const doc = Buffer.from(JSON.stringify({time: '2026-01-01T00:00:00Z', exclusive: false, hostname: 'h', username: 'u', pid: 1}));
		const id = await repo.saveUnpacked('locks', doc);
		const raw = await repo.storage.load({type: 'locks', name: id});
		expect(hashHex(raw)).toBe(id);
		const opened = openBytes(repo.key, raw);
		expect(opened[0]).toBe(2); // version byte of a compressed unpacked file
		expect(await repo.loadJson('locks', id)).toEqual(JSON.parse(doc.toString()));
	});

	it('writes snapshots that restic lists and checks', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'cairn-in-thread-'));
		dirs.push(dir);
		const repoPath = join(dir, 'repo');
		const passwordFile = join(dir, 'password');
		writeFileSync(passwordFile, PASSWORD, {mode: 0o600});
		const repo = await Repository.init(createLocalStorage(repoPath), PASSWORD);
		expect(await loadWasmZstd()).toBe(true);
		const tree = Buffer.from(JSON.stringify({nodes: []}) + '\n');
		const {id: treeId} = await repo.saveBlob('tree', tree);
		await repo.flush();
		const snapshot = {time: '2026-01-01T00:00:00Z', tree: treeId, paths: ['/x'], hostname: 'h', username: 'u'};
		const snapshotId = await repo.saveUnpacked('snapshots', Buffer.from(JSON.stringify(snapshot)));
		expect(readFileSync(join(repoPath, 'snapshots', snapshotId)).length).toBeGreaterThan(0);
		const env = {...process.env, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: join(dir, 'cache')};
		const listed = spawnSync('restic', ['-r', repoPath, 'snapshots', '--json'], {env, encoding: 'utf8'});
		expect(listed.status, listed.stderr).toBe(0);
		expect((JSON.parse(listed.stdout) as Array<{id: string; tree: string}>).map((s) => [s.id, s.tree])).toEqual([[snapshotId, treeId]]);
		const checked = spawnSync('restic', ['-r', repoPath, 'check'], {env, encoding: 'utf8'});
		expect(checked.status, checked.stderr + checked.stdout).toBe(0);
	});
});
