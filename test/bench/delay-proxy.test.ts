/**
 * bench/delay-proxy.ts: bytes pass unchanged and in order in both directions, each direction is
 * delayed by the latency asked for, and an end passes through after the data before it.
 */
import {createHash, randomBytes} from 'node:crypto';
import * as net from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {startDelayProxy, type DelayProxy} from '../../bench/delay-proxy.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
	while (cleanups.length > 0) await cleanups.pop()!();
});

/** A server on a free loopback port that answers each connection with `handle`. */
async function startServer(handle: (socket: net.Socket) => void): Promise<number> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		handle(socket);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	cleanups.push(() => new Promise<void>((resolve) => {
		for (const socket of sockets) socket.destroy();
		server.close(() => resolve());
	}));
	return (server.address() as net.AddressInfo).port;
}

async function startProxy(port: number, latencyMs: number): Promise<DelayProxy> {
	const proxy = await startDelayProxy({targetHost: '127.0.0.1', targetPort: port, latencyMs});
	cleanups.push(() => proxy.close());
	return proxy;
}

/** Sends `chunks` (one write each, `gapMs` apart) to the proxy, ends, and collects the whole answer. */
async function exchange(port: number, chunks: Buffer[], gapMs = 0): Promise<{answer: Buffer; firstByteMs: number; totalMs: number}> {
	const socket = net.connect({host: '127.0.0.1', port});
	await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
	const started = performance.now();
	let firstByteMs = -1;
	const parts: Buffer[] = [];
	const done = new Promise<void>((resolve, reject) => {
		socket.on('data', (chunk: Buffer) => {
			if (firstByteMs < 0) firstByteMs = performance.now() - started;
			parts.push(chunk);
		});
		socket.on('end', () => resolve());
		socket.on('error', reject);
	});
	for (const chunk of chunks) {
		socket.write(chunk);
		if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
	}
	socket.end();
	await done;
	socket.destroy();
	return {answer: Buffer.concat(parts), firstByteMs, totalMs: performance.now() - started};
}

describe('the delay proxy', () => {
	it('passes bytes unchanged and in order, both ways, ends included', async () => {
		// An echo server that answers with what it got, reversed in chunk order would be wrong: echo as is.
		const port = await startServer((socket) => socket.pipe(socket));
		const proxy = await startProxy(port, 5);
		const chunks = Array.from({length: 40}, (_, i) => randomBytes(1 + ((i * 7919) % 70_000)));
		const {answer} = await exchange(proxy.port, chunks, 1);
		const sent = Buffer.concat(chunks);
		expect(answer.length).toBe(sent.length);
		expect(createHash('sha256').update(answer).digest('hex')).toBe(createHash('sha256').update(sent).digest('hex'));
		expect(proxy.connections()).toBe(1);
	});

	it('delays each direction by the latency: a request and its answer take a round trip more', async () => {
		const latency = 120;
		// The server answers at once and closes.
		const port = await startServer((socket) => socket.once('data', () => socket.end('answer')));
		const direct = await exchange(port, [Buffer.from('question')]);
		const proxy = await startProxy(port, latency);
		const delayed = await exchange(proxy.port, [Buffer.from('question')]);
		expect(delayed.answer.toString()).toBe('answer');
		// Two latencies, less a little for timer granularity; and not wildly more (a loaded machine gets slack).
		expect(delayed.firstByteMs).toBeGreaterThanOrEqual(2 * latency - 5);
		expect(delayed.firstByteMs - direct.firstByteMs).toBeLessThan(2 * latency + 1000);
	});

	it('keeps chunks of one direction in order when they arrive faster than the latency', async () => {
		const port = await startServer((socket) => socket.pipe(socket));
		const proxy = await startProxy(port, 30);
		const chunks = Array.from({length: 200}, (_, i) => Buffer.from(`${String(i).padStart(4, '0')};`));
		const {answer} = await exchange(proxy.port, chunks);
		const numbers = answer.toString().split(';').filter(Boolean).map(Number);
		expect(numbers).toEqual(chunks.map((_, i) => i));
	});
});
