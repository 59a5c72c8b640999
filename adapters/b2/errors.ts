/**
 * Errors of the B2 native API (`{"status", "code", "message"}` bodies) and their mapping to the
 * storage error classes, with sentences a person can act on. Messages name the bucket, the file
 * and the capability a refusal points to; they never quote the application key or tokens.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';
import {mapNetworkError} from '../shared/network-errors.js';

/** An error answer of the B2 API. */
export class B2ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		/** The API call, e.g. `b2_list_file_names` or `b2_download_file_by_name`. */
		readonly api: string,
	) {
		super(`${api}: HTTP ${status} ${code}${message === '' ? '' : `: ${message}`}`);
		Object.defineProperty(this, 'name', {value: 'B2ApiError', enumerable: false});
	}
}

/** What was being done, for messages. */
export interface B2ErrorContext {
	/** A verb phrase, e.g. `save data/ab/ab12…`. */
	readonly action: string;
	readonly bucket: string;
	/** The file name with the prefix, when the call was about one file. */
	readonly key?: string;
	/** `Backblaze B2` or `Backblaze B2 at <endpoint>`. */
	readonly service: string;
	/** The capability the failed call needs, e.g. `writeFiles`. */
	readonly capability?: string;
	/** What the key allows, when known, to explain an `unauthorized` answer. */
	readonly allowed?: {readonly capabilities: readonly string[]; readonly namePrefix?: string; readonly bucketName?: string};
}

/** Every capability cairn needs. */
export const B2_CAPABILITIES_HINT = 'cairn needs an application key with listBuckets (unless the key is limited to the bucket), listFiles, readFiles, writeFiles and deleteFiles';

/** Tells whether an error is an abort from an AbortSignal, which is passed on unchanged. */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}

/** Maps a B2 or network error to a {@link StorageError}; storage errors and aborts are returned unchanged. */
export function mapB2Error(error: unknown, context: B2ErrorContext): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	const options = {cause: error};
	const where = context.key === undefined ? `bucket "${context.bucket}"` : `b2://${context.bucket}/${context.key}`;
	const failed = `cannot ${context.action} (${where})`;
	if (!(error instanceof B2ApiError)) {
		return mapNetworkError(error, context.service, `${context.action} (${where})`) ?? new PermanentError(`${failed}: ${error instanceof Error ? error.message : String(error)}`, options);
	}
	switch (error.code) {
		case 'expired_auth_token':
			return new TransientError(`${failed}: the B2 authorization token expired; cairn authorizes again on the next attempt`, options);
		case 'bad_auth_token':
			return error.api === 'b2_authorize_account'
				? new AuthError(`${context.service} refused the application key: check b2.account-id / B2_ACCOUNT_ID and b2.account-key / B2_ACCOUNT_KEY`, options)
				: new TransientError(`${failed}: the B2 authorization token was refused; cairn authorizes again on the next attempt`, options);
		case 'unauthorized':
			if (error.api === 'b2_authorize_account') {
				return new AuthError(`${context.service} refused the application key (wrong key ID or key, or the key was deleted or has expired): check b2.account-id / B2_ACCOUNT_ID and b2.account-key / B2_ACCOUNT_KEY`, options);
			}
			return new AuthError(`${failed}: access denied: ${describeRefusal(context, error.message)}`, options);
		case 'access_denied':
			return new AuthError(`${failed}: access denied (${error.message}); ${B2_CAPABILITIES_HINT}`, options);
		case 'cap_exceeded':
			return new PermanentError(`${failed}: the account reached a usage cap set in the Backblaze web UI (${error.message}); raise the cap under "Caps & Alerts"`, options);
		case 'storage_cap_exceeded':
			return new PermanentError(`${failed}: the account's storage cap is reached; raise it under "Caps & Alerts" in the Backblaze web UI`, options);
		case 'not_found':
		case 'no_such_file':
		case 'file_not_present':
			return new NotFoundError(`${failed}: it does not exist`, options);
		case 'range_not_satisfiable':
			return new PermanentError(`${failed}: the requested range is past the end of the file`, options);
		case 'too_many_requests':
			return new TransientError(`${failed}: ${context.service} asks to slow down (429 too_many_requests); a retry after a pause may succeed`, options);
		default:
			break;
	}
	if (error.status === 408 || error.status === 429 || error.status >= 500) {
		return new TransientError(`${failed}: ${context.service} answered HTTP ${error.status} ${error.code}, a passing fault; a retry may succeed`, options);
	}
	if (error.status === 401 || error.status === 403) return new AuthError(`${failed}: access denied (${error.code}: ${error.message}); ${B2_CAPABILITIES_HINT}`, options);
	if (error.status === 404) return new NotFoundError(`${failed}: it does not exist`, options);
	return new PermanentError(`${failed}: ${context.service} refused the request (HTTP ${error.status} ${error.code}: ${error.message})`, options);
}

/** Why an `unauthorized` answer came, from what the key allows. */
function describeRefusal(context: B2ErrorContext, message: string): string {
	const allowed = context.allowed;
	if (context.capability !== undefined && allowed !== undefined && !allowed.capabilities.includes(context.capability)) {
		return `the application key lacks the ${context.capability} capability; create a key with it (${B2_CAPABILITIES_HINT})`;
	}
	if (allowed?.bucketName !== undefined && allowed.bucketName !== context.bucket) {
		return `the application key is limited to bucket "${allowed.bucketName}"; use that bucket or another key`;
	}
	if (allowed?.namePrefix !== undefined && context.key !== undefined && !context.key.startsWith(allowed.namePrefix)) {
		return `the application key is limited to file names starting with "${allowed.namePrefix}"; put the repository under that prefix`;
	}
	return `${message === '' ? 'the application key may not do this' : message}; ${B2_CAPABILITIES_HINT}`;
}
