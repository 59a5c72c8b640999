import {createHash} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {
	Chunker,
	MAX_CHUNK_SIZE,
	MIN_CHUNK_SIZE,
	createChunkerTables,
	splitBuffer,
	splitStream,
	type ChunkerTables,
} from '../../../engine/chunker/chunker.js';
import {fingerprint, referenceSplit, seededBytes, seededIrreducible} from './reference.js';

// Polynomial used throughout restic/chunker's own tests.
const RESTIC_TEST_POLYNOMIAL = 0x3da3358b4dc173n;
// From restic/chunker's chunker_test.go (chunks2): zero bytes are cut every MinSize bytes and
// each such chunk has this SHA-256.
const ZERO_CHUNK_SHA256 = '07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541';

const tables = createChunkerTables(RESTIC_TEST_POLYNOMIAL);
const random = seededBytes('cairn chunker unit tests', 40 * 1024 * 1024);

function sha256(data: Uint8Array): string {
	return createHash('sha256').update(data).digest('hex');
}

async function* inPieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
	for (let off = 0; off < data.length; off += size) {
		yield data.subarray(off, Math.min(off + size, data.length));
	}
}

async function collect(t: ChunkerTables, source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
	const chunks: Uint8Array[] = [];
	for await (const chunk of splitStream(t, source)) {
		// Copy, so that a later reuse of staging memory would show up as a mismatch.
		chunks.push(chunk.slice());
	}
	return chunks;
}

function expectChunksCover(chunks: Uint8Array[], lengths: number[], data: Uint8Array): void {
	expect(chunks.map((c) => c.length)).toEqual(lengths);
	let off = 0;
	for (const chunk of chunks) {
		expect(Buffer.compare(chunk, data.subarray(off, off + chunk.length))).toBe(0);
		off += chunk.length;
	}
	expect(off).toBe(data.length);
}

describe('createChunkerTables', () => {
	it('caches tables per polynomial', () => {
		expect(createChunkerTables(RESTIC_TEST_POLYNOMIAL)).toBe(tables);
		expect(tables.degree).toBe(53);
	});

	it('rejects degrees outside 40..53', () => {
		expect(() => createChunkerTables(1n << 54n | 1n)).toThrow(RangeError);
		expect(() => createChunkerTables(seededIrreducible('low degree', 31))).toThrow(RangeError);
	});
});

describe('Chunker options', () => {
	it('rejects inconsistent size limits', () => {
		expect(() => new Chunker(tables, {minSize: 32})).toThrow(RangeError);
		expect(() => new Chunker(tables, {minSize: 4096, maxSize: 1024})).toThrow(RangeError);
		expect(() => new Chunker(tables, {minSize: 1000.5})).toThrow(RangeError);
	});
});

describe('edge cases', () => {
	it('splits empty input into nothing', async () => {
		expect(splitBuffer(tables, new Uint8Array(0))).toEqual([]);
		expect(await collect(tables, inPieces(new Uint8Array(0), 10))).toEqual([]);
		const emptyPieces = (async function* () {
			yield new Uint8Array(0);
			yield new Uint8Array(0);
		})();
		expect(await collect(tables, emptyPieces)).toEqual([]);
	});

	it('keeps input shorter than MinSize in one chunk', async () => {
		for (const length of [1, 63, 64, 1000, MIN_CHUNK_SIZE - 1, MIN_CHUNK_SIZE]) {
			const data = random.subarray(0, length);
			expect(splitBuffer(tables, data)).toEqual([length]);
			expectChunksCover(await collect(tables, inPieces(data, 4096)), [length], data);
		}
	});

	it('cuts zero bytes every MinSize bytes, as restic does', () => {
		const zeros = new Uint8Array(4 * MIN_CHUNK_SIZE);
		const lengths = splitBuffer(tables, zeros);
		expect(lengths).toEqual([MIN_CHUNK_SIZE, MIN_CHUNK_SIZE, MIN_CHUNK_SIZE, MIN_CHUNK_SIZE]);
		expect(sha256(zeros.subarray(0, MIN_CHUNK_SIZE))).toBe(ZERO_CHUNK_SHA256);
		// Exactly MaxSize of zeros: the digest hits zero at MinSize long before MaxSize.
		expect(splitBuffer(tables, new Uint8Array(MAX_CHUNK_SIZE))).toEqual(new Array<number>(16).fill(MIN_CHUNK_SIZE));
	});

	it('forces a cut at MaxSize when the digest never matches', () => {
		// A constant non-zero byte keeps the window fingerprint constant once the window is full;
		// check independently that it does not match the split mask for this polynomial.
		expect(fingerprint(new Array<number>(64).fill(1), RESTIC_TEST_POLYNOMIAL) & 0xfffffn).not.toBe(0n);
		const ones = new Uint8Array(2 * MAX_CHUNK_SIZE + 5).fill(1);
		expect(splitBuffer(tables, ones)).toEqual([MAX_CHUNK_SIZE, MAX_CHUNK_SIZE, 5]);
		expect(splitBuffer(tables, ones.subarray(0, MAX_CHUNK_SIZE))).toEqual([MAX_CHUNK_SIZE]);
	});
});

