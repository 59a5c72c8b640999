/**
 * A Storage that reads index files, snapshot files and tree packs through the local cache
 * (cache.ts). Every other file, and every write, goes to the repository's storage.
 */
import {PermanentError, throwIfAborted, type FileHandle, type FileInfo, type FileType, type LoadOptions, type Storage} from '../../adapters/storage.js';
import {hashHex} from '../util/hash.js';
import {isCacheable, type CachedFileType, type LocalCache} from './cache.js';

/** What the cache wrapper asks of the repository. */
export interface CacheHooks {
	/** True when the index says this data file (pack) holds tree blobs. */
	isTreePack(packId: string): boolean;
	/** True when the bytes of a pack about to be saved hold tree blobs (read from its header). */
	holdsTrees(pack: Uint8Array): boolean;
}

/**
 * A Storage backed by a repository's storage and its local cache.
 *
 * Contract:
 * - `load` of an index or snapshot file returns the cached copy when one exists whose SHA-256
 *   equals its name (and whose size equals the size the last listing reported); otherwise it loads
 *   the file from the storage and caches it (when its SHA-256 equals its name) — an index file
 *   only: loaded snapshot files are kept as one decoded list instead (snapshot-list-cache.ts),
 *   since creating one cache file per snapshot was most of a cold listing's time. A cached
 *   snapshot file (saved by this program, or by restic sharing the cache directory) is still used.
 * - `load` of a pack that holds tree blobs fetches the whole pack once, caches it, and serves
 *   byte ranges from the cached file. A cached pack's SHA-256 is checked once per process before
 *   it is used; a copy that fails is deleted and fetched again.
 * - `save` writes to the storage first; only after that succeeds are index files, snapshot files
 *   and packs holding trees copied into the cache. The cache never supplies data to a save.
 * - `remove` removes the cached copy too. A complete `list` of index, snapshots or data removes
 *   cached files of that type that the listing no longer has (forget or prune elsewhere).
 * - Cache failures (full disk, permissions) never fail an operation: it falls back to the storage.
 */
export interface CachedStorage extends Storage {
	readonly cache: LocalCache;
	/** Deletes the cached copy of a file (after it failed to decrypt); true when there was one. */
	evict(handle: FileHandle): Promise<boolean>;
	/** Removes cached packs that `keep` rejects, except those this process cached itself. */
	retainPacks(keep: (packId: string) => boolean): Promise<number>;
}

function ignore(): undefined {
	return undefined;
}

/** Waits for a promise, or rejects as soon as the signal is aborted. */
function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
	if (signal === undefined) return promise;
	throwIfAborted(signal);
	return new Promise<T>((resolve, reject) => {
		const onAbort = (): void => {
			try {
				throwIfAborted(signal);
			} catch (error) {
				reject(error);
			}
		};
		signal.addEventListener('abort', onAbort, {once: true});
		promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
	});
}

