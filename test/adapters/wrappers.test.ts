import {describe, expect, it} from 'vitest';

import {createMemoryStorage} from '../../adapters/memory.js';
import {AuthError, NotFoundError, PermanentError, TransientError, type FileInfo, type Storage} from '../../adapters/storage.js';
import {
	failWith,
	withConcurrencyLimit,
	withDryRun,
	withFaults,
	withLatency,
	withLogging,
	withRetry,
	type RetryEvent,
} from '../../adapters/wrappers/index.js';
import {collect, makeRandomData, makeId, catchRejection, isSameBytes} from '../conformance/storage-suite.js';

const key = () => ({type: 'keys' as const, name: makeId()});

/** A created memory store holding one key file. */
async function storeWithKey(bytes = makeRandomData(64)) {
	const inner = createMemoryStorage();
	const handle = key();
	await inner.save(handle, bytes);
	return {inner, handle, bytes};
}

describe('withRetry', () => {
	it('retries a transient failure until it succeeds', async () => {
		const {inner, handle, bytes} = await storeWithKey();
		const faulty = withFaults(inner, [{method: 'load', call: [1, 2, 3], fault: failWith(TransientError)}]);
		const events: RetryEvent[] = [];
		const storage = withRetry(faulty, {retries: 5, baseDelayMs: 1, maxDelayMs: 4, onRetry: (event) => events.push(event)});
		expect(isSameBytes(await storage.load(handle), bytes)).toBe(true);
		expect(faulty.calls.load).toBe(4);
		expect(events.map((event) => event.attempt)).toEqual([1, 2, 3]);
		expect(events.every((event) => event.operation === 'load' && event.error instanceof TransientError)).toBe(true);
	});

	it('gives up after the configured retries with the last error', async () => {
		const {inner, handle} = await storeWithKey();
		const faulty = withFaults(inner, [{method: 'stat', fault: failWith(TransientError, {message: 'still down'})}]);
		const error = await catchRejection(withRetry(faulty, {retries: 2, baseDelayMs: 1}).stat(handle));
		expect(error).toBeInstanceOf(TransientError);
		expect((error as Error).message).toBe('still down');
		expect(faulty.calls.stat).toBe(3);
	});

	it.each([
		['permanent', PermanentError],
		['auth', AuthError],
		['not-found', NotFoundError],
	] as const)('does not retry a %s error', async (_, kind) => {
		const {inner, handle} = await storeWithKey();
		const faulty = withFaults(inner, [{method: 'save', call: 1, fault: failWith(kind)}]);
		const storage = withRetry(faulty, {retries: 5, baseDelayMs: 1});
		expect(await catchRejection(storage.save(handle, makeRandomData(3)))).toBeInstanceOf(kind);
		expect(faulty.calls.save).toBe(1);
	});

	it('grows the wait exponentially with jitter, up to the cap', async () => {
		const {inner, handle} = await storeWithKey();
		const faulty = withFaults(inner, [{method: 'load', call: [1, 2, 3, 4], fault: failWith(TransientError)}]);
		const delays: number[] = [];
		const storage = withRetry(faulty, {baseDelayMs: 4, maxDelayMs: 16, random: () => 1, onRetry: (event) => delays.push(event.delayMs)});
		await storage.load(handle);
		expect(delays).toEqual([4, 8, 16, 16]);
		const halves: number[] = [];
		const low = withRetry(withFaults(inner, [{method: 'load', call: [1, 2], fault: failWith(TransientError)}]), {baseDelayMs: 4, random: () => 0, onRetry: (event) => halves.push(event.delayMs)});
		await low.load(handle);
		expect(halves).toEqual([2, 4]);
	});

	it('stops waiting as soon as the signal aborts', async () => {
		const {inner, handle} = await storeWithKey();
		const faulty = withFaults(inner, [{method: 'load', fault: failWith(TransientError)}]);
		const storage = withRetry(faulty, {baseDelayMs: 60_000, maxDelayMs: 60_000});
		const controller = new AbortController();
		const started = Date.now();
		const loading = storage.load(handle, {signal: controller.signal});
		setTimeout(() => controller.abort(), 20);
		const error = await catchRejection(loading);
		expect((error as Error).name).toBe('AbortError');
		expect(Date.now() - started).toBeLessThan(5_000);
		expect(faulty.calls.load).toBe(1);
	});

	it('retries a listing only while nothing was yielded', async () => {
		const inner = createMemoryStorage();
		for (let i = 0; i < 3; i++) await inner.save(key(), makeRandomData(1));
		const early = withFaults(inner, [{method: 'list', call: 1, fault: failWith(TransientError)}]);
		expect(await collect(withRetry(early, {baseDelayMs: 1}).list('keys'))).toHaveLength(3);
		expect(early.calls.list).toBe(2);

		const late = withFaults(inner, [{method: 'list', call: 1, fault: failWith(TransientError, {afterItems: 2})}]);
		const seen: FileInfo[] = [];
		const error = await catchRejection(
			(async () => {
				for await (const info of withRetry(late, {baseDelayMs: 1}).list('keys')) seen.push(info);
			})(),
		);
		expect(error).toBeInstanceOf(TransientError);
		expect(seen).toHaveLength(2);
		expect(late.calls.list).toBe(1);
	});

	it('counts a remove as done when a retry finds the file gone', async () => {
		const {inner, handle} = await storeWithKey();
		const faulty = withFaults(inner, [{method: 'remove', call: 1, fault: failWith(TransientError, {after: true})}]);
		await withRetry(faulty, {baseDelayMs: 1}).remove(handle);
		expect(faulty.calls.remove).toBe(2);
		expect(await catchRejection(inner.stat(handle))).toBeInstanceOf(NotFoundError);
		expect(await catchRejection(withRetry(inner, {baseDelayMs: 1}).remove(handle))).toBeInstanceOf(NotFoundError);
	});
});

