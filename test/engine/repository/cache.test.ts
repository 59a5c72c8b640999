/**
 * The local cache (engine/repository/cache.ts, cached-storage.ts): where it lives, that reads fill
 * it and writes go through it, that a warm open reads no index, snapshot or tree pack from the
 * repository, that files gone from the repository leave the cache, that a damaged cached copy is
 * replaced, that no cache is used without a cache directory, and its file modes.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {TransientError, type FileHandle, type Storage} from '../../../adapters/storage.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {decodeTree} from '../../../engine/format/tree.js';
import {CACHEDIR_TAG, findCacheDirectory, LocalCache} from '../../../engine/repository/cache.js';
import {Repository} from '../../../engine/repository/repository.js';
import {listSnapshots, loadSnapshot} from '../../../engine/repository/snapshots.js';

const PASSWORD = 'cache test';

let work: string;
let source: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-cache-'));
	source = path.join(work, 'src');
	await fs.mkdir(path.join(source, 'docs', 'deep'), {recursive: true});
	await fs.writeFile(path.join(source, 'top.txt'), 'top\n');
	await fs.writeFile(path.join(source, 'docs', 'deep', 'note.txt'), 'a note\n');
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** A storage that counts loads per type and never closes the store it wraps (so it can be opened again). */
interface Counting extends Storage {
	loads: Map<string, number>;
	/** Loads of one file type (data loads are counted per pack). */
	count(type: FileHandle['type']): number;
}

function withCounting(inner: Storage): Counting {
	const loads = new Map<string, number>();
	return {
		location: inner.location,
		capabilities: inner.capabilities,
		loads,
		count: (type) => [...loads].filter(([key]) => key.startsWith(`${type}/`)).reduce((sum, [, n]) => sum + n, 0),
		create: (o) => inner.create(o),
		save: (h, d, o) => inner.save(h, d, o),
		load: (h, o) => {
			const key = `${h.type}/${h.name}`;
			loads.set(key, (loads.get(key) ?? 0) + 1);
			return inner.load(h, o);
		},
		stat: (h, o) => inner.stat(h, o),
		list: (t, o) => inner.list(t, o),
		remove: (h, o) => inner.remove(h, o),
		close: async () => undefined,
	};
}

/** A fresh repository (no cache) with two snapshots of the source; returns its store. */
async function makeRepository(): Promise<Storage> {
	const store = createMemoryStorage();
	const repo = await Repository.init(withCounting(store), PASSWORD);
	await runBackup(repo, {paths: [source], noLock: true, workers: 1, host: 'cache-test'});
	await fs.writeFile(path.join(source, 'top.txt'), `changed ${Date.now()}\n`);
	await runBackup(repo, {paths: [source], noLock: true, workers: 1, host: 'cache-test'});
	await repo.close();
	return store;
}

/** What a browser does on open: list snapshots, load the index, read the trees down to `docs/deep`. */
async function browse(repo: Repository): Promise<string[]> {
	const snapshots = await listSnapshots(repo);
	await repo.loadIndex();
	let treeId = snapshots.at(-1)!.tree;
	for (const part of [...path.resolve(source).split('/').filter(Boolean), 'docs', 'deep']) {
		const nodes = decodeTree(await repo.loadBlob('tree', treeId), treeId).nodes;
		const next = nodes.find((n) => n.name === part);
		expect(next?.subtree, `directory ${part}`).toBeDefined();
		treeId = next!.subtree!;
	}
	return decodeTree(await repo.loadBlob('tree', treeId), treeId).nodes.map((n) => n.name);
}

/** The IDs cached under `dir` (a type's directory: `<type>/<xx>/<id>`, restic's layout). */
async function listNames(dir: string): Promise<string[]> {
	const names: string[] = [];
	for (const sub of await fs.readdir(dir).catch(() => [] as string[])) {
		if (!/^[0-9a-f]{2}$/.test(sub)) continue;
		names.push(...(await fs.readdir(path.join(dir, sub))).filter((n) => /^[0-9a-f]{64}$/.test(n) && n.startsWith(sub)));
	}
	return names.sort();
}

/** Where a file of a type is cached. */
function cachedPath(dir: string, type: 'index' | 'snapshots' | 'data', id: string): string {
	return path.join(dir, type, id.slice(0, 2), id);
}

/**
 * Copies the repository's snapshot files into the cache, as restic does when it shares the cache
 * directory (cairn itself keeps listed snapshots as one decoded list, and caches only those it saves).
 */
