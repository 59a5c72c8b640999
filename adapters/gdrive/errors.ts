/**
 * Turns Google Drive API errors (GaxiosError from @googleapis/drive, or our own resumable-upload
 * requests) into the storage error classes, with a sentence a person can act on.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';
import {mapNetworkError} from '../shared/network-errors.js';

/** What was being done, for messages. */
export interface DriveErrorContext {
	/** A verb phrase, e.g. `save data/ab12…`. */
	readonly action: string;
	/** The repository's folder ID. */
	readonly folderId: string;
	/** The service account's e-mail, when known, to say whom to share the folder with. */
	readonly account?: string;
	/** `Google Drive` or `Google Drive at <endpoint>`. */
	readonly service: string;
}

/** A Drive error answer of a request made without the SDK (resumable uploads). */
export class DriveHttpError extends Error {
	constructor(readonly status: number, readonly body: unknown) {
		super(`HTTP ${status}`);
		Object.defineProperty(this, 'name', {value: 'DriveHttpError', enumerable: false});
	}
}

const RATE_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'sharingRateLimitExceeded', 'backendError', 'internalError']);

/** Tells whether an error is an abort from an AbortSignal, which is passed on unchanged. */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}

/** The AbortError inside an error (gaxios wraps it in a GaxiosError's `error` or `cause`), if any. */
export function findAbortError(error: unknown): Error | undefined {
	for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
		if (isAbortError(current)) return current as Error;
		const record = current as {error?: unknown; cause?: unknown};
		current = record.error ?? record.cause;
	}
	return undefined;
}

/** The HTTP status of a Drive error, if there was a response. */
export function readDriveStatus(error: unknown): number | undefined {
	if (error instanceof DriveHttpError) return error.status;
	const record = (error ?? {}) as {status?: unknown; response?: {status?: unknown}; code?: unknown};
	if (typeof record.response?.status === 'number') return record.response.status;
	if (typeof record.status === 'number') return record.status;
	if (typeof record.code === 'number') return record.code;
	if (typeof record.code === 'string' && /^\d{3}$/.test(record.code)) return Number(record.code);
	return undefined;
}

/** Google's error message and first reason, from whatever form the body came in. */
export function readDriveError(error: unknown): {message: string; reason?: string} {
	let data: unknown = error instanceof DriveHttpError ? error.body : (error as {response?: {data?: unknown}} | null)?.response?.data;
	if (data instanceof ArrayBuffer) data = Buffer.from(data).toString('utf8');
	else if (ArrayBuffer.isView(data)) data = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
	if (typeof data === 'string') {
		try {
			data = JSON.parse(data);
		} catch {
			// Not JSON.
		}
	}
	const inner = (data as {error?: {message?: unknown; errors?: Array<{reason?: unknown}>}} | undefined)?.error;
	const message = typeof inner?.message === 'string' ? inner.message : error instanceof Error ? error.message : String(error);
	const reason = typeof inner?.errors?.[0]?.reason === 'string' ? inner.errors[0].reason : undefined;
	return {message, reason};
}

/** Maps a Drive or network error to a {@link StorageError}; storage errors and aborts are returned unchanged. */
export function mapDriveError(error: unknown, context: DriveErrorContext): Error {
	if (error instanceof StorageError) return error;
	const abort = findAbortError(error);
	if (abort !== undefined) return abort.name === 'AbortError' ? abort : new DOMException(abort.message, 'AbortError');
	const options = {cause: error};
	const status = readDriveStatus(error);
	const {message, reason} = readDriveError(error);
	const failed = `cannot ${context.action} (Drive folder ${context.folderId})`;
	const who = context.account ?? 'the service account';
	if (/Could not load the default credentials/i.test(message)) {
		return new AuthError(`no Google credentials found for ${context.service}: give the service account's JSON key with -o gdrive.credentials-file=… (or GOOGLE_APPLICATION_CREDENTIALS)`, options);
	}
	if (status === 404) return new NotFoundError(`${failed}: it does not exist, or it is not shared with ${who}`, options);
	if (status === 401) {
		return new AuthError(`${context.service} refused the credentials (${message}): check the key in gdrive.credentials-file, that it has not been deleted, and this computer's clock`, options);
	}
	if (status === 403 || status === 429) {
		if (status === 429 || (reason !== undefined && RATE_REASONS.has(reason))) {
			return new TransientError(`${failed}: ${context.service} asks to slow down (${reason ?? 'HTTP 429'}); a retry after a pause may succeed`, options);
		}
		if (reason === 'storageQuotaExceeded') {
			return new PermanentError(
				`${failed}: no storage quota (${message}) — service accounts have no Drive storage of their own: put the folder in a shared drive and add ${who} to it as Content manager, or free space in the drive`,
				options,
			);
		}
		if (reason === 'insufficientFilePermissions' || reason === 'forbidden' || reason === 'insufficientPermissions') {
			return new AuthError(`${failed}: access denied (${message}); share the folder with ${who} as Content manager (in a shared drive) so that cairn can add and delete files`, options);
		}
		if (reason === 'dailyLimitExceeded' || reason === 'quotaExceeded') {
			return new PermanentError(`${failed}: the project's daily Drive API quota is used up (${reason}); try again tomorrow or ask for a higher quota in the Google Cloud console`, options);
		}
		if (reason === 'accessNotConfigured' || /has not been used in project|is disabled/i.test(message)) {
			return new AuthError(`${failed}: the Google Drive API is not enabled in the service account's project; enable it in the Google Cloud console (APIs & Services → Library → Google Drive API)`, options);
		}
		return new AuthError(`${failed}: access denied (${reason ?? 'HTTP 403'}: ${message})`, options);
	}
	if (status === 416) return new PermanentError(`${failed}: the requested range is past the end of the file`, options);
	if (status !== undefined && (status === 408 || status >= 500)) {
		return new TransientError(`${failed}: ${context.service} answered HTTP ${status}${reason === undefined ? '' : ` ${reason}`}, a passing fault; a retry may succeed`, options);
	}
	if (status !== undefined && status >= 400) return new PermanentError(`${failed}: ${context.service} refused the request (HTTP ${status}${reason === undefined ? '' : ` ${reason}`}: ${message})`, options);
	return mapNetworkError(error, context.service, `${context.action} (Drive folder ${context.folderId})`) ?? new PermanentError(`${failed}: ${message}`, options);
}
