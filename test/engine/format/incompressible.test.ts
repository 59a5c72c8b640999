import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import * as zlib from 'node:zlib';
import {describe, expect, it} from 'vitest';
import {estimateEntropy, INCOMPRESSIBLE_BITS_PER_BYTE, looksIncompressible} from '../../../engine/format/incompressible.js';
import {decompressZstd} from '../../../engine/format/compression.js';
import {compressZstdSync, hasSyncZstd} from '../../../engine/format/zstd-sync.js';
import {compressChunk, SYNC_COMPRESS_LIMIT} from '../../../engine/archiver/file-chunker.js';

/** About 1 MiB of this runtime's own executable: real, compressible machine code. */
const executable = readFileSync(process.execPath).subarray(0, 1024 * 1024);

describe('incompressible chunks', () => {
	it('measures random and already compressed bytes near 8 bits, code and text far below', () => {
		expect(estimateEntropy(randomBytes(1024 * 1024))).toBeGreaterThan(INCOMPRESSIBLE_BITS_PER_BYTE);
		expect(estimateEntropy(zlib.gzipSync(executable, {level: 9}))).toBeGreaterThan(INCOMPRESSIBLE_BITS_PER_BYTE);
		expect(estimateEntropy(executable)).toBeLessThan(7);
		expect(estimateEntropy(Buffer.alloc(100_000))).toBe(0);
		expect(estimateEntropy(Buffer.from('abab'))).toBeCloseTo(1, 10);
	});

	it('leaves small chunks to the compressor', () => {
		expect(looksIncompressible(randomBytes(1000))).toBe(false);
		expect(looksIncompressible(randomBytes(1024 * 1024))).toBe(true);
	});

	it('sees a compressible region between random ones (samples are spread over the chunk)', () => {
		const mixed = Buffer.concat([randomBytes(256 * 1024), executable.subarray(0, 512 * 1024), randomBytes(256 * 1024)]);
		expect(looksIncompressible(mixed)).toBe(false);
	});

	it('stores random chunks as they are in auto mode, and compresses the rest', async () => {
		const random = randomBytes(2 * 1024 * 1024);
		const stored = await compressChunk('auto', random);
		expect(stored.uncompressedLength).toBe(0);
		expect(Buffer.compare(stored.body, random)).toBe(0);
		// max still tries (and keeps the original, since zstd cannot shrink it either).
		expect((await compressChunk('max', random)).uncompressedLength).toBe(0);

		for (const size of [SYNC_COMPRESS_LIMIT - 1, SYNC_COMPRESS_LIMIT + 1]) {
			const chunk = executable.subarray(0, size);
			const compressed = await compressChunk('auto', chunk);
			expect(compressed.uncompressedLength).toBe(size);
			expect(compressed.body.length).toBeLessThan(size);
			expect(Buffer.compare(await decompressZstd(compressed.body), chunk)).toBe(0);
		}
	});
});

describe('synchronous zstd', () => {
	it('is there exactly when the runtime has zlib.zstdCompressSync, and round-trips', async () => {
		const runtimeHasIt = typeof (zlib as unknown as {zstdCompressSync?: unknown}).zstdCompressSync === 'function';
		expect(hasSyncZstd()).toBe(runtimeHasIt);
		if (runtimeHasIt) {
			const compressed = compressZstdSync(executable, 2);
			expect(compressed.length).toBeLessThan(executable.length);
			expect(Buffer.compare(await decompressZstd(compressed), executable)).toBe(0);
		} else {
			expect(() => compressZstdSync(executable, 2)).toThrow(/22\.15/);
		}
	});
});