async function seedSnapshotFiles(store: Storage, dir: string): Promise<string[]> {
	const ids = await listStored(store, 'snapshots');
	for (const id of ids) {
		await fs.mkdir(path.dirname(cachedPath(dir, 'snapshots', id)), {recursive: true, mode: 0o700});
		await fs.writeFile(cachedPath(dir, 'snapshots', id), await store.load({type: 'snapshots', name: id}), {mode: 0o600});
	}
	return ids;
}

async function listCachedPacks(dir: string): Promise<string[]> {
	return listNames(path.join(dir, 'data'));
}

async function listStored(store: Storage, type: 'index' | 'snapshots' | 'data'): Promise<string[]> {
	const names: string[] = [];
	for await (const info of store.list(type)) names.push(info.name);
	return names.sort();
}

describe('findCacheDirectory', () => {
	it('takes --no-cache, then --cache-dir, then CAIRN_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
		const env = {HOME: '/home/me', XDG_CACHE_HOME: '/xdg', CAIRN_CACHE_DIR: '/env-cache'};
		expect(findCacheDirectory({noCache: true, cacheDir: '/flag'}, env)).toBeUndefined();
		expect(findCacheDirectory({cacheDir: '/flag'}, env)).toBe('/flag');
		expect(findCacheDirectory({}, env)).toBe('/env-cache');
		expect(findCacheDirectory({}, {HOME: '/home/me', XDG_CACHE_HOME: '/xdg'})).toBe('/xdg/cairn');
		// A relative XDG_CACHE_HOME is invalid by the XDG spec and ignored.
		const home = process.platform === 'darwin' ? '/home/me/Library/Caches/cairn' : '/home/me/.cache/cairn';
		expect(findCacheDirectory({}, {HOME: '/home/me', XDG_CACHE_HOME: 'relative'})).toBe(home);
		expect(findCacheDirectory({}, {HOME: '/home/me'})).toBe(home);
	});
});

