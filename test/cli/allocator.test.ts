import {execFileSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {limitMallocArenas} from '../../source/allocator.js';

/** Whether this process runs on glibc (the only allocator the limit applies to). */
function isGlibc(): boolean {
	const report = process.report?.getReport?.() as {header?: {glibcVersionRuntime?: string}} | undefined;
	return Boolean(report?.header?.glibcVersionRuntime);
}

describe('limitMallocArenas', () => {
	it('leaves a MALLOC_ARENA_MAX the user set alone', () => {
		expect(limitMallocArenas({MALLOC_ARENA_MAX: '4'})).toBe('user-set');
	});

	it('sets the limit through mallopt on glibc', () => {
		expect(limitMallocArenas({}, 2)).toBe(isGlibc() ? 'set' : 'unsupported');
	});

	it('runs before the libuv pool in a real process that then does file I/O', () => {
		// A child that limits the arenas first and then keeps the pool busy must work normally.
		const script = `
			const {limitMallocArenas} = await import(${JSON.stringify(new URL('../../source/allocator.ts', import.meta.url).href)});
			const result = limitMallocArenas({});
			const fs = await import('node:fs/promises');
			const reads = await Promise.all(Array.from({length: 16}, () => fs.readFile(process.execPath)));
			console.log(JSON.stringify({result, same: reads.every((r) => r.length === reads[0].length && r.length > 0)}));
		`;
		const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {encoding: 'utf8', env: {...process.env, MALLOC_ARENA_MAX: ''}});
		const parsed = JSON.parse(output.trim()) as {result: string; same: boolean};
		expect(parsed.result).toBe(isGlibc() ? 'set' : 'unsupported');
		expect(parsed.same).toBe(true);
	});
});
