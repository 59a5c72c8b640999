/**
 * The shared core of the object-store adapters: a {@link Storage} built on an {@link ObjectClient}.
 *
 * It owns what every object store repeats: the key layout under a prefix ({@link ObjectLayout}),
 * checks of handles and ranges, the `config` special case of listings, ranged loads with
 * past-the-end detection, emptiness on `create`, the `.storageconfig` file and the class of each
 * upload, abort handling, error translation through the client's hook, and the closed state.
 * An adapter is its client, its option declaration, and (for abilities such as S3's `thaw`) a
 * subclass that adds methods.
 */

import {checkByteRange, checkFileHandle, checkFileType, makeRangeError} from '../shared/file-names.js';
import {Remembered} from '../shared/remembered.js';
import {findStorageClass, parseStorageConfig, STORAGE_CONFIG_NAME, StorageConfigCache} from '../shared/storage-config.js';
import {AlreadyExistsError, PermanentError, StorageError, isStorageError, throwIfAborted} from '../storage.js';
import type {FileHandle, FileInfo, FileType, LoadOptions, OperationOptions, Storage, StorageCapabilities, StorageConfigFile} from '../storage.js';
import {RangeNotSatisfiableError, type ObjectClient, type ObjectErrorContext} from './client.js';
import {DEFAULT_LAYOUT, joinKey, type ObjectLayout} from './layout.js';

const OBJECT_CONTENT_TYPE = 'application/octet-stream';

/** Storage classes (tiers) of a store that honours `.storageconfig`. */
export interface StorageClassSettings {
	/** The classes the store knows, e.g. `STANDARD`, `GLACIER`, or `Hot`, `Archive`. */
	readonly classes: readonly string[];
	/** Those that cannot be read without a thaw. */
	readonly coldClasses: readonly string[];
	/** Class of objects no rule covers (an adapter option); undefined leaves the store's default. */
	readonly defaultClass?: string;
	/**
	 * Turns the class found for `path` (from a rule or {@link defaultClass}) into the one to send,
	 * e.g. fixing its case; throws a {@link PermanentError} for a class the store does not have.
	 * Default: the class as it is.
	 */
	readonly resolveClass?: (storageClass: string, path: string, location: string) => string;
}

/** Everything {@link ObjectStore} needs besides its client. */
export interface ObjectStoreSettings {
	/** `<scheme>:<rest>` without secrets, e.g. `s3:https://host/bucket/prefix`. */
	readonly location: string;
	/** Folder of the repository inside the bucket or container: no leading or trailing slash; empty for the root. */
	readonly prefix: string;
	readonly capabilities: StorageCapabilities;
	/** Default {@link DEFAULT_LAYOUT} (restic's). */
	readonly layout?: ObjectLayout;
	/** Present when the store honours `.storageconfig` (then the Storage has `storageConfig`). */
	readonly storageClasses?: StorageClassSettings;
	/** Words of the message `create` gives for a location that is not empty. */
	readonly words?: {
		/** What the store holds, e.g. `objects`, `blobs`, `files`. Default `objects`. */
		readonly objects?: string;
		/** What to pick instead, e.g. `an empty bucket or a new prefix`. */
		readonly instead?: string;
	};
}

/** What every store at `<scheme>:BUCKET:/PREFIX` is given (gs, b2; Swift's container too). */
export interface BucketStoreSettings {
	readonly bucket: string;
	/** Folder inside the bucket, without leading or trailing slashes; empty for the bucket root. */
	readonly prefix: string;
	/** Another API endpoint (a private endpoint, an emulator, a test server). */
	readonly endpoint?: string;
	/** Suggested requests at once; default 5. */
	readonly concurrency?: number;
}

/** The location, prefix and capabilities of a store at `<scheme>:BUCKET:/PREFIX` (atomic saves, ranged loads). */
export function describeBucketStore(scheme: string, settings: BucketStoreSettings, mayRefuseDelete: boolean): Pick<ObjectStoreSettings, 'location' | 'prefix' | 'capabilities'> {
	return {
		location: `${scheme}:${settings.bucket}:/${settings.prefix}`,
		prefix: settings.prefix,
		capabilities: {atomicSave: true, rangedLoad: true, mayRefuseDelete, concurrency: settings.concurrency ?? 5},
	};
}