describe('the local cache', () => {
	let store: Storage;
	let base: string;
	let dir: string;
	let repositoryId: string;

	beforeAll(async () => {
		store = await makeRepository();
		base = path.join(work, 'cache-base');
		const cold = withCounting(store);
		const repo = await Repository.open(cold, PASSWORD, {cacheDir: base});
		repositoryId = repo.config.id;
		dir = path.join(base, repositoryId);
		expect(await browse(repo)).toEqual(['note.txt']);
		// The cold open read everything from the repository.
		expect(cold.count('snapshots')).toBe(2);
		expect(cold.count('index')).toBeGreaterThan(0);
		expect(cold.count('data')).toBeGreaterThan(0);
		await repo.close();
	});

	it('is filled on a cold open: index files, the snapshot list and the whole packs of the trees read, in restic\'s layout', async () => {
		expect(await listNames(path.join(dir, 'index'))).toEqual(await listStored(store, 'index'));
		// Snapshots: one decoded list, not a file each.
		expect(await listNames(path.join(dir, 'snapshots'))).toEqual([]);
		expect((await fs.stat(path.join(dir, 'snapshot-list'))).isFile()).toBe(true);
		expect(await fs.readFile(path.join(dir, 'version'), 'utf8')).toBe('1');
		const packs = await listCachedPacks(dir);
		expect(packs.length).toBeGreaterThan(0);
		for (const pack of packs) expect(await fs.stat(path.join(dir, 'data', pack.slice(0, 2), pack)).then((s) => s.isFile())).toBe(true);
		// Only packs with trees: the data packs stay in the repository.
		const repo = await Repository.open(withCounting(store), PASSWORD);
		await repo.loadIndex();
		const treePacks = new Set<string>();
		const dataPacks = new Set<string>();
		for (const entry of repo.index.entries()) (entry.type === 'tree' ? treePacks : dataPacks).add(entry.location.packId);
		// Filled on reads: the packs of the trees browsed (the latest snapshot's), whole.
		for (const pack of packs) expect([pack, treePacks.has(pack), dataPacks.has(pack)]).toEqual([pack, true, false]);
		for (const pack of packs) expect((await fs.stat(path.join(dir, 'data', pack.slice(0, 2), pack))).size).toBe((await store.stat({type: 'data', name: pack})).size);
		expect(await fs.readFile(path.join(base, 'CACHEDIR.TAG'), 'utf8')).toBe(CACHEDIR_TAG);
	});

	it('serves a warm open without loading any index, snapshot or tree pack from the repository', async () => {
		const warm = withCounting(store);
		const repo = await Repository.open(warm, PASSWORD, {cacheDir: base});
		expect(await browse(repo)).toEqual(['note.txt']);
		expect(warm.count('index')).toBe(0);
		expect(warm.count('snapshots')).toBe(0);
		expect(warm.count('data')).toBe(0);
		await repo.close();
	});

	it('keeps directories 0700 and files 0600', async () => {
		const modes: Array<[string, number]> = [];
		const visit = async (p: string): Promise<void> => {
			const stats = await fs.stat(p);
			modes.push([path.relative(base, p) || '.', stats.mode & 0o777]);
			if (stats.isDirectory()) for (const name of await fs.readdir(p)) await visit(path.join(p, name));
		};
		await visit(base);
		expect(modes.length).toBeGreaterThan(8);
		for (const [name, mode] of modes) {
			const isDir = (await fs.stat(path.join(base, name))).isDirectory();
			expect([name, mode.toString(8)]).toEqual([name, isDir ? '700' : '600']);
		}
	});

	it('replaces a damaged cached snapshot, index file and tree pack with the repository\'s copy', async () => {
		const snapshot = (await seedSnapshotFiles(store, dir))[0]!;
		const index = (await listNames(path.join(dir, 'index')))[0]!;
		const pack = (await listCachedPacks(dir))[0]!;
		const files = [cachedPath(dir, 'snapshots', snapshot), cachedPath(dir, 'index', index), cachedPath(dir, 'data', pack)];
		const originals = await Promise.all(files.map((f) => fs.readFile(f)));
		for (const [i, file] of files.entries()) {
			const damaged = Buffer.from(originals[i]!);
			damaged[Math.floor(damaged.length / 2)]! ^= 0x10;
			await fs.writeFile(file, damaged);
		}
		// Without the decoded snapshot list, listing reads the (damaged) cached snapshot files.
		await fs.rm(path.join(dir, 'snapshot-list'), {force: true});
		const counting = withCounting(store);
		const repo = await Repository.open(counting, PASSWORD, {cacheDir: base});
		expect(await browse(repo)).toEqual(['note.txt']);
		// Each damaged copy was read again from the repository, once, and the cache holds sound copies again.
		expect(counting.loads.get(`snapshots/${snapshot}`)).toBe(1);
		expect(counting.loads.get(`index/${index}`)).toBe(1);
		expect(counting.loads.get(`data/${pack}`)).toBe(1);
		expect(counting.count('snapshots') + counting.count('index') + counting.count('data')).toBe(3);
		// The damaged snapshot copy is gone (listed snapshots are kept in the list); the others are sound again.
		expect(await fs.stat(files[0]!).then(() => true, () => false)).toBe(false);
		for (const [i, file] of files.entries()) if (i > 0) expect((await fs.readFile(file)).equals(originals[i]!)).toBe(true);
		await repo.close();
	});

	it('treats a truncated cached file as missing', async () => {
		const snapshot = (await seedSnapshotFiles(store, dir))[1]!;
		const index = (await listNames(path.join(dir, 'index')))[0]!;
		const indexCopy = await fs.readFile(cachedPath(dir, 'index', index));
		await fs.truncate(cachedPath(dir, 'snapshots', snapshot), 10);
		await fs.truncate(cachedPath(dir, 'index', index), 10);
		const counting = withCounting(store);
		const repo = await Repository.open(counting, PASSWORD, {cacheDir: base});
		expect((await loadSnapshot(repo, snapshot)).id).toBe(snapshot);
		expect(counting.loads.get(`snapshots/${snapshot}`)).toBe(1);
		expect(await fs.stat(cachedPath(dir, 'snapshots', snapshot)).then(() => true, () => false)).toBe(false);
		await repo.loadIndex();
		expect(counting.loads.get(`index/${index}`)).toBe(1);
		expect((await fs.readFile(cachedPath(dir, 'index', index))).equals(indexCopy)).toBe(true);
		await repo.close();
	});
});

