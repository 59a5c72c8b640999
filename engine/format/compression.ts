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

/** zstd levels for each mode: `auto` is zstd's default speed, `max` a strong level that stays usable. */
export const ZSTD_LEVELS: Record<Exclude<CompressionMode, 'off'>, number> = {auto: 3, max: 15};

type ZstdNative = {compress(data: Buffer, level?: number): Promise<Buffer>; decompress(data: Buffer): Promise<Buffer>};

interface BuiltinZstd {
	zstdCompress: (data: Buffer, options: object, cb: (error: Error | null, result: Buffer) => void) => void;
	zstdDecompress: (data: Buffer, options: object, cb: (error: Error | null, result: Buffer) => void) => void;
	constants: Record<string, number>;
}

const builtin = zlib as unknown as Partial<BuiltinZstd>;
let nativeBinding: ZstdNative | undefined;

function loadNativeBinding(): ZstdNative {
	nativeBinding ??= createRequire(import.meta.url)('@mongodb-js/zstd') as ZstdNative;
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
