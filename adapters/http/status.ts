/**
 * HTTP statuses and network failures turned into the storage error classes, with messages that
 * say what to do. Shared by the REST, rclone and WebDAV adapters.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';
import {excerptBody} from './transport.js';

/** Words for the messages of one adapter. */
export interface StatusContext {
	/** What was being done, e.g. `load data/ab/ab12…`. */
	readonly action: string;
	/** The server, e.g. `the REST server http://nas:8000/repo/`. */
	readonly server: string;
	/** What to check when credentials are refused, e.g. `check the user name and password in the URL`. */
	readonly authHint: string;
}

/** Maps an HTTP error status (anything but 2xx) to a storage error. */
export function mapHttpStatus(status: number, body: Buffer, context: StatusContext): StorageError {
	const said = excerptBody(body);
	const detail = said === '' ? '' : ` (the server said: ${said})`;
	const {action, server, authHint} = context;
	if (status === 401) return new AuthError(`${server} refused the credentials (401 Unauthorized) while trying to ${action}; ${authHint}${detail}`);
	if (status === 403) return new AuthError(`${server} forbids this (403 Forbidden): cannot ${action}; check the account's permissions (an append-only server refuses deletes and overwrites)${detail}`);
	if (status === 404) return new NotFoundError(`cannot ${action}: it does not exist on ${server} (404)${detail}`);
	if (status === 416) return new PermanentError(`cannot ${action}: the requested range lies past the end of the file (416)${detail}`);
	if (status === 413) return new PermanentError(`cannot ${action}: ${server} refuses a request this large (413); raise its upload size limit${detail}`);
	if (status === 507) return new PermanentError(`cannot ${action}: ${server} has no space left (507 Insufficient Storage)${detail}`);
	if (status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501 && status !== 505)) {
		return new TransientError(`${server} failed to ${action} (HTTP ${status}); a retry may succeed${detail}`);
	}
	return new PermanentError(`${server} refused to ${action} (HTTP ${status})${detail}`);
}

/** Node and undici error codes of network failures a retry may cure. */
const TRANSIENT_CODES = new Set([
	'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ENETDOWN', 'EHOSTDOWN',
	'ERR_STREAM_PREMATURE_CLOSE', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_STREAM_CANCEL',
	'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** Tells whether an error is an abort, which adapters pass on unchanged. */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}

/** The first error code along an error's `cause` chain. */
function findCode(error: unknown): string | undefined {
	for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 6; depth++) {
		const code = (current as {code?: unknown}).code;
		if (typeof code === 'string') return code;
		current = (current as {cause?: unknown}).cause;
	}
	return undefined;
}

/**
 * Maps a failure to get any response (refused, reset, DNS, TLS) to a storage error; storage
 * errors and aborts pass through unchanged.
 */
export function mapNetworkFailure(error: unknown, action: string, server: string): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	const code = findCode(error);
	const message = error instanceof Error ? error.message : String(error);
	const options = {cause: error};
	if (code === 'ECONNREFUSED') return new TransientError(`cannot ${action}: ${server} refused the connection; check the address and port, and that the server is running`, options);
	if (code === 'ENOTFOUND' || code === 'EAI_NONAME') return new PermanentError(`cannot reach ${server}: its host name does not resolve; check the spelling`, options);
	if (code !== undefined && /CERT|SSL|TLS|EPROTO/.test(code)) {
		return new PermanentError(`TLS failed with ${server} (${code}): check http:// versus https:// and the port; for a private certificate authority set NODE_EXTRA_CA_CERTS`, options);
	}
	if ((code !== undefined && TRANSIENT_CODES.has(code)) || /socket hang up|premature close|network/i.test(message)) {
		return new TransientError(`cannot ${action}: the connection to ${server} failed (${code ?? message}); a retry may succeed`, options);
	}
	return new PermanentError(`cannot ${action} on ${server}: ${message}`, options);
}
