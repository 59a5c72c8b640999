/**
 * The counting semaphore (engine/util/concurrency.ts): slots, waiters in order, and slots added
 * later (the chunk worker pool's second pack store once storage turns out slow).
 */
import {describe, expect, it} from 'vitest';
import {Semaphore} from '../../../engine/util/concurrency.js';

/** Lets queued promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
	it('holds acquirers beyond its slots until one is released, in order', async () => {
		const slots = new Semaphore(1);
		const order: string[] = [];
		const first = await slots.acquire();
		const second = slots.acquire().then((release) => (order.push('second'), release));
		const third = slots.acquire().then((release) => (order.push('third'), release));
		await settle();
		expect(order).toEqual([]);
		first();
		first(); // a second call releases nothing more
		await settle();
		expect(order).toEqual(['second']);
		(await second)();
		await settle();
		expect(order).toEqual(['second', 'third']);
		(await third)();
	});

	it('hands added slots to waiters first, then keeps the rest free', async () => {
		const slots = new Semaphore(1);
		const held = await slots.acquire();
		let woken = 0;
		const waiter = slots.acquire().then((release) => (woken++, release));
		await settle();
		expect(woken).toBe(0);
		slots.addSlots(2);
		await settle();
		expect(woken).toBe(1);
		// One added slot went to the waiter; the other is free now, without waiting.
		let immediate = false;
		const extra = slots.acquire().then((release) => ((immediate = true), release));
		await settle();
		expect(immediate).toBe(true);
		// Three slots in all: a fourth acquirer waits until one is released.
		let fourth = false;
		const last = slots.acquire().then((release) => ((fourth = true), release));
		await settle();
		expect(fourth).toBe(false);
		held();
		await settle();
		expect(fourth).toBe(true);
		for (const release of await Promise.all([waiter, extra, last])) release();
	});
});
