import {describe, expect, it} from 'vitest';
import {DEFAULT_KDF_PARAMS, SALT_SIZE, checkKdfParams, deriveUserKey, generateSalt} from '../../../engine/crypto/kdf.js';
import {CairnError} from '../../../engine/errors.js';

describe('deriveUserKey', () => {
	it('splits the RFC 7914 scrypt output into encrypt || mac.k || mac.r as restic does', async () => {
		// RFC 7914 section 12, second vector: P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64.
		const expected = Buffer.from(
			'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
			'hex',
		);
		const key = await deriveUserKey('password', Buffer.from('NaCl'), {N: 1024, r: 8, p: 16});
		expect(key.encrypt.toString('hex')).toBe(expected.subarray(0, 32).toString('hex'));
		expect(key.macK.toString('hex')).toBe(expected.subarray(32, 48).toString('hex'));
		expect(key.macR.toString('hex')).toBe(expected.subarray(48, 64).toString('hex'));
	});

	it('runs with the default parameters and with restic-calibrated ones above the 32 MiB scrypt default', async () => {
		const salt = generateSalt();
		const a = await deriveUserKey('pw', salt, DEFAULT_KDF_PARAMS);
		const b = await deriveUserKey('pw', salt, {N: 65536, r: 8, p: 1});
		expect(a.encrypt.equals(b.encrypt)).toBe(false);
		expect(a.encrypt.length + a.macK.length + a.macR.length).toBe(64);
	});

	it('encodes string passwords as UTF-8', async () => {
		const salt = generateSalt();
		const params = {N: 16, r: 1, p: 1};
		const fromString = await deriveUserKey('pässwörd', salt, params);
		const fromBytes = await deriveUserKey(Buffer.from('pässwörd', 'utf8'), salt, params);
		expect(fromString.encrypt.equals(fromBytes.encrypt)).toBe(true);
	});

	it('rejects invalid parameters and an empty salt with a CairnError', async () => {
		const salt = generateSalt();
		await expect(deriveUserKey('pw', salt, {N: 1000, r: 8, p: 1})).rejects.toThrow(/power of two/);
		await expect(deriveUserKey('pw', salt, {N: 1, r: 8, p: 1})).rejects.toThrow(CairnError);
		await expect(deriveUserKey('pw', salt, {N: 1024, r: 0, p: 1})).rejects.toThrow(/r=0/);
		await expect(deriveUserKey('pw', salt, {N: 1024, r: 8, p: 1.5})).rejects.toThrow(CairnError);
		await expect(deriveUserKey('pw', new Uint8Array(0), {N: 1024, r: 8, p: 1})).rejects.toThrow(/salt/);
	});

	it('refuses parameters that need more than 1 GiB', () => {
		expect(() => checkKdfParams({N: 2 ** 19, r: 8, p: 1})).not.toThrow();
		expect(() => checkKdfParams({N: 2 ** 20, r: 8, p: 1})).toThrow(/MiB of memory/);
	});
});

describe('generateSalt', () => {
	it('returns 64 random bytes, the only salt length restic accepts', () => {
		const a = generateSalt();
		expect(a.length).toBe(SALT_SIZE);
		expect(SALT_SIZE).toBe(64);
		expect(a.equals(generateSalt())).toBe(false);
	});
});
