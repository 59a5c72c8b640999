/**
 * Synchronous zstd decompression of small inputs (snapshot files, small index files), where an
 * asynchronous call's trip through libuv's pool costs more than the decompression itself: a cold
 * listing of 10,000 snapshot files made 10,000 such trips.
 *
 * Where from: Node's built-in `zlib.zstdDecompressSync` (Node 22.15 and newer); else the system's
 * libzstd (`ZSTD_decompress`) through the koffi FFI package the engine already uses for file
 * times; else nothing, and callers use the asynchronous path. The choice is made once.
 */
import {createRequire} from 'node:module';
import * as zlib from 'node:zlib';

/** Decompresses a whole zstd input synchronously. Throws an Error for damaged input. */
export type SyncDecompress = (input: Buffer) => Buffer;

/** Inputs up to this size are decompressed synchronously (when a synchronous path exists). */
export const SMALL_ZSTD_INPUT = 256 * 1024;

/** zstd's frame header says "content size unknown" / "error" with these values. */
const CONTENT_SIZE_UNKNOWN = 2n ** 64n - 1n;
const CONTENT_SIZE_ERROR = 2n ** 64n - 2n;
/** A decompressed size larger than this is not "small": the asynchronous path takes it. */
const MAX_OUTPUT = 64 * 1024 * 1024;

let chosen: SyncDecompress | undefined;
let chosenName: string | undefined;
let decided = false;

/** Node's built-in synchronous zstd, or undefined before Node 22.15. */
function fromNode(): SyncDecompress | undefined {
	const sync = (zlib as unknown as {zstdDecompressSync?: (input: Buffer) => Buffer}).zstdDecompressSync;
	if (typeof sync !== 'function') return undefined;
	return (input) => sync(input);
}

/** libzstd's one-shot ZSTD_decompress through koffi, or undefined when either cannot load. */
function fromLibzstd(): SyncDecompress | undefined {
	if (process.env.CAIRN_NO_NATIVE === '1' || process.platform !== 'linux') return undefined;
	try {
		const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
		let lib;
		try {
			lib = koffi.load('libzstd.so.1');
		} catch {
			lib = koffi.load('libzstd.so');
		}
		// The sum of the sizes of every frame in the input, when each frame header records its size
		// (restic's do); else an upper bound from the block count (frames written by streaming
		// compressors, such as the native binding's, leave the size out).
		const findSize = lib.func('unsigned long long ZSTD_findDecompressedSize(const void *src, size_t srcSize)');
		const findBound = lib.func('unsigned long long ZSTD_decompressBound(const void *src, size_t srcSize)');
		const decompress = lib.func('size_t ZSTD_decompress(_Out_ void *dst, size_t dstCapacity, const void *src, size_t srcSize)');
		const isError = lib.func('unsigned int ZSTD_isError(size_t code)');
		const errorName = lib.func('const char *ZSTD_getErrorName(size_t code)');
		/** Reused output space for frames without a recorded size; the result is copied out of it. */
		let scratch = Buffer.alloc(0);
		return (input) => {
			let size = BigInt(findSize(input, input.length) as number | bigint);
			if (size === CONTENT_SIZE_ERROR) throw new Error('zstd: not a zstd frame, or a damaged one');
			const exact = size !== CONTENT_SIZE_UNKNOWN;
			if (!exact) size = BigInt(findBound(input, input.length) as number | bigint);
			// Too large (or no bound): the asynchronous path decides.
			if (size >= CONTENT_SIZE_ERROR || size > BigInt(MAX_OUTPUT)) throw new NeedsAsyncError();
			const capacity = Number(size);
			if (!exact && scratch.length < capacity) scratch = Buffer.allocUnsafe(Math.max(capacity, 2 * scratch.length));
			const output = exact ? Buffer.allocUnsafe(capacity) : scratch;
			const written = decompress(output, capacity, input, input.length) as number | bigint;
			if (isError(written) !== 0) throw new Error(`zstd: ${String(errorName(written))}`);
			const length = Number(written);
			if (exact) return length === capacity ? output : output.subarray(0, length);
			return Buffer.from(scratch.subarray(0, length));
		};
	} catch {
		return undefined;
	}
}

/** Thrown by a synchronous decoder for input it leaves to the asynchronous path. */
export class NeedsAsyncError extends Error {
	constructor() {
		super('zstd: this input is left to the asynchronous decoder');
	}
}

/** The synchronous decompressor of this runtime, or undefined when there is none. */
export function findSyncDecompress(): SyncDecompress | undefined {
	if (!decided) {
		decided = true;
		chosen = fromNode();
		if (chosen) chosenName = 'node:zlib zstdDecompressSync';
		else {
			chosen = fromLibzstd();
			if (chosen) chosenName = 'libzstd (ZSTD_decompress through koffi)';
		}
	}
	return chosen;
}

/** Which synchronous decompressor is in use, for diagnostics and benchmarks. */
export function describeSyncDecompress(): string {
	findSyncDecompress();
	return chosenName ?? 'none (asynchronous only)';
}
