/**
 * Key files (`keys/<id>`): plain JSON documents that hold the repository's master key sealed
 * with a key derived from one password. A repository has one key file per password. The file
 * name is the SHA-256 of the file's bytes. Field names and encodings follow restic exactly.
 */

import {createHash} from 'node:crypto';
import os from 'node:os';
import {isStorageError, throwIfAborted, type FileHandle, type Storage} from '../../adapters/storage.js';
import {openBytes, sealBytes, type MasterKey} from '../crypto/cipher.js';
import {DEFAULT_KDF_PARAMS, SALT_SIZE, checkKdfParams, deriveUserKey, generateSalt, type KdfParams} from '../crypto/kdf.js';
import {CairnError, IntegrityError, WrongPasswordError} from '../errors.js';
import {formatGoTime, nowNs, parseGoTime, toDate} from '../format/time.js';

/** How many key files {@link openMasterKey} tries at once (each scrypt run takes tens of MiB). */
const KEY_CONCURRENCY = 3;

/** What {@link listKeys} reports about one key file. */
export interface KeyInfo {
	/** The key file's name: the hex SHA-256 of its bytes. */
	readonly id: string;
	/** When the key was added; an invalid Date when the file's `created` cannot be parsed. */
	readonly created: Date;
	readonly username: string;
	readonly hostname: string;
}

/** Options of {@link addKey}. */
export interface AddKeyOptions {
	/** Stored in the key file; defaults to os.hostname(). */
	readonly hostname?: string;
	/** Stored in the key file; defaults to the current user's name (empty when unknown). */
	readonly username?: string;
	/** scrypt parameters; defaults to {@link DEFAULT_KDF_PARAMS}. */
	readonly params?: KdfParams;
	readonly signal?: AbortSignal;
}

/** A key file as restic writes it, with `salt` and `data` still base64. */
interface KeyFileJson {
	created: string;
	username: string;
	hostname: string;
	kdf: string;
	N: number;
	r: number;
	p: number;
	salt: string;
	data: string;
}

/** A key file parsed and checked, ready to be opened with a password. */
interface ParsedKeyFile {
	readonly json: KeyFileJson;
	readonly params: KdfParams;
	readonly salt: Buffer;
	readonly data: Buffer;
}

/** A key file that cannot be used at all (not JSON, wrong fields, unsupported KDF...). */
class InvalidKeyFileError extends Error {}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes standard padded base64 (Go's encoding of []byte), rejecting anything else. */
function decodeBase64(text: unknown, field: string): Buffer {
	if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) {
		throw new InvalidKeyFileError(`field "${field}" is not base64`);
	}
	return Buffer.from(text, 'base64');
}

/** Parses and checks the bytes of a key file. Throws {@link InvalidKeyFileError} with the reason. */
function parseKeyFile(bytes: Uint8Array): ParsedKeyFile {
	let json: unknown;
	try {
		json = JSON.parse(Buffer.from(bytes).toString('utf8'));
	} catch (error) {
		throw new InvalidKeyFileError(`not valid JSON (${(error as Error).message})`);
	}
	if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidKeyFileError('not a JSON object');
	const file = json as Partial<Record<keyof KeyFileJson, unknown>>;
	if (file.kdf !== 'scrypt') throw new InvalidKeyFileError(`unsupported kdf ${JSON.stringify(file.kdf)}; only "scrypt" is supported`);
	const params = {N: file.N, r: file.r, p: file.p};
	if (typeof params.N !== 'number' || typeof params.r !== 'number' || typeof params.p !== 'number') {
		throw new InvalidKeyFileError('fields "N", "r" and "p" must be numbers');
	}
	try {
		checkKdfParams(params as KdfParams);
	} catch (error) {
		throw new InvalidKeyFileError((error as Error).message);
	}
	const salt = decodeBase64(file.salt, 'salt');
	if (salt.length !== SALT_SIZE) throw new InvalidKeyFileError(`salt is ${salt.length} bytes, expected ${SALT_SIZE}`);
	const data = decodeBase64(file.data, 'data');
	const text = (value: unknown): string => (typeof value === 'string' ? value : '');
	return {
		json: {...(file as KeyFileJson), created: text(file.created), username: text(file.username), hostname: text(file.hostname)},
		params: params as KdfParams,
		salt,
		data,
	};
}

/** Serializes master keys as restic does: `{"mac":{"k":…,"r":…},"encrypt":…}` with base64 values. */
export function encodeMasterKey(master: MasterKey): string {
	if (master.encrypt.length !== 32 || master.macK.length !== 16 || master.macR.length !== 16) {
		throw new CairnError('invalid master key: expected a 32-byte encryption key and 16-byte MAC keys k and r');
	}
	return JSON.stringify({
		mac: {k: master.macK.toString('base64'), r: master.macR.toString('base64')},
		encrypt: master.encrypt.toString('base64'),
	});
}

