/**
 * The boundary finder: a 64-byte Rabin rolling hash that cuts where restic's chunker cuts for
 * the same polynomial. The search runs in WebAssembly (engine/wasm/chunker-kernel.ts) where that
 * kernel is available and supports the polynomial, and in the JavaScript below otherwise; both
 * give the same cuts.
 */

import {getBoundaryScanner, type BoundaryScanner} from '../wasm/chunker-kernel.js';
import {WINDOW_SIZE as TABLE_WINDOW_SIZE, type ChunkerTables} from './tables.js';

// A module-local copy: some loaders (vitest) turn every use of an imported binding into a
// property read, which would cost a lookup per byte in the loops below.
const WINDOW_SIZE = TABLE_WINDOW_SIZE;

/** restic's default minimum chunk size (512 KiB). */
export const MIN_CHUNK_SIZE = 512 * 1024;
/** restic's default maximum chunk size (8 MiB). */
export const MAX_CHUNK_SIZE = 8 * 1024 * 1024;
/** A cut is made where the low 20 bits of the digest are zero (about 1 MiB average). */
const SPLIT_MASK = (1 << 20) - 1;

/**
 * Size limits for one chunker. Defaults are restic's; other values produce boundaries that
 * restic's default chunker would not. Contract: 64 <= minSize <= maxSize. `implementation`
 * 'js' forces the JavaScript search (for comparisons); 'auto', the default, uses WebAssembly
 * when it can. Either way the cuts are the same.
 */
export interface ChunkerOptions {
	minSize?: number;
	maxSize?: number;
	implementation?: 'auto' | 'js';
}

/** Incremental boundary finder; feed it consecutive byte ranges of one stream. */
export class Chunker {
	/** Which search this chunker uses. */
	readonly implementation: 'wasm' | 'js';
	private readonly tables: ChunkerTables;
	private readonly minSize: number;
	private readonly maxSize: number;
	private readonly scanner: BoundaryScanner | undefined;
	/** JavaScript search: the window as a ring, and the digest as hi * 2^32 + lo. */
	private readonly window = new Uint8Array(WINDOW_SIZE);
	private wpos = 0;
	private hi = 0;
	private lo = 0;
	/** Bytes still to skip unhashed at the start of the chunk (JavaScript search). */
	private pre = 0;
	/** WebAssembly search: the last bytes consumed, newest last (the digest is recomputed from them). */
	private readonly recent = new Uint8Array(WINDOW_SIZE);
	/** Bytes of the current chunk consumed so far. */
	private count = 0;

	constructor(tables: ChunkerTables, options?: ChunkerOptions) {
		this.tables = tables;
		this.minSize = options?.minSize ?? MIN_CHUNK_SIZE;
		this.maxSize = options?.maxSize ?? MAX_CHUNK_SIZE;
		if (!Number.isSafeInteger(this.minSize) || !Number.isSafeInteger(this.maxSize) || this.minSize < WINDOW_SIZE || this.maxSize < this.minSize) {
			throw new RangeError(`invalid chunk size limits ${this.minSize}..${this.maxSize}`);
		}
		this.scanner = options?.implementation === 'js' ? undefined : getBoundaryScanner(tables);
		this.implementation = this.scanner === undefined ? 'js' : 'wasm';
		this.reset();
	}

	/** Forgets the current chunk: the next byte fed starts a new one. */
	reset(): void {
		this.recent.fill(0);
		this.window.fill(0);
		// The initial state is that of an empty window into which one byte of value 1 was slid.
		this.window[0] = 1;
		this.wpos = 1;
		this.hi = 0;
		this.lo = 1;
		this.count = 0;
		this.pre = this.minSize - WINDOW_SIZE;
	}