describe('agreement with a plain BigInt model of the rolling hash', () => {
	it('matches with default sizes on pseudo-random data', () => {
		const data = random.subarray(0, 12 * 1024 * 1024);
		const expected = referenceSplit(data, RESTIC_TEST_POLYNOMIAL, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE);
		expect(expected.length).toBeGreaterThan(3);
		expect(splitBuffer(tables, data)).toEqual(expected);
	});

	it.each([40, 44, 48, 52, 53])('matches for a degree-%i polynomial with small size limits', (degree) => {
		const pol = seededIrreducible(`degree ${degree}`, degree);
		const data = seededBytes(`model ${degree}`, 6 * 1024 * 1024);
		const options = {minSize: 64, maxSize: 1024 * 1024};
		const expected = referenceSplit(data, pol, options.minSize, options.maxSize);
		expect(splitBuffer(createChunkerTables(pol), data, options)).toEqual(expected);
	});

	it('matches with minSize equal to maxSize', () => {
		const data = random.subarray(0, 200_000);
		const options = {minSize: 4096, maxSize: 4096};
		expect(splitBuffer(tables, data, options)).toEqual(referenceSplit(data, RESTIC_TEST_POLYNOMIAL, 4096, 4096));
	});
});

describe('findSplitPoint', () => {
	it('gives the same cuts when fed arbitrary ranges of one buffer', () => {
		const data = random.subarray(0, 16 * 1024 * 1024);
		const expected: number[] = [];
		let total = 0;
		for (const length of splitBuffer(tables, data)) {
			total += length;
			expected.push(total);
		}
		expected.pop();
		const cuts: number[] = [];
		const chunker = new Chunker(tables);
		const step = 100_003;
		for (let off = 0; off < data.length; off += step) {
			const end = Math.min(off + step, data.length);
			let pos = off;
			while (pos < end) {
				const cut = chunker.findSplitPoint(data, pos, end);
				if (cut < 0) {
					break;
				}
				expect(cut).toBeGreaterThan(pos);
				expect(cut).toBeLessThanOrEqual(end);
				cuts.push(cut);
				pos = cut;
			}
		}
		expect(cuts).toEqual(expected);
	});

	it('rejects ranges outside the buffer', () => {
		const chunker = new Chunker(tables);
		const buf = new Uint8Array(10);
		expect(() => chunker.findSplitPoint(buf, 5, 11)).toThrow(RangeError);
		expect(() => chunker.findSplitPoint(buf, 6, 5)).toThrow(RangeError);
		expect(() => chunker.findSplitPoint(buf, -1)).toThrow(RangeError);
		expect(chunker.findSplitPoint(buf, 3, 3)).toBe(-1);
	});

	it('starts over after reset()', () => {
		const data = random.subarray(0, 4 * 1024 * 1024);
		const chunker = new Chunker(tables);
		expect(chunker.findSplitPoint(seededBytes('noise', 700_000))).toBe(-1);
		chunker.reset();
		const first = chunker.findSplitPoint(data);
		expect(first).toBe(splitBuffer(tables, data)[0]);
	});
});

describe('splitStream', () => {
	const lengths = splitBuffer(tables, random);

	it('produces several chunks for the test data', () => {
		expect(lengths.length).toBeGreaterThan(10);
		expect(lengths.reduce((a, b) => a + b, 0)).toBe(random.length);
	});

	it.each([7, 64 * 1024, 3 * 1024 * 1024, 10 * 1024 * 1024])('matches splitBuffer with %i-byte pieces', async (size) => {
		expectChunksCover(await collect(tables, inPieces(random, size)), lengths, random);
	});

	it('matches splitBuffer with 1-byte pieces', async () => {
		// A 12 MiB prefix keeps the 12 million iterations of this case to a few seconds.
		const data = random.subarray(0, 12 * 1024 * 1024);
		const expected = splitBuffer(tables, data);
		expect(expected.length).toBeGreaterThan(3);
		expectChunksCover(await collect(tables, inPieces(data, 1)), expected, data);
	});
});
