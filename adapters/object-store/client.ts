/**
 * The small client an object store implements to become a cairn {@link Storage}: raw calls on
 * full object keys, plus the hook that turns its SDK's errors into the storage error classes.
 *
 * Everything a repository needs above that comes from the shared core (adapters/object-store/
 * store.ts): the key layout (`config`, `data/<xx>/<id>`, the rest flat, all under a prefix), the
 * `config` special case of listings, checking handles and ranges, past-the-end ranges, the
 * `.storageconfig` file and its classes, emptiness on `create`, abort handling and the closed
 * state. A client therefore knows nothing of file types, IDs or `.storageconfig` rules.
 */

import type {FileHandle} from '../storage.js';

/** One object found by {@link ObjectClient.head} or {@link ObjectClient.list}. */
export interface ObjectInfo {
	/** The full key, prefix included (e.g. `backups/laptop/data/ab/ab12…`). */
	readonly key: string;
	/** Size in bytes. */
	readonly size: number;
}

/** Options of every client call. */
export interface ObjectCallOptions {
	/** Passed on to the SDK or `fetch`; when it fires, the call rejects (any error: the core reports the abort). */
	readonly signal?: AbortSignal;
	/** The repository file concerned, when there is one (for messages and errors such as `DeleteRefusedError`). */
	readonly handle?: FileHandle;
}

/** A byte range of {@link ObjectClient.get}; the core never asks for an empty one. */
export interface ObjectRange {
	/** First byte, 0 or more. */
	readonly offset: number;
	/** Number of bytes, 1 or more; undefined means to the end of the object. */
	readonly length?: number;
}

/** Options of {@link ObjectClient.put}; `handle` is undefined for the `.storageconfig` file. */
export interface PutOptions extends ObjectCallOptions {
	/** The class (tier) to store the object in, already resolved from `.storageconfig`; undefined means the store's default. */
	readonly storageClass?: string;
	/** `application/octet-stream` for repository files, `application/json` for `.storageconfig`. */
	readonly contentType: string;
}

/** Options of {@link ObjectClient.list}. */
export interface ListOptions extends ObjectCallOptions {
	/**
	 * Stop after about this many objects (a hint: a client may yield more). The core sets it when
	 * it only needs to know whether a location is empty.
	 */
	readonly limit?: number;
}

/** The cairn-level operations, for error messages and for naming the permission a refusal points to. */
export type ObjectOperation = 'create' | 'save' | 'load' | 'stat' | 'list' | 'remove' | 'storageconfig';

/** What the core was doing when a client call failed; given to {@link ObjectClient.mapError}. */
export interface ObjectErrorContext {
	readonly operation: ObjectOperation;
	/** The full key (or, for listings, the full prefix), when the call concerned one. */
	readonly key?: string;
	/** The key relative to the repository root (`config`, `data/ab/ab12…`, `.storageconfig`), when there is one. */
	readonly path?: string;
	/** The repository file concerned, when there is one. */
	readonly handle?: FileHandle;
}

/**
 * Thrown (or rejected with) by {@link ObjectClient.get} when the service refuses the range
 * because it starts past the end of the object (HTTP 416, S3 `InvalidRange`). The core then asks
 * {@link ObjectClient.head} for the size and decides: a read from exactly the end gives no bytes,
 * anything else is a {@link PermanentError} naming the size.
 */
export class RangeNotSatisfiableError extends Error {
	constructor(options?: {cause?: unknown}) {
		super('the requested range is not satisfiable', options);
		Object.defineProperty(this, 'name', {value: 'RangeNotSatisfiableError', enumerable: false});
	}
}

/**
 * The raw calls of one object store (S3, Azure Blob, GCS, B2, Google Drive, Swift, …).
 *
 * Contract:
 * - Keys are full keys (prefix included), built by the core; the client uses them as they are.
 * - `put` is atomic: a reader sees no object or the whole object, never a part (a single PUT, or
 *   multipart/blocks/large-file parts committed at the end and cancelled on failure or abort).
 *   Putting an existing key replaces it. After `put` resolves, `get`, `head` and `list` see it.
 * - `get` returns exactly the bytes of the range (the whole object without one). A range that
 *   starts past the end rejects with {@link RangeNotSatisfiableError}; the core checks that a
 *   range ending past the end returned fewer bytes and reports it. A missing object rejects.
 * - `head` reports the key and size, and rejects for a missing object.
 * - `list(prefix)` yields every object whose key starts with `prefix` (at any depth below it), each
 *   once, in no particular order, paging as the service requires. It yields nothing for an empty
 *   or missing prefix. The core filters out temporary and stray names.
 * - `delete` removes the object and rejects for a missing one (a client whose service answers a
 *   delete of a missing key with success checks first). A refused delete (retention lock, hold,
 *   missing permission) should reject with `DeleteRefusedError` (adapters/shared/storage-errors.ts).
 * - Failures may be thrown as they come from the SDK: the core passes every one through
 *   {@link mapError} with an {@link ObjectErrorContext}. A client may also throw a
 *   `StorageError` itself (e.g. `ColdStorageError`); the core passes those on unchanged.
 * - Abort: every call takes the signal to its SDK. The core reports the abort itself, so the
 *   client need not recognise abort errors.
 * - The client never retries (retry is a wrapper above the Storage) and never logs secrets.
 */
export interface ObjectClient {
	/** Stores `data` at `key`, atomically, replacing any object there. */
	put(key: string, data: Uint8Array, options: PutOptions): Promise<void>;
	/** The object's bytes, or those of `range`. */
	get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array>;
	/** The object's size. */
	head(key: string, options: ObjectCallOptions): Promise<ObjectInfo>;
	/** Every object under `prefix`. */
	list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo>;
	/** Removes the object. */
	delete(key: string, options: ObjectCallOptions): Promise<void>;

	/**
	 * The error hook: turns an SDK error into one of the storage error classes (`NotFoundError`,
	 * `AuthError`, `PermanentError`, `TransientError`), with the SDK error as `cause` and a
	 * sentence a person can act on that names the container and key but never a secret.
	 */
	mapError(error: unknown, context: ObjectErrorContext): Error;

	/**
	 * Optional: checks once that the bucket or container exists and is reachable, with a message
	 * that says how to fix it when it is not. The core calls it before the first operation and
	 * keeps the result; a failure is forgotten, so the next operation checks again.
	 */
	connect?(options: ObjectCallOptions): Promise<void>;
	/** Optional: part of `create`, before the emptiness check (e.g. read the bucket's metadata). */
	checkCreate?(options: ObjectCallOptions): Promise<void>;
	/** Optional: part of `create`, after the location was found empty (e.g. make folders). */
	prepareCreate?(options: ObjectCallOptions): Promise<void>;
	/** Optional: releases connections; called once by the store's `close`. */
	close?(): Promise<void>;
}
