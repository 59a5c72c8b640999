import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {CIPHERTEXT_OVERHEAD, generateMasterKey, openBytes, sealBytes, type MasterKey} from '../../../engine/crypto/cipher.js';
import {IntegrityError} from '../../../engine/errors.js';

const fromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');

/** Expects `run` to throw an IntegrityError whose message starts like restic's. */
function expectVerificationFailure(run: () => unknown): void {
	expect(run).toThrow(IntegrityError);
	expect(run).toThrow(/^ciphertext verification failed/);
}

describe('openBytes', () => {
	it('decrypts the ciphertext from restic\'s own crypto test data', () => {
		// internal/repository/crypto/crypto_int_test.go, testValues[0].
		const key: MasterKey = {
			encrypt: fromHex('303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef'),
			macK: fromHex('ef4d8824cb80b2bcc5fbff8a9b12a42c'),
			macR: fromHex('cc8d4b948ee0ebfe1d415de921d10353'),
		};
		const sealed = fromHex('69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750');
		expect(openBytes(key, sealed).toString()).toBe('Dies ist ein Test!');
	});

	// Poly1305-AES test vectors from Bernstein's paper (https://cr.yp.to/mac/poly1305-20050329.pdf),
	// which restic's crypto tests also use. The nonce goes where the IV goes and the message where the
	// ciphertext goes, so a successful open proves the MAC is exactly Poly1305-AES_(k,r)(nonce, message).
	const paperVectors = [
		{message: 'f3f6', r: '851fc40c3467ac0be05cc20404f3f700', k: 'ec074c835580741701425b623235add6', nonce: 'fb447350c4e868c52ac3275cf9d4327e', mac: 'f4c633c3044fc145f84f335cb81953de'},
		{message: '', r: 'a0f3080000f46400d0c7e9076c834403', k: '75deaa25c09f208e1dc4ce6b5cad3fbf', nonce: '61ee09218d29b0aaed7e154a2c5509cc', mac: 'dd3fab2251f11ac759f0887129cc2ee7'},
		{
			message: '663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136',
			r: '48443d0bb0d21109c89a100b5ce2c208',
			k: '6acb5f61a7176dd320c5c1eb2edcdc74',
			nonce: 'ae212a55399729595dea458bc621ff0e',
			mac: '0ee1c16bb73f0f4fd19881753c01cdbe',
		},
		{
			message: 'ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9',
			r: '12976a08c4426d0ce8a82407c4f48207',
			k: 'e1a5668a4d5b66a5f68cc5424ed5982d',
			nonce: '9ae831e743978d3a23527c7128149e3a',
			mac: '5154ad0d2cb26e01274fc51148491f1b',
		},
	];

	it.each(paperVectors.map((vector, index) => ({...vector, index})))('verifies Poly1305-AES vector $index from the paper', ({message, r, k, nonce, mac}) => {
		const key: MasterKey = {encrypt: randomBytes(32), macK: fromHex(k), macR: fromHex(r)};
		const sealed = Buffer.concat([fromHex(nonce), fromHex(message), fromHex(mac)]);
		expect(openBytes(key, sealed).length).toBe(message.length / 2);
		sealed[sealed.length - 1]! ^= 1;
		expectVerificationFailure(() => openBytes(key, sealed));
	});

	it('rejects input shorter than the IV and MAC, and an all-zero IV', () => {
		const key = generateMasterKey();
		for (const length of [0, 1, 16, 31]) expectVerificationFailure(() => openBytes(key, new Uint8Array(length)));
		const sealed = sealBytes(key, Buffer.from('data'));
		sealed.fill(0, 0, 16);
		expectVerificationFailure(() => openBytes(key, sealed));
	});
});

describe('sealBytes', () => {
	it('round-trips messages of many sizes, including from unaligned views', () => {
		const key = generateMasterKey();
		for (const size of [0, 1, 15, 16, 17, 100, 4095, 65536, 1 << 20]) {
			const backing = randomBytes(size + 1);
			const plaintext = backing.subarray(1);
			const sealed = sealBytes(key, plaintext);
			expect(sealed.length).toBe(size + CIPHERTEXT_OVERHEAD);
			expect(openBytes(key, sealed).equals(plaintext)).toBe(true);
			expect(openBytes(key, new Uint8Array(sealed)).equals(plaintext)).toBe(true);
		}
	});

	it('uses a fresh IV each time and does not leak the plaintext', () => {
		const key = generateMasterKey();
		const plaintext = Buffer.alloc(64, 0x41);
		const a = sealBytes(key, plaintext);
		const b = sealBytes(key, plaintext);
		expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false);
		expect(a.subarray(16, 80).equals(b.subarray(16, 80))).toBe(false);
		expect(a.includes(plaintext.subarray(0, 8))).toBe(false);
	});

	it('detects a flipped bit anywhere: IV, ciphertext or MAC', () => {
		const key = generateMasterKey();
		const sealed = sealBytes(key, randomBytes(200));
		for (const position of [0, 15, 16, 100, 215, 216, 231]) {
			for (const bit of [0, 7]) {
				const damaged = Buffer.from(sealed);
				damaged[position]! ^= 1 << bit;
				expectVerificationFailure(() => openBytes(key, damaged));
			}
		}
	});

	it('cannot be opened with another key, even one sharing the encryption key', () => {
		const key = generateMasterKey();
		const sealed = sealBytes(key, Buffer.from('secret'));
		expectVerificationFailure(() => openBytes(generateMasterKey(), sealed));
		expectVerificationFailure(() => openBytes({...key, macR: randomBytes(16)}, sealed));
		expectVerificationFailure(() => openBytes({...key, macK: randomBytes(16)}, sealed));
	});

	it('refuses keys with wrong sizes or all-zero parts', () => {
		const key = generateMasterKey();
		expect(() => sealBytes({...key, encrypt: Buffer.alloc(16, 1)}, Buffer.from('x'))).toThrow(/encrypt is 16 bytes/);
		expect(() => sealBytes({...key, macR: Buffer.alloc(16)}, Buffer.from('x'))).toThrow(/all zero/);
	});
});

describe('generateMasterKey', () => {
	it('returns independent random keys of the right sizes', () => {
		const a = generateMasterKey();
		const b = generateMasterKey();
		expect([a.encrypt.length, a.macK.length, a.macR.length]).toEqual([32, 16, 16]);
		expect(a.encrypt.equals(b.encrypt)).toBe(false);
		expect(a.macK.equals(a.macR)).toBe(false);
	});
});