describe('withConcurrencyLimit', () => {
	/** A store that records how many calls run at once. */
	function measured(inner: Storage) {
		const stats = {active: 0, peak: 0};
		const slow = withLatency(inner, 5);
		const track = async <T>(run: () => Promise<T>) => {
			stats.active++;
			stats.peak = Math.max(stats.peak, stats.active);
			try {
				return await run();
			} finally {
				stats.active--;
			}
		};
		const storage: Storage = {
			...slow,
			save: (handle, data, options) => track(() => slow.save(handle, data, options)),
			load: (handle, options) => track(() => slow.load(handle, options)),
			stat: (handle, options) => track(() => slow.stat(handle, options)),
			remove: (handle, options) => track(() => slow.remove(handle, options)),
		};
		return {storage, stats};
	}

	it('runs at most n calls at once and still completes every one', async () => {
		const {storage, stats} = measured(createMemoryStorage());
		const runLimited = withConcurrencyLimit(storage, 3);
		const handles = Array.from({length: 20}, key);
		await Promise.all(handles.map((handle) => runLimited.save(handle, makeRandomData(4))));
		await Promise.all(handles.map((handle) => runLimited.stat(handle)));
		expect(stats.peak).toBe(3);
		expect(await collect(runLimited.list('keys'))).toHaveLength(20);
		expect(runLimited.capabilities.concurrency).toBe(3);
	});

	it('lets a waiting call give up when its signal aborts', async () => {
		const {storage} = measured(createMemoryStorage());
		const runLimited = withConcurrencyLimit(storage, 1);
		const first = runLimited.save(key(), makeRandomData(1));
		const controller = new AbortController();
		const waiting = runLimited.save(key(), makeRandomData(1), {signal: controller.signal});
		controller.abort();
		expect(((await catchRejection(waiting)) as Error).name).toBe('AbortError');
		await first;
		expect(await collect(runLimited.list('keys'))).toHaveLength(1);
		expect(() => withConcurrencyLimit(storage, 0)).toThrow(RangeError);
	});
});

describe('withLogging', () => {
	it('logs operation, file and duration, never the data', async () => {
		const lines: string[] = [];
		const storage = withLogging(createMemoryStorage({location: 'memory:log'}), (line) => lines.push(line));
		const handle = key();
		const secret = new TextEncoder().encode('SECRET-CONTENT');
		await storage.create();
		await storage.save(handle, secret);
		await storage.load(handle, {offset: 2, length: 3});
		await catchRejection(storage.stat(key()));
		await collect(storage.list('keys'));
		expect(lines[0]).toMatch(/^create memory:log: ok in \d+ ms$/);
		expect(lines[1]).toMatch(new RegExp(`^save keys/${handle.name} 14 bytes: ok in \\d+ ms$`));
		expect(lines[2]).toMatch(/^load keys\/[0-9a-f]{64} \[offset 2, length 3\]: ok, 3 bytes in \d+ ms$/);
		expect(lines[3]).toMatch(/^stat keys\/[0-9a-f]{64}: NotFoundError: .* in \d+ ms$/);
		expect(lines[4]).toMatch(/^list keys: ok, 1 files in \d+ ms$/);
		expect(lines.join('\n')).not.toContain('SECRET');
	});
});