/** Parses restic's master key JSON. Throws {@link IntegrityError} when a field is missing, mis-sized or all zero. */
export function decodeMasterKey(json: string | Uint8Array): MasterKey {
	let value: {mac?: {k?: unknown; r?: unknown}; encrypt?: unknown};
	try {
		value = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
	} catch (error) {
		throw new IntegrityError('master key is not valid JSON', {cause: error});
	}
	const field = (text: unknown, name: string, size: number): Buffer => {
		let bytes: Buffer;
		try {
			bytes = decodeBase64(text, name);
		} catch (error) {
			throw new IntegrityError(`master key field "${name}" is missing or not base64`, {cause: error});
		}
		if (bytes.length !== size) throw new IntegrityError(`master key field "${name}" is ${bytes.length} bytes, expected ${size}`);
		if (bytes.every((byte) => byte === 0)) throw new IntegrityError(`master key field "${name}" is all zero`);
		return bytes;
	};
	if (typeof value !== 'object' || value === null) throw new IntegrityError('master key is not a JSON object');
	return {encrypt: field(value.encrypt, 'encrypt', 32), macK: field(value.mac?.k, 'mac.k', 16), macR: field(value.mac?.r, 'mac.r', 16)};
}

/** The current user's name, or '' when the system cannot say (restic leaves it empty too). */
function readUsername(): string {
	try {
		return os.userInfo().username;
	} catch {
		return '';
	}
}

/** Returns the handle of a key file. */
function keyHandle(id: string): FileHandle {
	return {type: 'keys', name: id};
}

/**
 * Writes a new key file that seals `master` with `password` and returns its ID.
 * The salt is 64 random bytes; the data is sealBytes(userKey, master key JSON).
 */
export async function addKey(storage: Storage, master: MasterKey, password: string, options: AddKeyOptions = {}): Promise<string> {
	const params = options.params ?? DEFAULT_KDF_PARAMS;
	const salt = generateSalt();
	const userKey = await deriveUserKey(password, salt, params);
	const data = sealBytes(userKey, Buffer.from(encodeMasterKey(master)));
	const file: KeyFileJson = {
		created: formatGoTime(nowNs()),
		username: options.username ?? readUsername(),
		hostname: options.hostname ?? os.hostname(),
		kdf: 'scrypt',
		N: params.N,
		r: params.r,
		p: params.p,
		salt: salt.toString('base64'),
		data: data.toString('base64'),
	};
	const bytes = Buffer.from(JSON.stringify(file));
	const id = createHash('sha256').update(bytes).digest('hex');
	await storage.save(keyHandle(id), bytes, {signal: options.signal});
	return id;
}

/** The result of trying one key file with a password. */
type KeyAttempt =
	| {readonly kind: 'opened'; readonly master: MasterKey}
	| {readonly kind: 'wrong-password'}
	| {readonly kind: 'invalid'; readonly reason: string}
	| {readonly kind: 'damaged'; readonly reason: string};

/** Loads one key file and tries to open it. Storage failures other than a vanished file propagate. */
async function tryKeyFile(storage: Storage, id: string, password: string, signal?: AbortSignal): Promise<KeyAttempt> {
	let bytes: Uint8Array;
	try {
		bytes = await storage.load(keyHandle(id), {signal});
	} catch (error) {
		if (isStorageError(error, 'not-found')) return {kind: 'invalid', reason: `key file ${id} disappeared while it was being read`};
		throw error;
	}
	let parsed: ParsedKeyFile;
	try {
		parsed = parseKeyFile(bytes);
	} catch (error) {
		if (error instanceof InvalidKeyFileError) return {kind: 'invalid', reason: `key file ${id}: ${error.message}`};
		throw error;
	}
	const userKey = await deriveUserKey(password, parsed.salt, parsed.params);
	let plaintext: Buffer;
	try {
		plaintext = openBytes(userKey, parsed.data);
	} catch (error) {
		if (error instanceof IntegrityError) return {kind: 'wrong-password'};
		throw error;
	}
	try {
		return {kind: 'opened', master: decodeMasterKey(plaintext)};
	} catch (error) {
		return {kind: 'damaged', reason: `the password opens key file ${id}, but ${(error as Error).message}`};
	}
}

/**
 * Finds the key file the password opens and returns the master key and that file's ID.
 * Key files are tried a few at a time. Unusable key files (not JSON, unknown KDF...) are
 * skipped. Rejects with {@link WrongPasswordError} when no key opens, with {@link IntegrityError}
 * when no key file is usable at all or the only match is damaged, and with {@link CairnError}
 * when `keys/` is empty. Storage errors propagate unchanged.
 *
 * With `hint` (the key file that opened this repository last time: key-hint.ts) that file is tried
 * first, without listing `keys/`; when it is gone or the password does not open it, every key
 * file is listed and tried as without a hint (the hinted one is not derived twice).
 */
