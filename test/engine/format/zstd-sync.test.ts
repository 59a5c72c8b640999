/**
 * Tiny chunks (whole small files) are compressed in the worker's own thread with a WebAssembly
 * zstd: its frames must be ordinary zstd frames that the native decoder (and so restic) reads.
 */
import {describe, expect, it} from 'vitest';
import {compressChunk} from '../../../engine/archiver/file-chunker.js';
import {compressTinySync, loadWasmZstd as loadTinyZstd, TINY_CHUNK_LIMIT} from '../../../engine/format/zstd-sync.js';
import {decompressZstd} from '../../../engine/format/compression.js';

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
