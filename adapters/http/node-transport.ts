/**
 * An {@link HttpTransport} over HTTP/1.1 (node:http and node:https) with kept-alive connections,
 * basic authentication and a base URL every request path is relative to.
 */

import {Agent as HttpAgent, request as httpRequest, type IncomingMessage} from 'node:http';
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https';

import {throwIfAborted} from '../storage.js';
import {mapNetworkFailure} from './status.js';
import type {HttpRequest, HttpResponse, HttpTransport} from './transport.js';

/** Settings of {@link createNodeTransport}. */
export interface NodeTransportOptions {
	/** Base URL ending in `/`, without credentials. */
	readonly baseUrl: string;
	readonly username?: string;
	readonly password?: string;
	/** Connections kept open at most. */
	readonly maxSockets: number;
	/** The server as messages name it, e.g. `the REST server http://nas:8000/`. */
	readonly server: string;
	/** Headers sent with every request. */
	readonly headers?: Readonly<Record<string, string>>;
}

/** Creates a transport; no connection is made until the first request. */
export function createNodeTransport(options: NodeTransportOptions): HttpTransport {
	const base = new URL(options.baseUrl);
	const secure = base.protocol === 'https:';
	const agent = secure ? new HttpsAgent({keepAlive: true, maxSockets: options.maxSockets}) : new HttpAgent({keepAlive: true, maxSockets: options.maxSockets});
	const send = secure ? httpsRequest : httpRequest;
	const authorization =
		options.username !== undefined || options.password !== undefined
			? `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64')}`
			: undefined;

	const request = (input: HttpRequest): Promise<HttpResponse> => {
		throwIfAborted(input.signal);
		const url = new URL(input.path, base);
		const headers: Record<string, string> = {...options.headers, ...input.headers};
		if (authorization !== undefined) headers['authorization'] = authorization;
		if (input.body !== undefined) headers['content-length'] = String(input.body.byteLength);
		return new Promise<HttpResponse>((resolve, reject) => {
			const outgoing = send(url, {method: input.method, headers, agent, signal: input.signal}, (incoming) => {
				readBody(incoming).then(
					(body) => resolve({status: incoming.statusCode ?? 0, headers: flattenHeaders(incoming), body}),
					(error: unknown) => reject(mapNetworkFailure(input.signal?.aborted ? input.signal.reason : error, describe(input), options.server)),
				);
			});
			outgoing.on('error', (error) => reject(mapNetworkFailure(input.signal?.aborted ? (input.signal.reason ?? error) : error, describe(input), options.server)));
			outgoing.end(input.body === undefined ? undefined : Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength));
		});
	};

	return {
		request,
		close: async () => {
			agent.destroy();
		},
	};
}

/** `POST data/ab12…` for messages. */
function describe(input: HttpRequest): string {
	return `${input.method.toLowerCase()} ${input.path === '' ? '/' : input.path}`;
}

/** The whole body, allocated once when the length is known. */
function readBody(incoming: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
		incoming.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
		incoming.on('error', reject);
		incoming.on('aborted', () => reject(Object.assign(new Error('the server closed the connection in the middle of the response'), {code: 'ECONNRESET'})));
	});
}

function flattenHeaders(incoming: IncomingMessage): Record<string, string | undefined> {
	const headers: Record<string, string | undefined> = {};
	for (const [name, value] of Object.entries(incoming.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
	return headers;
}
