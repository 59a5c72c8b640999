/**
 * The shared conformance suite: every Storage adapter must pass it. An adapter's test file calls
 * {@link runStorageConformance} with a factory that returns a fresh, empty, not yet created store.
 *
 * Beyond adapters/storage.ts, the suite pins down these choices:
 * - `load` with `length: 0` returns no bytes; `offset` equal to the size returns no bytes;
 *   a range that starts or ends past the end rejects with PermanentError.
 * - `list('config')` yields the config file once, named `''`.
 * - Names other than 64 lowercase hex characters (for types other than config) are refused
 *   with PermanentError, so no name can reach outside its folder.
 * - An already-aborted signal rejects with an error named `AbortError` and changes nothing.
 */

import {createHash, randomBytes} from 'node:crypto';

import {afterEach, beforeEach, describe, expect, it} from 'vitest';

import {AlreadyExistsError, NotFoundError, PermanentError, type FileHandle, type FileInfo, type FileType, type Storage} from '../../adapters/storage.js';

/** What the factory of {@link runStorageConformance} returns. */
export interface StorageUnderTest {
	readonly storage: Storage;
	/** Removes whatever the store left behind (temporary directories, buckets). */
	readonly cleanup?: () => Promise<void>;
}

const MiB = 1024 * 1024;

/** A random 64-hex ID, optionally with a chosen first two characters. */
export function makeId(prefix = ''): string {
	return prefix + randomBytes(32).toString('hex').slice(prefix.length);
}

/** A deterministic 64-hex ID from a seed. */
export function hashId(seed: string): string {
	return createHash('sha256').update(seed).digest('hex');
}

/** `n` random bytes. */
export function makeRandomData(n: number): Uint8Array {
	return new Uint8Array(randomBytes(n));
}

/** Every item of a listing. */
export async function collect(listing: AsyncIterable<FileInfo>): Promise<FileInfo[]> {
	const items: FileInfo[] = [];
	for await (const item of listing) items.push(item);
	return items;
}

/** Byte-for-byte equality, fast for large arrays. */
export function isSameBytes(a: Uint8Array, b: Uint8Array): boolean {
	return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** The error a promise rejects with, or undefined when it resolves. */
export async function catchRejection(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => undefined,
		(error: unknown) => error,
	);
}

/** Names of a listing, sorted. */
async function listNames(storage: Storage, type: FileType): Promise<string[]> {
	return (await collect(storage.list(type))).map((info) => info.name).sort();
}

/** An already-aborted signal. */
function makeAbortedSignal(): AbortSignal {
	const controller = new AbortController();
	controller.abort();
	return controller.signal;
}

