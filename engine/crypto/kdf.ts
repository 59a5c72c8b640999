/**
 * Password-based key derivation as restic does it: scrypt(password, salt, N, r, p) yields 64
 * bytes; the first 32 are the AES-256 key, the next 16 the MAC's AES-128 key k and the last 16
 * the Poly1305 r. The result is the "user key" that opens a key file's `data`.
 */

import {randomFillSync, scrypt} from 'node:crypto';
import {CairnError} from '../errors.js';
import type {MasterKey} from './cipher.js';

/** scrypt cost parameters, as stored in a key file's `N`, `r` and `p` fields. */
export interface KdfParams {
	/** CPU/memory cost; a power of two greater than 1. */
	readonly N: number;
	/** Block size factor, at least 1. */
	readonly r: number;
	/** Parallelism, at least 1. */
	readonly p: number;
}

/**
 * Parameters for new keys. restic calibrates scrypt on each machine (aiming at 0.5 s and at most
 * 60 MiB) and starts from N=16384, r=8, p=1. cairn uses fixed parameters instead so that keys do
 * not depend on how busy the machine happened to be: N=32768 costs 32 MiB (128·N·r bytes), well
 * inside restic's 60 MiB limit, and about 0.1 s on a current CPU; twice restic's starting point.
 */
export const DEFAULT_KDF_PARAMS: KdfParams = Object.freeze({N: 32768, r: 8, p: 1});

/** Length of the salt restic writes, and the only length it accepts. */
export const SALT_SIZE = 64;

/** The largest scrypt working memory cairn agrees to use for a key file (1 GiB). */
export const MAX_KDF_MEMORY = 1024 * 1024 * 1024;

/** Bytes of memory OpenSSL's scrypt needs for these parameters: B (128·r·p) plus V (128·r·(N+2)). */
function measureKdfMemory(params: KdfParams): number {
	return 128 * params.r * (params.N + 2 + params.p);
}

/**
 * Throws a {@link CairnError} when the parameters are not valid scrypt parameters or would need
 * more than {@link MAX_KDF_MEMORY}.
 */
export function checkKdfParams(params: KdfParams): void {
	const {N, r, p} = params;
	const isCount = (value: number): boolean => Number.isSafeInteger(value) && value >= 1;
	if (!isCount(N) || N < 2 || !Number.isInteger(Math.log2(N))) {
		throw new CairnError(`invalid scrypt parameters: N=${N} must be a power of two greater than 1`);
	}
	if (!isCount(r) || !isCount(p) || r * p >= 2 ** 30) {
		throw new CairnError(`invalid scrypt parameters: r=${r}, p=${p} must be positive integers with r·p < 2^30`);
	}
	const memory = measureKdfMemory(params);
	if (memory > MAX_KDF_MEMORY) {
		throw new CairnError(`scrypt parameters N=${N}, r=${r}, p=${p} need ${Math.ceil(memory / 2 ** 20)} MiB of memory, more than the ${MAX_KDF_MEMORY / 2 ** 20} MiB cairn allows`);
	}
}

/** Returns a new random salt of {@link SALT_SIZE} bytes. */
export function generateSalt(): Buffer {
	return randomFillSync(Buffer.alloc(SALT_SIZE));
}

/** Runs scrypt for 64 bytes in the libuv thread pool (the event loop stays free). */
function runScrypt(password: string | Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Buffer> {
	const options = {N: params.N, r: params.r, p: params.p, maxmem: measureKdfMemory(params) + 1024 * 1024};
	return new Promise((resolve, reject) => {
		scrypt(password, salt, 64, options, (error, derived) => {
			if (error) reject(new CairnError(`scrypt key derivation failed: ${error.message}`, {cause: error}));
			else resolve(derived);
		});
	});
}

/**
 * Derives the user key from a password (UTF-8 encoded when a string, as restic does) and a key
 * file's salt and parameters. Rejects with {@link CairnError} on invalid parameters or an empty salt.
 */
export async function deriveUserKey(password: string | Uint8Array, salt: Uint8Array, params: KdfParams): Promise<MasterKey> {
	checkKdfParams(params);
	if (salt.length === 0) throw new CairnError('scrypt key derivation needs a salt');
	const derived = await runScrypt(password, salt, params);
	return {encrypt: derived.subarray(0, 32), macK: derived.subarray(32, 48), macR: derived.subarray(48, 64)};
}
