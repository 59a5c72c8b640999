import {execFile} from 'node:child_process';
import {mkdir, mkdtemp, open, readdir, rm, stat, writeFile} from 'node:fs/promises';
import {homedir, tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';

import {afterEach, beforeEach, describe, expect, it} from 'vitest';

import {createLocalStorage, DIRECTORY_MODE, FILE_MODE, localAdapter} from '../../adapters/local.js';
import {mapFsError} from '../../adapters/local/errors.js';
import {
	AlreadyExistsError,
	AuthError,
	listLayoutDirectories,
	NotFoundError,
	PermanentError,
	pathOf,
	TransientError,
	type FileType,
	type Storage,
} from '../../adapters/storage.js';
import {collect, makeRandomData, makeId, catchRejection, runStorageConformance, isSameBytes} from '../conformance/storage-suite.js';

const run = promisify(execFile);

/** A fresh temporary directory, removed by the returned function. */
async function makeTempDirectory(): Promise<{path: string; remove: () => Promise<void>}> {
	const path = await mkdtemp(join(tmpdir(), 'cairn-local-'));
	return {path, remove: () => rm(path, {recursive: true, force: true})};
}

runStorageConformance('local', async () => {
	const temp = await makeTempDirectory();
	return {storage: createLocalStorage(join(temp.path, 'repo')), cleanup: temp.remove};
});

describe('local storage', () => {
	let temp: {path: string; remove: () => Promise<void>};
	let root: string;
	let storage: Storage;

	beforeEach(async () => {
		temp = await makeTempDirectory();
		root = join(temp.path, 'repo');
		storage = createLocalStorage(root);
	});

	afterEach(async () => {
		await storage.close();
		await temp.remove();
	});

	it('reports an absolute local: location and its capabilities', () => {
		expect(storage.location).toBe(`local:${root}`);
		expect(createLocalStorage('relative/dir').location).toBe(`local:${join(process.cwd(), 'relative/dir')}`);
		expect(storage.capabilities).toMatchObject({atomicSave: true, rangedLoad: true, mayRefuseDelete: false});
		expect(storage.capabilities.concurrency).toBeGreaterThanOrEqual(2);
		expect(createLocalStorage(root, {concurrency: 5}).capabilities.concurrency).toBe(5);
	});

	it('creates restic\'s layout directories', async () => {
		await storage.create();
		for (const directory of listLayoutDirectories()) {
			expect((await stat(join(root, directory))).isDirectory(), directory).toBe(true);
		}
	});

	it('creates directories 0700 and files 0600 even with a permissive umask', async () => {
		const previous = process.umask(0);
		try {
			await storage.create();
			const handle = {type: 'keys' as const, name: makeId()};
			await storage.save(handle, makeRandomData(10));
			await rm(join(root, 'data', 'ab'), {recursive: true});
			await storage.save({type: 'data', name: makeId('ab')}, makeRandomData(10));
			await storage.save({type: 'config', name: ''}, makeRandomData(10));
			for (const directory of ['', 'keys', 'data', 'data/00', 'data/ab']) {
				expect((await stat(join(root, directory))).mode & 0o777, directory).toBe(DIRECTORY_MODE);
			}
			for (const file of [pathOf(handle), 'config']) {
				expect((await stat(join(root, file))).mode & 0o777, file).toBe(FILE_MODE);
			}
		} finally {
			process.umask(previous);
		}
	});

	it('refuses to create in a non-empty directory, saying what is there', async () => {
		await mkdir(root);
		await writeFile(join(root, 'notes.txt'), 'hello');
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(AlreadyExistsError);
		expect((error as Error).message).toContain('"notes.txt"');
		expect((error as Error).message).toContain('pick an empty or new directory');
	});

	it('refuses a second create even before any file was saved', async () => {
		await storage.create();
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(AlreadyExistsError);
		expect((error as Error).message).toMatch(/"data", "index", "keys" and 2 more entries/);
	});

	it('refuses to create where a file is', async () => {
		await writeFile(root, 'not a directory');
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(PermanentError);
		expect(error).not.toBeInstanceOf(AlreadyExistsError);
		expect((error as Error).message).toContain('is a file, not a directory');
	});

	it('creates into an existing empty directory', async () => {
		await mkdir(root);
		await storage.create();
		expect((await readdir(root)).sort()).toEqual(['data', 'index', 'keys', 'locks', 'snapshots']);
	});

	it('writes through a temporary file that is renamed into place', async () => {
		await storage.create();
		const handle = {type: 'data' as const, name: makeId('5e')};
		const directory = join(root, 'data', '5e');
		const size = 40 * 1024 * 1024;
		const temporaries = new Set<string>();
		const finalSizes = new Set<number>();
		let done = false;
		const saving = storage.save(handle, makeRandomData(size)).finally(() => {
			done = true;
		});
		while (!done) {
			for (const name of await readdir(directory)) {
				if (name.startsWith('.tmp-')) temporaries.add(name);
				if (name === handle.name) finalSizes.add((await stat(join(directory, name))).size);
			}
			await new Promise((resolve) => setImmediate(resolve));
		}
		await saving;
		// The final name only ever appears complete; the bytes went to a temporary name first.
		expect([...finalSizes].every((seen) => seen === size)).toBe(true);
		expect(temporaries.size).toBe(1);
		expect(await readdir(directory)).toEqual([handle.name]);
	});

	it('removes its temporary file when a save is aborted', async () => {
		await storage.create();
		const handle = {type: 'data' as const, name: makeId('77')};
		const controller = new AbortController();
		const saving = storage.save(handle, makeRandomData(40 * 1024 * 1024), {signal: controller.signal});
		setImmediate(() => controller.abort());
		const error = await catchRejection(saving);
		const names = await readdir(join(root, 'data', '77'));
		expect(names.filter((name) => name.startsWith('.tmp-'))).toEqual([]);
		expect(names).toEqual(error === undefined ? [handle.name] : []);
	});

	it('lists neither temporary files nor junk', async () => {
		await storage.create();
		const id = makeId('0a');
		await storage.save({type: 'data', name: id}, makeRandomData(3));
		await writeFile(join(root, 'data', '0a', '.tmp-0123456789abcdef'), 'partial');
		await writeFile(join(root, 'data', '0a', '.DS_Store'), 'junk');
		await writeFile(join(root, 'data', 'README'), 'a file among the data directories');
		await mkdir(join(root, 'keys', makeId()));
		await writeFile(join(root, 'keys', 'not-an-id'), 'x');
		expect(await collect(storage.list('data'))).toEqual([{name: id, size: 3}]);
		expect(await collect(storage.list('keys'))).toEqual([]);
	});

	it('creates missing parent directories on save, but never the repository directory itself', async () => {
		await storage.create();
		await rm(join(root, 'data'), {recursive: true});
		await rm(join(root, 'locks'), {recursive: true});
		const data = {type: 'data' as const, name: makeId('c4')};
		const lock = {type: 'locks' as const, name: makeId()};
		await storage.save(data, makeRandomData(8));
		await storage.save(lock, makeRandomData(8));
		expect(await storage.stat(data)).toMatchObject({size: 8});
		expect(await storage.stat(lock)).toMatchObject({size: 8});

		const missing = createLocalStorage(join(temp.path, 'absent'));
		const error = await catchRejection(missing.save({type: 'keys', name: makeId()}, makeRandomData(1)));
		expect(error).toBeInstanceOf(NotFoundError);
		expect((error as Error).message).toContain('does not exist');
		await expect(stat(join(temp.path, 'absent'))).rejects.toMatchObject({code: 'ENOENT'});
	});

	it('lists nothing when the repository directory is missing', async () => {
		expect(await collect(storage.list('data'))).toEqual([]);
		expect(await collect(storage.list('config'))).toEqual([]);
	});

	it('reads a range of a huge sparse file without reading the whole file', async () => {
		await storage.create();
		const handle = {type: 'data' as const, name: makeId('ee')};
		const file = await open(join(root, pathOf(handle)), 'w');
		const offset = 6 * 1024 * 1024 * 1024;
		await file.write(new Uint8Array([1, 2, 3, 4]), 0, 4, offset);
		await file.close();
		expect(await storage.stat(handle)).toMatchObject({size: offset + 4});
		expect([...(await storage.load(handle, {offset: offset + 1, length: 2}))]).toEqual([2, 3]);
		expect([...(await storage.load(handle, {offset: offset - 2}))]).toEqual([0, 0, 1, 2, 3, 4]);
	});

	it('says a directory is not a file', async () => {
		await storage.create();
		const handle = {type: 'keys' as const, name: makeId()};
		await mkdir(join(root, pathOf(handle)));
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(PermanentError);
		expect(await catchRejection(storage.load(handle))).toBeInstanceOf(PermanentError);
	});

	it('refuses calls after close', async () => {
		await storage.close();
		const error = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toContain('closed');
	});
});

describe('mapFsError', () => {
	const cases: Array<[string, new (...args: never[]) => Error, RegExp]> = [
		['ENOENT', NotFoundError, /does not exist/],
		['EACCES', AuthError, /^permission denied on \/r\/keys\/x: /],
		['EPERM', AuthError, /^permission denied on/],
		['ENOSPC', PermanentError, /no space left/],
		['EDQUOT', PermanentError, /quota/],
		['EROFS', PermanentError, /read-only file system/],
		['EISDIR', PermanentError, /is a directory/],
		['EIO', TransientError, /temporary failure \(EIO\)/],
		['EAGAIN', TransientError, /retry/],
		['EMFILE', TransientError, /EMFILE/],
		['ENFILE', TransientError, /ENFILE/],
		['EBUSY', TransientError, /EBUSY/],
		['EWHATEVER', PermanentError, /cannot save keys\/x/],
	];
	it.each(cases)('maps %s', (code, kind, message) => {
		const cause = Object.assign(new Error(`${code}: something, open '/r/keys/x'`), {code});
		const mapped = mapFsError(cause, 'save keys/x', '/r/keys/x');
		expect(mapped).toBeInstanceOf(kind);
		expect(mapped.message).toMatch(message);
		expect(mapped.cause).toBe(cause);
	});

	it('passes aborts and storage errors through', () => {
		const abort = new DOMException('aborted', 'AbortError');
		expect(mapFsError(abort, 'save', '/x')).toBe(abort);
		const storageError = new NotFoundError('gone');
		expect(mapFsError(storageError, 'save', '/x')).toBe(storageError);
	});
});

describe('local adapter declaration', () => {
	it('parses and formats locations, and expands ~', async () => {
		expect(localAdapter.parseLocation('/srv/repo')).toEqual({path: '/srv/repo'});
		expect(localAdapter.parseLocation('')).toEqual({});
		expect(localAdapter.formatLocation({path: '/srv/repo'})).toBe('/srv/repo');
		const storage = await localAdapter.open({path: '~/some-repo', connections: '3'});
		expect(storage.location).toBe(`local:${join(homedir(), 'some-repo')}`);
		expect(storage.capabilities.concurrency).toBe(3);
	});
});

describe('a repository made by restic', () => {
	let temp: {path: string; remove: () => Promise<void>};
	const env = {...process.env, RESTIC_PASSWORD: 'x', RESTIC_CACHE_DIR: '', XDG_CACHE_HOME: ''};

	beforeEach(async () => {
		temp = await makeTempDirectory();
		env.RESTIC_CACHE_DIR = join(temp.path, 'cache');
	});

	afterEach(async () => {
		await temp.remove();
	});

	it('is read by the local adapter, and a copy written by it passes restic check', async () => {
		const original = join(temp.path, 'original');
		const source = join(temp.path, 'source');
		await mkdir(source);
		await writeFile(join(source, 'hello.txt'), 'hello from cairn tests\n'.repeat(1000));
		await run('restic', ['init', '--repo', original], {env});
		await run('restic', ['backup', '--repo', original, source], {env});

		const storage = createLocalStorage(original);
		expect(await collect(storage.list('keys'))).toHaveLength(1);
		const config = await storage.stat({type: 'config', name: ''});
		expect(config.size).toBeGreaterThan(0);
		expect(await collect(storage.list('snapshots'))).toHaveLength(1);
		const packs = await collect(storage.list('data'));
		expect(packs.length).toBeGreaterThan(0);
		for (const pack of packs) {
			expect((await storage.load({type: 'data', name: pack.name})).byteLength).toBe(pack.size);
		}

		const copyRoot = join(temp.path, 'copy');
		const copy = createLocalStorage(copyRoot);
		await copy.create();
		for (const type of ['config', 'keys', 'snapshots', 'index', 'data'] as FileType[]) {
			for (const info of await collect(storage.list(type))) {
				const handle = {type, name: info.name};
				const bytes = await storage.load(handle);
				await copy.save(handle, bytes);
				expect(isSameBytes(await copy.load(handle), bytes)).toBe(true);
			}
		}
		await run('restic', ['check', '--read-data', '--repo', copyRoot], {env});
		const {stdout} = await run('restic', ['snapshots', '--json', '--repo', copyRoot], {env});
		expect(JSON.parse(stdout)).toHaveLength(1);
	});
});
