/**
 * restic's authenticated encryption: AES-256-CTR, then Poly1305-AES over the ciphertext.
 *
 * A sealed message is IV (16 random bytes) || ciphertext || MAC (16 bytes). The IV is the CTR
 * counter block and also the Poly1305-AES nonce: the one-time Poly1305 key is r || AES-128_k(IV),
 * where k and r are the two halves of the MAC key (r is clamped inside Poly1305).
 */

import {createCipheriv, createDecipheriv, createSecretKey, randomFillSync, timingSafeEqual, type Cipher, type KeyObject} from 'node:crypto';
import {IntegrityError} from '../errors.js';
import {computePoly1305} from './poly1305.js';

const IV_SIZE = 16;
const MAC_SIZE = 16;

/** Bytes a message grows by when sealed: the IV in front and the MAC behind. */
export const CIPHERTEXT_OVERHEAD = IV_SIZE + MAC_SIZE;

/**
 * The keys that encrypt and authenticate a repository (restic's `crypto.Key`).
 *
 * Contract: `encrypt` is 32 bytes (AES-256), `macK` 16 bytes (the AES-128 key of Poly1305-AES)
 * and `macR` 16 bytes (the Poly1305 r, stored unclamped). None may be all zero. Treat a
 * MasterKey as immutable once it has been used: per-key cipher state is cached by object identity.
 */
export interface MasterKey {
	readonly encrypt: Buffer;
	readonly macK: Buffer;
	readonly macR: Buffer;
}

/** Per-key state worth keeping between messages. */
interface KeyState {
	readonly encryptKey: KeyObject;
	/** A streaming AES-128-ECB cipher without padding: each 16-byte update returns that block encrypted. */
	readonly nonceCipher: Cipher;
}

const keyStates = new WeakMap<MasterKey, KeyState>();

/** Returns the cached cipher state of a key, creating it on first use. */
function getKeyState(key: MasterKey): KeyState {
	let state = keyStates.get(key);
	if (state === undefined) {
		checkMasterKey(key);
		const nonceCipher = createCipheriv('aes-128-ecb', key.macK, null);
		nonceCipher.setAutoPadding(false);
		state = {encryptKey: createSecretKey(key.encrypt), nonceCipher};
		keyStates.set(key, state);
	}
	return state;
}

/** Throws when a key has the wrong sizes or an all-zero part (restic refuses such keys). */
function checkMasterKey(key: MasterKey): void {
	const parts: Array<[string, Uint8Array, number]> = [
		['encrypt', key.encrypt, 32],
		['mac.k', key.macK, 16],
		['mac.r', key.macR, 16],
	];
	for (const [name, bytes, size] of parts) {
		if (bytes.length !== size) throw new IntegrityError(`invalid key: ${name} is ${bytes.length} bytes, expected ${size}`);
		if (bytes.every((byte) => byte === 0)) throw new IntegrityError(`invalid key: ${name} is all zero`);
	}
}

/** Computes the Poly1305-AES tag of `ciphertext` for `nonce`. */
function computeMac(key: MasterKey, state: KeyState, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
	const oneTimeKey = new Uint8Array(32);
	oneTimeKey.set(key.macR, 0);
	oneTimeKey.set(state.nonceCipher.update(nonce), 16);
	return computePoly1305(oneTimeKey, ciphertext);
}

/** Tells whether all bytes are zero. */
function isAllZero(bytes: Uint8Array): boolean {
	let sum = 0;
	for (let i = 0; i < bytes.length; i++) sum |= bytes[i]!;
	return sum === 0;
}

/** Random bytes fetched in bulk for IVs: one CSPRNG call per 256 messages instead of one each. */
const ivPool = Buffer.alloc(IV_SIZE * 256);
let ivPoolOffset = ivPool.length;

/** Fills `iv` with 16 fresh random bytes; pool bytes are wiped as they are handed out. */
function takeRandomIv(iv: Uint8Array): void {
	if (ivPoolOffset === ivPool.length) {
		randomFillSync(ivPool);
		ivPoolOffset = 0;
	}
	iv.set(ivPool.subarray(ivPoolOffset, ivPoolOffset + IV_SIZE));
	ivPool.fill(0, ivPoolOffset, ivPoolOffset + IV_SIZE);
	ivPoolOffset += IV_SIZE;
}

/** Creates new random master keys. */
export function generateMasterKey(): MasterKey {
	const bytes = randomFillSync(Buffer.alloc(64));
	const key = {encrypt: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: bytes.subarray(48, 64)};
	checkMasterKey(key);
	return key;
}

/** Encrypts and authenticates `plaintext`; returns IV || ciphertext || MAC (length + 32 bytes). */
export function sealBytes(key: MasterKey, plaintext: Uint8Array): Buffer {
	const sealed = Buffer.allocUnsafe(plaintext.length + CIPHERTEXT_OVERHEAD);
	sealInto(key, plaintext, sealed, 0);
	return sealed;
}

/**
 * Encrypts and authenticates `plaintext` into `out` at `offset` (IV || ciphertext || MAC), for
 * callers that lay blobs out in a buffer of their own. Returns the bytes written (length + 32);
 * throws RangeError when they do not fit.
 */
export function sealInto(key: MasterKey, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
	const state = getKeyState(key);
	const total = plaintext.length + CIPHERTEXT_OVERHEAD;
	if (offset < 0 || offset + total > out.length) throw new RangeError(`sealing ${total} bytes at ${offset} overruns a ${out.length}-byte buffer`);
	const iv = out.subarray(offset, offset + IV_SIZE);
	do takeRandomIv(iv);
	while (isAllZero(iv)); // restic rejects an all-zero nonce

	const cipher = createCipheriv('aes-256-ctr', state.encryptKey, iv);
	const encrypted = cipher.update(plaintext);
	const tail = cipher.final();
	const start = offset + IV_SIZE;
	out.set(encrypted, start);
	out.set(tail, start + encrypted.length);

	const end = start + plaintext.length;
	out.set(computeMac(key, state, iv, out.subarray(start, end)), end);
	return total;
}

/**
 * Verifies and decrypts IV || ciphertext || MAC. The MAC is checked (in constant time) before
 * anything is decrypted; a mismatch, an all-zero IV or input shorter than 32 bytes throws
 * {@link IntegrityError}.
 */
export function openBytes(key: MasterKey, sealed: Uint8Array): Buffer {
	const state = getKeyState(key);
	if (sealed.length < CIPHERTEXT_OVERHEAD) {
		throw new IntegrityError(`ciphertext verification failed: ${sealed.length} bytes is shorter than the ${CIPHERTEXT_OVERHEAD}-byte IV and MAC`);
	}
	const iv = sealed.subarray(0, IV_SIZE);
	if (isAllZero(iv)) throw new IntegrityError('ciphertext verification failed: the IV is all zero');
	const end = sealed.length - MAC_SIZE;
	const ciphertext = sealed.subarray(IV_SIZE, end);
	const expected = computeMac(key, state, iv, ciphertext);
	if (!timingSafeEqual(expected, sealed.subarray(end))) {
		throw new IntegrityError('ciphertext verification failed: the MAC does not match (wrong key, or the data was damaged)');
	}
	const decipher = createDecipheriv('aes-256-ctr', state.encryptKey, iv);
	const plaintext = decipher.update(ciphertext);
	const tail = decipher.final();
	return tail.length === 0 ? plaintext : Buffer.concat([plaintext, tail]);
}
