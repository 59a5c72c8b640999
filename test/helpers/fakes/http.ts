/**
 * Small pieces shared by the fake cloud servers: a loopback HTTP server on a free port, body
 * reading, JSON replies, scripted faults, and {@link FakeHttpServer}, the request and route
 * frame every fake builds on (request log, faults, start and stop, path segments).
 */
import {randomBytes} from 'node:crypto';
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

/** Reads and drops a request body (before an error answer), ignoring a client that went away. */
export async function discardBody(request: IncomingMessage): Promise<void> {
	await readBody(request).catch(() => undefined);
}

/** One request as a fake's router sees it: the parsed URL and its decoded-free path segments (`/a/b` → `['a', 'b']`). */
export interface Route {
	readonly request: IncomingMessage;
	readonly response: ServerResponse;
	readonly url: URL;
	readonly segments: readonly string[];
}

/**
 * The frame of a fake cloud server: it starts on a free loopback port, logs every answer as
 * `METHOD path[?query] status` in {@link log}, answers a scripted {@link Fault} before anything
 * else (reading the body first), and hands every other request to {@link route}.
 */
export abstract class FakeHttpServer {
	/** `METHOD path?query status` of every request (without `?query` when the server is made with `logQuery: false`), for assertions. */
	readonly log: string[] = [];
	readonly faults = new FaultList();
	private running?: RunningServer;

	constructor(
		private readonly service: string,
		private readonly options: {readonly logQuery?: boolean} = {},
	) {}

	/** `http://127.0.0.1:<port>` */
	get url(): string {
		if (this.running === undefined) throw new Error(`the fake ${this.service} server is not started`);
		return this.running.url;
	}

	async start(): Promise<this> {
		this.running = await startServer((request, response) => this.handle(request, response));
		return this;
	}

	async stop(): Promise<void> {
		await this.running?.close();
	}

	/** Makes the next matching requests fail (see {@link Fault}). */
	addFault(fault: Fault): void {
		this.faults.add(fault);
	}

	/** Answers one request that no fault took. */
	protected abstract route(route: Route): Promise<void> | void;

	private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const url = new URL(request.url ?? '/', 'http://fake');
		const logged = this.options.logQuery === false ? url.pathname : `${url.pathname}${url.search}`;
		const original = response.writeHead.bind(response);
		response.writeHead = ((status: number, ...rest: unknown[]) => {
			this.log.push(`${request.method} ${logged} ${status}`);
			return (original as (...args: unknown[]) => ServerResponse)(status, ...rest);
		}) as typeof response.writeHead;
		const fault = this.faults.take(request);
		if (fault !== undefined) {
			await discardBody(request);
			sendJson(response, fault.status, fault.body, fault.headers);
			return;
		}
		await this.route({request, response, url, segments: url.pathname.split('/').slice(1)});
	}
}

/** Resumable upload sessions that were started and neither finished nor cancelled. */
export function countOpenSessions(sessions: ReadonlyMap<string, {readonly done?: unknown; readonly cancelled: boolean}>): number {
	return [...sessions.values()].filter((session) => session.done === undefined && !session.cancelled).length;
}

/** Records a new resumable upload session under a fresh ID, which goes into its URI; returns the ID. */
export function openSession<T>(sessions: Map<string, T>, session: T): string {
	const id = randomBytes(24).toString('base64url');
	sessions.set(id, session);
	return id;
}

/**
 * Reads a chunk sent to a session: undefined when the client went away mid-chunk (nothing of it
 * is kept), else the body and the session (undefined when unknown or cancelled).
 */
export async function readSessionChunk<T extends {readonly cancelled: boolean}>(request: IncomingMessage, sessions: ReadonlyMap<string, T>, id: string): Promise<{body: Buffer; session?: T} | undefined> {
	const body = await readBody(request).catch(() => undefined);
	if (body === undefined) return undefined;
	const session = sessions.get(id);
	return session === undefined || session.cancelled ? {body} : {body, session};
}

/**
 * The `Content-Range` of a resumable upload chunk: `bytes FIRST-LAST/TOTAL`, or `bytes *\/TOTAL`
 * to ask how much arrived (TOTAL `*` while unknown). Undefined when the header is missing or malformed.
 */
export function parseContentRange(header: string | undefined): {first?: number; last?: number; total?: number} | undefined {
	const match = header === undefined ? null : /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(header);
	if (match === null) return undefined;
	return {...(match[1] === undefined ? {} : {first: Number(match[1]), last: Number(match[2])}), ...(match[3] === '*' ? {} : {total: Number(match[3])})};
}

/** Answers a resumable session's start (200 with its URI in `Location`). */
export function answerSessionStarted(response: ServerResponse, location: string): void {
	response.writeHead(200, {location, 'content-length': 0});
	response.end();
}

/** Answers 308 (Resume Incomplete) with the `Range` of the bytes received so far. */
export function answerIncomplete(response: ServerResponse, received: number): void {
	response.writeHead(308, {'content-length': 0, ...(received > 0 ? {range: `bytes=0-${received - 1}`} : {})});
	response.end();
}

/** Sends `data`, or the part of it `range` (from {@link parseRangeHeader}) names, with 206 and `Content-Range`. */
export function sendContent(response: ServerResponse, data: Buffer, range: {start: number; end: number} | undefined, headers: Record<string, string | number>): void {
	if (range === undefined) {
		response.writeHead(200, {...headers, 'content-length': data.length});
		response.end(data);
		return;
	}
	const slice = data.subarray(range.start, range.end + 1);
	response.writeHead(206, {...headers, 'content-length': slice.length, 'content-range': `bytes ${range.start}-${range.end}/${data.length}`});
	response.end(slice);
}
