/**
 * Turns @google-cloud/storage and google-auth-library errors into the storage error classes, with
 * a sentence a person can act on. Messages name the bucket, the object and the IAM permission
 * Google says is missing; they never quote credentials.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';
import {mapNetworkError} from '../shared/network-errors.js';

/** What was being done, for messages. */
export interface GcsErrorContext {
	/** A verb phrase, e.g. `load data/ab/ab12…`. */
	readonly action: string;
	readonly bucket: string;
	/** The object name with the prefix, when the call was about one object. */
	readonly key?: string;
	/** `Google Cloud Storage` or `Google Cloud Storage at <endpoint>`. */
	readonly service: string;
}

/** The roles that grant everything cairn needs, for "access denied" hints. */
export const GCS_ROLE_HINT =
	'cairn needs storage.objects.create, storage.objects.get, storage.objects.list and storage.objects.delete on the bucket (the role "Storage Object Admin", roles/storage.objectAdmin, has them)';

const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Tells whether an error is an abort from an AbortSignal, which is passed on unchanged. */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}

/** The HTTP status of an SDK error (ApiError, GaxiosError), if there was a response. */
export function readStatus(error: unknown): number | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const record = error as {code?: unknown; status?: unknown; response?: {status?: unknown}};
	if (typeof record.code === 'number') return record.code;
	if (typeof record.status === 'number') return record.status;
	if (typeof record.response?.status === 'number') return record.response.status;
	return undefined;
}

/**
 * Google's error message and reason. The SDK puts them in different places depending on the call
 * (an ApiError's message, the JSON body of a download, a GaxiosError's response data).
 */
export function readGoogleError(error: unknown): {message: string; reason?: string} {
	const record = (error ?? {}) as {message?: unknown; errors?: Array<{reason?: unknown; message?: unknown}>; response?: {data?: unknown}};
	let message = typeof record.message === 'string' ? record.message : String(error);
	let reason = typeof record.errors?.[0]?.reason === 'string' ? record.errors[0].reason : undefined;
	const bodies: unknown[] = [record.response?.data];
	if (message.trimStart().startsWith('{')) {
		try {
			bodies.push(JSON.parse(message));
		} catch {
			// Not JSON after all.
		}
	}
	for (const body of bodies) {
		const inner = (body as {error?: {message?: unknown; errors?: Array<{reason?: unknown}>}} | undefined)?.error;
		if (inner === undefined || typeof inner !== 'object') continue;
		if (typeof inner.message === 'string') message = inner.message;
		if (typeof inner.errors?.[0]?.reason === 'string') reason = inner.errors[0].reason;
	}
	return {message, reason};
}

/** Tells whether a 403 comes from a retention policy, object retention or hold rather than from IAM. */
export function isRetentionRefusal(error: unknown): boolean {
	const {message, reason} = readGoogleError(error);
	return reason === 'retentionPolicyNotMet' || /retention policy|object retention|event-based hold|temporary hold/i.test(message);
}

/**
 * Maps an error from the GCS SDK (or its auth library) to a {@link StorageError}. Storage errors
 * and aborts are returned unchanged; anything else keeps the original as `cause`.
 */
