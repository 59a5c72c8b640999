import {execFile} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {Storage} from '../../../adapters/storage.js';
import {generateMasterKey, openBytes, sealBytes} from '../../../engine/crypto/cipher.js';
import {addKey, changePassword, decodeMasterKey, encodeMasterKey, listKeys, openMasterKey, removeKey} from '../../../engine/repository/keys.js';
import {CairnError, IntegrityError, WrongPasswordError} from '../../../engine/errors.js';

const run = promisify(execFile);

/** Cheap scrypt parameters so that tests which do not talk to restic stay fast. */
const fastParams = {N: 1024, r: 8, p: 1};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Saves raw bytes as a key file named by their hash, as a damaged or foreign key file would be. */
async function saveRawKeyFile(storage: Storage, bytes: Uint8Array): Promise<string> {
	const id = sha256(bytes);
	await storage.save({type: 'keys', name: id}, bytes);
	return id;
}

describe('key files in a cairn repository', () => {
	it('adds a key with restic\'s exact fields and opens it again', async () => {
		const storage = createMemoryStorage();
		const master = generateMasterKey();
		const id = await addKey(storage, master, 'correct horse', {hostname: 'host-a', username: 'alice', params: fastParams});

		const bytes = await storage.load({type: 'keys', name: id});
		expect(sha256(bytes)).toBe(id);
		const json = JSON.parse(Buffer.from(bytes).toString());
		expect(Object.keys(json)).toEqual(['created', 'username', 'hostname', 'kdf', 'N', 'r', 'p', 'salt', 'data']);
		expect(json).toMatchObject({username: 'alice', hostname: 'host-a', kdf: 'scrypt', N: 1024, r: 8, p: 1});
		expect(json.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/);
		expect(Buffer.from(json.salt, 'base64').length).toBe(64);
		expect(Buffer.from(json.data, 'base64').length).toBe(encodeMasterKey(master).length + 32);

		const opened = await openMasterKey(storage, 'correct horse');
		expect(opened.keyId).toBe(id);
		expect(encodeMasterKey(opened.master)).toBe(encodeMasterKey(master));
		await expect(openMasterKey(storage, 'Correct horse')).rejects.toThrow(WrongPasswordError);
	});

	it('encodes the master key as restic\'s JSON and decodes it back', () => {
		const master = generateMasterKey();
		const json = encodeMasterKey(master);
		expect(Object.keys(JSON.parse(json))).toEqual(['mac', 'encrypt']);
		expect(Object.keys(JSON.parse(json).mac)).toEqual(['k', 'r']);
		expect(decodeMasterKey(json).encrypt.equals(master.encrypt)).toBe(true);
		expect(() => decodeMasterKey('{"mac":{"k":"AAAA","r":"AAAA"},"encrypt":"AAAA"}')).toThrow(IntegrityError);
	});

	it('finds the matching key among several and reports a wrong password with exit code 12', async () => {
		const storage = createMemoryStorage();
		const master = generateMasterKey();
		const ids = [];
		for (const password of ['one', 'two', 'three', 'four', 'five']) ids.push(await addKey(storage, master, password, {params: fastParams}));
		expect((await openMasterKey(storage, 'four')).keyId).toBe(ids[3]);
		const error = await openMasterKey(storage, 'six').catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(WrongPasswordError);
		expect((error as WrongPasswordError).exitCode).toBe(12);
	});

	it('says so when the repository has no keys at all', async () => {
		await expect(openMasterKey(createMemoryStorage(), 'pw')).rejects.toThrow(/has no keys/);
	});

	it('skips key files that are not valid JSON, but says so when none is usable', async () => {
		const storage = createMemoryStorage();
		await saveRawKeyFile(storage, Buffer.from('this is not json'));
		await saveRawKeyFile(storage, Buffer.from(JSON.stringify({kdf: 'argon2', N: 1, r: 1, p: 1, salt: '', data: ''})));
		const allBad = await openMasterKey(storage, 'pw').catch((caught: unknown) => caught);
		expect(allBad).toBeInstanceOf(IntegrityError);
		expect((allBad as Error).message).toMatch(/none of the 2 key files in keys\/ is a usable key file/);

		const master = generateMasterKey();
		const good = await addKey(storage, master, 'pw', {params: fastParams});
		expect((await openMasterKey(storage, 'pw')).keyId).toBe(good);
		await expect(openMasterKey(storage, 'other')).rejects.toThrow(/2 of 3 key files were unusable/);
		expect((await listKeys(storage)).map((key) => key.id)).toEqual([good]);
	});

	it('reports damage when the password opens a key whose sealed content is not a master key', async () => {
		const storage = createMemoryStorage();
		const id = await addKey(storage, generateMasterKey(), 'pw', {params: fastParams});
		const json = JSON.parse(Buffer.from(await storage.load({type: 'keys', name: id})).toString());
		await storage.remove({type: 'keys', name: id});
		const {deriveUserKey} = await import('../../../engine/crypto/kdf.js');
		const userKey = await deriveUserKey('pw', Buffer.from(json.salt, 'base64'), fastParams);
		json.data = sealBytes(userKey, Buffer.from('{"mac":{}}')).toString('base64');
		await saveRawKeyFile(storage, Buffer.from(JSON.stringify(json)));
		await expect(openMasterKey(storage, 'pw')).rejects.toThrow(IntegrityError);
		await expect(openMasterKey(storage, 'pw')).rejects.toThrow(/opens key file .* but master key field/);
	});

	it('stops when the signal is aborted', async () => {
		const storage = createMemoryStorage();
		await addKey(storage, generateMasterKey(), 'pw', {params: fastParams});
		const controller = new AbortController();
		controller.abort(new Error('stop now'));
		await expect(openMasterKey(storage, 'pw', {signal: controller.signal})).rejects.toThrow(/stop now|abort/i);
	});

	it('lists keys, removes by unique prefix, refuses the key in use and unknown IDs', async () => {
		const storage = createMemoryStorage();
		const master = generateMasterKey();
		const first = await addKey(storage, master, 'a', {hostname: 'h1', username: 'u1', params: fastParams});
		const second = await addKey(storage, master, 'b', {hostname: 'h2', username: 'u2', params: fastParams});

		const keys = await listKeys(storage);
		expect(keys.map((key) => key.id).sort()).toEqual([first, second].sort());
		const info = keys.find((key) => key.id === first)!;
		expect([info.username, info.hostname]).toEqual(['u1', 'h1']);
		expect(Math.abs(info.created.getTime() - Date.now())).toBeLessThan(60_000);

		await expect(removeKey(storage, first, first)).rejects.toThrow(/refusing to remove key .* currently used/);
		await expect(removeKey(storage, 'ffff' + first.slice(4), first)).rejects.toThrow(CairnError);
		await expect(removeKey(storage, '', first)).rejects.toThrow(/no key with ID/);
		expect(await removeKey(storage, second.slice(0, 10), first)).toBe(second);
		expect((await listKeys(storage)).map((key) => key.id)).toEqual([first]);
		await expect(openMasterKey(storage, 'b')).rejects.toThrow(WrongPasswordError);
	});

	it('changes the password: the new one opens the same master key, the old one no longer does', async () => {
		const storage = createMemoryStorage();
		const master = generateMasterKey();
		const oldId = await addKey(storage, master, 'old', {params: fastParams});
		const newId = await changePassword(storage, master, oldId, 'new', {params: fastParams});
		expect(newId).not.toBe(oldId);
		expect((await listKeys(storage)).map((key) => key.id)).toEqual([newId]);
		const opened = await openMasterKey(storage, 'new');
		expect(opened.keyId).toBe(newId);
		expect(opened.master.macR.equals(master.macR)).toBe(true);
		await expect(openMasterKey(storage, 'old')).rejects.toThrow(WrongPasswordError);
	});
});

