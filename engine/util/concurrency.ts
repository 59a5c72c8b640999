/**
 * Small helpers for bounded concurrency.
 */

/** Runs `fn` over items with at most `limit` calls in flight; results keep input order. Rejects on the first error. */
export async function mapConcurrent<T, R>(items: Iterable<T>, limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const list = [...items];
	const results = new Array<R>(list.length);
	let next = 0;
	let failed = false;
	async function runWorker(): Promise<void> {
		while (!failed && next < list.length) {
			const index = next++;
			try {
				results[index] = await fn(list[index]!, index);
			} catch (error) {
				failed = true;
				throw error;
			}
		}
	}
	await Promise.all(Array.from({length: Math.max(1, Math.min(limit, list.length))}, runWorker));
	return results;
}

/** A counting semaphore. */
export class Semaphore {
	private available: number;
	private readonly waiters: Array<() => void> = [];

	constructor(count: number) {
		this.available = count;
	}

	/** Waits for a slot; call the returned function to release it. */
	async acquire(): Promise<() => void> {
		if (this.available > 0) {
			this.available--;
		} else {
			await new Promise<void>((resolve) => this.waiters.push(resolve));
		}
		let released = false;
		return () => {
			if (released) return;
			released = true;
			const waiter = this.waiters.shift();
			if (waiter) waiter();
			else this.available++;
		};
	}

	/** Adds `count` slots for good, handing them to waiters first. */
	addSlots(count: number): void {
		for (let i = 0; i < count; i++) {
			const waiter = this.waiters.shift();
			if (waiter) waiter();
			else this.available++;
		}
	}

	/** Runs fn while holding a slot. */
	async run<T>(fn: () => Promise<T>): Promise<T> {
		const release = await this.acquire();
		try {
			return await fn();
		} finally {
			release();
		}
	}
}