/** Defines the conformance tests for one adapter. */
export function runStorageConformance(name: string, makeStorage: () => Promise<StorageUnderTest>): void {
	describe(`${name} conformance`, () => {
		let storage: Storage;
		let cleanup: (() => Promise<void>) | undefined;

		beforeEach(async () => {
			const made = await makeStorage();
			storage = made.storage;
			cleanup = made.cleanup;
		});

		afterEach(async () => {
			await storage.close();
			await cleanup?.();
		});

		describe('create', () => {
			it('creates on an empty location and refuses once the location holds a file', async () => {
				await storage.create();
				expect(await listNames(storage, 'keys')).toEqual([]);
				await storage.save({type: 'config', name: ''}, makeRandomData(10));
				const error = await catchRejection(storage.create());
				expect(error).toBeInstanceOf(AlreadyExistsError);
				expect((error as Error).message).toMatch(/empty|new/);
				expect(await storage.stat({type: 'config', name: ''})).toMatchObject({size: 10});
			});

			it('leaves every type empty', async () => {
				await storage.create();
				for (const type of ['config', 'keys', 'locks', 'snapshots', 'index', 'data'] as const) {
					expect(await listNames(storage, type)).toEqual([]);
				}
			});
		});

		describe('with a created repository', () => {
			beforeEach(async () => {
				await storage.create();
			});

			it('loads exactly the bytes saved, for every type', async () => {
				const config = makeRandomData(155);
				await storage.save({type: 'config', name: ''}, config);
				expect(isSameBytes(await storage.load({type: 'config', name: ''}), config)).toBe(true);
				for (const type of ['keys', 'locks', 'snapshots', 'index', 'data'] as const) {
					const handle = {type, name: makeId()};
					const data = makeRandomData(1000 + Math.floor(Math.random() * 1000));
					await storage.save(handle, data);
					const loaded = await storage.load(handle);
					expect(loaded.byteLength).toBe(data.byteLength);
					expect(isSameBytes(loaded, data)).toBe(true);
				}
			});

			it('saves and loads an empty file', async () => {
				const handle = {type: 'locks' as const, name: makeId()};
				await storage.save(handle, new Uint8Array(0));
				expect((await storage.load(handle)).byteLength).toBe(0);
				expect(await storage.stat(handle)).toEqual({name: handle.name, size: 0});
			});

			it('loads ranges at the start, middle and end', async () => {
				const handle = {type: 'data' as const, name: makeId()};
				const data = makeRandomData(4096);
				await storage.save(handle, data);
				const cases: Array<[number | undefined, number | undefined, number, number]> = [
					// offset, length, expected start, expected end
					[0, 10, 0, 10],
					[undefined, 100, 0, 100],
					[1000, 500, 1000, 1500],
					[4086, 10, 4086, 4096],
					[4000, undefined, 4000, 4096],
					[0, 4096, 0, 4096],
					[2048, 0, 2048, 2048],
					[4096, undefined, 4096, 4096],
					[4096, 0, 4096, 4096],
				];
				for (const [offset, length, start, end] of cases) {
					const loaded = await storage.load(handle, {offset, length});
					expect(loaded.byteLength, `offset ${offset} length ${length}`).toBe(end - start);
					expect(isSameBytes(loaded, data.subarray(start, end)), `offset ${offset} length ${length}`).toBe(true);
				}
			});

			it('rejects a range past the end with PermanentError', async () => {
				const handle = {type: 'data' as const, name: makeId()};
				await storage.save(handle, makeRandomData(100));
				for (const range of [{offset: 90, length: 11}, {offset: 101}, {offset: 200, length: 1}, {offset: 0, length: 101}]) {
					const error = await catchRejection(storage.load(handle, range));
					expect(error, JSON.stringify(range)).toBeInstanceOf(PermanentError);
				}
			});

			it('rejects a load of a missing file with NotFoundError', async () => {
				expect(await catchRejection(storage.load({type: 'keys', name: makeId()}))).toBeInstanceOf(NotFoundError);
				expect(await catchRejection(storage.load({type: 'data', name: makeId()}, {offset: 0, length: 1}))).toBeInstanceOf(NotFoundError);
				expect(await catchRejection(storage.load({type: 'config', name: ''}))).toBeInstanceOf(NotFoundError);
			});

			it('stats the size, and rejects a missing file with NotFoundError', async () => {
				const handle = {type: 'index' as const, name: makeId()};
				await storage.save(handle, makeRandomData(1234));
				expect(await storage.stat(handle)).toEqual({name: handle.name, size: 1234});
				expect(await catchRejection(storage.stat({type: 'index', name: makeId()}))).toBeInstanceOf(NotFoundError);
				expect(await catchRejection(storage.stat({type: 'config', name: ''}))).toBeInstanceOf(NotFoundError);
			});

			it('lists only the requested type, data across its sub-directories, and config once', async () => {
				const saved: Record<string, string[]> = {keys: [], snapshots: [], index: [], data: []};
				for (const prefix of ['00', '3c', 'ab', 'ff', 'ab']) saved['data']!.push(makeId(prefix));
				saved['keys']!.push(makeId());
				saved['snapshots']!.push(makeId(), makeId());
				saved['index']!.push(makeId());
				for (const [type, names] of Object.entries(saved)) {
					for (const name of names) await storage.save({type: type as FileType, name}, makeRandomData(name.charCodeAt(0) + 10));
				}
				await storage.save({type: 'config', name: ''}, makeRandomData(42));

				for (const [type, names] of Object.entries(saved)) {
					const listed = await collect(storage.list(type as FileType));
					expect(listed.map((info) => info.name).sort(), type).toEqual([...names].sort());
					for (const info of listed) expect(info.size).toBe(info.name.charCodeAt(0) + 10);
				}
				expect(await collect(storage.list('config'))).toEqual([{name: '', size: 42}]);
				expect(await listNames(storage, 'locks')).toEqual([]);
			});

			it('yields nothing when listing an empty type', async () => {
				await storage.save({type: 'keys', name: makeId()}, makeRandomData(5));
				expect(await collect(storage.list('locks'))).toEqual([]);
				expect(await collect(storage.list('data'))).toEqual([]);
				expect(await collect(storage.list('config'))).toEqual([]);
			});

			it('removes files: later loads, stats and listings miss them', async () => {
				const handle = {type: 'snapshots' as const, name: makeId()};
				const kept = {type: 'snapshots' as const, name: makeId()};
				await storage.save(handle, makeRandomData(10));
				await storage.save(kept, makeRandomData(10));
				await storage.remove(handle);
				expect(await catchRejection(storage.load(handle))).toBeInstanceOf(NotFoundError);
				expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
				expect(await listNames(storage, 'snapshots')).toEqual([kept.name]);
				const data = {type: 'data' as const, name: makeId()};
				await storage.save(data, makeRandomData(10));
				await storage.remove(data);
				expect(await listNames(storage, 'data')).toEqual([]);
			});

			it('rejects a remove of a missing file with NotFoundError', async () => {
				expect(await catchRejection(storage.remove({type: 'locks', name: makeId()}))).toBeInstanceOf(NotFoundError);
				expect(await catchRejection(storage.remove({type: 'data', name: makeId()}))).toBeInstanceOf(NotFoundError);
			});

			it('replaces a file saved twice: the second content wins and it is listed once', async () => {
				const handle = {type: 'locks' as const, name: makeId()};
				await storage.save(handle, makeRandomData(300));
				const second = makeRandomData(200);
				await storage.save(handle, second);
				expect(isSameBytes(await storage.load(handle), second)).toBe(true);
				expect(await collect(storage.list('locks'))).toEqual([{name: handle.name, size: 200}]);
				const config = makeRandomData(7);
				await storage.save({type: 'config', name: ''}, makeRandomData(9));
				await storage.save({type: 'config', name: ''}, config);
				expect(isSameBytes(await storage.load({type: 'config', name: ''}), config)).toBe(true);
			});

			it('refuses names that are not 64-hex IDs, so nothing is written outside its folder', async () => {
				const bad = ['', 'abc', '../config', `../keys/${hashId('x')}`, hashId('x').toUpperCase(), `${hashId('x').slice(0, 62)}/.`, `${hashId('x')}0`];
				for (const name of bad) {
					expect(await catchRejection(storage.save({type: 'keys', name}, makeRandomData(1))), name).toBeInstanceOf(PermanentError);
					expect(await catchRejection(storage.load({type: 'data', name})), name).toBeInstanceOf(PermanentError);
				}
				expect(await collect(storage.list('config'))).toEqual([]);
				expect(await collect(storage.list('keys'))).toEqual([]);
			});

			it.each([20, 40])('saves and loads a %i MiB file byte for byte, with a ranged read in the middle', async (mib) => {
				const handle = {type: 'data' as const, name: makeId()};
				const data = makeRandomData(mib * MiB);
				await storage.save(handle, data);
				expect(await storage.stat(handle)).toEqual({name: handle.name, size: data.byteLength});
				const loaded = await storage.load(handle);
				expect(loaded.byteLength).toBe(data.byteLength);
				expect(isSameBytes(loaded, data)).toBe(true);
				const offset = Math.floor(data.byteLength / 2) - 12345;
				const slice = await storage.load(handle, {offset, length: 3 * MiB + 7});
				expect(isSameBytes(slice, data.subarray(offset, offset + 3 * MiB + 7))).toBe(true);
			});

			it('rejects operations with an already-aborted signal and leaves no file', async () => {
				const handle = {type: 'data' as const, name: makeId()};
				const signal = makeAbortedSignal();
				expect(((await catchRejection(storage.save(handle, makeRandomData(100), {signal}))) as Error | undefined)?.name).toBe('AbortError');
				expect(await collect(storage.list('data'))).toEqual([]);
				expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);

				await storage.save(handle, makeRandomData(100));
				expect(((await catchRejection(storage.load(handle, {signal}))) as Error | undefined)?.name).toBe('AbortError');
				expect(((await catchRejection(storage.remove(handle, {signal}))) as Error | undefined)?.name).toBe('AbortError');
				expect(await storage.stat(handle)).toMatchObject({size: 100});
			});

			it('leaves either no file or the whole file when a large save is aborted midway', async () => {
				const handle = {type: 'data' as const, name: makeId()};
				const data = makeRandomData(40 * MiB);
				const controller = new AbortController();
				const saving = storage.save(handle, data, {signal: controller.signal});
				await new Promise((resolve) => setImmediate(resolve));
				controller.abort();
				const error = await catchRejection(saving);
				if (error !== undefined) expect((error as Error).name).toBe('AbortError');

				const listed = await collect(storage.list('data'));
				expect(listed.length).toBeLessThanOrEqual(1);
				if (listed.length === 1) {
					expect(listed[0]).toEqual({name: handle.name, size: data.byteLength});
					expect(isSameBytes(await storage.load(handle), data)).toBe(true);
				} else {
					expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
				}

				// The store is still usable and the name can be saved afterwards.
				await storage.save(handle, data.subarray(0, 1000));
				expect(await collect(storage.list('data'))).toEqual([{name: handle.name, size: 1000}]);
			});

			it('keeps every one of 32 concurrent saves', async () => {
				const handles: FileHandle[] = Array.from({length: 32}, (_, index) => ({type: index % 2 === 0 ? 'data' : 'index', name: makeId()}));
				await Promise.all(handles.map((handle, index) => storage.save(handle, makeRandomData(100 + index))));
				const listed = [...(await collect(storage.list('data'))), ...(await collect(storage.list('index')))];
				expect(listed.map((info) => info.name).sort()).toEqual(handles.map((handle) => handle.name).sort());
				for (const [index, handle] of handles.entries()) {
					expect(listed.find((info) => info.name === handle.name)?.size).toBe(100 + index);
				}
			});
		});
	});
}
