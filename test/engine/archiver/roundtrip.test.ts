import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {randomBytes} from 'node:crypto';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {Repository} from '../../../engine/repository/repository.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {listSnapshots, loadSnapshot} from '../../../engine/repository/snapshots.js';
import type {Storage} from '../../../adapters/storage.js';
import type {ProgressEvent} from '../../../engine/progress.js';

let work: string;
let source: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-roundtrip-'));
	source = path.join(work, 'src');
	await fs.mkdir(path.join(source, 'nested', 'deeper'), {recursive: true});
	await fs.mkdir(path.join(source, 'empty-dir'));
	await fs.writeFile(path.join(source, 'small.txt'), 'hello cairn\n');
	await fs.writeFile(path.join(source, 'empty.txt'), '');
	await fs.writeFile(path.join(source, 'nested', 'deeper', 'random.bin'), randomBytes(3 * 1024 * 1024 + 17));
	await fs.writeFile(path.join(source, 'nested', 'zeros.bin'), Buffer.alloc(2 * 1024 * 1024));
	await fs.symlink('small.txt', path.join(source, 'link'));
	await fs.chmod(path.join(source, 'small.txt'), 0o640);
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

async function readTree(root: string): Promise<Record<string, string>> {
	const out: Record<string, string> = {};
	async function walk(dir: string, rel: string): Promise<void> {
		for (const entry of await fs.readdir(dir, {withFileTypes: true})) {
			const abs = path.join(dir, entry.name);
			const key = rel ? `${rel}/${entry.name}` : entry.name;
			const stats = await fs.lstat(abs);
			if (entry.isSymbolicLink()) out[key] = `link:${await fs.readlink(abs)}`;
			else if (entry.isDirectory()) {
				out[key] = `dir:${(stats.mode & 0o777).toString(8)}`;
				await walk(abs, key);
			} else out[key] = `file:${(stats.mode & 0o777).toString(8)}:${Math.floor(stats.mtimeMs)}:${(await fs.readFile(abs)).toString('base64').slice(0, 64)}:${stats.size}`;
		}
	}
	await walk(root, '');
	return out;
}

describe('backup and restore through the engine', () => {
	it('restores an identical tree, reports progress, and reuses everything on a second backup', async () => {
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		const events: ProgressEvent[] = [];
		const first = await runBackup(repo, {paths: [source], onProgress: (e) => events.push(e), workers: 2});
		expect(first.files_new).toBe(4);
		// small.txt, zeros.bin and random.bin (whose random content splits into one or more chunks).
		expect(first.data_blobs).toBeGreaterThanOrEqual(3);
		expect(first.data_blobs).toBe(repo.index.count().data);
		expect(events.at(-1)?.filesDone).toBe(4);

		const again = await Repository.open(storage, 'secret');
		const second = await runBackup(again, {paths: [source]});
		expect(second.parent).toBe(first.snapshot_id);
		expect(second.files_unmodified).toBe(4);
		expect(second.data_blobs).toBe(0);
		expect((await listSnapshots(again)).length).toBe(2);

		const target = path.join(work, 'restore');
		const summary = await runRestore(again, second.snapshot_id, target);
		expect(summary.errors).toEqual([]);
		expect(summary.filesRestored).toBe(4);
		expect(await readTree(path.join(target, source))).toEqual(await readTree(source));
	});

	it('restores only the included path and refuses to overwrite by default', async () => {
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		const {snapshot_id: id} = await runBackup(repo, {paths: [source]});
		const target = path.join(work, 'partial');
		const include = path.join(source, 'nested', 'deeper');
		const summary = await runRestore(repo, id, target, {includes: [include]});
		expect(summary.filesRestored).toBe(1);
		const restored = path.join(target, include, 'random.bin');
		expect((await fs.readFile(restored)).equals(await fs.readFile(path.join(include, 'random.bin')))).toBe(true);
		await expect(fs.access(path.join(target, source, 'small.txt'))).rejects.toThrow();

		await fs.writeFile(restored, 'changed');
		const again = await runRestore(repo, id, target, {includes: [include]});
		expect(again.skipped).toEqual([path.join(include, 'random.bin').slice(1)]);
		expect(await fs.readFile(restored, 'utf8')).toBe('changed');
		const forced = await runRestore(repo, id, target, {includes: [include], overwrite: 'always'});
		expect(forced.filesRestored).toBe(1);
		expect((await fs.readFile(restored)).equals(await fs.readFile(path.join(include, 'random.bin')))).toBe(true);
	});
});