describe('keeping the cache consistent with the repository', () => {
	it('removes cached snapshots, index files and tree packs that are gone from the repository', async () => {
		const store = await makeRepository();
		const base = path.join(work, 'cache-gone');
		const first = await Repository.open(withCounting(store), PASSWORD, {cacheDir: base});
		await browse(first);
		await first.close();
		const dir = path.join(base, first.config.id);
		const snapshots = await seedSnapshotFiles(store, dir);
		expect(await listNames(path.join(dir, 'snapshots'))).toHaveLength(2);

		// Another program (restic forget, or prune) removes a snapshot and an index file with its packs.
		const indexes = await listStored(store, 'index');
		const cachedBefore = await listCachedPacks(dir);
		// An index file that lists a cached tree pack.
		const plain = await Repository.open(withCounting(store), PASSWORD);
		let doomedIndex = '';
		let doomedCached: string[] = [];
		for (const id of indexes) {
			const packs = (await plain.loadJson<{packs: Array<{id: string}>}>('index', id)).packs.map((p) => p.id);
			doomedCached = cachedBefore.filter((pack) => packs.includes(pack));
			doomedIndex = id;
			if (doomedCached.length > 0) break;
		}
		expect(doomedCached.length).toBeGreaterThan(0);
		await store.remove({type: 'snapshots', name: snapshots[0]!});
		await store.remove({type: 'index', name: doomedIndex});

		const repo = await Repository.open(withCounting(store), PASSWORD, {cacheDir: base});
		expect((await listSnapshots(repo)).map((s) => s.id)).toEqual([snapshots[1]]);
		expect(await listNames(path.join(dir, 'snapshots'))).toEqual([snapshots[1]]);
		await repo.loadIndex();
		expect(await listNames(path.join(dir, 'index'))).toEqual(indexes.filter((id) => id !== doomedIndex));
		const cachedAfter = await listCachedPacks(dir);
		expect(cachedAfter).toEqual(cachedBefore.filter((id) => !doomedCached.includes(id)));
		await repo.close();
	});

	it('removes the cached copy when the repository removes a file through it', async () => {
		const store = await makeRepository();
		const base = path.join(work, 'cache-remove');
		const repo = await Repository.open(withCounting(store), PASSWORD, {cacheDir: base});
		await seedSnapshotFiles(store, path.join(base, repo.config.id));
		const [snapshot] = (await listSnapshots(repo)).map((s) => s.id);
		const file = cachedPath(path.join(base, repo.config.id), 'snapshots', snapshot!);
		expect(await fs.stat(file).then(() => true)).toBe(true);
		await repo.storage.remove({type: 'snapshots', name: snapshot!});
		expect(await fs.stat(file).then(() => true, () => false)).toBe(false);
		await repo.close();
	});
});

describe('writes', () => {
	it('copy new snapshots, index files and tree packs into the cache after the repository has them', async () => {
		const store = createMemoryStorage();
		const base = path.join(work, 'cache-writes');
		const repo = await Repository.init(withCounting(store), PASSWORD, {cacheDir: base});
		const summary = await runBackup(repo, {paths: [source], noLock: true, workers: 1, host: 'cache-test'});
		const dir = path.join(base, repo.config.id);
		expect(await listNames(path.join(dir, 'snapshots'))).toEqual([summary.snapshot_id]);
		expect(await listNames(path.join(dir, 'index'))).toEqual(await listStored(store, 'index'));
		const cached = await listCachedPacks(dir);
		expect(cached.length).toBe(1);
		expect(await listStored(store, 'data')).toContain(cached[0]);
		await repo.close();

		// A later open reads nothing of it from the repository.
		const counting = withCounting(store);
		const again = await Repository.open(counting, PASSWORD, {cacheDir: base});
		expect(await browse(again)).toEqual(['note.txt']);
		expect(counting.count('index') + counting.count('snapshots') + counting.count('data')).toBe(0);
		await again.close();
	});

	it('leave the cache alone when the repository refuses the write', async () => {
		const store = createMemoryStorage();
		const base = path.join(work, 'cache-refused');
		const repo = await Repository.init(withCounting(store), PASSWORD, {cacheDir: base});
		const failing: Storage = {...withCounting(store), save: async () => {
			throw new TransientError('the store is down');
		}};
		const cache = await LocalCache.open(base, repo.config.id);
		const {withLocalCache} = await import('../../../engine/repository/cached-storage.js');
		const wrapped = withLocalCache(failing, cache, {isTreePack: () => false, holdsTrees: () => true});
		await expect(wrapped.save({type: 'snapshots', name: 'ab'.repeat(32)}, Buffer.from('x'))).rejects.toThrow('the store is down');
		expect(await cache.list('snapshots')).toEqual([]);
		await repo.close();
	});
});

