/**
 * A cap on the number of storage requests running at once.
 */

import {throwIfAborted, type Storage} from '../storage.js';

/** A counting semaphore whose waiters can give up through an AbortSignal. */
class Semaphore {
	private active = 0;
	private readonly waiting: Array<() => void> = [];

	constructor(private readonly limit: number) {}

	/** Resolves once a slot is held; rejects with the signal's reason if aborted while waiting. */
	async acquire(signal?: AbortSignal): Promise<void> {
		throwIfAborted(signal);
		if (this.active < this.limit) {
			this.active++;
			return;
		}
		await new Promise<void>((resolve, reject) => {
			const onAbort = () => {
				const index = this.waiting.indexOf(grant);
				if (index >= 0) this.waiting.splice(index, 1);
				try {
					throwIfAborted(signal);
				} catch (error) {
					reject(error);
				}
			};
			const grant = () => {
				signal?.removeEventListener('abort', onAbort);
				resolve();
			};
			this.waiting.push(grant);
			signal?.addEventListener('abort', onAbort, {once: true});
		});
	}

	/** Hands the slot to the next waiter, or frees it. */
	release(): void {
		const next = this.waiting.shift();
		if (next === undefined) this.active--;
		else next();
	}
}

/**
 * Wraps a Storage so that at most `limit` of `save`, `load`, `stat` and `remove` run at once;
 * further calls wait in order. `list`, `create` and `close` are not limited (a long listing
 * would otherwise hold a slot while its consumer makes other calls). An abort while waiting
 * rejects at once. The reported `capabilities.concurrency` becomes the smaller of the two.
 */
export function withConcurrencyLimit(storage: Storage, limit: number): Storage {
	if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a whole number of at least 1, not ${limit}`);
	const semaphore = new Semaphore(limit);

	/** Runs `run` while holding a slot. */
	const runLimited = async <T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> => {
		await semaphore.acquire(signal);
		try {
			return await run();
		} finally {
			semaphore.release();
		}
	};

	return {
		location: storage.location,
		capabilities: {...storage.capabilities, concurrency: Math.min(limit, storage.capabilities.concurrency)},
		create: (operation) => storage.create(operation),
		save: (handle, data, operation) => runLimited(operation?.signal, () => storage.save(handle, data, operation)),
		load: (handle, operation) => runLimited(operation?.signal, () => storage.load(handle, operation)),
		stat: (handle, operation) => runLimited(operation?.signal, () => storage.stat(handle, operation)),
		remove: (handle, operation) => runLimited(operation?.signal, () => storage.remove(handle, operation)),
		list: (type, operation) => storage.list(type, operation),
		close: () => storage.close(),
	};
}