describe('the end of a backup on slow storage', () => {
	it('stores the last tree pack beside the last data pack, and indexes both before the snapshot', async () => {
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		const saves = new Map<string, {type: string; start: number; end: number}>();
		const order: string[] = [];
		const slow: Storage = {
			...storage,
			location: storage.location,
			capabilities: storage.capabilities,
			save: async (handle, data, operation) => {
				const entry = {type: handle.type, start: performance.now(), end: Infinity};
				saves.set(handle.name, entry);
				if (handle.type === 'data') await new Promise((resolve) => setTimeout(resolve, 300));
				await storage.save(handle, data, operation);
				entry.end = performance.now();
				order.push(handle.type);
			},
		};
		const reopened = await Repository.open(slow, 'secret');
		const {snapshot_id: id} = await runBackup(reopened, {paths: [source], workers: 1});
		const snapshot = await loadSnapshot(reopened, id);
		const treePack = reopened.index.lookup('tree', snapshot.tree)!.packId;
		const dataPacks = [...saves].filter(([name, save]) => save.type === 'data' && name !== treePack).map(([, save]) => save);
		expect(dataPacks.length).toBeGreaterThan(0);
		expect(saves.get(treePack)!.start).toBeLessThan(Math.max(...dataPacks.map((save) => save.end)));
		// Packs, then the index, then the snapshot.
		expect(order.slice(-2)).toEqual(['index', 'snapshots']);
		expect(order.filter((type) => type === 'data')).toHaveLength(dataPacks.length + 1);
		const target = path.join(work, 'slow-end');
		const summary = await runRestore(repo, id, target);
		expect(summary.errors).toEqual([]);
		expect(await readTree(path.join(target, source))).toEqual(await readTree(source));
	});
});

describe('names that are not valid UTF-8', () => {
	it('backs up their contents under the lossy name restic records, and restores them', async () => {
		const dir = path.join(work, 'latin1');
		await fs.mkdir(dir);
		const raw = Buffer.concat([Buffer.from(dir + '/caf'), Buffer.from([0xe9]), Buffer.from('.txt')]);
		await fs.writeFile(raw, 'latin-1 name');
		await fs.symlink(Buffer.from([0x74, 0xff]), Buffer.from(dir + '/link'));
		const repo = await Repository.init(createMemoryStorage(), 'secret');
		const warnings: string[] = [];
		const summary = await runBackup(repo, {paths: [dir], onWarning: (p, m) => warnings.push(`${p}: ${m}`)});
		expect(warnings).toEqual([]);
		expect(summary.files_new).toBe(1);
		const target = path.join(work, 'latin1-restore');
		const restored = await runRestore(repo, summary.snapshot_id, target);
		expect(restored.errors).toEqual([]);
		expect(await fs.readFile(path.join(target, dir, 'caf\uFFFD.txt'), 'utf8')).toBe('latin-1 name');
		expect((await fs.readlink(path.join(target, dir, 'link'), {encoding: 'buffer'})).equals(Buffer.from([0x74, 0xff]))).toBe(true);
	});
});

describe('hard links', () => {
	it('restores files that shared an inode as hard links of one file', async () => {
		const dir = path.join(work, 'links');
		await fs.mkdir(path.join(dir, 'sub'), {recursive: true});
		await fs.writeFile(path.join(dir, 'a'), 'shared');
		await fs.link(path.join(dir, 'a'), path.join(dir, 'sub', 'b'));
		const repo = await Repository.init(createMemoryStorage(), 'secret');
		const {snapshot_id: id} = await runBackup(repo, {paths: [dir]});
		const target = path.join(work, 'links-restore');
		const summary = await runRestore(repo, id, target);
		expect(summary.errors).toEqual([]);
		const a = await fs.stat(path.join(target, dir, 'a'));
		const b = await fs.stat(path.join(target, dir, 'sub', 'b'));
		expect(a.ino).toBe(b.ino);
		expect(a.nlink).toBe(2);
		expect(await fs.readFile(path.join(target, dir, 'sub', 'b'), 'utf8')).toBe('shared');
	});
});
