/**
 * A TCP proxy that delays every chunk by a fixed time in each direction: a slow link (latency,
 * not bandwidth) between a backup tool and a server on loopback.
 *
 *   node dist/bench/delay-proxy.js --target 127.0.0.1:8000 [--listen 127.0.0.1:0] [--latency 50]
 *
 * Each chunk read from one side is written to the other `latency` ms after it arrived, in the
 * order it arrived (a queue per direction and connection, drained by one timer); an end or an
 * error is passed on after the data before it. A request and its answer thus take two latencies
 * more (one round trip); a new connection's handshake is not delayed (the proxy accepts it at once).
 */
import * as net from 'node:net';
import {fileURLToPath} from 'node:url';
import * as path from 'node:path';
import {parseArgs} from 'node:util';

/** A running proxy. */
export interface DelayProxy {
	/** The port it listens on (127.0.0.1 unless told otherwise). */
	readonly port: number;
	readonly host: string;
	/** Connections accepted so far. */
	readonly connections: () => number;
	/** Stops listening and closes every connection. */
	close(): Promise<void>;
}

/** What {@link startDelayProxy} needs. */
export interface DelayProxyOptions {
	targetHost: string;
	targetPort: number;
	/** Milliseconds added in each direction (default 50). */
	latencyMs?: number;
	listenHost?: string;
	/** 0 (default): a free port. */
	listenPort?: number;
}

/**
 * Forwards `from` to `to`, each chunk `latencyMs` after it arrived, in order. The end of `from`
 * is passed on once the data before it has been written.
 */
function pipeDelayed(from: net.Socket, to: net.Socket, latencyMs: number): void {
	const queue: Array<{due: number; chunk?: Buffer}> = [];
	let timer: NodeJS.Timeout | undefined;
	const drain = (): void => {
		timer = undefined;
		const now = performance.now();
		while (queue.length > 0 && queue[0]!.due <= now) {
			const {chunk} = queue.shift()!;
			if (chunk === undefined) {
				if (!to.destroyed) to.end();
				return;
			}
			if (!to.destroyed) to.write(chunk);
		}
		if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.due - now));
	};
	const push = (chunk?: Buffer): void => {
		queue.push({due: performance.now() + latencyMs, chunk});
		if (timer === undefined) timer = setTimeout(drain, latencyMs);
	};
	from.on('data', (chunk: Buffer) => push(chunk));
	from.on('end', () => push(undefined));
	from.on('close', () => {
		// A reset (not an orderly end) is passed on after the delay too.
		if (from.errored) setTimeout(() => to.destroy(), latencyMs);
	});
	to.on('close', (hadError: boolean) => {
		// The receiving side was reset: nothing more can be delivered, so the sending side goes too.
		// (An orderly close, both directions ended, leaves the other direction to finish.)
		if (!hadError) return;
		if (timer !== undefined) clearTimeout(timer);
		queue.length = 0;
		from.destroy();
	});
}

/** Starts a proxy to `targetHost:targetPort` that delays both directions by `latencyMs`. */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
	const latencyMs = options.latencyMs ?? 50;
	if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`invalid latency ${latencyMs}: give milliseconds, 0 or more`);
	const sockets = new Set<net.Socket>();
	let accepted = 0;
	// Half-open sockets: an end from one side must not close the other direction, whose data may
	// still be on its way (delayed); each socket closes once both of its directions have ended.
	const server = net.createServer({allowHalfOpen: true}, (client) => {
		accepted++;
		const upstream = net.connect({host: options.targetHost, port: options.targetPort, allowHalfOpen: true});
		for (const socket of [client, upstream]) {
			socket.setNoDelay(true);
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => undefined); // the other side is closed through 'close'
		}
		pipeDelayed(client, upstream, latencyMs);
		pipeDelayed(upstream, client, latencyMs);
	});
	const host = options.listenHost ?? '127.0.0.1';
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.listenPort ?? 0, host, () => resolve());
	});
	const address = server.address() as net.AddressInfo;
	return {
		port: address.port,
		host,
		connections: () => accepted,
		close: () => new Promise<void>((resolve) => {
			for (const socket of sockets) socket.destroy();
			server.close(() => resolve());
		}),
	};
}

function splitHostPort(text: string, what: string): {host: string; port: number} {
	const match = /^(.*):(\d+)$/.exec(text);
	if (!match) throw new Error(`invalid ${what} ${JSON.stringify(text)}: give HOST:PORT`);
	return {host: match[1] || '127.0.0.1', port: Number(match[2])};
}

async function main(): Promise<void> {
	const {values} = parseArgs({options: {target: {type: 'string'}, listen: {type: 'string'}, latency: {type: 'string'}, help: {type: 'boolean', short: 'h'}}, strict: true});
	if (values.help || values.target === undefined) {
		process.stdout.write('Usage: node dist/bench/delay-proxy.js --target HOST:PORT [--listen HOST:PORT] [--latency MS]\n\nDelays every chunk by MS (default 50) in each direction.\n');
		return;
	}
	const target = splitHostPort(values.target, '--target');
	const listen = splitHostPort(values.listen ?? '127.0.0.1:0', '--listen');
	const proxy = await startDelayProxy({targetHost: target.host, targetPort: target.port, listenHost: listen.host, listenPort: listen.port, latencyMs: values.latency === undefined ? 50 : Number(values.latency)});
	process.stdout.write(`listening on ${proxy.host}:${proxy.port}, forwarding to ${target.host}:${target.port} with ${values.latency ?? 50} ms each way\n`);
	const stop = (): void => void proxy.close().then(() => process.exit(0));
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main().catch((error: unknown) => {
		process.stderr.write(`delay-proxy: ${(error as Error).message}\n`);
		process.exitCode = 1;
	});
}
