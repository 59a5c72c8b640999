/**
 * The small HTTP client interface the REST and rclone adapters share: one request in, status,
 * headers and the whole body out. Two transports implement it: HTTP/1.1 over TCP or TLS
 * (node-transport.ts) and HTTP/2 over the pipes of an `rclone serve restic --stdio` process
 * (adapters/rclone/).
 */

/** One request. */
export interface HttpRequest {
	readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'MOVE' | 'MKCOL' | 'PROPFIND';
	/** Path and query relative to the transport's base, without a leading slash, e.g. `data/ab12…` or `?create=true`. */
	readonly path: string;
	/** Header names in lowercase. */
	readonly headers?: Readonly<Record<string, string>>;
	readonly body?: Uint8Array;
	readonly signal?: AbortSignal;
}

/** One response; header names are lowercase. */
export interface HttpResponse {
	readonly status: number;
	readonly headers: Readonly<Record<string, string | undefined>>;
	readonly body: Buffer;
}

/**
 * Sends requests to one server.
 *
 * Contract: `request` resolves with any HTTP status (mapping statuses is the caller's job); it
 * rejects only when no response came, and then always with a storage error (a
 * {@link TransientError} for network failures, with a message that names the server) or with
 * the signal's abort reason. `close` releases connections and helper processes; no request is
 * made after it.
 */
export interface HttpTransport {
	request(request: HttpRequest): Promise<HttpResponse>;
	close(): Promise<void>;
}

/** The value of a header, or undefined. */
export function readHeader(response: HttpResponse, name: string): string | undefined {
	return response.headers[name.toLowerCase()];
}

/** A short, single-line excerpt of a response body for error messages ('' for binary or empty bodies). */
export function excerptBody(body: Buffer, limit = 200): string {
	if (body.length === 0) return '';
	const text = body.subarray(0, limit * 4).toString('utf8');
	if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) return '';
	const line = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
	return line.length > limit ? `${line.slice(0, limit)}…` : line;
}
