import {describe, expect, it} from 'vitest';
import {Chunker, createChunkerTables, splitBuffer, type ChunkerOptions, type ChunkerTables} from '../../../engine/chunker/chunker.js';
import {describeWasmKernels} from '../../../engine/wasm/load.js';
import {referenceSplit, seededBytes, seededIrreducible} from './reference.js';

const RESTIC_TEST_POLYNOMIAL = 0x3da3358b4dc173n;
const tables = createChunkerTables(RESTIC_TEST_POLYNOMIAL);

/** A small deterministic generator for sizes and offsets. */
function seededRandom(seed: number): (limit: number) => number {
	let state = seed >>> 0;
	return (limit) => {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		return Math.floor((state / 2 ** 32) * limit);
	};
}

/**
 * Random bytes with runs of zeros (and of one repeated byte) sprinkled in: a window of 64 zeros
 * has digest 0, so such data matches at many positions, in every lane of the kernel and often
 * several times within one of its 16 KiB blocks.
 */
function bytesWithRuns(seed: string, length: number, runs: number): Uint8Array {
	const data = seededBytes(seed, length);
	const next = seededRandom(runs * 7919 + length);
	for (let i = 0; i < runs; i++) {
		const runLength = 64 + next(40);
		const at = next(Math.max(1, length - runLength));
		data.fill(i % 5 === 0 ? 0x5a : 0, at, at + runLength);
	}
	return data;
}

/** All cuts of feeding `data` in pieces of the given sizes (cycled), as absolute offsets. */
function cutsInPieces(t: ChunkerTables, data: Uint8Array, pieceSizes: number[], options: ChunkerOptions): number[] {
	const chunker = new Chunker(t, options);
	const cuts: number[] = [];
	let offset = 0;
	for (let piece = 0; offset < data.length; piece++) {
		const end = Math.min(data.length, offset + pieceSizes[piece % pieceSizes.length]!);
		let pos = offset;
		while (pos < end) {
			const cut = chunker.findSplitPoint(data, pos, end);
			if (cut < 0) break;
			cuts.push(cut);
			pos = cut;
		}
		offset = end;
	}
	return cuts;
}

describe('the WebAssembly chunker kernel', () => {
	it('is the one in use for degree-53 polynomials, and JavaScript for others', () => {
		expect(describeWasmKernels().chunker).toMatch(/^wasm /);
		expect(new Chunker(tables).implementation).toBe('wasm');
		expect(new Chunker(tables, {implementation: 'js'}).implementation).toBe('js');
		expect(new Chunker(createChunkerTables(seededIrreducible('degree 48', 48))).implementation).toBe('js');
	});

	it('cuts where the JavaScript chunker cuts with restic sizes, on random data with zero runs', () => {
		const data = bytesWithRuns('kernel restic sizes', 24 * 1024 * 1024, 40);
		const wasm = splitBuffer(tables, data);
		expect(wasm.length).toBeGreaterThan(10);
		expect(wasm).toEqual(splitBuffer(tables, data, {implementation: 'js'}));
	});

	it.each([
		{minSize: 64, maxSize: 1 << 30},
		{minSize: 64, maxSize: 5000},
		{minSize: 100, maxSize: 100},
		{minSize: 1000, maxSize: 70_000},
		{minSize: 20_000, maxSize: 200_000},
	])('cuts where the JavaScript chunker cuts with sizes $minSize to $maxSize, for many piece sizes', ({minSize, maxSize}) => {
		const data = bytesWithRuns(`kernel ${minSize}`, 3 * 1024 * 1024 + 777, 600);
		const expected = cutsInPieces(tables, data, [data.length], {minSize, maxSize, implementation: 'js'});
		expect(expected.length).toBeGreaterThan(20);
		// Whole buffer, ranges around the kernel's 4 KiB lanes, 16 KiB blocks and 64 KiB copies,
		// tiny ranges, and a mix of all of them.
		const pieceLayouts = [[data.length], [65_536], [65_537], [16_384], [16_383, 1, 4095, 4096], [4097], [63, 64, 65], [1_000_003], [7, 100_000, 13, 70_000, 4096, 9000]];
		for (const layout of pieceLayouts) {
			expect(cutsInPieces(tables, data, layout, {minSize, maxSize})).toEqual(expected);
		}
	});

	it('agrees with the BigInt model for random degree-53 polynomials, at every alignment', () => {
		const next = seededRandom(53);
		for (let round = 0; round < 6; round++) {
			const pol = seededIrreducible(`kernel polynomial ${round}`, 53);
			const t = createChunkerTables(pol);
			const length = 200_000 + next(300_000);
			const backing = bytesWithRuns(`kernel model ${round}`, length + 16, 30 + next(60));
			// Views at odd offsets of a larger buffer: the kernel copies, so alignment must not matter.
			const data = backing.subarray(round % 8, round % 8 + length);
			const options = {minSize: 64 + next(3000), maxSize: 70_000 + next(200_000)};
			expect(splitBuffer(t, data, options)).toEqual(referenceSplit(data, pol, options.minSize, options.maxSize));
		}
	});

	it('restarts cleanly after reset() in the middle of a chunk', () => {
		const data = bytesWithRuns('kernel reset', 2 * 1024 * 1024, 20);
		const options = {minSize: 4096, maxSize: 1 << 20};
		for (const implementation of ['auto', 'js'] as const) {
			const chunker = new Chunker(tables, {...options, implementation});
			expect(chunker.findSplitPoint(seededBytes('noise', 3000))).toBe(-1);
			chunker.reset();
			expect(chunker.findSplitPoint(data)).toBe(splitBuffer(tables, data, {...options, implementation: 'js'})[0]);
		}
	});
});