	/**
	 * Like restic's NextSplitPoint: scans buf[start, end) and returns the index just after the
	 * cut (the exclusive end of the current chunk), or -1 if the range holds no cut. State
	 * carries across calls; after a cut the chunker is reset, so the caller continues scanning
	 * from the returned index. Requires integers 0 <= start <= end <= buf.length.
	 */
	findSplitPoint(buf: Uint8Array, start = 0, end = buf.length): number {
		if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= buf.length)) {
			throw new RangeError(`invalid range [${start}, ${end}) of a ${buf.length}-byte buffer`);
		}
		return this.scanner === undefined ? this.findInJs(buf, start, end) : this.findWithScanner(this.scanner, buf, start, end);
	}

	/**
	 * The WebAssembly search. A digest depends only on the 64 bytes it covers, and the first one
	 * that counts (at minSize) covers bytes of this chunk only, so the state is just the byte
	 * count and the last 64 bytes.
	 */
	private findWithScanner(scanner: BoundaryScanner, buf: Uint8Array, start: number, end: number): number {
		const count0 = this.count;
		// Bytes at or past `limit` would make the chunk longer than maxSize.
		const limit = Math.min(end, start + this.maxSize - count0);
		// The first byte after which a cut is allowed is the chunk's byte minSize - 1.
		const from = start + Math.max(0, this.minSize - 1 - count0);
		if (from < limit) {
			const match = scanner.findMatch(this.tables, buf, start, from, limit, this.recent);
			if (match >= 0) {
				this.reset();
				return match + 1;
			}
		}
		if (count0 + limit - start === this.maxSize) {
			this.reset();
			return limit;
		}
		const length = end - start;
		if (length >= WINDOW_SIZE) {
			this.recent.set(buf.subarray(end - WINDOW_SIZE, end));
		} else if (length > 0) {
			this.recent.copyWithin(0, length);
			this.recent.set(buf.subarray(start, end), WINDOW_SIZE - length);
		}
		this.count = count0 + length;
		return -1;
	}

	/** The JavaScript search: restic's rolling hash, byte by byte, on split 32-bit digests. */
	private findInJs(buf: Uint8Array, start: number, end: number): number {
		let i = start;
		if (this.pre > 0) {
			const available = end - i;
			if (this.pre >= available) {
				this.pre -= available;
				this.count += available;
				return -1;
			}
			i += this.pre;
			this.count += this.pre;
			this.pre = 0;
		}

		const {out, mod, topShift, hiKeepMask} = this.tables;
		const win = this.window;
		let wpos = this.wpos;
		let hi = this.hi;
		let lo = this.lo;
		const count0 = this.count - i;
		const minEnd = this.minSize - count0;
		const limit = Math.min(end, this.maxSize - count0);
		let cut = -1;

		// The first WINDOW_SIZE bytes hashed in this call slide out bytes kept in the ring window.
		// Hashing always starts WINDOW_SIZE bytes before minSize, so those are also the only
		// bytes that may be too early to cut.
		const hashStart = i;
		const ringEnd = Math.min(limit, i + WINDOW_SIZE);
		for (; i < ringEnd; i++) {
			const b = buf[i]!;
			const o = win[wpos]! << 1;
			win[wpos] = b;
			wpos = (wpos + 1) & (WINDOW_SIZE - 1);
			hi ^= out[o]!;
			lo ^= out[o + 1]!;
			const top = (hi >>> topShift) << 1;
			hi = ((hi & hiKeepMask) << 8) | (lo >>> 24);
			lo = (lo << 8) | b;
			hi ^= mod[top]!;
			lo ^= mod[top + 1]!;
			if ((lo & SPLIT_MASK) === 0 && i >= minEnd - 1) {
				cut = i + 1;
				break;
			}
		}

		// Past that, the byte leaving the window is still in buf.
		if (cut < 0) {
			for (; i < limit; i++) {
				const b = buf[i]!;
				const o = buf[i - WINDOW_SIZE]! << 1;
				hi ^= out[o]!;
				lo ^= out[o + 1]!;
				const top = (hi >>> topShift) << 1;
				hi = ((hi & hiKeepMask) << 8) | (lo >>> 24);
				lo = (lo << 8) | b;
				hi ^= mod[top]!;
				lo ^= mod[top + 1]!;
				if ((lo & SPLIT_MASK) === 0) {
					cut = i + 1;
					break;
				}
			}
		}
		if (cut < 0 && count0 + i === this.maxSize) {
			cut = i;
		}
		if (cut >= 0) {
			this.reset();
			return cut;
		}
		if (i - hashStart >= WINDOW_SIZE) {
			win.set(buf.subarray(i - WINDOW_SIZE, i));
			wpos = 0;
		}
		this.wpos = wpos;
		this.hi = hi;
		this.lo = lo;
		this.count = count0 + i;
		return -1;
	}
}
