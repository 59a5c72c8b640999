/**
 * Turns @aws-sdk/client-s3 errors (and the Node network errors under them) into the storage error
 * classes, with a sentence a person can act on. Secrets never appear: messages quote the bucket,
 * the key and the endpoint, never credentials.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';

/** What was being done, for messages and for naming the permission a refusal points to. */
export interface S3ErrorContext {
	/** The cairn-level operation. */
	readonly operation: 'create' | 'save' | 'load' | 'stat' | 'list' | 'remove' | 'thaw' | 'retention' | 'storageconfig';
	/** Object key (with the prefix), or undefined for bucket-level calls. */
	readonly key?: string;
	readonly bucket: string;
	/** `Amazon S3` or the endpoint URL, for messages. */
	readonly service: string;
	/** The region in use, for wrong-region messages. */
	readonly region?: string;
}

/** The IAM action each operation needs. */
const PERMISSIONS: Record<S3ErrorContext['operation'], string> = {
	create: 's3:ListBucket',
	save: 's3:PutObject',
	load: 's3:GetObject',
	stat: 's3:GetObject',
	list: 's3:ListBucket',
	remove: 's3:DeleteObject',
	thaw: 's3:RestoreObject',
	retention: 's3:PutObjectRetention',
	storageconfig: 's3:GetObject',
};

/** Every permission cairn needs on the bucket, for "access denied" and "no such bucket" hints. */
export const REQUIRED_PERMISSIONS = 's3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:GetBucketLocation';

const AUTH_CODES = new Set(['AccessDenied', 'AllAccessDisabled', 'AccountProblem', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidSecurity', 'InvalidToken', 'MissingSecurityHeader', 'NotSignedUp', 'Forbidden', 'UnauthorizedAccess', 'InvalidClientTokenId']);
const EXPIRED_CODES = new Set(['ExpiredToken', 'TokenRefreshRequired', 'RequestExpired', 'ExpiredTokenException']);
const TRANSIENT_CODES = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeTooSkewed', 'OperationAborted', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestTimeoutException', 'TimeoutError', 'PriorRequestNotComplete', 'BadDigest', 'IncompleteBody', 'XAmzContentSHA256Mismatch']);
const NETWORK_TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_HTTP2_STREAM_ERROR']);
const TLS_CODES = new Set([
	'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REVOKED', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** Reads the S3 error code (`NoSuchKey`, `AccessDenied`, ...) or Node error code of an error. */
export function readS3ErrorCode(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const record = error as {Code?: unknown; code?: unknown; name?: unknown};
	if (typeof record.Code === 'string') return record.Code;
	if (typeof record.code === 'string') return record.code;
	if (typeof record.name === 'string' && record.name !== 'Error') return record.name;
	return undefined;
}

/** The HTTP status of an SDK error, if there was a response. */
export function readHttpStatus(error: unknown): number | undefined {
	const status = (error as {$metadata?: {httpStatusCode?: unknown}} | null)?.$metadata?.httpStatusCode;
	return typeof status === 'number' ? status : undefined;
}

/** Tells whether an error is an abort from an AbortSignal, which is passed on unchanged. */
export function isAbortError(error: unknown): boolean {
	if (!(error instanceof Error)) return false;
	return error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR';
}

/** Finds the Node system error under SDK wrappers (`cause` chains), if any. */
function findSystemCode(error: unknown): string | undefined {
	for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
		const code = (current as {code?: unknown}).code;
		if (typeof code === 'string' && (/^E[A-Z]+$/.test(code) || code.startsWith('UND_ERR') || code.startsWith('ERR_') || TLS_CODES.has(code))) return code;
		current = (current as {cause?: unknown}).cause;
	}
	return undefined;
}

/**
 * Maps an error thrown by the S3 client to a {@link StorageError}. Storage errors and aborts are
 * returned unchanged; anything else keeps the original as `cause`.
 */
export function mapS3Error(error: unknown, context: S3ErrorContext): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	const options = {cause: error};
	const code = readS3ErrorCode(error);
	const status = readHttpStatus(error);
	const detail = error instanceof Error ? error.message : String(error);
	const target = context.key === undefined ? `bucket "${context.bucket}"` : `${context.key} in bucket "${context.bucket}"`;
	const action = `${context.operation === 'storageconfig' ? 'read or write .storageconfig of' : context.operation} ${target} at ${context.service}`;

	if (code === 'NoSuchBucket') return describeMissingBucket(context, error);
	if (code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchVersion' || (status === 404 && code !== 'NoSuchUpload')) {
		return new NotFoundError(`cannot ${action}: it does not exist`, options);
	}
	if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(detail)) {
		return new AuthError(
			`no AWS credentials found for ${context.service}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or -o s3.access-key-id=… -o s3.secret-access-key=…), ` +
				'or name a profile of ~/.aws/credentials with AWS_PROFILE or -o s3.profile=…',
			options,
		);
	}
	if (code !== undefined && EXPIRED_CODES.has(code)) {
		return new AuthError(`the credentials for ${context.service} have expired (${code}): get new ones (e.g. \`aws sso login\` or a new session token in AWS_SESSION_TOKEN) and try again`, options);
	}
	if (code === 'InvalidAccessKeyId') {
		return new AuthError(`${context.service} does not know the access key ID given: check AWS_ACCESS_KEY_ID / s3.access-key-id (or the profile in use), and that the key belongs to this service and has not been deleted`, options);
	}
	if (code === 'SignatureDoesNotMatch') {
		return new AuthError(`${context.service} rejected the request signature: the secret access key does not match the access key ID; check AWS_SECRET_ACCESS_KEY / s3.secret-access-key`, options);
	}
	if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || code === 'IllegalLocationConstraintException' || status === 301) {
		const expected = /expecting '([a-z0-9-]+)'/.exec(detail)?.[1] ?? readRegionHeader(error);
		const hint = expected === undefined ? 'pass the bucket\'s region with -o s3.region=REGION (or AWS_REGION)' : `the bucket is in ${expected}: pass -o s3.region=${expected} (or set AWS_REGION=${expected})`;
		return new PermanentError(`cannot ${action}: wrong region${context.region === undefined ? '' : ` (${context.region})`} or endpoint; ${hint}`, options);
	}
	if (code === 'InvalidObjectState') {
		// The caller turns this into a ColdStorageError when it knows the storage class.
		return new PermanentError(`cannot ${action}: the object is in an archive storage class and must be restored (thawed) first; use \`cairn restore --thaw\``, options);
	}
	if ((code !== undefined && AUTH_CODES.has(code)) || status === 403 || status === 401) {
		return new AuthError(describeDenied(context, code, detail), options);
	}
	if (code === 'InvalidRange' || status === 416) {
		return new PermanentError(`cannot ${action}: the requested range is past the end of the object`, options);
	}
	if (code === 'InvalidStorageClass') {
		return new PermanentError(`cannot ${action}: ${context.service} does not accept the storage class asked for; check .storageconfig (cairn storageconfig show) and s3.storage-class`, options);
	}
	if (code === 'InvalidBucketName') return new PermanentError(`"${context.bucket}" is not a valid bucket name for ${context.service}`, options);
	const system = findSystemCode(error);
	if (system === 'ENOTFOUND') {
		return new PermanentError(`cannot reach ${context.service}: its host name does not resolve (DNS); check the endpoint in the location and your network or DNS settings`, options);
	}
	if (system !== undefined && TLS_CODES.has(system)) {
		return new PermanentError(
			`TLS failed while connecting to ${context.service} (${system}): ${describeTls(system)}`,
			options,
		);
	}
	if (system !== undefined && NETWORK_TRANSIENT.has(system)) {
		const what = system === 'ECONNREFUSED' ? 'the connection was refused (is the server running, and is the port in the location right?)' : `a network error (${system})`;
		return new TransientError(`cannot ${action}: ${what}`, options);
	}
	if ((code !== undefined && TRANSIENT_CODES.has(code)) || (status !== undefined && (status >= 500 || status === 429 || status === 408))) {
		return new TransientError(`cannot ${action}: the service answered ${code ?? `HTTP ${status}`}, a passing fault; a retry may succeed`, options);
	}
	if ((error as {$fault?: unknown} | null)?.$fault === 'server') return new TransientError(`cannot ${action}: server fault: ${detail}`, options);
	if (status === undefined && /socket hang up|network|timed? ?out/i.test(detail)) return new TransientError(`cannot ${action}: ${detail}`, options);
	return new PermanentError(`cannot ${action}: ${code === undefined ? '' : `${code}: `}${detail}`, options);
}

