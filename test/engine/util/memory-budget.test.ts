import * as os from 'node:os';
import {describe, expect, it} from 'vitest';
import {findMemoryBudget, SMALL_MACHINE_BYTES} from '../../../engine/util/memory-budget.js';

describe('findMemoryBudget', () => {
	it('gives chunk workers one pack buffer on small machines and two otherwise', () => {
		expect(findMemoryBudget(1024 ** 3).packBuffersPerWorker).toBe(1);
		expect(findMemoryBudget(SMALL_MACHINE_BYTES - 1).packBuffersPerWorker).toBe(1);
		expect(findMemoryBudget(SMALL_MACHINE_BYTES).packBuffersPerWorker).toBe(2);
	});

	it('follows this machine\'s RAM by default', () => {
		expect(findMemoryBudget()).toEqual(findMemoryBudget(os.totalmem()));
	});
});