describe('key files shared with the real restic 0.14', () => {
	let directory = '';
	let repository = '';
	const password = 'restic-made-this';
	const restic = (args: string[], secret: string) => run('restic', ['-r', repository, ...args], {env: {...process.env, RESTIC_PASSWORD: secret}});

	beforeAll(async () => {
		directory = await mkdtemp(join(tmpdir(), 'cairn-keys-'));
		repository = join(directory, 'repo');
		await restic(['init'], password);
	}, 60_000);

	afterAll(async () => {
		if (directory) await rm(directory, {recursive: true, force: true});
	});

	it('opens the key restic wrote and decrypts the config', async () => {
		const storage = createLocalStorage(repository);
		const {master, keyId} = await openMasterKey(storage, password);
		expect(await readdir(join(repository, 'keys'))).toContain(keyId);
		const config = JSON.parse(openBytes(master, await storage.load({type: 'config', name: ''})).toString());
		expect(config.version).toBe(2);
		expect(config.chunker_polynomial).toMatch(/^[0-9a-f]+$/);
		expect(config.id).toMatch(/^[0-9a-f]{64}$/);

		const {stdout} = await restic(['cat', 'masterkey'], password);
		expect(encodeMasterKey(master)).toBe(JSON.stringify(JSON.parse(stdout)));
	}, 60_000);

	it('throws WrongPasswordError for a wrong password', async () => {
		await expect(openMasterKey(createLocalStorage(repository), 'not the password')).rejects.toThrow(WrongPasswordError);
	}, 60_000);

	it('fails the MAC check when one bit of the config is flipped', async () => {
		const storage = createLocalStorage(repository);
		const {master} = await openMasterKey(storage, password);
		const config = Buffer.from(await readFile(join(repository, 'config')));
		config[config.length >> 1]! ^= 0x10;
		expect(() => openBytes(master, config)).toThrow(IntegrityError);
		expect(() => openBytes(master, config)).toThrow(/ciphertext verification failed/);
	}, 60_000);

	it('writes a key that restic accepts', async () => {
		const storage = createLocalStorage(repository);
		const {master} = await openMasterKey(storage, password);
		const newPassword = 'cairn-made-this';
		const id = await addKey(storage, master, newPassword, {hostname: 'cairn-host', username: 'cairn-user'});

		const {stdout} = await restic(['key', 'list', '--json'], newPassword);
		const listed = JSON.parse(stdout) as Array<{current: boolean; id: string; userName: string; hostName: string}>;
		expect(listed).toHaveLength(2);
		// restic 0.14 lists short IDs (the first 8 hex digits).
		const ours = listed.find((key) => id.startsWith(key.id));
		expect(ours).toMatchObject({current: true, userName: 'cairn-user', hostName: 'cairn-host'});

		const masterFromRestic = await restic(['cat', 'masterkey'], newPassword);
		expect(JSON.stringify(JSON.parse(masterFromRestic.stdout))).toBe(encodeMasterKey(master));
	}, 60_000);
});
