/**
 * The chunker's boundary search in WebAssembly (engine/wasm/chunker.wat): finds the first byte
 * whose 64-byte window digest has its low 20 bits zero. Only for degree-53 polynomials, the
 * only degree restic creates; the JavaScript chunker handles the others.
 */
import type {ChunkerTables} from '../chunker/tables.js';
import {getKernelInstance, type WasmMemory} from './load.js';

/** Where the kernel expects its tables, the data, and how much data one call may take. */
const TABLES_OFFSET = 0;
const DATA_OFFSET = 8192;
const DATA_CAPACITY = 64 * 1024;
/** Window length of the rolling hash. */
const WINDOW = 64;

/** Polynomial degree the kernel is written for. */
export const KERNEL_DEGREE = 53;

/**
 * A boundary search over byte ranges. Contract for `findMatch(tables, buf, start, from, to,
 * before)`: the stream is `before` (its last 64 bytes up to buf[start]) followed by
 * buf[start..]; requires 0 <= start <= from <= to <= buf.length and before.length === 64. Returns
 * the index i in [from, to) of the first byte whose window (the 64 stream bytes ending with
 * buf[i]) has a digest with its low 20 bits zero, or -1. Reads only; keeps no state between
 * calls.
 */
export interface BoundaryScanner {
	findMatch(tables: ChunkerTables, buf: Uint8Array, start: number, from: number, to: number, before: Uint8Array): number;
}

interface ChunkerExports {
	memory: WasmMemory;
	scan(from: number, to: number): number;
}

class WasmBoundaryScanner implements BoundaryScanner {
	private readonly memory: Uint8Array;
	private readonly scan: (from: number, to: number) => number;
	private loaded: Uint8Array | undefined;

	constructor(exports: ChunkerExports) {
		// The module never grows its memory, so this view stays valid.
		this.memory = new Uint8Array(exports.memory.buffer);
		this.scan = exports.scan;
	}

	findMatch(tables: ChunkerTables, buf: Uint8Array, start: number, from: number, to: number, before: Uint8Array): number {
		const memory = this.memory;
		if (this.loaded !== tables.kernelTables) {
			memory.set(tables.kernelTables, TABLES_OFFSET);
			this.loaded = tables.kernelTables;
		}
		for (let pos = from; pos < to; ) {
			const length = Math.min(DATA_CAPACITY, to - pos);
			// The kernel needs the 64 bytes before the first position too.
			const windowStart = pos - WINDOW;
			if (windowStart >= start) {
				memory.set(buf.subarray(windowStart, pos + length), DATA_OFFSET - WINDOW);
			} else {
				const fromBefore = start - windowStart;
				memory.set(before.subarray(WINDOW - fromBefore), DATA_OFFSET - WINDOW);
				memory.set(buf.subarray(start, pos + length), DATA_OFFSET - WINDOW + fromBefore);
			}
			const match = this.scan(DATA_OFFSET, DATA_OFFSET + length);
			if (match >= 0) return pos + (match - DATA_OFFSET);
			pos += length;
		}
		return -1;
	}
}

let scanner: BoundaryScanner | null | undefined;

/**
 * This thread's WebAssembly boundary scanner for `tables`, or undefined when the kernel is not
 * available or the polynomial's degree is not {@link KERNEL_DEGREE}.
 */
export function getBoundaryScanner(tables: ChunkerTables): BoundaryScanner | undefined {
	if (tables.degree !== KERNEL_DEGREE) return undefined;
	if (scanner === undefined) {
		const instance = getKernelInstance('chunker');
		scanner = instance === undefined ? null : new WasmBoundaryScanner(instance.exports as unknown as ChunkerExports);
	}
	return scanner ?? undefined;
}
