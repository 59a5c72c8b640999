import {describe, expect, it} from 'vitest';
import {GARBAGE_COLLECT_BYTES, noteGarbageBytes, releaseGarbageBuffers} from '../../../engine/util/worker.js';

const MiB = 1024 ** 2;

/**
 * External memory in use once V8 has swept what the last collection found dead. Newer V8 (Node
 * 24) sweeps ArrayBuffers concurrently, just after the collection, so this waits a little (with
 * nothing allocated meanwhile, V8 does not collect on its own).
 */
async function settledArrayBuffers(below: number): Promise<number> {
	for (let i = 0; i < 50 && process.memoryUsage().arrayBuffers >= below; i++) await new Promise((resolve) => setTimeout(resolve, 10));
	return process.memoryUsage().arrayBuffers;
}

/** Allocates and touches a large buffer that is garbage once this returns. */
function dropLargeBuffer(size: number): void {
	const buffer = new Uint8Array(new ArrayBuffer(size));
	buffer.fill(1);
	expect(buffer[size - 1]).toBe(1);
}

describe('releaseGarbageBuffers', () => {
	it('frees a dropped large buffer at once', async () => {
		releaseGarbageBuffers();
		const before = process.memoryUsage().arrayBuffers;
		dropLargeBuffer(32 * MiB);
		expect(process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(before + 31 * MiB);
		releaseGarbageBuffers();
		expect(await settledArrayBuffers(before + 8 * MiB)).toBeLessThan(before + 8 * MiB);
	});

	it('collects through noteGarbageBytes only once enough has gathered', async () => {
		releaseGarbageBuffers();
		const before = process.memoryUsage().arrayBuffers;
		dropLargeBuffer(24 * MiB);
		noteGarbageBytes(1);
		expect(process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(before + 23 * MiB);
		noteGarbageBytes(GARBAGE_COLLECT_BYTES);
		expect(await settledArrayBuffers(before + 8 * MiB)).toBeLessThan(before + 8 * MiB);
	});
});
