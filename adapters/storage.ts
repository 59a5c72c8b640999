/**
 * The one storage contract every backend adapter implements.
 *
 * A repository is a flat set of named files of a few types (restic's layout):
 * `config`, `keys/<id>`, `locks/<id>`, `snapshots/<id>`, `index/<id>` and
 * `data/<first two hex chars>/<id>`. Adapters map a {@link FileHandle} to their
 * own object key or path with {@link pathOf}; they know nothing of the engine.
 */

/** The kinds of file in a repository. `config` is a single file. */
export type FileType = 'config' | 'keys' | 'locks' | 'snapshots' | 'index' | 'data';

export const FILE_TYPES: readonly FileType[] = ['config', 'keys', 'locks', 'snapshots', 'index', 'data'];

/** Names one file: its type and its name (a hex ID; empty for `config`). */
export interface FileHandle {
	readonly type: FileType;
	readonly name: string;
}

/** What {@link Storage.stat} and {@link Storage.list} report for a file. */
export interface FileInfo {
	readonly name: string;
	readonly size: number;
}

/** Options accepted by every operation. */
export interface OperationOptions {
	/** When aborted, the operation rejects with an AbortError and leaves no partial file visible. */
	readonly signal?: AbortSignal;
}

/** A byte range for {@link Storage.load}. */
export interface LoadOptions extends OperationOptions {
	/** First byte to return. Default 0. */
	readonly offset?: number;
	/** Number of bytes to return; omitted means to the end of the file. */
	readonly length?: number;
}

/** Optional abilities of a backend, as flags rather than separate code paths. */
export interface StorageCapabilities {
	/** Saves become visible all at once (temporary name + rename, or a single PUT). */
	readonly atomicSave: boolean;
	/** `load` with offset/length fetches only that range from the service. */
	readonly rangedLoad: boolean;
	/** The store may refuse deletes (for example S3 object lock); callers must tolerate {@link PermanentError} from remove. */
	readonly mayRefuseDelete: boolean;
	/** Suggested number of requests to run at once. */
	readonly concurrency: number;
	/**
	 * Optional; absent means false. Some files may sit in a storage class that cannot be read
	 * directly (S3 GLACIER and DEEP_ARCHIVE, Azure Archive): loading one rejects with a
	 * {@link PermanentError} whose `code` is `'cold-storage'` (`ColdStorageError` in
	 * adapters/shared/storage-errors.ts) until {@link Storage.thaw} has made it readable.
	 */
	readonly coldStorage?: boolean;
}

/** What {@link Storage.thaw} reports for one file. */
export type ThawState =
	/** Readable now (never cold, or a thawed copy is available). */
	| 'ready'
	/** A thaw was requested earlier and is still running. */
	| 'pending'
	/** This call requested the thaw; it is now running. */
	| 'started'
	/** Cold and no thaw running; only reported when {@link ThawOptions.checkOnly} is set. */
	| 'frozen';

/** Options of {@link Storage.thaw}. */
export interface ThawOptions extends OperationOptions {
	/** Only report the state: never request a thaw (which costs money). */
	readonly checkOnly?: boolean;
}

/**
 * Optional access to the `.storageconfig` file at the repository root (Kopia's format, parsed by
 * adapters/shared/storage-config.ts), for stores whose objects have storage classes or tiers.
 */
export interface StorageConfigFile {
	/** Storage classes (tiers) the store knows, e.g. `STANDARD`, `GLACIER` or `Hot`, `Archive`. */
	readonly classes: readonly string[];
	/** Those of {@link classes} that cannot be read without a thaw. */
	readonly coldClasses: readonly string[];
	/** The file's bytes, or undefined when there is none. */
	read(options?: OperationOptions): Promise<Uint8Array | undefined>;
	/**
	 * Replaces the file (undefined removes it). The caller validates the content first; the store
	 * applies it to every later upload made through this Storage.
	 */
	write(data: Uint8Array | undefined, options?: OperationOptions): Promise<void>;
}

/**
 * A place that holds repository files.
 *
 * Contract, which the shared conformance suite in test/conformance checks for every adapter:
 * - `save` is atomic: a reader sees either no file or the whole file, never a prefix. Saving a
 *   name that already exists replaces it with the new content (the engine only ever re-saves
 *   identical content, because names are content hashes).
 * - After `save` resolves, `load`, `stat` and `list` see the file (read-after-write).
 * - `load` returns exactly the requested range. A range that starts or ends past the end of the
 *   file rejects with {@link PermanentError}; a missing file rejects with {@link NotFoundError}.
 * - `list(type)` yields every file of that type once, in no particular order. For `data` it
 *   includes all sub-directories. It never yields temporary files.
 * - `remove` of a missing file rejects with {@link NotFoundError}.
 * - Every failure is one of the {@link StorageError} classes, with the SDK error as `cause`
 *   and a message a person can act on. Messages never contain secrets.
 * - Adapters never retry; retry, concurrency limits, logging and dry-run are wrappers.
 * - After `close`, no further calls are made; it releases connections and subprocesses.
 */
