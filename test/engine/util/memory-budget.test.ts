import * as os from 'node:os';
import {describe, expect, it} from 'vitest';
import {findMemoryBudget, findMemoryLimit, HEAP_GROWING_PERCENT, limitHeapGrowth, MEMORY_LIMIT_ENV, MIN_MEMORY_LIMIT, ONE_WORKER_BYTES, parseMemorySize, SMALL_MACHINE_BYTES, TWO_WORKER_BYTES} from '../../../engine/util/memory-budget.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('findMemoryBudget', () => {
	it('stores one pack at a time on small machines and two otherwise', () => {
		expect(findMemoryBudget(GiB).packBuffers).toBe(1);
		expect(findMemoryBudget(SMALL_MACHINE_BYTES - 1).packBuffers).toBe(1);
		expect(findMemoryBudget(SMALL_MACHINE_BYTES).packBuffers).toBe(2);
	});

	it('reads less of a pack at once in restores when memory is small', () => {
		expect(findMemoryBudget(SMALL_MACHINE_BYTES - 1).restoreBytesInFlight).toBeLessThan(findMemoryBudget(SMALL_MACHINE_BYTES).restoreBytesInFlight);
		expect(findMemoryBudget(GiB).restoreBytesInFlight).toBeGreaterThanOrEqual(8 * MiB);
	});

	it('uses fewer worker threads under a small limit', () => {
		expect(findMemoryBudget(ONE_WORKER_BYTES - 1).maxWorkers).toBe(1);
		expect(findMemoryBudget(ONE_WORKER_BYTES).maxWorkers).toBe(2);
		expect(findMemoryBudget(TWO_WORKER_BYTES - 1).maxWorkers).toBe(2);
		expect(findMemoryBudget(TWO_WORKER_BYTES).maxWorkers).toBeGreaterThan(2);
	});

	it('keeps the young generation of worker isolates small', () => {
		expect(findMemoryBudget(64 * GiB).workerYoungGenerationMb).toBeLessThanOrEqual(8);
		expect(findMemoryBudget(64 * GiB).workerYoungGenerationMb).toBeGreaterThan(0);
	});

	it('follows this machine\'s RAM and the user\'s limit by default', () => {
		expect(findMemoryBudget()).toEqual(findMemoryBudget(findMemoryLimit()));
		expect(findMemoryLimit({})).toBe(os.totalmem());
	});
});

describe('limitHeapGrowth', () => {
	it('leaves a flag the user gave alone, else sets V8\'s heap growth once', () => {
		const budget = findMemoryBudget(8 * GiB);
		expect(budget.heapGrowingPercent).toBe(HEAP_GROWING_PERCENT);
		expect(HEAP_GROWING_PERCENT).toBeGreaterThan(0);
		expect(limitHeapGrowth(budget, {}, ['--heap-growing-percent=50'])).toBe(false);
		expect(limitHeapGrowth(budget, {NODE_OPTIONS: '--heap_growing_percent=50'}, [])).toBe(false);
		expect(limitHeapGrowth(budget, {}, [])).toBe(true);
		expect(limitHeapGrowth(budget, {}, [])).toBe(false);
	});
});

describe('findMemoryLimit', () => {
	it('takes the smaller of the RAM and CAIRN_MAX_MEMORY', () => {
		expect(findMemoryLimit({[MEMORY_LIMIT_ENV]: '512M'}, 8 * GiB)).toBe(512 * MiB);
		expect(findMemoryLimit({[MEMORY_LIMIT_ENV]: '64G'}, 8 * GiB)).toBe(8 * GiB);
		expect(findMemoryLimit({[MEMORY_LIMIT_ENV]: String(300 * MiB)}, 8 * GiB)).toBe(300 * MiB);
	});

	it('ignores an empty or invalid value (the CLI rejects it before)', () => {
		expect(findMemoryLimit({[MEMORY_LIMIT_ENV]: ''}, 2 * GiB)).toBe(2 * GiB);
		expect(findMemoryLimit({[MEMORY_LIMIT_ENV]: 'lots'}, 2 * GiB)).toBe(2 * GiB);
	});
});

describe('parseMemorySize', () => {
	it('reads bytes and binary units in any case', () => {
		expect(parseMemorySize('512M')).toBe(512 * MiB);
		expect(parseMemorySize('512mib')).toBe(512 * MiB);
		expect(parseMemorySize('2G')).toBe(2 * GiB);
		expect(parseMemorySize('1.5GiB')).toBe(1.5 * GiB);
		expect(parseMemorySize(' 262144 K ')).toBe(256 * MiB);
		expect(parseMemorySize(String(200 * MiB))).toBe(200 * MiB);
	});

	it('rejects what is not a size, saying what is accepted', () => {
		expect(() => parseMemorySize('lots')).toThrow(/--max-memory: "lots" is not a memory size.*512M/);
		expect(() => parseMemorySize('12x')).toThrow(/not a memory size/);
		expect(() => parseMemorySize('-1G')).toThrow(/not a memory size/);
		expect(() => parseMemorySize('', 'CAIRN_MAX_MEMORY')).toThrow(/^CAIRN_MAX_MEMORY:/);
	});

	it('rejects a limit too small to run in', () => {
		expect(() => parseMemorySize('64M')).toThrow(/too little.*128M/);
		expect(parseMemorySize(`${MIN_MEMORY_LIMIT / MiB}M`)).toBe(MIN_MEMORY_LIMIT);
	});
});
