/**
 * The object-store core on its own: an ObjectClient over a Map (the smallest client that keeps
 * the contract of adapters/object-store/client.ts) passes the shared conformance suite through
 * ObjectStore, in both layouts; the core's own duties (prefix, `.storageconfig` classes, error
 * hook, connect once) are checked against what the client was asked.
 */
import {describe, expect, it} from 'vitest';

import {FLAT_LAYOUT, ObjectStore, RangeNotSatisfiableError, type ObjectClient, type ObjectErrorContext, type ObjectInfo, type ObjectLayout, type PutOptions} from '../../adapters/object-store/index.js';
import {AuthError, NotFoundError, PermanentError, TransientError, throwIfAborted} from '../../adapters/storage.js';
import {declareUrlStore, readUrlStore} from '../../adapters/shared/option-blocks.js';
import {catchRejection, collect, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';

/** An error as an SDK would throw it: a status, no storage class. */
class FakeSdkError extends Error {
	constructor(readonly status: number) {
		super(`HTTP ${status}`);
	}
}

/** Objects in a Map; records the calls and the classes of puts; `failNext` makes the next call throw an SDK error. */
class MapClient implements ObjectClient {
	readonly objects = new Map<string, {data: Uint8Array; storageClass?: string}>();
	readonly calls: string[] = [];
	readonly contexts: ObjectErrorContext[] = [];
	failNext: number | undefined;
	connects = 0;

	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		this.step('put', key, options.signal);
		this.objects.set(key, {data: data.slice(), ...(options.storageClass === undefined ? {} : {storageClass: options.storageClass})});
	}

	async get(key: string, range: {offset: number; length?: number} | undefined, options: {signal?: AbortSignal}): Promise<Uint8Array> {
		const data = this.find(key, 'get', options.signal).data;
		if (range === undefined) return data.slice();
		if (range.offset >= data.byteLength) throw new RangeNotSatisfiableError();
		return data.slice(range.offset, range.length === undefined ? undefined : range.offset + range.length);
	}

	async head(key: string, options: {signal?: AbortSignal}): Promise<ObjectInfo> {
		return {key, size: this.find(key, 'head', options.signal).data.byteLength};
	}

	async *list(prefix: string, options: {signal?: AbortSignal; limit?: number}): AsyncIterable<ObjectInfo> {
		this.step('list', prefix, options.signal);
		for (const [key, object] of [...this.objects].slice(0, options.limit)) {
			if (key.startsWith(prefix)) yield {key, size: object.data.byteLength};
		}
	}

	async delete(key: string, options: {signal?: AbortSignal}): Promise<void> {
		this.find(key, 'delete', options.signal);
		this.objects.delete(key);
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		this.contexts.push(context);
		const status = (error as FakeSdkError).status;
		const what = `cannot ${context.operation} ${context.path ?? context.key ?? 'the store'}`;
		if (status === 404) return new NotFoundError(`${what}: it does not exist`, {cause: error});
		if (status === 403) return new AuthError(`${what}: access denied`, {cause: error});
		if (status >= 500) return new TransientError(`${what}: HTTP ${status}`, {cause: error});
		return new PermanentError(`${what}: HTTP ${status}`, {cause: error});
	}

	async connect(): Promise<void> {
		this.connects++;
	}

	private find(key: string, call: string, signal?: AbortSignal): {data: Uint8Array} {
		this.step(call, key, signal);
		const object = this.objects.get(key);
		if (object === undefined) throw new FakeSdkError(404);
		return object;
	}

	private step(call: string, key: string, signal?: AbortSignal): void {
		throwIfAborted(signal);
		this.calls.push(`${call} ${key}`);
		if (this.failNext !== undefined) {
			const status = this.failNext;
			this.failNext = undefined;
			throw new FakeSdkError(status);
		}
	}
}

function openStore(client = new MapClient(), layout?: ObjectLayout, prefix = 'backups/laptop') {
	const storage = new ObjectStore(client, {
		location: `map:${prefix}`,
		prefix,
		capabilities: {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: 4},
		...(layout === undefined ? {} : {layout}),
		storageClasses: {classes: ['HOT', 'COLD'], coldClasses: [], defaultClass: 'hot', resolveClass: (storageClass) => storageClass.toUpperCase()},
	});
	return {storage, client};
}

