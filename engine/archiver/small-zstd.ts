/**
 * zstd for tiny chunks (whole small files), in the calling thread, through a WebAssembly build of
 * the reference library (@bokuweb/zstd-wasm).
 *
 * Why: profiling a first backup of 100,000 files of about 1 KB showed the chunk workers spending
 * most of their time starting compressions, not compressing. An asynchronous call into the native
 * binding costs about 45 µs of CPU for a 1 KB chunk (a trip through libuv's pool and a
 * compression context sized for unknown input); Node 22.15+'s synchronous built-in zstd about
 * 20 µs (a new native handle per call); this module's one-shot ZSTD_compress, which knows the
 * input size and so sizes its tables to it, about 9-20 µs. Its throughput is lower than native
 * code, so it serves only inputs below {@link TINY_CHUNK_LIMIT}.
 *
 * The module is loaded once per thread by {@link loadTinyZstd}; until it has loaded, or when it
 * cannot load (e.g. inside the single-file executable, which does not ship its .wasm file),
 * {@link compressTinySync} returns undefined and callers use the other paths.
 */
import {createRequire} from 'node:module';

/** Inputs up to this many bytes are compressed here (measured crossover with the native paths). */
export const TINY_CHUNK_LIMIT = 2048;

interface WasmZstd {
	init(): Promise<void>;
	compress(data: Uint8Array, level: number): Uint8Array;
}

let loaded: WasmZstd | undefined;
let loading: Promise<boolean> | undefined;

/** Loads the WebAssembly zstd once; resolves true when it can be used. Never rejects. */
export function loadTinyZstd(): Promise<boolean> {
	loading ??= (async () => {
		try {
			const candidate = createRequire(import.meta.url)('@bokuweb/zstd-wasm') as WasmZstd;
			await candidate.init();
			// A round trip proves the module works before any chunk depends on it.
			if (!(candidate.compress(new Uint8Array(64), 1).length > 0)) return false;
			loaded = candidate;
			return true;
		} catch {
			return false;
		}
	})();
	return loading;
}

/**
 * Compresses `data` (at most {@link TINY_CHUNK_LIMIT} bytes) into one zstd frame, or returns
 * undefined when the WebAssembly module is not loaded (or the input is larger).
 */
export function compressTinySync(data: Uint8Array, level: number): Uint8Array | undefined {
	if (!loaded || data.length > TINY_CHUNK_LIMIT) return undefined;
	return loaded.compress(data, level);
}