export async function openMasterKey(storage: Storage, password: string, options: {signal?: AbortSignal; hint?: string} = {}): Promise<{master: MasterKey; keyId: string}> {
	const {signal, hint} = options;
	let hinted: KeyAttempt | undefined;
	if (hint !== undefined && /^[0-9a-f]{64}$/.test(hint)) {
		try {
			hinted = await tryKeyFile(storage, hint, password, signal);
		} catch (error) {
			if (!isStorageError(error, 'not-found')) throw error;
		}
		if (hinted?.kind === 'opened') return {master: hinted.master, keyId: hint};
	}
	const ids: string[] = [];
	for await (const info of storage.list('keys', {signal})) ids.push(info.name);
	if (ids.length === 0) {
		throw new CairnError(`the repository at ${storage.location} has no keys: keys/ is empty, so no password can open it`);
	}
	ids.sort();
	// The hinted key file, listed and known not to open with this password: counted, not tried again.
	const skipped = hinted?.kind === 'wrong-password' && ids.includes(hint!) ? hint : undefined;

	let found: {master: MasterKey; keyId: string} | undefined;
	let failed = false;
	const invalid: string[] = [];
	const damaged: string[] = [];
	let next = 0;
	const runWorker = async (): Promise<void> => {
		while (found === undefined && !failed && next < ids.length) {
			throwIfAborted(signal);
			const id = ids[next++]!;
			if (id === skipped) continue;
			let attempt: KeyAttempt;
			try {
				attempt = await tryKeyFile(storage, id, password, signal);
			} catch (error) {
				failed = true;
				throw error;
			}
			if (attempt.kind === 'opened') found ??= {master: attempt.master, keyId: id};
			else if (attempt.kind === 'invalid') invalid.push(attempt.reason);
			else if (attempt.kind === 'damaged') damaged.push(attempt.reason);
		}
	};
	await Promise.all(Array.from({length: Math.min(KEY_CONCURRENCY, ids.length)}, runWorker));
	if (found !== undefined) return found;
	throwIfAborted(signal);

	if (damaged.length > 0) throw new IntegrityError(damaged[0]!);
	if (invalid.length === ids.length) {
		const count = ids.length === 1 ? 'the only key file' : `none of the ${ids.length} key files`;
		throw new IntegrityError(`${count} in keys/ is a usable key file, so the repository cannot be opened; ${invalid[0]}`);
	}
	if (invalid.length > 0) {
		throw new WrongPasswordError(`${new WrongPasswordError().message} (${invalid.length} of ${ids.length} key files were unusable and skipped; first: ${invalid[0]})`);
	}
	throw new WrongPasswordError();
}

/** Describes every usable key file, oldest first. Files that cannot be parsed are left out. */
export async function listKeys(storage: Storage, options: {signal?: AbortSignal} = {}): Promise<KeyInfo[]> {
	const {signal} = options;
	const keys: KeyInfo[] = [];
	for await (const info of storage.list('keys', {signal})) {
		let parsed: ParsedKeyFile;
		try {
			parsed = parseKeyFile(await storage.load(keyHandle(info.name), {signal}));
		} catch (error) {
			if (error instanceof InvalidKeyFileError || isStorageError(error, 'not-found')) continue;
			throw error;
		}
		let created: Date;
		try {
			created = toDate(parseGoTime(parsed.json.created));
		} catch {
			created = new Date(Number.NaN);
		}
		keys.push({id: info.name, created, username: parsed.json.username, hostname: parsed.json.hostname});
	}
	const time = (key: KeyInfo): number => (Number.isNaN(key.created.getTime()) ? Number.POSITIVE_INFINITY : key.created.getTime());
	return keys.sort((a, b) => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Finds the one key file whose ID equals or starts with `id`. */
async function resolveKeyId(storage: Storage, id: string, signal?: AbortSignal): Promise<string> {
	const prefix = id.toLowerCase();
	const matches: string[] = [];
	for await (const info of storage.list('keys', {signal})) {
		if (info.name === prefix) return info.name;
		if (prefix.length > 0 && info.name.startsWith(prefix)) matches.push(info.name);
	}
	if (matches.length === 0) throw new CairnError(`no key with ID ${JSON.stringify(id)} in this repository`);
	if (matches.length > 1) throw new CairnError(`key ID prefix ${JSON.stringify(id)} is ambiguous: it matches ${matches.length} keys; give more characters`);
	return matches[0]!;
}

/**
 * Deletes a key file, given its ID or a unique prefix of it, and returns the full ID.
 * Refuses (CairnError) to remove `currentKeyId`, the key that opened the repository, and IDs
 * that match no key file.
 */
export async function removeKey(storage: Storage, id: string, currentKeyId: string, options: {signal?: AbortSignal} = {}): Promise<string> {
	const fullId = await resolveKeyId(storage, id, options.signal);
	if (fullId === currentKeyId) {
		throw new CairnError(`refusing to remove key ${fullId.slice(0, 8)}: it is the key currently used to open the repository; open the repository with another password to remove it, or change the password instead`);
	}
	await storage.remove(keyHandle(fullId), {signal: options.signal});
	return fullId;
}

/**
 * Replaces the key `currentKeyId` with a new key for `newPassword` that seals the same master
 * key: first writes the new key file, then removes the old one. Returns the new key's ID.
 */
export async function changePassword(storage: Storage, master: MasterKey, currentKeyId: string, newPassword: string, options: AddKeyOptions = {}): Promise<string> {
	const newId = await addKey(storage, master, newPassword, options);
	await removeKey(storage, currentKeyId, newId, {signal: options.signal});
	return newId;
}
