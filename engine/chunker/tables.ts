/**
 * Precomputed Rabin fingerprint tables for one polynomial: split into 32-bit halves so the
 * JavaScript chunker's hot loop never touches BigInt, and as 64-bit entries for the
 * WebAssembly kernel (engine/wasm/chunker.wat).
 */

import {degreeOf, modPolynomial} from './polynomial.js';

/** Bytes in the sliding window of the rolling hash. */
export const WINDOW_SIZE = 64;

/** Lowest polynomial degree the split-digest representation supports. */
export const MIN_TABLE_DEGREE = 40;
/** Highest polynomial degree restic's chunker accepts. */
export const MAX_TABLE_DEGREE = 53;

/**
 * Tables for one polynomial, read-only once built and shared by every chunker using that
 * polynomial. The digest is kept as `hi * 2^32 + lo` (lo as a signed int32 bit pattern), and
 * each table entry as the pair [2i] = hi, [2i + 1] = lo.
 * - `out[b]`: fingerprint of byte b followed by 63 zero bytes; XOR removes b from the window.
 * - `mod[t]`: (t * x^degree) mod polynomial, where t is the top 8 bits of the digest that a
 *   byte shift pushes past the degree.
 * - `topShift`: hi >>> topShift gives those top 8 bits; `hiKeepMask` keeps the hi bits below
 *   them.
 * - `kernelTables`: the WebAssembly kernel's memory image, 512 little-endian u64: first
 *   (t * x^degree mod pol) xor (t << degree) for t = 0..255 (the reduction of a shifted digest,
 *   clearing the bits shifted past the degree), then (b * x^512) mod pol for b = 0..255 (byte b
 *   leaving the 64-byte window, taken after the shift).
 */
export interface ChunkerTables {
	readonly polynomial: bigint;
	readonly degree: number;
	readonly out: Int32Array;
	readonly mod: Int32Array;
	readonly topShift: number;
	readonly hiKeepMask: number;
	readonly kernelTables: Uint8Array;
}

const cache = new Map<bigint, ChunkerTables>();

/**
 * Returns the tables for `pol`, building and caching them on first use. Throws a RangeError
 * unless 40 <= deg(pol) <= 53 (restic itself creates only degree-53 polynomials and rejects
 * degrees above 53).
 */
export function createChunkerTables(pol: bigint): ChunkerTables {
	const cached = cache.get(pol);
	if (cached !== undefined) {
		return cached;
	}
	const degree = degreeOf(pol);
	if (degree < MIN_TABLE_DEGREE || degree > MAX_TABLE_DEGREE) {
		throw new RangeError(`unsupported chunker polynomial degree ${degree} (supported: ${MIN_TABLE_DEGREE}..${MAX_TABLE_DEGREE})`);
	}
	const out = new Int32Array(512);
	const mod = new Int32Array(512);
	const kernelTables = new Uint8Array(4096);
	const kernelView = new DataView(kernelTables.buffer);
	for (let b = 0; b < 256; b++) {
		let h = modPolynomial(BigInt(b), pol);
		for (let i = 1; i < WINDOW_SIZE; i++) {
			h = modPolynomial(h << 8n, pol);
		}
		storePair(out, b, h);
		const reduced = modPolynomial(BigInt(b) << BigInt(degree), pol);
		storePair(mod, b, reduced);
		kernelView.setBigUint64(8 * b, reduced ^ (BigInt(b) << BigInt(degree)), true);
		kernelView.setBigUint64(2048 + 8 * b, modPolynomial(h << 8n, pol), true);
	}
	const tables: ChunkerTables = {
		polynomial: pol,
		degree,
		out,
		mod,
		topShift: degree - 40,
		hiKeepMask: (1 << (degree - 40)) - 1,
		kernelTables,
	};
	cache.set(pol, tables);
	return tables;
}

function storePair(table: Int32Array, index: number, value: bigint): void {
	table[2 * index] = Number(value >> 32n);
	table[2 * index + 1] = Number(BigInt.asIntN(32, value));
}
