/**
 * Synchronous zstd: compression and decompression of small inputs in the calling thread, where
 * an asynchronous call's trip through libuv's pool costs more than the work itself (a 1 KB chunk
 * of a small file; a snapshot file of a few hundred bytes, of which a cold listing reads 10,000).
 * compression.ts holds the asynchronous paths, for everything else.
 *
 * Three implementations, chosen once per thread, each used where it is fastest (measured, 260-byte
 * snapshot JSON, µs per call: WebAssembly 9–12, libzstd through koffi 55, Node 24's
 * `zstdDecompressSync` 70, which makes a new native context per call):
 * - a WebAssembly build of the reference library (`@bokuweb/zstd-wasm`): one-shot ZSTD_compress /
 *   ZSTD_decompress, sized to the input. Loaded by {@link loadWasmZstd} (asynchronous, once); it
 *   cannot load inside the single-file executable, which does not ship its .wasm file;
 * - Node's built-in `zlib.zstdCompressSync` / `zstdDecompressSync` (Node 22.15 and newer);
 * - the system's libzstd (`ZSTD_decompress`) through koffi, for decompression on older Node.
 *
 * Contract: every function returns exactly the bytes the asynchronous paths give, or throws
 * {@link NeedsAsyncError} when it has no way to (no synchronous path, input too large, or output
 * size unknown and over the scratch space); a damaged input throws another Error.
 */
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import * as zlib from 'node:zlib';

/** Compression inputs up to this many bytes go to the WebAssembly zstd (measured crossover with the native paths). */
export const TINY_CHUNK_LIMIT = 2048;

/** Compressed inputs up to this size are decompressed synchronously (when a synchronous path exists). */
export const SMALL_ZSTD_INPUT = 256 * 1024;

/** A decompressed size larger than this is not "small": the asynchronous path takes it. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Thrown for input left to the asynchronous path. */
export class NeedsAsyncError extends Error {
	constructor() {
		super('zstd: this input is left to the asynchronous decoder');
	}
}

// ---------------------------------------------------------------------------------------------
// WebAssembly

/** The parts of the emscripten module of @bokuweb/zstd-wasm used here. */
interface WasmModule {
	HEAPU8: Uint8Array;
	_malloc(size: number): number;
	_free(pointer: number): void;
	_ZSTD_compress(dst: number, capacity: number, src: number, size: number, level: number): number;
	_ZSTD_compressBound(size: number): number;
	_ZSTD_decompress(dst: number, capacity: number, src: number, size: number): number;
	_ZSTD_createDCtx(): number;
	_ZSTD_createCCtx(): number;
	_ZSTD_compress_usingDict(cctx: number, dst: number, capacity: number, src: number, size: number, dict: number, dictSize: number, level: number): number;
	_ZSTD_decompress_usingDict(dctx: number, dst: number, capacity: number, src: number, size: number, dict: number, dictSize: number): number;
	_ZSTD_getFrameContentSize(src: number, size: number): number;
	_ZSTD_isError(code: number): number;
}

let wasm: WasmModule | undefined;
let wasmLoading: Promise<boolean> | undefined;

/**
 * Loads the WebAssembly zstd into this thread once; resolves true when it can be used. Never
 * rejects. Until it has resolved true, the other functions use the native paths.
 */
export function loadWasmZstd(): Promise<boolean> {
	wasmLoading ??= (async () => {
		try {
			const require = createRequire(import.meta.url);
			const entry = require.resolve('@bokuweb/zstd-wasm');
			const api = require(entry) as {init(): Promise<void>};
			await api.init();
			// The emscripten module the package's own functions use (not in its exports map, so by path).
			const module = (require(join(dirname(entry), 'module.js')) as {Module: WasmModule}).Module;
			const probe = new Uint8Array(64).fill(7);
			// A round trip proves the module works before any data depends on it.
			const candidate = module;
			const frame = compressWith(candidate, probe, 1);
			const back = decompressWith(candidate, frame);
			if (back === undefined || back.length !== probe.length || back.some((b) => b !== 7)) return false;
			wasm = candidate;
			return true;
		} catch {
			return false;
		}
	})();
	return wasmLoading;
}

/** Whether {@link loadWasmZstd} has loaded the WebAssembly zstd in this thread. */
export function isWasmZstdLoaded(): boolean {
	return wasm !== undefined;
}

/** A compression context per module, reused (ZSTD_compress would make and free one per call). */
const compressors = new WeakMap<WasmModule, number>();

/**
 * One zstd frame of `data`: ZSTD_compress_usingDict with no dictionary on a reused context, which
 * is what ZSTD_compress does with a fresh one, so the frame is the same.
 */
