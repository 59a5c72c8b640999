import {describe, expect, it} from 'vitest';
import {MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, createChunkerTables, splitBuffer} from '../../../engine/chunker/chunker.js';
import {seededBytes} from './reference.js';

// A loose floor that still catches a pathological slowdown (such as BigInt creeping into the
// hot loop) on a loaded machine; the measured figure is printed for reports.
const FLOOR_MB_PER_S = 100;

describe('chunker throughput', () => {
	it('splits 256 MiB of pseudo-random data quickly', () => {
		const data = seededBytes('cairn chunker throughput', 256 * 1024 * 1024);
		const tables = createChunkerTables(0x3da3358b4dc173n);
		let best = Infinity;
		let lengths: number[] = [];
		for (let round = 0; round < 3; round++) {
			const started = performance.now();
			lengths = splitBuffer(tables, data);
			best = Math.min(best, performance.now() - started);
		}
		const mbPerS = data.length / 1e6 / (best / 1000);
		console.log(`chunker: ${mbPerS.toFixed(0)} MB/s over 256 MiB (${lengths.length} chunks, best of 3)`);
		expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
		expect(Math.min(...lengths.slice(0, -1))).toBeGreaterThanOrEqual(MIN_CHUNK_SIZE);
		expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_CHUNK_SIZE);
		expect(mbPerS).toBeGreaterThan(FLOOR_MB_PER_S);
	});
});
