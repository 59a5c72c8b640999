/**
 * Small pieces shared by the fake cloud servers: a loopback HTTP server on a free port, body
 * reading, JSON replies, and scripted faults.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

/** A handler of one request; thrown errors become 500 replies. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** A running loopback server. */
export interface RunningServer {
	/** `http://127.0.0.1:<port>`, without a trailing slash. */
	readonly url: string;
	readonly server: Server;
	/** Stops accepting connections and closes open ones. */
	close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1 on a free port. */
export async function startServer(handler: RequestHandler): Promise<RunningServer> {
	const server = createServer((request, response) => {
		Promise.resolve()
			.then(() => handler(request, response))
			.catch((error: unknown) => {
				if (!response.headersSent) {
					response.writeHead(500, {'content-type': 'text/plain'});
					response.end(`fake server failure: ${error instanceof Error ? error.stack : String(error)}`);
				} else {
					response.destroy();
				}
			});
	});
	server.keepAliveTimeout = 1000;
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		server,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

/** Reads a whole request body; rejects when the client goes away before the end. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of request) chunks.push(chunk as Buffer);
	if (!request.complete) throw new Error('request body ended early');
	return Buffer.concat(chunks);
}

/** Sends a JSON reply. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	const text = JSON.stringify(body);
	response.writeHead(status, {'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers});
	response.end(text);
}

/** One scripted fault: the next `times` requests matching it get `status` and `body` instead of an answer. */
export interface Fault {
	/** HTTP method to match; any when omitted. */
	readonly method?: string;
	/** Substring of the request URL to match; any when omitted. */
	readonly urlIncludes?: string;
	readonly status: number;
	readonly body: unknown;
	readonly headers?: Record<string, string>;
	/** How many requests to fail; default 1. */
	readonly times?: number;
}

/** A queue of scripted faults that a fake server consults before answering. */
export class FaultList {
	private readonly faults: Array<Fault & {left: number}> = [];

	add(fault: Fault): void {
		this.faults.push({...fault, left: fault.times ?? 1});
	}

	/** Takes the first fault matching the request, or undefined. */
	take(request: IncomingMessage): Fault | undefined {
		const index = this.faults.findIndex(
			(fault) => (fault.method === undefined || fault.method === request.method) && (fault.urlIncludes === undefined || (request.url ?? '').includes(fault.urlIncludes)),
		);
		if (index < 0) return undefined;
		const fault = this.faults[index]!;
		fault.left--;
		if (fault.left <= 0) this.faults.splice(index, 1);
		return fault;
	}

	clear(): void {
		this.faults.length = 0;
	}
}

/**
 * Parses a `Range: bytes=a-b` header against a size, as RFC 9110 does for one range:
 * returns the inclusive start and end, `'unsatisfiable'`, or undefined when there is no usable header.
 */
export function parseRangeHeader(header: string | undefined, size: number): {start: number; end: number} | 'unsatisfiable' | undefined {
	if (header === undefined) return undefined;
	const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (match === null || (match[1] === '' && match[2] === '')) return undefined;
	if (match[1] === '') {
		const suffix = Number(match[2]);
		if (suffix === 0) return 'unsatisfiable';
		return {start: Math.max(0, size - suffix), end: size - 1};
	}
	const start = Number(match[1]);
	const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
	if (start >= size || (match[2] !== '' && Number(match[2]) < start)) return 'unsatisfiable';
	return {start, end};
}