/** See the module notes. Subclasses add abilities (thaw, retention) with {@link keyOf} and {@link translate}. */
export class ObjectStore implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	readonly storageConfig?: StorageConfigFile;
	protected readonly layout: ObjectLayout;
	private readonly classes: StorageClassSettings | undefined;
	private readonly configCache: StorageConfigCache;
	private readonly connected = new Remembered<void>();
	private closed = false;

	constructor(
		protected readonly objects: ObjectClient,
		protected readonly settings: ObjectStoreSettings,
	) {
		this.location = settings.location;
		this.capabilities = settings.capabilities;
		this.layout = settings.layout ?? DEFAULT_LAYOUT;
		this.classes = settings.storageClasses;
		this.configCache = new StorageConfigCache(this.location, (signal) => this.readStorageConfig({signal}));
		if (this.classes !== undefined) {
			this.storageConfig = {
				classes: this.classes.classes,
				coldClasses: this.classes.coldClasses,
				read: (options) => this.readStorageConfig(options),
				write: (data, options) => this.writeStorageConfig(data, options),
			};
		}
	}

	async create(options: OperationOptions = {}): Promise<void> {
		const {signal} = await this.begin(options);
		const root = joinKey(this.settings.prefix, '');
		const context: ObjectErrorContext = {operation: 'create', key: root};
		const found = new Set<string>();
		await this.call(context, signal, async () => {
			await this.objects.checkCreate?.({signal});
			for await (const item of this.objects.list(root, {signal, limit: 10})) {
				const rest = item.key.slice(root.length);
				if (rest === STORAGE_CONFIG_NAME || rest === '') continue;
				found.add(rest);
				if (found.size >= 10) break;
			}
		});
		if (found.size > 0) {
			const names = [...found].sort();
			const shown = names.slice(0, 3).map((name) => JSON.stringify(name)).join(', ');
			const hint = found.has('config') ? ' (it looks like a repository already exists there)' : '';
			const words = this.settings.words;
			throw new AlreadyExistsError(
				`cannot create a repository at ${this.location}: it already holds ${words?.objects ?? 'objects'} such as ${shown}${names.length > 3 ? ' and more' : ''}${hint}; ` +
					`pick ${words?.instead ?? 'an empty bucket or a new prefix'}`,
			);
		}
		await this.call(context, signal, async () => this.objects.prepareCreate?.({signal}));
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		const {key, path} = this.keyOf(handle);
		const {signal} = await this.begin(options);
		const storageClass = await this.findClass(path, signal);
		await this.call({operation: 'save', key, path, handle}, signal, () =>
			this.objects.put(key, data, {signal, handle, contentType: OBJECT_CONTENT_TYPE, ...(storageClass === undefined ? {} : {storageClass})}),
		);
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		const {key, path} = this.keyOf(handle);
		const offset = options.offset ?? 0;
		const length = options.length;
		checkByteRange(offset, length);
		const {signal} = await this.begin(options);
		const context: ObjectErrorContext = {operation: 'load', key, path, handle};
		const what = this.describe(path);
		return this.call(context, signal, async () => {
			if (length === 0) {
				const {size} = await this.objects.head(key, {signal, handle});
				if (offset > size) throw makeRangeError(what, size, offset, length);
				return new Uint8Array(0);
			}
			let bytes: Uint8Array;
			try {
				bytes = await this.objects.get(key, offset === 0 && length === undefined ? undefined : {offset, ...(length === undefined ? {} : {length})}, {signal, handle});
			} catch (error) {
				if (!(error instanceof RangeNotSatisfiableError)) throw error;
				const {size} = await this.objects.head(key, {signal, handle});
				if (length === undefined && offset === size) return new Uint8Array(0);
				throw makeRangeError(what, size, offset, length);
			}
			if (length !== undefined && bytes.byteLength < length) throw makeRangeError(what, offset + bytes.byteLength, offset, length);
			return bytes;
		});
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		const {key, path} = this.keyOf(handle);
		const {signal} = await this.begin(options);
		const {size} = await this.call({operation: 'stat', key, path, handle}, signal, () => this.objects.head(key, {signal, handle}));
		return {name: handle.name, size};
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		checkFileType(type);
		const {signal} = await this.begin(options);
		if (type === 'config') {
			try {
				yield await this.stat({type, name: ''}, options);
			} catch (error) {
				if (!isStorageError(error, 'not-found')) throw error;
			}
			return;
		}
		const folder = joinKey(this.settings.prefix, this.layout.folderOf(type));
		const context: ObjectErrorContext = {operation: 'list', key: folder};
		const items = this.objects.list(folder, {signal})[Symbol.asyncIterator]();
		try {
			for (;;) {
				throwIfAborted(signal);
				const step = await this.call(context, signal, () => items.next());
				if (step.done === true) return;
				const name = this.layout.readName(type, step.value.key.slice(folder.length));
				if (name !== undefined) yield {name, size: step.value.size};
			}
		} finally {
			await items.return?.().catch(() => undefined);
		}
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		const {key, path} = this.keyOf(handle);
		const {signal} = await this.begin(options);
		await this.call({operation: 'remove', key, path, handle}, signal, () => this.objects.delete(key, {signal, handle}));
	}

	/** Whether {@link close} was called. */
	protected get isClosed(): boolean {
		return this.closed;
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await this.objects.close?.();
	}

	/** Checks a handle and the store's state, then connects: the key of the handle and the signal to pass on. */
	protected async open(handle: FileHandle, options: OperationOptions): Promise<{key: string; path: string; signal?: AbortSignal}> {
		const located = this.keyOf(handle);
		return {...located, ...(await this.begin(options))};
	}

	/** The full key of a handle and its key relative to the root, after checking its type and name. */
	protected keyOf(handle: FileHandle): {key: string; path: string} {
		checkFileHandle(handle);
		const path = this.layout.pathOf(handle);
		return {key: joinKey(this.settings.prefix, path), path};
	}

	/** Checks that the store is open and the signal not aborted, then connects (once). */
	protected async begin(options: OperationOptions): Promise<{signal?: AbortSignal}> {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
		throwIfAborted(options.signal);
		const connect = this.objects.connect?.bind(this.objects);
		if (connect !== undefined) {
			await this.connected.get(() => connect({signal: options.signal}).catch((error: unknown) => Promise.reject(this.translate(error, {operation: 'list'}, options.signal))));
		}
		return options.signal === undefined ? {} : {signal: options.signal};
	}

	/** Runs client calls, translating their failures. */
	protected async call<T>(context: ObjectErrorContext, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			throw this.translate(error, context, signal);
		}
	}

	/**
	 * The error a failed client call rejects with: the abort when the signal fired (or the error
	 * is an abort), a storage error as it is, anything else through the client's `mapError`.
	 */
	protected translate(error: unknown, context: ObjectErrorContext, signal?: AbortSignal): Error {
		if (isAbortError(error)) return error as Error;
		if (signal?.aborted === true) return (signal.reason as Error | undefined) ?? new DOMException('The operation was aborted', 'AbortError');
		if (error instanceof StorageError) return error;
		return this.objects.mapError(error, context);
	}

	/** `<path> in <location>`, for messages. */
	protected describe(path: string): string {
		return `${path} in ${this.location}`;
	}

	/** The class of an upload to `path`: from `.storageconfig`, else the default class. */
	private async findClass(path: string, signal?: AbortSignal): Promise<string | undefined> {
		if (this.classes === undefined) return undefined;
		const config = await this.configCache.load(signal);
		const storageClass = findStorageClass(config, path) ?? this.classes.defaultClass;
		if (storageClass === undefined || this.classes.resolveClass === undefined) return storageClass;
		return this.classes.resolveClass(storageClass, path, this.location);
	}

	private async readStorageConfig(options: OperationOptions = {}): Promise<Uint8Array | undefined> {
		const {signal} = await this.begin(options);
		const key = joinKey(this.settings.prefix, STORAGE_CONFIG_NAME);
		try {
			return await this.call({operation: 'storageconfig', key, path: STORAGE_CONFIG_NAME}, signal, () => this.objects.get(key, undefined, {signal}));
		} catch (error) {
			if (isStorageError(error, 'not-found')) return undefined;
			throw error;
		}
	}

	private async writeStorageConfig(data: Uint8Array | undefined, options: OperationOptions = {}): Promise<void> {
		const {signal} = await this.begin(options);
		const key = joinKey(this.settings.prefix, STORAGE_CONFIG_NAME);
		const parsed = data === undefined ? undefined : parseStorageConfig(data);
		const context: ObjectErrorContext = {operation: 'save', key, path: STORAGE_CONFIG_NAME};
		try {
			await this.call(context, signal, () => (data === undefined ? this.objects.delete(key, {signal}) : this.objects.put(key, data, {signal, contentType: 'application/json'})));
		} catch (error) {
			if (!(data === undefined && isStorageError(error, 'not-found'))) throw error;
		}
		this.configCache.replace(parsed);
	}
}

/** Tells whether an error is an abort from an AbortSignal (DOM `AbortError`, Node `ABORT_ERR`). */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}