function compressWith(module: WasmModule, data: Uint8Array, level: number): Uint8Array {
	let cctx = compressors.get(module);
	if (cctx === undefined) {
		cctx = module._ZSTD_createCCtx();
		if (cctx === 0) throw new Error('zstd: out of WebAssembly memory');
		compressors.set(module, cctx);
	}
	const bound = module._ZSTD_compressBound(data.length);
	const src = module._malloc(data.length + bound);
	if (src === 0) throw new Error('zstd: out of WebAssembly memory');
	const dst = src + data.length;
	try {
		module.HEAPU8.set(data, src);
		const written = module._ZSTD_compress_usingDict(cctx, dst, bound, src, data.length, 0, 0, level);
		if (module._ZSTD_isError(written)) throw new Error(`zstd: compression failed (code ${written})`);
		return module.HEAPU8.slice(dst, dst + written);
	} finally {
		module._free(src);
	}
}

/** ZSTD_getFrameContentSize's "unknown" and "error" (64-bit -1 and -2, as the 32-bit build returns them). */
const SIZE_UNKNOWN = -1;
const SIZE_ERROR = -2;

/**
 * Reused decompression state in WebAssembly memory: one context and one region for input and
 * output, grown as needed (a context and a 128 KiB region made per call cost more than
 * decompressing a snapshot file).
 */
interface WasmScratch {
	dctx: number;
	region: number;
	size: number;
}
const scratches = new WeakMap<WasmModule, WasmScratch>();

/** The module's scratch with a region of at least `size` bytes, or undefined when its memory cannot grow. */
function reserve(module: WasmModule, size: number): WasmScratch | undefined {
	let scratch = scratches.get(module);
	if (scratch === undefined) {
		const dctx = module._ZSTD_createDCtx();
		if (dctx === 0) return undefined;
		scratch = {dctx, region: 0, size: 0};
		scratches.set(module, scratch);
	}
	if (scratch.size < size) {
		if (scratch.region !== 0) module._free(scratch.region);
		const grown = Math.max(size, 2 * scratch.size, 256 * 1024);
		scratch.region = module._malloc(grown);
		scratch.size = scratch.region === 0 ? 0 : grown;
		if (scratch.region === 0) return undefined;
	}
	return scratch;
}

/** Decompresses, or undefined when this build cannot size the output (the caller tries another path). */
function decompressWith(module: WasmModule, input: Uint8Array): Buffer | undefined {
	// Input first, then room for the output: the frame header says how much, or else a generous
	// ratio (frames of streaming compressors leave the size out); a frame that needs more fails to
	// fit and goes to another path.
	let scratch = reserve(module, input.length);
	if (scratch === undefined) return undefined;
	module.HEAPU8.set(input, scratch.region);
	const recorded = module._ZSTD_getFrameContentSize(scratch.region, input.length);
	if (recorded === SIZE_ERROR) return undefined;
	const capacity = recorded === SIZE_UNKNOWN || recorded < 0 ? Math.min(MAX_OUTPUT, Math.max(128 * 1024, input.length * 32)) : recorded;
	if (capacity > MAX_OUTPUT) return undefined;
	if (scratch.size < input.length + capacity) {
		const region = scratch.region;
		scratch = reserve(module, input.length + capacity);
		if (scratch === undefined) return undefined;
		if (scratch.region !== region) module.HEAPU8.set(input, scratch.region);
	}
	const src = scratch.region;
	const dst = src + input.length;
	const written = module._ZSTD_decompress_usingDict(scratch.dctx, dst, capacity, src, input.length, 0, 0);
	// Several frames (the first's size is not the whole), damaged input, too little room: the
	// other paths decide, and give the error the asynchronous path would.
	if (module._ZSTD_isError(written)) return undefined;
	return Buffer.from(module.HEAPU8.subarray(dst, dst + written));
}

/**
 * Compresses `data` (at most {@link TINY_CHUNK_LIMIT} bytes) into one zstd frame with the
 * WebAssembly zstd, or returns undefined when it is not loaded (or the input is larger).
 */
export function compressTinySync(data: Uint8Array, level: number): Uint8Array | undefined {
	if (!wasm || data.length > TINY_CHUNK_LIMIT) return undefined;
	return compressWith(wasm, data, level);
}

// ---------------------------------------------------------------------------------------------
// Node's built-in zstd

/** The synchronous zstd calls of node:zlib (Node 22.15 and newer; absent before). */
interface BuiltinZstdSync {
	zstdCompressSync?: (data: Buffer, options: object) => Buffer;
	zstdDecompressSync?: (data: Buffer) => Buffer;
	constants: Record<string, number>;
}

