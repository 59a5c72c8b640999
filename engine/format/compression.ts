/**
 * zstd compression for blobs and unpacked files. Asynchronous calls use the native
 * @mongodb-js/zstd binding (prebuilt, no install script; Node's built-in zstd only when the
 * binding cannot load), off the calling thread in libuv's pool. The synchronous paths for small
 * inputs are in zstd-sync.ts.
 */
import * as zlib from 'node:zlib';
import {promisify} from 'node:util';
import {createRequire} from 'node:module';
import {canDecompressSync, decompressZstdSync, hasSyncZstd, NeedsAsyncError} from './zstd-sync.js';

/** How blobs are compressed: restic's `--compression` modes. */
export type CompressionMode = 'off' | 'auto' | 'max';

export const COMPRESSION_MODES: readonly CompressionMode[] = ['off', 'auto', 'max'];

/**
 * zstd levels for each mode. `auto` is level 2: on the benchmark corpus (1 GiB of real files) it
 * compresses within about 1% of restic's `auto` (klauspost's SpeedDefault) and of zstd level 3, for
 * about a third less CPU than level 3 (level 1 saves a little more CPU but stores 4% more).
 * `max` is level 11,
 * close to restic's best-compression setting: on source code it is within 4% of level 15's size at
 * about seven times its speed.
 */
export const ZSTD_LEVELS: Record<Exclude<CompressionMode, 'off'>, number> = {auto: 2, max: 11};

type ZstdNative = {compress(data: Buffer, level?: number): Promise<Buffer>; decompress(data: Buffer): Promise<Buffer>};

interface BuiltinZstd {
	zstdCompress: (data: Buffer, options: object, cb: (error: Error | null, result: Buffer) => void) => void;
	zstdDecompress: (data: Buffer, options: object, cb: (error: Error | null, result: Buffer) => void) => void;
	constants: Record<string, number>;
}

const builtin = zlib as unknown as Partial<BuiltinZstd>;
let nativeBinding: ZstdNative | undefined;

/**
 * The package's own wrapper (index.js) drops the level argument, so the napi binding is loaded
 * directly; its errors have no JS stack, so they are wrapped.
 */
function loadNativeBinding(): ZstdNative {
	if (!nativeBinding) {
		const raw = createRequire(import.meta.url)('@mongodb-js/zstd/bindings') as ZstdNative;
		const wrap = async <T>(run: () => Promise<T>): Promise<T> => {
			try {
				return await run();
			} catch (error) {
				throw new Error(`zstd: ${(error as Error).message}`);
			}
		};
		nativeBinding = {
			compress: (data, level) => wrap(() => raw.compress(data, level)),
			decompress: (data) => wrap(() => raw.decompress(data)),
		};
	}
	return nativeBinding;
}

/**
 * The native binding when it loads, else undefined. It is preferred over Node's built-in async
 * zstd even where that exists: measured on Node 24 (first backup of a 354 MiB tree), the built-in
 * async calls cost 30 % more CPU and more memory than the binding.
 */
function findNativeBinding(): ZstdNative | undefined {
	try {
		return loadNativeBinding();
	} catch (error) {
		if (typeof builtin.zstdCompress === 'function') return undefined;
		throw error;
	}
}

/** Which zstd implementation is in use, for diagnostics and benchmarks. */
export function describeZstd(): string {
	const native = findNativeBinding() ? '@mongodb-js/zstd (native)' : 'node:zlib zstd';
	return hasSyncZstd() ? `${native}; node:zlib zstd for small inputs` : native;
}

/** Compresses `data` with zstd at the given level, in libuv's pool. */
export async function compressZstd(data: Uint8Array, level: number): Promise<Buffer> {
	const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	const native = findNativeBinding();
	if (native) return native.compress(input, level);
	const params = {[builtin.constants!.ZSTD_c_compressionLevel!]: level};
	return promisify(builtin.zstdCompress!)(input, {params});
}

/** Decompresses one or more zstd frames. */
export async function decompressZstd(data: Uint8Array): Promise<Buffer> {
	const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	const native = findNativeBinding();
	if (native) return native.decompress(input);
	return promisify(builtin.zstdDecompress!)(input, {});
}

/**
 * Decompresses in the calling thread when a synchronous path exists for input this small
 * (zstd-sync.ts: cheaper than a round trip through libuv's pool), else as {@link decompressZstd}.
 */
export async function decompressZstdInThreadFirst(data: Uint8Array): Promise<Buffer> {
	if (canDecompressSync()) {
		try {
			return decompressZstdSync(data);
		} catch (error) {
			if (!(error instanceof NeedsAsyncError)) throw error;
		}
	}
	return decompressZstd(data);
}