describe('withDryRun', () => {
	it('skips writes, says what it would do and passes reads through', async () => {
		const {inner, handle, bytes} = await storeWithKey();
		const lines: string[] = [];
		const storage = withDryRun(inner, (line) => lines.push(line));
		const other = key();
		await storage.create();
		await storage.save(other, makeRandomData(10));
		await storage.remove(handle);
		expect(lines).toEqual([`would create a repository at ${inner.location}`, `would save keys/${other.name} (10 bytes)`, `would remove keys/${handle.name}`]);
		expect(isSameBytes(await storage.load(handle), bytes)).toBe(true);
		expect(await storage.stat(handle)).toMatchObject({size: 64});
		expect((await collect(storage.list('keys'))).map((info) => info.name)).toEqual([handle.name]);
		expect(await catchRejection(inner.stat(other))).toBeInstanceOf(NotFoundError);
	});
});

describe('withLatency', () => {
	it('delays each call and can be aborted while waiting', async () => {
		const {inner, handle} = await storeWithKey();
		const storage = withLatency(inner, 30);
		const started = performance.now();
		await storage.stat(handle);
		expect(performance.now() - started).toBeGreaterThanOrEqual(25);
		const controller = new AbortController();
		const loading = storage.load(handle, {signal: controller.signal});
		controller.abort();
		expect(((await catchRejection(loading)) as Error).name).toBe('AbortError');
	});
});

describe('withFaults', () => {
	it('fails the Nth call of a method with the given class, optionally only for a type', async () => {
		const {inner, handle} = await storeWithKey();
		const storage = withFaults(inner, [
			{method: 'stat', call: 2, fault: failWith(AuthError)},
			{method: 'save', type: 'data', fault: failWith(new PermanentError('refused'))},
		]);
		await storage.stat(handle);
		const error = await catchRejection(storage.stat(handle));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toBe(`injected fault: stat call 2 on keys/${handle.name}`);
		await storage.stat(handle);
		expect(((await catchRejection(storage.save({type: 'data', name: makeId()}, makeRandomData(1)))) as Error).message).toBe('refused');
		await storage.save(key(), makeRandomData(1));
		expect(storage.calls).toMatchObject({stat: 3, save: 2});
		expect(storage.injected).toEqual([`stat #2 keys/${handle.name}: fail`, expect.stringMatching(/^save #1 data\//)]);
	});

	it('truncates or corrupts loads', async () => {
		const {inner, handle, bytes} = await storeWithKey();
		const storage = withFaults(inner, [
			{method: 'load', call: 1, fault: {kind: 'truncate', keepBytes: 10}},
			{method: 'load', call: 2, fault: {kind: 'corrupt', offset: 5}},
		]);
		expect(isSameBytes(await storage.load(handle), bytes.subarray(0, 10))).toBe(true);
		const corrupted = await storage.load(handle);
		expect(corrupted[5]).toBe(bytes[5]! ^ 0xff);
		expect(isSameBytes(corrupted.subarray(6), bytes.subarray(6))).toBe(true);
		expect(isSameBytes(await storage.load(handle), bytes)).toBe(true);
		expect(isSameBytes(await inner.load(handle), bytes)).toBe(true);
	});

	it('can fail after the inner call took effect, and reads rules added later', async () => {
		const inner = createMemoryStorage();
		const script: Parameters<typeof withFaults>[1] = [];
		const storage = withFaults(inner, script);
		const handle = key();
		script.push({method: 'save', fault: failWith(TransientError, {after: true})});
		expect(await catchRejection(storage.save(handle, makeRandomData(5)))).toBeInstanceOf(TransientError);
		expect(await inner.stat(handle)).toMatchObject({size: 5});
		script.push({method: 'stat', fault: {kind: 'truncate', keepBytes: 1}});
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(TypeError);
	});
});
