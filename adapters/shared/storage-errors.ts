/**
 * Two refinements of {@link PermanentError} that callers above the adapters recognise by class
 * or by their `code` (which survives being copied or serialised): a file held in cold storage,
 * and a delete the store refused.
 */

import {PermanentError, type FileHandle} from '../storage.js';

/** `code` of {@link ColdStorageError}. */
export const COLD_STORAGE_CODE = 'cold-storage';
/** `code` of {@link DeleteRefusedError}. */
export const DELETE_REFUSED_CODE = 'delete-refused';

/**
 * A load failed because the file sits in a storage class that cannot be read directly (S3
 * GLACIER / DEEP_ARCHIVE, Azure Archive). `Storage.thaw` makes it readable; retrying cannot.
 */
export class ColdStorageError extends PermanentError {
	readonly code = COLD_STORAGE_CODE;

	constructor(readonly handle: FileHandle, readonly storageClass: string, message: string, options?: {cause?: unknown}) {
		super(message, options);
	}
}

/**
 * The store refused to delete a file: it is under a retention lock (S3 object lock, an Azure
 * immutability policy) or the credentials may not delete. The file is still there, unchanged.
 * Prune and forget treat it as "keep this file and report it", never as a half-done operation.
 */
export class DeleteRefusedError extends PermanentError {
	readonly code = DELETE_REFUSED_CODE;

	constructor(readonly handle: FileHandle, message: string, options?: {cause?: unknown; retainUntil?: Date}) {
		super(message, options);
		this.retainUntil = options?.retainUntil;
	}

	/** When the lock ends, if the store said. */
	readonly retainUntil: Date | undefined;
}

/** Tells whether an error (from any wrapper depth) says a file is in cold storage. */
export function isColdStorageError(error: unknown): error is PermanentError & {code: typeof COLD_STORAGE_CODE} {
	return readCode(error) === COLD_STORAGE_CODE;
}

/** Tells whether an error says the store refused a delete. */
export function isDeleteRefusedError(error: unknown): error is PermanentError & {code: typeof DELETE_REFUSED_CODE} {
	return readCode(error) === DELETE_REFUSED_CODE;
}

/** The `code` of an error, following `cause` links (the engine wraps some storage errors). */
function readCode(error: unknown): string | undefined {
	for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
		const code = (current as {code?: unknown}).code;
		if (code === COLD_STORAGE_CODE || code === DELETE_REFUSED_CODE) return code;
		current = (current as {cause?: unknown}).cause;
	}
	return undefined;
}
