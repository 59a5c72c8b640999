import {describe, expect, it} from 'vitest';
import {findMallocTrim, MallocTrimmer} from '../../../engine/restorer/malloc-trim.js';

describe('returning freed memory during a restore', () => {
	it('trims once per given number of bytes', () => {
		let trims = 0;
		const trimmer = new MallocTrimmer(() => trims++, 100);
		const counts: number[] = [];
		for (const bytes of [40, 40, 40, 10, 90, 250]) {
			trimmer.note(bytes);
			counts.push(trims);
		}
		expect(counts).toEqual([0, 0, 1, 1, 2, 3]);
	});

	it('does nothing without a trim function', () => {
		const trimmer = new MallocTrimmer(undefined, 1);
		expect(() => trimmer.note(10)).not.toThrow();
	});

	it('finds glibc malloc_trim on Linux with glibc, and it runs', () => {
		const glibc = process.platform === 'linux' && (process.report?.getReport() as {header?: {glibcVersionRuntime?: string}} | undefined)?.header?.glibcVersionRuntime !== undefined;
		const trim = findMallocTrim();
		expect(trim !== undefined).toBe(glibc);
		if (trim) {
			const before = process.memoryUsage().rss;
			trim();
			expect(process.memoryUsage().rss).toBeLessThanOrEqual(before + 16 * 1024 * 1024);
		}
	});
});
