/**
 * The synchronous zstd (engine/format/zstd-sync.ts). Tiny chunks (whole small files) are
 * compressed in the worker's own thread with a WebAssembly zstd: its frames must be ordinary zstd
 * frames that the native decoder (and so restic) reads, the same a fresh ZSTD_compress makes.
 */
import {describe, expect, it} from 'vitest';
import {compressChunk} from '../../../engine/archiver/file-chunker.js';
import {createRequire} from 'node:module';
import {compressTinySync, compressZstdSync, decompressZstdSync, describeSyncZstd, hasSyncZstd, loadWasmZstd as loadTinyZstd, TINY_CHUNK_LIMIT} from '../../../engine/format/zstd-sync.js';
import {compressZstd, decompressZstd} from '../../../engine/format/compression.js';

const text = (size: number): Buffer => Buffer.from(Array.from({length: size}, (_, i) => 'abcdefgh '[(i * 7 + (i >> 5)) % 9]).join(''));

describe('zstd for tiny chunks', () => {
	it('loads, and its frames round-trip through the native decoder at every size up to the limit', async () => {
		expect(await loadTinyZstd()).toBe(true);
		for (const size of [1, 100, 1000, TINY_CHUNK_LIMIT]) {
			const input = text(size);
			const frame = compressTinySync(input, 2);
			expect(frame).toBeDefined();
			expect((await decompressZstd(frame!)).equals(input)).toBe(true);
		}
	});

	it('leaves larger inputs to the native paths', async () => {
		await loadTinyZstd();
		expect(compressTinySync(text(TINY_CHUNK_LIMIT + 1), 2)).toBeUndefined();
	});

	it('is what compressChunk uses for a small file, in auto and max mode', async () => {
		await loadTinyZstd();
		const input = text(900);
		for (const mode of ['auto', 'max'] as const) {
			const chunk = await compressChunk(mode, input);
			expect(chunk.uncompressedLength).toBe(input.length);
			expect(chunk.body.length).toBeLessThan(input.length);
			expect((await decompressZstd(chunk.body)).equals(input)).toBe(true);
		}
		const off = await compressChunk('off', input);
		expect(off.uncompressedLength).toBe(0);
		expect(Buffer.from(off.body).equals(input)).toBe(true);
	});
});

describe('one synchronous zstd interface', () => {
	it('compresses with a reused context into the frames a fresh ZSTD_compress makes, at any level and in any order', async () => {
		await loadTinyZstd();
		const fresh = createRequire(import.meta.url)('@bokuweb/zstd-wasm') as {compress(data: Uint8Array, level: number): Uint8Array};
		for (const level of [11, 1, 2, 3]) {
			for (const size of [TINY_CHUNK_LIMIT, 1, 700, 64]) {
				const input = text(size);
				expect(Buffer.from(compressTinySync(input, level)!).equals(Buffer.from(fresh.compress(input, level))), `level ${level}, ${size} bytes`).toBe(true);
			}
		}
	});

	it('decompresses what every compressor here makes, as the asynchronous path does', async () => {
		await loadTinyZstd();
		const input = text(1500);
		const frames = [compressTinySync(input, 2)!, await compressZstd(input, 2)];
		if (hasSyncZstd()) frames.push(compressZstdSync(input, 2));
		for (const frame of frames) {
			expect(decompressZstdSync(frame).equals(input)).toBe(true);
			expect((await decompressZstd(frame)).equals(input)).toBe(true);
		}
		// Damaged input is an error, never other bytes.
		const damaged = Buffer.from(frames[0]!);
		damaged[5]! ^= 0xff;
		let result: Buffer | undefined;
		try {
			result = decompressZstdSync(damaged);
		} catch (error) {
			expect(error).toBeInstanceOf(Error);
		}
		if (result !== undefined) expect(result.equals(input)).toBe(false);
		expect(describeSyncZstd()).toMatch(/WebAssembly/);
	});
});