export interface Storage {
	/** A human-readable location with secrets removed, e.g. `local:/srv/backup`. */
	readonly location: string;
	readonly capabilities: StorageCapabilities;

	/**
	 * Prepares the location for a new repository (creates directories where the backend has them).
	 * Rejects with {@link AlreadyExistsError} when the location already holds any file.
	 */
	create(options?: OperationOptions): Promise<void>;
	save(handle: FileHandle, data: Uint8Array, options?: OperationOptions): Promise<void>;
	load(handle: FileHandle, options?: LoadOptions): Promise<Uint8Array>;
	stat(handle: FileHandle, options?: OperationOptions): Promise<FileInfo>;
	list(type: FileType, options?: OperationOptions): AsyncIterable<FileInfo>;
	remove(handle: FileHandle, options?: OperationOptions): Promise<void>;
	close(): Promise<void>;

	/**
	 * Optional, present when `capabilities.coldStorage` is set: makes a file held in a cold storage
	 * class readable. Reports `ready` when it already is, `pending` while an earlier request runs,
	 * and otherwise requests a thaw (S3 RestoreObject, Azure rehydration, with the tier and
	 * duration of the adapter's options) and reports `started`; with `checkOnly` it reports
	 * `frozen` instead of requesting. Idempotent: calling it again while a thaw runs costs nothing.
	 * A missing file rejects with {@link NotFoundError}.
	 */
	thaw?(handle: FileHandle, options?: ThawOptions): Promise<ThawState>;

	/**
	 * Optional, present when the store can hold files under a retention lock (S3 object lock):
	 * makes sure the file cannot be deleted or overwritten before `until`, extending an existing
	 * lock but never shortening it. Resolves with the retain-until date now in force. Rejects with
	 * {@link PermanentError} when the adapter has no retention mode configured.
	 */
	extendRetention?(handle: FileHandle, until: Date, options?: OperationOptions): Promise<Date>;

	/** Optional: the `.storageconfig` file of stores with storage classes (see {@link StorageConfigFile}). */
	readonly storageConfig?: StorageConfigFile;
}

/** The class of a storage failure, which decides whether a retry can help. */
export type StorageErrorKind = 'not-found' | 'auth' | 'permanent' | 'transient';

/** Base class of every error a Storage rejects with. */
export class StorageError extends Error {
	readonly kind: StorageErrorKind;

	constructor(kind: StorageErrorKind, message: string, options?: {cause?: unknown}) {
		super(message, options);
		this.kind = kind;
		Object.defineProperty(this, 'name', {value: new.target.name, enumerable: false});
	}
}

/** The file, bucket, container or path does not exist. */
export class NotFoundError extends StorageError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('not-found', message, options);
	}
}

/** Credentials are missing, wrong, expired or lack a permission. */
export class AuthError extends StorageError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('auth', message, options);
	}
}

/** Retrying cannot help (bad request, invalid range, no space, refused delete, ...). */
export class PermanentError extends StorageError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('permanent', message, options);
	}
}

/** The location already holds files (from {@link Storage.create}). */
export class AlreadyExistsError extends PermanentError {}

/** A passing fault (network, throttling, 5xx); a retry may succeed. */
export class TransientError extends StorageError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('transient', message, options);
	}
}

/** Tells whether an error is a storage error of the given kind. */
export function isStorageError(error: unknown, kind?: StorageErrorKind): error is StorageError {
	return error instanceof StorageError && (kind === undefined || error.kind === kind);
}

/** The path of a file relative to the repository root, in restic's default layout. */
export function pathOf(handle: FileHandle): string {
	if (handle.type === 'config') return 'config';
	if (handle.type === 'data') return `data/${handle.name.slice(0, 2)}/${handle.name}`;
	return `${handle.type}/${handle.name}`;
}

/** The directories restic's default layout creates: the type folders and data/00 … data/ff. */
export function listLayoutDirectories(): string[] {
	const dirs: string[] = ['data', 'index', 'keys', 'locks', 'snapshots'];
	for (let i = 0; i < 256; i++) dirs.push(`data/${i.toString(16).padStart(2, '0')}`);
	return dirs;
}

/** Throws the signal's reason when it has been aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
	if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