/** Wraps a repository's storage with its local cache (see {@link CachedStorage}). */
export function withLocalCache(storage: Storage, cache: LocalCache, hooks: CacheHooks): CachedStorage {
	/** Packs whose cached copy has been checked in this process. */
	const verified = new Set<string>();
	/** Packs holding trees that this process saved (the index may not list them yet). */
	const savedTreePacks = new Set<string>();
	/** Files this process wrote to the cache: a listing taken before the write must not remove them. */
	const written = new Set<string>();
	/** Sizes from the last complete listing of each type. */
	const listed = new Map<FileType, Map<string, number>>();
	/**
	 * The cached files of each type found by the last complete listing (plus those written since):
	 * a file not among them is not looked for in the cache (a cold listing of 10,000 snapshots
	 * would otherwise try 10,000 reads that fail).
	 */
	const present = new Map<FileType, Set<string>>();
	/** Pack downloads in progress, so concurrent reads of one pack fetch it once. */
	const filling = new Map<string, Promise<Buffer | undefined>>();

	const key = (handle: FileHandle): string => `${handle.type}/${handle.name}`;

	const store = async (handle: FileHandle & {type: CachedFileType}, bytes: Uint8Array): Promise<boolean> => {
		if (hashHex(bytes) !== handle.name) return false;
		try {
			await cache.write(handle, bytes);
			written.add(key(handle));
			present.get(handle.type)?.add(handle.name);
			return true;
		} catch {
			return false;
		}
	};

	const drop = async (handle: FileHandle & {type: CachedFileType}): Promise<boolean> => {
		verified.delete(handle.name);
		present.get(handle.type)?.delete(handle.name);
		return cache.remove(handle).catch(() => false);
	};

	/** Index and snapshot files: the cached copy when sound, else the storage's (then cached). */
	const loadWhole = async (handle: FileHandle & {type: CachedFileType}, options?: LoadOptions): Promise<Uint8Array> => {
		throwIfAborted(options?.signal);
		const known = present.get(handle.type);
		const cached = known !== undefined && !known.has(handle.name) ? undefined : await cache.read(handle).catch(ignore);
		if (cached !== undefined) {
			const size = listed.get(handle.type)?.get(handle.name);
			if ((size === undefined || size === cached.length) && hashHex(cached) === handle.name) return cached;
			await drop(handle);
		}
		const bytes = await storage.load(handle, options);
		if (handle.type !== 'snapshots') await store(handle, bytes);
		return bytes;
	};

	/** The whole pack, from a sound cached copy or fetched and cached; undefined when it cannot be cached. */
	const fillPack = (handle: FileHandle & {type: CachedFileType}): Promise<Buffer | undefined> => {
		let running = filling.get(handle.name);
		if (running === undefined) {
			running = (async () => {
				const cached = await cache.read(handle).catch(ignore);
				if (cached !== undefined) {
					if (hashHex(cached) === handle.name) {
						verified.add(handle.name);
						return cached;
					}
					await drop(handle);
				}
				// Shared by every reader of the pack, so not tied to one reader's signal.
				const loaded = await storage.load(handle);
				const bytes = Buffer.from(loaded.buffer, loaded.byteOffset, loaded.byteLength);
				if (!(await store(handle, bytes))) return undefined;
				verified.add(handle.name);
				return bytes;
			})().finally(() => filling.delete(handle.name));
			filling.set(handle.name, running);
		}
		return running;
	};

	/** A byte range of a pack that holds trees, served from the cached pack. */
	const loadFromPack = async (handle: FileHandle & {type: CachedFileType}, options: LoadOptions = {}): Promise<Uint8Array> => {
		throwIfAborted(options.signal);
		const offset = options.offset ?? 0;
		if (verified.has(handle.name)) {
			const size = options.length === undefined ? await cache.size(handle).catch(ignore) : undefined;
			const length = options.length ?? (size === undefined ? undefined : size - offset);
			if (length !== undefined && length >= 0) {
				const part = await cache.readRange(handle, offset, length).catch(ignore);
				if (part !== undefined) return part;
			}
			verified.delete(handle.name);
		}
		const whole = await raceAbort(fillPack(handle).catch(ignore), options.signal);
		if (whole === undefined) return storage.load(handle, options);
		const end = options.length === undefined ? whole.length : offset + options.length;
		if (offset < 0 || end > whole.length || end < offset) {
			throw new PermanentError(`cannot read bytes ${offset}–${end} of data/${handle.name.slice(0, 2)}/${handle.name}: the file has ${whole.length} bytes`);
		}
		return whole.subarray(offset, end);
	};

	const wrapped: CachedStorage = {
		location: storage.location,
		capabilities: storage.capabilities,
		cache,
		create: (options) => storage.create(options),
		stat: (handle, options) => storage.stat(handle, options),
		close: () => storage.close(),

		load: (handle, options) => {
			if (!isCacheable(handle)) return storage.load(handle, options);
			if (handle.type === 'data') {
				if (hooks.isTreePack(handle.name) || savedTreePacks.has(handle.name)) return loadFromPack(handle, options);
				return storage.load(handle, options);
			}
			const whole = (options?.offset ?? 0) === 0 && options?.length === undefined;
			return whole ? loadWhole(handle, options) : storage.load(handle, options);
		},

		save: async (handle, data, options) => {
			await storage.save(handle, data, options);
			if (!isCacheable(handle)) return;
			if (handle.type === 'data') {
				let trees = false;
				try {
					trees = hooks.holdsTrees(data);
				} catch {
					trees = false;
				}
				if (!trees) return;
				savedTreePacks.add(handle.name);
				if (await store(handle, data)) verified.add(handle.name);
				return;
			}
			await store(handle, data);
		},

		remove: async (handle, options) => {
			try {
				await storage.remove(handle, options);
			} finally {
				if (isCacheable(handle)) {
					savedTreePacks.delete(handle.name);
					written.delete(key(handle));
					await drop(handle);
				}
			}
		},

		async *list(type, options): AsyncIterable<FileInfo> {
			const names = new Map<string, number>();
			for await (const info of storage.list(type, options)) {
				names.set(info.name, info.size);
				yield info;
			}
			// Only a complete listing says which files are gone.
			if (type !== 'index' && type !== 'snapshots' && type !== 'data') return;
			listed.set(type, names);
			const kept = new Set<string>();
			if ((await cache.retain(type, (name) => names.has(name) || written.has(`${type}/${name}`), kept).catch(ignore)) !== undefined) present.set(type, kept);
			else present.delete(type);
		},

		evict: async (handle) => (isCacheable(handle) ? drop(handle) : false),

		retainPacks: (keep) => cache.retain('data', (name) => keep(name) || savedTreePacks.has(name) || written.has(`data/${name}`)).catch(() => 0),
	};
	if (storage.thaw !== undefined) wrapped.thaw = storage.thaw.bind(storage);
	if (storage.extendRetention !== undefined) wrapped.extendRetention = storage.extendRetention.bind(storage);
	if (storage.storageConfig !== undefined) Object.assign(wrapped, {storageConfig: storage.storageConfig});
	return wrapped;
}
