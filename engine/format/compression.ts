/**
 * zstd compression for blobs and unpacked files. Uses Node's built-in zstd where the runtime
 * has it (Node 22.15 and newer), otherwise the native @mongodb-js/zstd binding (prebuilt,
 * no install script). Both run off the main thread in libuv's pool.
 */
import * as zlib from 'node:zlib';
import {promisify} from 'node:util';
import {createRequire} from 'node:module';

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

/** Which zstd implementation is in use, for diagnostics and benchmarks. */
export function describeZstd(): string {
	return typeof builtin.zstdCompress === 'function' ? 'node:zlib zstd' : '@mongodb-js/zstd (native)';
}

/** Compresses `data` with zstd at the given level. */
export async function compressZstd(data: Uint8Array, level: number): Promise<Buffer> {
	const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	if (typeof builtin.zstdCompress === 'function') {
		const params = {[builtin.constants!.ZSTD_c_compressionLevel!]: level};
		return promisify(builtin.zstdCompress)(input, {params});
	}
	return loadNativeBinding().compress(input, level);
}

/** Decompresses one or more zstd frames. */
export async function decompressZstd(data: Uint8Array): Promise<Buffer> {
	const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	if (typeof builtin.zstdDecompress === 'function') return promisify(builtin.zstdDecompress)(input, {});
	return loadNativeBinding().decompress(input);
}