export function mapGcsError(error: unknown, context: GcsErrorContext): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	const options = {cause: error};
	const status = readStatus(error);
	const {message, reason} = readGoogleError(error);
	const where = context.key === undefined ? `bucket "${context.bucket}"` : `gs://${context.bucket}/${context.key}`;
	const failed = `cannot ${context.action} (${where})`;

	const credentials = mapCredentialError(error, message, context);
	if (credentials !== undefined) return credentials;

	if (status === 404) {
		if (/bucket/i.test(message) && !/object/i.test(message)) {
			return new NotFoundError(
				`bucket "${context.bucket}" does not exist at ${context.service}: cairn does not create buckets; create it (gcloud storage buckets create gs://${context.bucket}) or fix the name in the location`,
				options,
			);
		}
		return new NotFoundError(`${failed}: it does not exist`, options);
	}
	if (status === 401) {
		return new AuthError(
			`${context.service} refused the credentials (${message}): check the service-account key in gs.credentials-file or GOOGLE_APPLICATION_CREDENTIALS, that it has not been deleted, and this computer's clock`,
			options,
		);
	}
	if (status === 403) {
		if (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded') {
			return new TransientError(`${failed}: rate limit exceeded (${reason}); a retry after a pause may succeed`, options);
		}
		const permission = /Permission '([a-z.]+)'/i.exec(message)?.[1] ?? /does not have ([a-z]+\.[a-z]+\.[a-z]+) access/i.exec(message)?.[1];
		if (permission !== undefined) {
			const who = /^(\S+@\S+) does not have/.exec(message)?.[1];
			return new AuthError(`access denied: ${who ?? 'the account'} lacks the IAM permission ${permission} on bucket "${context.bucket}" (needed to ${context.action}); ${GCS_ROLE_HINT}`, options);
		}
		if (isRetentionRefusal(error)) {
			return new PermanentError(`${failed}: the object is protected by a retention policy or hold (${message})`, options);
		}
		if (reason === 'userProjectMissing' || /requester pays/i.test(message)) {
			return new AuthError(`${failed}: the bucket is "requester pays"; give a project to bill with -o gs.project-id=… (or GOOGLE_PROJECT_ID)`, options);
		}
		return new AuthError(`${failed}: access denied (${message}); ${GCS_ROLE_HINT}`, options);
	}
	if (status === 416) return new PermanentError(`${failed}: the requested range is past the end of the object`, options);
	if (status === 412) return new PermanentError(`${failed}: a precondition failed (${message})`, options);
	if (status !== undefined && TRANSIENT_STATUSES.has(status)) {
		const what = status === 429 ? 'too many requests (HTTP 429)' : `HTTP ${status}${reason === undefined ? '' : ` ${reason}`}`;
		return new TransientError(`${failed}: ${context.service} answered ${what}, a passing fault; a retry may succeed`, options);
	}
	const network = mapNetworkError(error, context.service, `${context.action} (${where})`);
	if (network !== undefined) return network;
	const code = (error as {code?: unknown} | null)?.code;
	if (code === 'CONTENT_DOWNLOAD_MISMATCH' || code === 'FILE_NO_UPLOAD') {
		return new TransientError(`${failed}: the data was damaged in transit (checksum mismatch); a retry may succeed`, options);
	}
	if (status !== undefined && status >= 400 && status < 500) {
		return new PermanentError(`${failed}: ${context.service} refused the request (HTTP ${status}${reason === undefined ? '' : ` ${reason}`}): ${message}`, options);
	}
	return new PermanentError(`${failed}: ${message}`, options);
}

/** Problems with finding or using credentials, before any request reached the service. */
function mapCredentialError(error: unknown, message: string, context: GcsErrorContext): StorageError | undefined {
	const options = {cause: error};
	if (/Could not load the default credentials/i.test(message)) {
		return new AuthError(
			`no Google credentials found for ${context.service}: pass a service-account key file with -o gs.credentials-file=… (or GOOGLE_APPLICATION_CREDENTIALS), or sign in with \`gcloud auth application-default login\``,
			options,
		);
	}
	const code = (error as {code?: unknown} | null)?.code;
	if ((code === 'ENOENT' || code === 'EACCES') && typeof (error as {path?: unknown}).path === 'string') {
		const path = (error as {path: string}).path;
		return new AuthError(`cannot read the credentials file ${path} (${code === 'ENOENT' ? 'it does not exist' : 'permission denied'}): check gs.credentials-file or GOOGLE_APPLICATION_CREDENTIALS`, options);
	}
	if (/invalid_grant/i.test(message)) {
		return new AuthError(`Google refused the service-account key (invalid_grant): the key may have been deleted or disabled, or this computer's clock is wrong`, options);
	}
	return undefined;
}
