/**
 * Test helpers: seeded pseudo-random data and a deliberately plain BigInt model of the rolling
 * hash, used to check the split-digest arithmetic of the fast chunker.
 */

import {createCipheriv, createHash} from 'node:crypto';
import {degreeOf, isIrreducible, modPolynomial} from '../../../engine/chunker/polynomial.js';

/** Deterministic pseudo-random bytes: the AES-256-CTR keystream keyed by SHA-256(seed). */
export function seededBytes(seed: string, length: number): Uint8Array {
	const key = createHash('sha256').update(seed).digest();
	const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
	const out = new Uint8Array(length);
	const step = 1 << 20;
	for (let off = 0; off < length; off += step) {
		const n = Math.min(step, length - off);
		out.set(cipher.update(Buffer.alloc(n)), off);
	}
	return out;
}

/** The first irreducible polynomial of the given degree in a seeded candidate sequence. */
export function seededIrreducible(seed: string, degree: number): bigint {
	for (let n = 0; ; n++) {
		const bytes = createHash('sha256').update(`${seed}/${n}`).digest();
		const candidate = (bytes.readBigUInt64LE(0) & ((1n << BigInt(degree)) - 1n)) | (1n << BigInt(degree)) | 1n;
		if (isIrreducible(candidate)) {
			return candidate;
		}
	}
}

/** Rabin fingerprint of `bytes` read as a polynomial with the first byte most significant. */
export function fingerprint(bytes: Iterable<number>, pol: bigint): bigint {
	let h = 0n;
	for (const b of bytes) {
		h = modPolynomial((h << 8n) | BigInt(b), pol);
	}
	return h;
}

/**
 * Chunk lengths by a straightforward model of restic's chunker: 64-byte window, digest
 * updated per byte with full 64-bit-style tables, MinSize - 64 bytes skipped after each cut,
 * cut where the low 20 bits are zero (at or beyond minSize) or at maxSize.
 */
export function referenceSplit(data: Uint8Array, pol: bigint, minSize: number, maxSize: number): number[] {
	const deg = degreeOf(pol);
	const shift = BigInt(deg - 8);
	const out: bigint[] = [];
	const mod: bigint[] = [];
	for (let b = 0; b < 256; b++) {
		out.push(fingerprint([b, ...new Array<number>(63).fill(0)], pol));
		mod.push(modPolynomial(BigInt(b) << BigInt(deg), pol) | (BigInt(b) << BigInt(deg)));
	}
	const lengths: number[] = [];
	let pos = 0;
	while (pos < data.length) {
		const window = new Array<number>(64).fill(0);
		let wpos = 0;
		let digest = 0n;
		const slide = (b: number): void => {
			digest ^= out[window[wpos]!]!;
			window[wpos] = b;
			wpos = (wpos + 1) % 64;
			const index = Number(digest >> shift);
			digest = ((digest << 8n) | BigInt(b)) ^ mod[index]!;
		};
		slide(1);
		let count = Math.min(minSize - 64, data.length - pos);
		while (pos + count < data.length) {
			slide(data[pos + count]!);
			count++;
			if (((digest & 0xfffffn) === 0n && count >= minSize) || count >= maxSize) {
				break;
			}
		}
		lengths.push(count);
		pos += count;
	}
	return lengths;
}
