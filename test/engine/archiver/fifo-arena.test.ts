import {describe, expect, it} from 'vitest';
import {FifoArena} from '../../../engine/archiver/fifo-arena.js';

describe('FifoArena', () => {
	it('hands out disjoint regions, wraps around once older ones are released, and keeps contents intact', () => {
		const arena = new FifoArena(100);
		const live: Array<{view: Buffer; fill: number}> = [];
		let fill = 0;
		// A pseudo-random sequence of sizes; regions are released oldest first, as the contract says.
		let seed = 7;
		for (let step = 0; step < 2000; step++) {
			seed = (seed * 1103515245 + 12345) & 0x7fffffff;
			const size = 1 + (seed % 45);
			let view = arena.take(size);
			while (!view) {
				expect(live.length).toBeGreaterThan(0);
				const oldest = live.shift()!;
				expect(oldest.view.every((byte) => byte === oldest.fill)).toBe(true);
				arena.release();
				view = arena.take(size);
			}
			expect(view.length).toBe(size);
			fill = (fill + 1) & 0xff;
			view.fill(fill);
			live.push({view, fill});
			expect(arena.taken).toBe(live.length);
		}
		for (const region of live) expect(region.view.every((byte) => byte === region.fill)).toBe(true);
	});

	it('refuses a size larger than the ring and a release without a region', () => {
		const arena = new FifoArena(10);
		expect(() => arena.take(11)).toThrow(RangeError);
		expect(() => arena.release()).toThrow(/without a region/);
		expect(arena.take(10)?.length).toBe(10);
		expect(arena.take(1)).toBeUndefined();
		arena.release();
		expect(arena.take(1)?.length).toBe(1);
	});
});

describe('FifoArena, filled in place', () => {
	it('gives a reader the room after the newest region, and room at the start only while it has not wrapped', () => {
		const arena = new FifoArena(100);
		expect(arena.head()).toBe(0);
		expect(arena.spaceAfter(0)).toBe(100);
		expect(arena.spaceAtStart(0)).toBe(100);
		arena.claim(arena.bytes.subarray(0, 40));
		arena.claim(arena.bytes.subarray(40, 70));
		expect(arena.head()).toBe(70);
		expect(arena.spaceAfter(70)).toBe(30);
		expect(arena.spaceAtStart(70)).toBe(0);
		arena.release();
		// Not wrapped: the first 40 bytes are free; a reader that moves there may fill up to the oldest region.
		expect(arena.spaceAtStart(70)).toBe(40);
		arena.claim(arena.bytes.subarray(0, 25));
		expect(arena.head()).toBe(25);
		expect(arena.spaceAfter(25)).toBe(15);
		expect(arena.spaceAtStart(25)).toBe(0);
		arena.claim(arena.bytes.subarray(25, 40));
		// Wrapped and caught up with the oldest region: no room anywhere until it is released.
		expect(arena.spaceAfter(40)).toBe(0);
		expect(arena.spaceAtStart(40)).toBe(0);
		arena.release();
		expect(arena.spaceAfter(40)).toBe(60);
		expect(arena.spaceAtStart(40)).toBe(0);
		expect(() => arena.claim(Buffer.alloc(5))).toThrow(RangeError);
	});
});
