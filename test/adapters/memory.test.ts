import {describe, expect, it} from 'vitest';

import {createMemoryStorage} from '../../adapters/memory.js';
import {PermanentError} from '../../adapters/storage.js';
import {makeId, catchRejection, runStorageConformance} from '../conformance/storage-suite.js';

runStorageConformance('memory', async () => ({storage: createMemoryStorage()}));

describe('memory storage', () => {
	it('copies bytes on save and on load', async () => {
		const storage = createMemoryStorage();
		const handle = {type: 'keys' as const, name: makeId()};
		const data = new Uint8Array([1, 2, 3]);
		await storage.save(handle, data);
		data[0] = 99;
		const loaded = await storage.load(handle);
		expect([...loaded]).toEqual([1, 2, 3]);
		loaded[1] = 99;
		expect([...(await storage.load(handle))]).toEqual([1, 2, 3]);
	});

	it('reports its location and capability overrides', () => {
		const storage = createMemoryStorage({location: 'memory:test', capabilities: {mayRefuseDelete: true, concurrency: 3}});
		expect(storage.location).toBe('memory:test');
		expect(storage.capabilities).toEqual({atomicSave: true, rangedLoad: true, mayRefuseDelete: true, concurrency: 3});
		expect(createMemoryStorage().location).not.toBe(createMemoryStorage().location);
	});

	it('refuses calls after close', async () => {
		const storage = createMemoryStorage();
		await storage.close();
		expect(await catchRejection(storage.stat({type: 'config', name: ''}))).toBeInstanceOf(PermanentError);
	});
});
