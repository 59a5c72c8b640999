/**
 * Poly1305 one-time authenticator (RFC 8439 section 2.5). {@link computePoly1305} runs in
 * WebAssembly (engine/wasm/poly1305.wat) when that kernel is available and falls back to the
 * plain JavaScript below, {@link computePoly1305Js}; the incremental {@link Poly1305} is
 * JavaScript only.
 *
 * The accumulator is kept as six 22-bit limbs held in float64 numbers. A 22-bit limb times a
 * 22-bit limb of r (times 20 for the wrapped terms, since 2^132 ≡ 4·5 mod 2^130 - 5) stays below
 * 2^50, and a sum of six such products stays below 2^53, so every step is exact without BigInt.
 * Carries are taken in two parallel rounds instead of one long chain, which keeps the dependency
 * chain per 16-byte block short.
 */

import {getWasmPoly1305} from '../wasm/poly1305-kernel.js';

const LIMB_BITS = 22;
const LIMB_MASK = 0x3fffff;
const LIMB_SCALE = 1 / 4194304; // 2^-22, exact
const WRAP = 20; // 2^132 mod (2^130 - 5)
const BLOCK = 16;
const HI_BIT = 1 << 18; // bit 128 of a block lands in limb 5 at bit 128 - 110

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reads the little-endian 32-bit word at `offset`. */
function readWord(bytes: Uint8Array, offset: number): number {
	return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

/**
 * Incremental Poly1305. Feed the message with {@link Poly1305.update} in pieces of any size, then
 * call {@link Poly1305.digest} once. The key must never be used for a second message.
 */
export class Poly1305 {
	/** Clamped r in 22-bit limbs. */
	private readonly r: Float64Array = new Float64Array(6);
	/** s (the last 16 key bytes) as four little-endian 32-bit words. */
	private readonly s: Float64Array = new Float64Array(4);
	/** Accumulator limbs. */
	private readonly h: Float64Array = new Float64Array(6);
	/** Bytes of an unfinished block. */
	private readonly pending: Uint8Array = new Uint8Array(BLOCK);
	private pendingLength = 0;
	private finished = false;

	/** Starts a MAC with the 32-byte one-time key r || s; r is clamped as RFC 8439 requires. */
	constructor(key: Uint8Array) {
		loadKey(key, this.r, this.s);
	}

	/** Adds message bytes. May be called any number of times before {@link Poly1305.digest}. */
	update(data: Uint8Array): this {
		if (this.finished) throw new Error('Poly1305: update after digest');
		let offset = 0;
		const length = data.length;
		if (this.pendingLength > 0) {
			const take = Math.min(BLOCK - this.pendingLength, length);
			this.pending.set(data.subarray(0, take), this.pendingLength);
			this.pendingLength += take;
			offset = take;
			if (this.pendingLength < BLOCK) return this;
			processBlocks(this.h, this.r, this.pending, 0, BLOCK, HI_BIT);
			this.pendingLength = 0;
		}
		const full = (length - offset) & ~(BLOCK - 1);
		if (full > 0) {
			processBlocks(this.h, this.r, data, offset, full, HI_BIT);
			offset += full;
		}
		if (offset < length) {
			this.pending.set(data.subarray(offset), 0);
			this.pendingLength = length - offset;
		}
		return this;
	}

	/** Finishes the MAC and returns the 16-byte tag. The object cannot be used afterwards. */
	digest(): Uint8Array {
		if (this.finished) throw new Error('Poly1305: digest called twice');
		this.finished = true;
		if (this.pendingLength > 0) {
			const block = this.pending;
			block[this.pendingLength] = 1;
			block.fill(0, this.pendingLength + 1);
			processBlocks(this.h, this.r, block, 0, BLOCK, 0);
		}
		const tag = new Uint8Array(16);
		finalize(this.h, this.s, tag);
		this.h.fill(0);
		this.r.fill(0);
		this.s.fill(0);
		this.pending.fill(0);
		return tag;
	}
}

const scratchR = new Float64Array(6);
const scratchS = new Float64Array(4);
const scratchH = new Float64Array(6);
const scratchBlock = new Uint8Array(BLOCK);

/** Computes the Poly1305 tag of `message` under the 32-byte one-time key r || s. */
export function computePoly1305(key32: Uint8Array, message: Uint8Array): Uint8Array {
	const wasmPoly1305 = getWasmPoly1305();
	if (wasmPoly1305 === undefined) return computePoly1305Js(key32, message);
	if (key32.length !== 32) throw new RangeError(`Poly1305 key must be 32 bytes, got ${key32.length}`);
	return wasmPoly1305(key32, message);
}

/** {@link computePoly1305} in plain JavaScript, whether or not WebAssembly is available. */
export function computePoly1305Js(key32: Uint8Array, message: Uint8Array): Uint8Array {
	// One-shot path: module-level scratch state instead of a new object (the code below never yields).
	loadKey(key32, scratchR, scratchS);
	scratchH.fill(0);
	const full = message.length & ~(BLOCK - 1);
	if (full > 0) processBlocks(scratchH, scratchR, message, 0, full, HI_BIT);
	const rest = message.length - full;
	if (rest > 0) {
		scratchBlock.set(message.subarray(full));
		scratchBlock[rest] = 1;
		scratchBlock.fill(0, rest + 1);
		processBlocks(scratchH, scratchR, scratchBlock, 0, BLOCK, 0);
	}
	const tag = new Uint8Array(16);
	finalize(scratchH, scratchS, tag);
	scratchR.fill(0);
	scratchS.fill(0);
	scratchH.fill(0);
	scratchBlock.fill(0);
	return tag;
}

/** Splits a 32-byte key into clamped r (22-bit limbs) and s (32-bit words). */
function loadKey(key: Uint8Array, r: Float64Array, s: Float64Array): void {
	if (key.length !== 32) throw new RangeError(`Poly1305 key must be 32 bytes, got ${key.length}`);
	const t0 = readWord(key, 0) & 0x0fffffff;
	const t1 = readWord(key, 4) & 0x0ffffffc;
	const t2 = readWord(key, 8) & 0x0ffffffc;
	const t3 = readWord(key, 12) & 0x0ffffffc;
	r[0] = t0 & LIMB_MASK;
	r[1] = (t0 >>> 22) | ((t1 & 0xfff) << 10);
	r[2] = (t1 >>> 12) | ((t2 & 0x3) << 20);
	r[3] = (t2 >>> 2) & LIMB_MASK;
	r[4] = (t2 >>> 24) | ((t3 & 0x3fff) << 8);
	r[5] = t3 >>> 14;
	for (let i = 0; i < 4; i++) s[i] = readWord(key, 16 + 4 * i);
}

/**
 * Runs `length / 16` blocks starting at `offset` through the accumulator.
 * `hiBit` is 2^18 for full blocks and 0 for the padded last block.
 */
function processBlocks(h: Float64Array, r: Float64Array, data: Uint8Array, offset: number, length: number, hiBit: number): void {
	const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!;
	const s1 = r1 * WRAP, s2 = r2 * WRAP, s3 = r3 * WRAP, s4 = r4 * WRAP, s5 = r5 * WRAP;
	let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!;

	const absolute = data.byteOffset + offset;
	const words = isLittleEndian && (absolute & 3) === 0 ? new Uint32Array(data.buffer, absolute, length >>> 2) : undefined;
	const blocks = length >>> 4;

	for (let b = 0; b < blocks; b++) {
		let t0: number, t1: number, t2: number, t3: number;
		if (words !== undefined) {
			const w = b << 2;
			t0 = words[w]!;
			t1 = words[w + 1]!;
			t2 = words[w + 2]!;
			t3 = words[w + 3]!;
		} else {
			const p = offset + (b << 4);
			t0 = readWord(data, p);
			t1 = readWord(data, p + 4);
			t2 = readWord(data, p + 8);
			t3 = readWord(data, p + 12);
		}

		h0 += t0 & LIMB_MASK;
		h1 += (t0 >>> 22) | ((t1 & 0xfff) << 10);
		h2 += (t1 >>> 12) | ((t2 & 0x3) << 20);
		h3 += (t2 >>> 2) & LIMB_MASK;
		h4 += (t2 >>> 24) | ((t3 & 0x3fff) << 8);
		h5 += (t3 >>> 14) | hiBit;

		const d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
		const d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
		const d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
		const d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
		const d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
		const d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;

		// First carry round: each limb keeps its low 22 bits and passes the rest on, all at once.
		// `x & LIMB_MASK` is exact for non-negative integers below 2^53 (ToInt32 is modulo 2^32).
		const l0 = d0 & LIMB_MASK, l1 = d1 & LIMB_MASK, l2 = d2 & LIMB_MASK;
		const l3 = d3 & LIMB_MASK, l4 = d4 & LIMB_MASK, l5 = d5 & LIMB_MASK;
		const c0 = (d0 - l0) * LIMB_SCALE, c1 = (d1 - l1) * LIMB_SCALE, c2 = (d2 - l2) * LIMB_SCALE;
		const c3 = (d3 - l3) * LIMB_SCALE, c4 = (d4 - l4) * LIMB_SCALE, c5 = (d5 - l5) * LIMB_SCALE;
		const e0 = l0 + c5 * WRAP, e1 = l1 + c0, e2 = l2 + c1, e3 = l3 + c2, e4 = l4 + c3, e5 = l5 + c4;

		// Second round: the limbs are now below 2^31, so plain integer shifts do.
		h0 = (e0 & LIMB_MASK) + (e5 >>> LIMB_BITS) * WRAP;
		h1 = (e1 & LIMB_MASK) + (e0 >>> LIMB_BITS);
		h2 = (e2 & LIMB_MASK) + (e1 >>> LIMB_BITS);
		h3 = (e3 & LIMB_MASK) + (e2 >>> LIMB_BITS);
		h4 = (e4 & LIMB_MASK) + (e3 >>> LIMB_BITS);
		h5 = (e5 & LIMB_MASK) + (e4 >>> LIMB_BITS);
	}

	h[0] = h0;
	h[1] = h1;
	h[2] = h2;
	h[3] = h3;
	h[4] = h4;
	h[5] = h5;
}

/** Reduces the accumulator modulo 2^130 - 5, adds s modulo 2^128 and writes the tag. */
function finalize(h: Float64Array, s: Float64Array, out: Uint8Array): void {
	let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!;

	// Full sequential carry, twice: afterwards every limb is below 2^22 and the value below 2^132.
	for (let round = 0; round < 2; round++) {
		h1 += h0 >>> LIMB_BITS; h0 &= LIMB_MASK;
		h2 += h1 >>> LIMB_BITS; h1 &= LIMB_MASK;
		h3 += h2 >>> LIMB_BITS; h2 &= LIMB_MASK;
		h4 += h3 >>> LIMB_BITS; h3 &= LIMB_MASK;
		h5 += h4 >>> LIMB_BITS; h4 &= LIMB_MASK;
		h0 += (h5 >>> LIMB_BITS) * WRAP; h5 &= LIMB_MASK;
	}

	// Fold bits 130 and up (limb 5 bits 20, 21) back in with weight 5, twice to absorb the carry.
	for (let round = 0; round < 2; round++) {
		h0 += (h5 >>> 20) * 5; h5 &= 0xfffff;
		h1 += h0 >>> LIMB_BITS; h0 &= LIMB_MASK;
		h2 += h1 >>> LIMB_BITS; h1 &= LIMB_MASK;
		h3 += h2 >>> LIMB_BITS; h2 &= LIMB_MASK;
		h4 += h3 >>> LIMB_BITS; h3 &= LIMB_MASK;
		h5 += h4 >>> LIMB_BITS; h4 &= LIMB_MASK;
	}

	// Now h < 2^130. Compute g = h + 5 - 2^130 and keep it when it does not go negative (h >= p).
	let g0 = h0 + 5;
	let g1 = h1 + (g0 >>> LIMB_BITS); g0 &= LIMB_MASK;
	let g2 = h2 + (g1 >>> LIMB_BITS); g1 &= LIMB_MASK;
	let g3 = h3 + (g2 >>> LIMB_BITS); g2 &= LIMB_MASK;
	let g4 = h4 + (g3 >>> LIMB_BITS); g3 &= LIMB_MASK;
	const g5full = h5 + (g4 >>> LIMB_BITS); g4 &= LIMB_MASK;
	const useG = -(g5full >>> 20) | 0; // all ones when g >= 2^130, i.e. h >= p
	const g5 = g5full & 0xfffff;
	const keep = ~useG;
	h0 = (h0 & keep) | (g0 & useG);
	h1 = (h1 & keep) | (g1 & useG);
	h2 = (h2 & keep) | (g2 & useG);
	h3 = (h3 & keep) | (g3 & useG);
	h4 = (h4 & keep) | (g4 & useG);
	h5 = (h5 & keep) | (g5 & useG);

	// Repack to four 32-bit words (bits 128, 129 drop out: the tag is taken modulo 2^128).
	const w0 = (h0 | (h1 << 22)) >>> 0;
	const w1 = ((h1 >>> 10) | (h2 << 12)) >>> 0;
	const w2 = ((h2 >>> 20) | (h3 << 2) | (h4 << 24)) >>> 0;
	const w3 = ((h4 >>> 8) | (h5 << 14)) >>> 0;

	let carry = 0;
	for (let i = 0; i < 4; i++) {
		const sum = (i === 0 ? w0 : i === 1 ? w1 : i === 2 ? w2 : w3) + s[i]! + carry;
		const low = sum >>> 0;
		carry = sum > 0xffffffff ? 1 : 0;
		out[4 * i] = low & 0xff;
		out[4 * i + 1] = (low >>> 8) & 0xff;
		out[4 * i + 2] = (low >>> 16) & 0xff;
		out[4 * i + 3] = low >>> 24;
	}
}
