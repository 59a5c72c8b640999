/**
 * The key hint: the key file that opened a repository last time is loaded first on the next open,
 * without listing keys/; a stale or wrong hint falls back to trying every key file.
 */
import {mkdtemp, readFile, readdir, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {Storage} from '../../../adapters/storage.js';
import {watchStorage} from '../../helpers/watched-storage.js';
import {generateMasterKey} from '../../../engine/crypto/cipher.js';
import {WrongPasswordError} from '../../../engine/errors.js';
import {readKeyHint, saveKeyHint} from '../../../engine/repository/key-hint.js';
import {addKey, openMasterKey, removeKey} from '../../../engine/repository/keys.js';
import {Repository} from '../../../engine/repository/repository.js';

const fastParams = {N: 1024, r: 8, p: 1};

let base: string;

beforeAll(async () => {
	base = await mkdtemp(join(tmpdir(), 'cairn-key-hint-'));
});
afterAll(async () => {
	await rm(base, {recursive: true, force: true});
});

/** The storage, counting its listings of keys/ and its loads of key files. */
function countKeyCalls(storage: Storage): {storage: Storage; listings: () => number; loads: () => string[]} {
	let listings = 0;
	const loads: string[] = [];
	const counted = watchStorage(storage, ({op, type, name}) => {
		if (type !== 'keys') return;
		if (op === 'list') listings++;
		else if (op === 'load') loads.push(name!);
	});
	return {storage: counted, listings: () => listings, loads: () => [...loads]};
}

describe('openMasterKey with a hint', () => {
	it('opens the hinted key file without listing keys/', async () => {
		const storage = createMemoryStorage();
		const master = generateMasterKey();
		await addKey(storage, master, 'other password', {params: fastParams});
		const id = await addKey(storage, master, 'right password', {params: fastParams});
		const counted = countKeyCalls(storage);
		const opened = await openMasterKey(counted.storage, 'right password', {hint: id});
		expect(opened.keyId).toBe(id);
		expect(counted.listings()).toBe(0);
		expect(counted.loads()).toEqual([id]);
	});

	it('falls back to every key file when the hinted one is gone or the password does not open it, deriving none twice', async () => {
		const storage = createMemoryStorage();
		const master = generateMasterKey();
		const other = await addKey(storage, master, 'other password', {params: fastParams});
		const right = await addKey(storage, master, 'right password', {params: fastParams});
		const wrongHint = countKeyCalls(storage);
		expect((await openMasterKey(wrongHint.storage, 'right password', {hint: other})).keyId).toBe(right);
		expect(wrongHint.listings()).toBe(1);
		expect(wrongHint.loads().filter((id) => id === other)).toHaveLength(1);
		const gone = 'f'.repeat(64);
		const goneHint = countKeyCalls(storage);
		expect((await openMasterKey(goneHint.storage, 'right password', {hint: gone})).keyId).toBe(right);
		expect(goneHint.listings()).toBe(1);
		// Not a key name: ignored.
		expect((await openMasterKey(storage, 'right password', {hint: '../config'})).keyId).toBe(right);
		// A wrong password is still a wrong password.
		await expect(openMasterKey(storage, 'no such password', {hint: right})).rejects.toThrow(WrongPasswordError);
		await removeKey(storage, other, right);
		await expect(openMasterKey(storage, 'other password', {hint: other})).rejects.toThrow(WrongPasswordError);
	});
});

describe('the hint kept in the cache', () => {
	it('is written at init and open, and used by the next open: the key file is loaded with the config, keys/ not listed', async () => {
		const cacheDir = join(base, 'cache-a');
		const storage = createMemoryStorage();
		const made = await Repository.init(storage, 'pw', {cacheDir});
		const hintDir = join(cacheDir, 'key-hints');
		const [file] = await readdir(hintDir);
		expect(file).toMatch(/^[0-9a-f]{64}$/);
		expect((await readFile(join(hintDir, file!), 'utf8')).trim()).toBe(made.keyId);
		expect((await stat(join(hintDir, file!))).mode & 0o777).toBe(0o600);
		expect((await stat(hintDir)).mode & 0o777).toBe(0o700);
		// Neither the location nor the password is in the cache's hint folder.
		expect(file).not.toContain(storage.location);
		const counted = countKeyCalls(storage);
		const opened = await Repository.open(counted.storage, 'pw', {cacheDir});
		expect(opened.keyId).toBe(made.keyId);
		expect(counted.listings()).toBe(0);
		// Without a cache, keys/ is listed as before.
		const plain = countKeyCalls(storage);
		await Repository.open(plain.storage, 'pw');
		expect(plain.listings()).toBe(1);
	});

	it('follows a changed key: a stale hint costs one listing and is replaced', async () => {
		const cacheDir = join(base, 'cache-b');
		const storage = createMemoryStorage();
		const made = await Repository.init(storage, 'pw', {cacheDir});
		const second = await addKey(storage, made.key, 'new pw', {params: fastParams});
		await removeKey(storage, made.keyId, second);
		const counted = countKeyCalls(storage);
		const opened = await Repository.open(counted.storage, 'new pw', {cacheDir});
		expect(opened.keyId).toBe(second);
		expect(counted.listings()).toBe(1);
		expect(readKeyHint(cacheDir, storage.location)).toBe(second);
	});

	it('ignores an unreadable or damaged hint, and a cache it cannot write to', async () => {
		const cacheDir = join(base, 'cache-c');
		const storage = createMemoryStorage();
		await Repository.init(storage, 'pw');
		await saveKeyHint(cacheDir, storage.location, 'not a key id');
		expect(readKeyHint(cacheDir, storage.location)).toBeUndefined();
		await saveKeyHint(cacheDir, storage.location, 'a'.repeat(64));
		const [file] = await readdir(join(cacheDir, 'key-hints'));
		await writeFile(join(cacheDir, 'key-hints', file!), 'garbage\n');
		expect(readKeyHint(cacheDir, storage.location)).toBeUndefined();
		expect((await Repository.open(storage, 'pw', {cacheDir})).keyId).toMatch(/^[0-9a-f]{64}$/);
		await saveKeyHint(join(base, 'missing', '\0bad'), storage.location, 'b'.repeat(64));
		expect(readKeyHint(join(base, 'missing', '\0bad'), storage.location)).toBeUndefined();
	});
});