describe('without a cache', () => {
	it('creates no cache directory and reads everything from the repository', async () => {
		const store = await makeRepository();
		for (let round = 0; round < 2; round++) {
			const counting = withCounting(store);
			const repo = await Repository.open(counting, PASSWORD, {cacheDir: findCacheDirectory({noCache: true, cacheDir: path.join(work, 'never')})});
			expect(repo.cache).toBeUndefined();
			await browse(repo);
			expect(counting.count('snapshots')).toBe(2);
			expect(counting.count('data')).toBeGreaterThan(0);
			await repo.close();
		}
		expect(await fs.stat(path.join(work, 'never')).then(() => true, () => false)).toBe(false);
	});

	it('goes on without one when the cache directory cannot be made', async () => {
		const store = await makeRepository();
		const blocker = path.join(work, 'a-file');
		await fs.writeFile(blocker, 'not a directory');
		const errors: Error[] = [];
		const repo = await Repository.open(withCounting(store), PASSWORD, {cacheDir: path.join(blocker, 'cache'), onCacheError: (e) => errors.push(e)});
		expect(repo.cache).toBeUndefined();
		expect(errors).toHaveLength(1);
		expect(await browse(repo)).toEqual(['note.txt']);
		await repo.close();
	});
});

describe('the cached snapshot list', () => {
	it('lists snapshots from one cached file, follows snapshots removed from the repository, and ignores a damaged list', async () => {
		const store = await makeRepository();
		const base = path.join(work, 'list-cache-base');
		const first = await Repository.open(withCounting(store), PASSWORD, {cacheDir: base});
		const expected = (await listSnapshots(first)).map((s) => [s.id, s.time, s.tree]);
		expect(expected).toHaveLength(2);
		const dir = path.join(base, first.config.id);
		await first.close();
		expect((await fs.stat(path.join(dir, 'snapshot-list'))).mode & 0o777).toBe(0o600);

		// With the cached snapshot files gone, the list file alone answers: nothing is loaded.
		await fs.rm(path.join(dir, 'snapshots'), {recursive: true});
		await fs.mkdir(path.join(dir, 'snapshots'), {mode: 0o700});
		const warm = withCounting(store);
		const second = await Repository.open(warm, PASSWORD, {cacheDir: base});
		expect((await listSnapshots(second)).map((s) => [s.id, s.time, s.tree])).toEqual(expected);
		expect(warm.count('snapshots')).toBe(0);
		await second.close();

		// A snapshot removed from the repository (forget elsewhere) leaves the list.
		await store.remove({type: 'snapshots', name: expected[0]![0]!});
		const third = await Repository.open(withCounting(store), PASSWORD, {cacheDir: base});
		expect((await listSnapshots(third)).map((s) => s.id)).toEqual([expected[1]![0]]);
		await third.close();

		// A damaged list is ignored: the snapshot files are read again and the list rewritten.
		const listFile = path.join(dir, 'snapshot-list');
		const bytes = await fs.readFile(listFile);
		bytes[bytes.length - 1]! ^= 1;
		await fs.writeFile(listFile, bytes);
		const fourth = withCounting(store);
		const repo = await Repository.open(fourth, PASSWORD, {cacheDir: base});
		expect((await listSnapshots(repo)).map((s) => s.id)).toEqual([expected[1]![0]]);
		expect(fourth.count('snapshots')).toBe(1);
		expect(await fs.readFile(listFile)).not.toEqual(bytes);
		await repo.close();
	});
});

describe('the layout of earlier cairn versions', () => {
	it('ignores index and snapshot files kept flat in index/ and snapshots/, and removes them on the next listing', async () => {
		const base = path.join(work, 'legacy-layout');
		const id = 'cd'.repeat(32);
		const cache = await LocalCache.open(base, 'ef'.repeat(32));
		const flat = path.join(cache.directory, 'index', id);
		const flatSnapshot = path.join(cache.directory, 'snapshots', id);
		await fs.writeFile(flat, 'old layout', {mode: 0o600});
		await fs.writeFile(flatSnapshot, 'old layout', {mode: 0o600});
		expect(await cache.read({type: 'index', name: id})).toBeUndefined();
		expect(await cache.list('index')).toEqual([]);
		// Written now, it goes to index/cd/<id>, as restic keeps it.
		await cache.write({type: 'index', name: id}, Buffer.from('new layout'));
		expect(cache.pathOf({type: 'index', name: id})).toBe(path.join(cache.directory, 'index', 'cd', id));
		expect((await cache.read({type: 'index', name: id}))?.toString()).toBe('new layout');
		expect(await cache.list('index')).toEqual([id]);
		// A listing that still has the file keeps the new copy and removes the flat one.
		expect(await cache.retain('index', () => true)).toBe(1);
		expect(await cache.retain('snapshots', () => true)).toBe(1);
		expect(await fs.stat(flat).then(() => true, () => false)).toBe(false);
		expect(await fs.stat(flatSnapshot).then(() => true, () => false)).toBe(false);
		expect((await cache.read({type: 'index', name: id}))?.toString()).toBe('new layout');
		expect(await fs.readFile(path.join(cache.directory, 'version'), 'utf8')).toBe('1');
	});
});