/** The error for a bucket that does not exist: cairn never creates buckets. */
export function describeMissingBucket(context: Pick<S3ErrorContext, 'bucket' | 'service'>, cause?: unknown): PermanentError {
	return new PermanentError(
		`the bucket "${context.bucket}" does not exist at ${context.service}. cairn does not create buckets: create it first (e.g. \`aws s3 mb s3://${context.bucket}\` or your provider's console), ` +
			`then give the credentials ${REQUIRED_PERMISSIONS} on it`,
		cause === undefined ? undefined : {cause},
	);
}

/** "Access denied" naming the permission: the one AWS names in its message, else the one the operation needs. */
function describeDenied(context: S3ErrorContext, code: string | undefined, detail: string): string {
	const named = /\b(s3:[A-Za-z]+)\b/.exec(detail)?.[1];
	const permission = named ?? PERMISSIONS[context.operation];
	const target = context.key === undefined ? `bucket "${context.bucket}"` : `${context.key} in bucket "${context.bucket}"`;
	return (
		`access denied by ${context.service} (${code ?? 'HTTP 403'}) while trying to ${context.operation} ${target}: ` +
		`the credentials need ${permission}${named === undefined ? ' (the permission this step uses)' : ''}; cairn needs ${REQUIRED_PERMISSIONS} on the bucket`
	);
}

function describeTls(code: string): string {
	switch (code) {
		case 'EPROTO':
		case 'ERR_SSL_WRONG_VERSION_NUMBER':
			return 'the server may not speak HTTPS on that port; if it is a plain-HTTP server write http:// in the location';
		case 'CERT_HAS_EXPIRED':
			return 'the server\'s certificate has expired; renew it on the server';
		case 'ERR_TLS_CERT_ALTNAME_INVALID':
			return 'the certificate does not name this host; use the host name the certificate was issued for';
		default:
			return 'the server\'s certificate is not trusted; if it uses a private CA or a self-signed certificate, point NODE_EXTRA_CA_CERTS at its CA certificate (PEM)';
	}
}

function readRegionHeader(error: unknown): string | undefined {
	const headers = (error as {$response?: {headers?: Record<string, string>}} | null)?.$response?.headers;
	const region = headers?.['x-amz-bucket-region'];
	return typeof region === 'string' && region !== '' ? region : undefined;
}