const builtin = zlib as unknown as BuiltinZstdSync;

/** Whether {@link compressZstdSync} works on this runtime (Node 22.15 and newer). */
export function hasSyncZstd(): boolean {
	return typeof builtin.zstdCompressSync === 'function';
}

/**
 * Compresses `data` with Node's built-in zstd in the calling thread. Only where {@link hasSyncZstd}.
 */
export function compressZstdSync(data: Uint8Array, level: number): Buffer {
	if (!hasSyncZstd()) throw new Error('this Node.js has no synchronous zstd (needs 22.15 or newer)');
	const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	return builtin.zstdCompressSync!(input, {params: {[builtin.constants.ZSTD_c_compressionLevel!]: level}});
}

// ---------------------------------------------------------------------------------------------
// libzstd through koffi

/** zstd's frame header says "content size unknown" / "error" with these values. */
const CONTENT_SIZE_UNKNOWN = 2n ** 64n - 1n;
const CONTENT_SIZE_ERROR = 2n ** 64n - 2n;

type NativeDecompress = (input: Buffer) => Buffer;

/** libzstd's one-shot ZSTD_decompress through koffi, or undefined when either cannot load. */
function loadLibzstd(): NativeDecompress | undefined {
	if (process.env.CAIRN_NO_NATIVE === '1' || process.platform !== 'linux') return undefined;
	try {
		const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
		let lib;
		try {
			lib = koffi.load('libzstd.so.1');
		} catch {
			lib = koffi.load('libzstd.so');
		}
		// The sum of the sizes of every frame when each header records its size (restic's do); else
		// an upper bound from the block count.
		const findSize = lib.func('unsigned long long ZSTD_findDecompressedSize(const void *src, size_t srcSize)');
		const findBound = lib.func('unsigned long long ZSTD_decompressBound(const void *src, size_t srcSize)');
		const decompress = lib.func('size_t ZSTD_decompress(_Out_ void *dst, size_t dstCapacity, const void *src, size_t srcSize)');
		const isError = lib.func('unsigned int ZSTD_isError(size_t code)');
		const errorName = lib.func('const char *ZSTD_getErrorName(size_t code)');
		let scratch = Buffer.alloc(0);
		return (input) => {
			let size = BigInt(findSize(input, input.length) as number | bigint);
			if (size === CONTENT_SIZE_ERROR) throw new Error('zstd: not a zstd frame, or a damaged one');
			const exact = size !== CONTENT_SIZE_UNKNOWN;
			if (!exact) size = BigInt(findBound(input, input.length) as number | bigint);
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

let native: NativeDecompress | undefined;
let nativeName = 'none';
let nativeDecided = false;

/** The native synchronous decompressor of this runtime: Node's built-in, else libzstd, else none. */
function findNativeDecompress(): NativeDecompress | undefined {
	if (!nativeDecided) {
		nativeDecided = true;
		const sync = builtin.zstdDecompressSync;
		if (typeof sync === 'function') {
			native = (input) => sync(input);
			nativeName = 'node:zlib zstdDecompressSync';
		} else {
			native = loadLibzstd();
			if (native) nativeName = 'libzstd (ZSTD_decompress through koffi)';
		}
	}
	return native;
}

// ---------------------------------------------------------------------------------------------
// The interface

/** Whether {@link decompressZstdSync} has a path on this thread now (else it always throws NeedsAsyncError). */
export function canDecompressSync(): boolean {
	return wasm !== undefined || findNativeDecompress() !== undefined;
}

/**
 * Decompresses a whole zstd input (one or more frames) in the calling thread. Throws
 * {@link NeedsAsyncError} for input larger than {@link SMALL_ZSTD_INPUT} or when no path can
 * take it; another Error for damaged input.
 */
export function decompressZstdSync(input: Uint8Array): Buffer {
	if (input.length > SMALL_ZSTD_INPUT) throw new NeedsAsyncError();
	if (wasm !== undefined) {
		const out = decompressWith(wasm, input);
		if (out !== undefined) return out;
	}
	const fallback = findNativeDecompress();
	if (fallback === undefined) throw new NeedsAsyncError();
	return fallback(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
}

/** Which synchronous paths are in use in this thread, for diagnostics and benchmarks. */
export function describeSyncZstd(): string {
	findNativeDecompress();
	const parts: string[] = [];
	if (wasm !== undefined) parts.push('WebAssembly zstd (small inputs)');
	if (native !== undefined) parts.push(nativeName);
	if (hasSyncZstd()) parts.push('node:zlib zstdCompressSync');
	return parts.length === 0 ? 'none (asynchronous only)' : parts.join('; ');
}
