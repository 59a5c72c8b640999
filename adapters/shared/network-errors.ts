/**
 * Network failures under an SDK or fetch error (DNS, refused or reset connections, timeouts, TLS),
 * turned into storage errors with words a person can act on. Shared by the HTTP-based adapters
 * that have no richer mapping of their own (GCS, B2, Google Drive).
 */

import {PermanentError, TransientError, type StorageError} from '../storage.js';

const TRANSIENT_CODES = new Set([
	'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ENETDOWN',
	'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const TLS_CODES = new Set([
	'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REVOKED', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The Node system (or undici) error code found along an error's `cause` chain, if any. */
export function findNetworkCode(error: unknown): string | undefined {
	for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 6; depth++) {
		const code = (current as {code?: unknown}).code;
		if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || TLS_CODES.has(code) || code === 'ENOTFOUND')) return code;
		current = (current as {cause?: unknown}).cause;
	}
	return undefined;
}

/**
 * Maps a network-level failure to a storage error, or returns undefined when `error` is not one.
 * `service` names where cairn was connecting (e.g. `Google Cloud Storage (https://storage.googleapis.com)`)
 * and `action` what it was doing (e.g. `load data/ab/ab12… from bucket "b"`).
 */
export function mapNetworkError(error: unknown, service: string, action: string): StorageError | undefined {
	const code = findNetworkCode(error);
	const options = {cause: error};
	if (code === undefined) {
		const message = error instanceof Error ? error.message : '';
		if (/socket hang up|network error|fetch failed|premature close/i.test(message)) {
			return new TransientError(`cannot ${action}: the connection to ${service} broke (${message}); a retry may succeed`, options);
		}
		return undefined;
	}
	if (code === 'ENOTFOUND') {
		return new PermanentError(`cannot reach ${service}: its host name does not resolve (DNS); check the endpoint and your network or DNS settings`, options);
	}
	if (TLS_CODES.has(code)) {
		return new PermanentError(`TLS failed while connecting to ${service} (${code}): ${describeTlsFailure(code)}`, options);
	}
	if (code === 'ECONNREFUSED') {
		return new TransientError(`cannot ${action}: ${service} refused the connection (is the endpoint right, and is the service reachable from here?)`, options);
	}
	return new TransientError(`cannot ${action}: a network error (${code}) on the way to ${service}; a retry may succeed`, options);
}

/** One sentence on what a TLS error code means and what to do. */
function describeTlsFailure(code: string): string {
	switch (code) {
		case 'CERT_HAS_EXPIRED':
			return 'the server\'s certificate has expired; the server must renew it (or check this computer\'s clock)';
		case 'CERT_NOT_YET_VALID':
			return 'the server\'s certificate is not valid yet; check this computer\'s clock';
		case 'ERR_TLS_CERT_ALTNAME_INVALID':
			return 'the certificate does not name this host; check the host name in the endpoint';
		case 'DEPTH_ZERO_SELF_SIGNED_CERT':
		case 'SELF_SIGNED_CERT_IN_CHAIN':
		case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
		case 'UNABLE_TO_GET_ISSUER_CERT':
		case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
		case 'CERT_UNTRUSTED':
			return 'the certificate is not signed by an authority this computer trusts; for a private authority set NODE_EXTRA_CA_CERTS to its certificate file';
		case 'EPROTO':
		case 'ERR_SSL_WRONG_VERSION_NUMBER':
			return 'the server does not speak TLS on that port; check http:// versus https:// and the port in the endpoint';
		default:
			return 'the secure connection could not be set up';
	}
}
