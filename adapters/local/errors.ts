/**
 * Turns Node file-system errors into the storage error classes, with a sentence a person can act on.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';

/** Error codes for faults that may pass (busy device, too many open files, flaky network file system). */
const TRANSIENT_CODES = new Set(['EIO', 'EAGAIN', 'EMFILE', 'ENFILE', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'ESTALE', 'ECONNRESET']);

/** Reads the `code` of a Node system error, if there is one. */
export function readErrorCode(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const code = (error as {code?: unknown}).code;
	return typeof code === 'string' ? code : undefined;
}

/** Tells whether an error is an abort (from an AbortSignal), which is passed on unchanged. */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || readErrorCode(error) === 'ABORT_ERR');
}

/**
 * Maps an error thrown by node:fs to a {@link StorageError}.
 *
 * `action` is a verb phrase such as `load keys/1a2b…` and `path` the absolute path involved.
 * Storage errors and aborts are returned unchanged; anything else keeps the original as `cause`.
 */
export function mapFsError(error: unknown, action: string, path: string): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	const code = readErrorCode(error);
	const detail = error instanceof Error ? error.message : String(error);
	const options = {cause: error};
	switch (code) {
		case 'ENOENT':
			return new NotFoundError(`cannot ${action}: ${path} does not exist`, options);
		case 'EACCES':
		case 'EPERM':
			return new AuthError(`permission denied on ${path}: cannot ${action}; check the owner and mode of the file and of its directories`, options);
		case 'ENOSPC':
			return new PermanentError(`no space left on the device holding ${path} (while trying to ${action}); free some space and try again`, options);
		case 'EDQUOT':
			return new PermanentError(`disk quota exceeded on ${path} (while trying to ${action}); free some space or raise the quota`, options);
		case 'EROFS':
			return new PermanentError(`${path} is on a read-only file system: cannot ${action}; remount it writable or choose another location`, options);
		case 'EISDIR':
			return new PermanentError(`cannot ${action}: ${path} is a directory where a file was expected`, options);
		case 'ENOTDIR':
			return new PermanentError(`cannot ${action}: part of ${path} is a file where a directory was expected`, options);
		default:
			if (code !== undefined && TRANSIENT_CODES.has(code)) {
				return new TransientError(`temporary failure (${code}) on ${path} while trying to ${action}; a retry may succeed: ${detail}`, options);
			}
			return new PermanentError(`cannot ${action} (${path}): ${detail}`, options);
	}
}