runStorageConformance('object-store core (Map client, restic layout)', async () => ({storage: openStore().storage}));
runStorageConformance('object-store core (Map client, flat layout)', async () => ({storage: openStore(new MapClient(), FLAT_LAYOUT, '').storage}));

describe('object-store core', () => {
	it('puts every file under the prefix in the layout asked for', async () => {
		const id = makeId('ab');
		const restic = openStore();
		await restic.storage.save({type: 'data', name: id}, makeRandomData(3));
		await restic.storage.save({type: 'config', name: ''}, makeRandomData(3));
		expect([...restic.client.objects.keys()].sort()).toEqual(['backups/laptop/config', `backups/laptop/data/ab/${id}`]);
		const flat = openStore(new MapClient(), FLAT_LAYOUT, '');
		await flat.storage.save({type: 'data', name: id}, makeRandomData(3));
		expect([...flat.client.objects.keys()]).toEqual([`data/${id}`]);
	});

	it('gives each upload the class of .storageconfig, else the default, through resolveClass', async () => {
		const {storage, client} = openStore();
		await storage.storageConfig!.write(new TextEncoder().encode('{"blobOptions":[{"prefix":"data/","storageClass":"cold"}]}'));
		const pack = makeId();
		const key = makeId();
		await storage.save({type: 'data', name: pack}, makeRandomData(5));
		await storage.save({type: 'keys', name: key}, makeRandomData(5));
		expect(client.objects.get(`backups/laptop/data/${pack.slice(0, 2)}/${pack}`)?.storageClass).toBe('COLD');
		expect(client.objects.get(`backups/laptop/keys/${key}`)?.storageClass).toBe('HOT');
		// The file itself has no class and does not make the location a repository.
		expect(client.objects.get('backups/laptop/.storageconfig')?.storageClass).toBeUndefined();
		await storage.storageConfig!.write(undefined);
		expect(await storage.storageConfig!.read()).toBeUndefined();
	});

	it('maps client failures through mapError with the operation, key, path and handle, once each', async () => {
		const {storage, client} = openStore();
		const handle = {type: 'snapshots' as const, name: makeId()};
		await storage.save(handle, makeRandomData(4));
		client.failNext = 503;
		const error = await catchRejection(storage.load(handle, {offset: 1, length: 2}));
		expect(error).toBeInstanceOf(TransientError);
		expect(client.contexts.at(-1)).toEqual({operation: 'load', key: `backups/laptop/snapshots/${handle.name}`, path: `snapshots/${handle.name}`, handle});
		client.failNext = 403;
		expect(await catchRejection(collect(storage.list('snapshots')))).toBeInstanceOf(AuthError);
		expect(client.contexts.at(-1)).toEqual({operation: 'list', key: 'backups/laptop/snapshots/'});
	});

	it('connects once, and not again after close refuses work', async () => {
		const {storage, client} = openStore();
		await storage.stat({type: 'config', name: ''}).catch(() => undefined);
		await collect(storage.list('keys'));
		expect(client.connects).toBe(1);
		await storage.close();
		expect(await catchRejection(storage.stat({type: 'config', name: ''}))).toBeInstanceOf(PermanentError);
		expect(client.connects).toBe(1);
	});
});

describe('option blocks', () => {
	it('keeps the password of a URL store out of the location it writes back', () => {
		const syntax = declareUrlStore({
			url: {label: 'URL', description: 'where', placeholder: 'https://h/'},
			username: {description: 'user', env: ['X_USER']},
			password: {description: 'password', env: ['X_PASSWORD']},
		});
		expect(syntax.options.map((option) => [option.name, option.secret === true])).toEqual([['url', false], ['username', false], ['password', true], ['connections', false]]);
		const values = syntax.parseLocation('https://me:s3cret@host.example:8000/repo');
		expect(values).toEqual({url: 'https://host.example:8000/repo/', username: 'me', password: 's3cret'});
		expect(syntax.formatLocation(values)).toBe('https://me@host.example:8000/repo/');
		expect(readUrlStore({url: 'https://a:b@h.example/x', password: 'given'}, 'no URL')).toEqual({base: 'https://h.example/x/', username: 'a', password: 'given', connections: 5});
		expect(() => readUrlStore({}, 'the adapter needs a URL')).toThrow(/needs a URL/);
	});
});
