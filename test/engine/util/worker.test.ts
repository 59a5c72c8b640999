import {describe, expect, it} from 'vitest';
import {GARBAGE_COLLECT_BYTES, noteGarbageBytes, releaseGarbageBuffers} from '../../../engine/util/worker.js';

const MiB = 1024 ** 2;

/** Allocates and touches a large buffer that is garbage once this returns. */
function dropLargeBuffer(size: number): void {
	const buffer = new Uint8Array(new ArrayBuffer(size));
	buffer.fill(1);
	expect(buffer[size - 1]).toBe(1);
}

describe('releaseGarbageBuffers', () => {
	it('frees a dropped large buffer at once', () => {
		releaseGarbageBuffers();
		const before = process.memoryUsage().arrayBuffers;
		dropLargeBuffer(32 * MiB);
		expect(process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(before + 31 * MiB);
		releaseGarbageBuffers();
		expect(process.memoryUsage().arrayBuffers).toBeLessThan(before + 8 * MiB);
	});

	it('collects through noteGarbageBytes only once enough has gathered', () => {
		releaseGarbageBuffers();
		const before = process.memoryUsage().arrayBuffers;
		dropLargeBuffer(24 * MiB);
		noteGarbageBytes(1);
		expect(process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(before + 23 * MiB);
		noteGarbageBytes(GARBAGE_COLLECT_BYTES);
		expect(process.memoryUsage().arrayBuffers).toBeLessThan(before + 8 * MiB);
	});
});
