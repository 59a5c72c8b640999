/**
 * An open repository: the master key, the config, the index, and typed access to
 * unpacked files (snapshots, index, locks) and to blobs in packs.
 */
import {randomBytes} from 'node:crypto';
import type {FileHandle, FileType, Storage} from '../../adapters/storage.js';
import {isStorageError} from '../../adapters/storage.js';
import {openBytes, sealBytes, generateMasterKey, type MasterKey} from '../crypto/cipher.js';
import {addKey, openMasterKey} from './keys.js';
import {formatPolynomial, generateRandomPolynomial, parsePolynomial} from '../chunker/polynomial.js';
import {compressZstd, decompressZstdInThreadFirst, ZSTD_LEVELS, type CompressionMode} from '../format/compression.js';
import {validateConfig, type RepositoryConfig} from '../format/config.js';
import {decodeIndexFile, encodeIndexFile, type PackEntry} from '../format/index-file.js';
import {parseJsonBytes} from '../format/json.js';
import {decodePackHeader, type BlobType, type PackedBlob} from '../format/pack.js';
import {CairnError, IntegrityError, RepositoryNotFoundError} from '../errors.js';
import {hashHex} from '../util/hash.js';
import {mapConcurrent} from '../util/concurrency.js';
import {MasterIndex} from './master-index.js';
import {decodeStoredBlob} from './blob-codec.js';
import {compressTinySync, isWasmZstdLoaded, loadWasmZstd} from '../format/zstd-sync.js';
import {PackUploader} from './pack-uploader.js';
import {LocalCache} from './cache.js';
import {readKeyHint, saveKeyHint} from './key-hint.js';
import {withLocalCache, type CachedStorage} from './cached-storage.js';

/** Options for opening or creating a repository. */
export interface RepositoryOptions {
	/** How new blobs are compressed (version 2 only). Default `auto`. */
	compression?: CompressionMode;
	/** Target pack size in bytes. Default 16 MiB. */
	packSize?: number;
	signal?: AbortSignal;
	/**
	 * Base directory of the local cache (see findCacheDirectory in cache.ts): index files, snapshot
	 * files and tree packs are kept in `<cacheDir>/<repository id>/`. Undefined: no cache.
	 */
	cacheDir?: string;
	/** Told when the cache cannot be opened; the repository then works without it. */
	onCacheError?: (error: Error) => void;
	/**
	 * Lists the lock files while the key is derived, for a command that takes a lock right after
	 * opening (one round trip less on a slow link): the first {@link Repository.takeEarlyLockIds}
	 * within {@link EARLY_LOCK_LISTING_MS} gets it. Default false (nothing is listed).
	 */
	listLocksEarly?: boolean;
}

/**
 * How long a lock listing made while opening stays usable. Any age would be sound (a lock taken
 * after the listing is seen by the lock's recheck, as one taken just after a fresh listing is);
 * the bound keeps a conflict that long known from being found only after writing a lock.
 */
export const EARLY_LOCK_LISTING_MS = 10_000;

/** Result of saving one blob. */
export interface SaveBlobResult {
	id: string;
	/** True when the repository already had the blob (nothing was stored). */
	known: boolean;
	/** Bytes added to packs for this blob (0 when known). */
	storedSize: number;
}

const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

function describeFile(handle: FileHandle): string {
	return handle.type === 'config' ? 'config' : `${handle.type}/${handle.name}`;
}

export class Repository {
	readonly index = new MasterIndex();
	/** Index files loaded (IDs), so prune and check can supersede them. */
	readonly indexFiles = new Set<string>();
	readonly compression: CompressionMode;
	readonly packSize: number;
	/**
	 * Where the repository's files are read and written: the backend's storage, or, with a local
	 * cache, a wrapper that serves index files, snapshot files and tree packs from the cache.
	 */
	readonly storage: Storage;
	/** The local cache, when one is in use. */
	readonly cache?: LocalCache;
	private readonly cached?: CachedStorage;
	/** Packs the index lists with tree blobs: the packs the cache keeps. */
	private readonly treePacks = new Set<string>();
	private readonly uploader: PackUploader;
	/** The lock listing started by {@link RepositoryOptions.listLocksEarly}, until taken. */
	private earlyLocks?: {readonly started: number; readonly ids: Promise<string[]>};

	private constructor(
		backing: Storage,
		readonly key: MasterKey,
		readonly keyId: string,
		readonly config: RepositoryConfig,
		options: RepositoryOptions,
		cache?: LocalCache,
	) {
		this.compression = config.version >= 2 ? options.compression ?? 'auto' : 'off';
		this.packSize = options.packSize ?? DEFAULT_PACK_SIZE;
		if (cache !== undefined) {
			this.cache = cache;
			this.cached = withLocalCache(backing, cache, {isTreePack: (id) => this.treePacks.has(id), holdsTrees: (pack) => packHoldsTrees(key, pack)});
		}
		this.storage = this.cached ?? backing;
		this.uploader = new PackUploader(this.storage, key, this.index, this.packSize, (packs) => this.saveIndex(packs));
	}

	/** The repository format version (1 or 2). */
	get version(): number {
		return this.config.version;
	}

	/** The chunker polynomial from the config. */
	get polynomial(): bigint {
		return parsePolynomial(this.config.chunker_polynomial);
	}

	/**
	 * Opens an existing repository. Throws RepositoryNotFoundError when there is no config file,
	 * WrongPasswordError when no key opens, CairnError for an unsupported version.
	 */
	static async open(storage: Storage, password: string, options: RepositoryOptions = {}): Promise<Repository> {
		// The config is fetched while the keys are listed and tried (one round trip instead of three
		// in a row on a slow link); a missing config still says "no repository" before any key error.
		const configLoad = storage.load({type: 'config', name: ''}, {signal: options.signal});
		const hint = options.cacheDir === undefined ? undefined : readKeyHint(options.cacheDir, storage.location);
		const keyOpen = openMasterKey(storage, password, {signal: options.signal, hint});
		const earlyLocks = options.listLocksEarly ? {started: Date.now(), ids: listNames(storage, 'locks', options.signal)} : undefined;
		earlyLocks?.ids.catch(() => undefined);
		// Marked handled at once: when the keys fail before the config answers, that rejection must
		// not reach the process as unhandled; it is still thrown by the `await keyOpen` below.
		keyOpen.catch(() => undefined);
		let raw: Uint8Array;
		try {
			raw = await configLoad;
		} catch (error) {
			if (isStorageError(error, 'not-found')) {
				throw new RepositoryNotFoundError(`there is no repository at ${storage.location}: it has no config file. Check the location, or run \`cairn init\` to create a repository there`, {cause: error});
			}
			throw error;
		}
		const {master, keyId} = await keyOpen;
		let config: RepositoryConfig;
		try {
			const plain = openBytes(master, raw);
			config = validateConfig(parseJsonBytes(await decodeUnpacked(plain, 'config'), 'config'));
		} catch (error) {
			if (error instanceof IntegrityError) throw new IntegrityError(`config file of ${storage.location} is damaged: ${error.message}`, {cause: error});
			throw new CairnError(`cannot open repository at ${storage.location}: ${(error as Error).message}`, {cause: error});
		}
		const repo = new Repository(storage, master, keyId, config, options, await openCache(config, options));
		repo.earlyLocks = earlyLocks;
		if (repo.cache !== undefined && options.cacheDir !== undefined && keyId !== hint) await saveKeyHint(options.cacheDir, storage.location, keyId);
		return repo;
	}

	/**
	 * The lock file names listed while this repository was opened (see
	 * {@link RepositoryOptions.listLocksEarly}), once: later calls, calls after
	 * {@link EARLY_LOCK_LISTING_MS}, and a failed listing give undefined (list again).
	 */
	async takeEarlyLockIds(now = Date.now()): Promise<string[] | undefined> {
		const early = this.earlyLocks;
		this.earlyLocks = undefined;
		if (early === undefined || now - early.started > EARLY_LOCK_LISTING_MS) return undefined;
		return early.ids.catch(() => undefined);
	}

	/** Creates a new repository (format version 2 unless asked otherwise) at an empty location. */
	static async init(storage: Storage, password: string, options: RepositoryOptions & {version?: 1 | 2} = {}): Promise<Repository> {
		const version = options.version ?? 2;
		await storage.create({signal: options.signal});
		const master = generateMasterKey();
		const keyId = await addKey(storage, master, password);
		const config: RepositoryConfig = {version, id: randomBytes(32).toString('hex'), chunker_polynomial: formatPolynomial(generateRandomPolynomial())};
		const sealed = sealBytes(master, Buffer.from(JSON.stringify(config)));
		await storage.save({type: 'config', name: ''}, sealed, {signal: options.signal});
		const repo = new Repository(storage, master, keyId, config, options, await openCache(config, options));
		if (repo.cache !== undefined && options.cacheDir !== undefined) await saveKeyHint(options.cacheDir, storage.location, keyId);
		return repo;
	}

	/**
	 * Loads, verifies and decrypts an unpacked file (snapshot, index, lock). The file's name must be
	 * the SHA-256 of its bytes and its MAC must verify; either failure is an IntegrityError naming the file.
	 */
	async loadUnpacked(type: Exclude<FileType, 'data' | 'keys' | 'config'>, id: string, signal?: AbortSignal): Promise<Buffer> {
		const handle = {type, name: id};
		const raw = await this.storage.load(handle, {signal});
		if (hashHex(raw) !== id) {
			throw new IntegrityError(`${describeFile(handle)} is damaged: its content does not match its name (SHA-256 mismatch; ${raw.length} bytes)`);
		}
		let plain: Buffer;
		try {
			plain = openBytes(this.key, raw);
		} catch (error) {
			throw new IntegrityError(`${describeFile(handle)} is damaged: ${(error as Error).message}`, {cause: error});
		}
		try {
			return await decodeUnpacked(plain, describeFile(handle));
		} catch (error) {
			throw new IntegrityError(`${describeFile(handle)} is damaged: ${(error as Error).message}`, {cause: error});
		}
	}

	/** Loads an unpacked file and parses its JSON. */
	async loadJson<T>(type: 'snapshots' | 'index' | 'locks', id: string, signal?: AbortSignal): Promise<T> {
		const plain = await this.loadUnpacked(type, id, signal);
		try {
			return parseJsonBytes<T>(plain, `${type}/${id}`);
		} catch (error) {
			throw new IntegrityError(`${type}/${id} is damaged: ${(error as Error).message}`, {cause: error});
		}
	}

	/** Encrypts (and, in version 2, compresses) a JSON document and saves it; returns its ID. */
	async saveUnpacked(type: 'snapshots' | 'index' | 'locks', plaintext: Uint8Array, signal?: AbortSignal): Promise<string> {
		let body: Uint8Array = plaintext;
		if (this.version >= 2) {
			// Small documents (locks, snapshots) are compressed in this thread, without a pool round
			// trip or loading the native zstd.
			const compressed = compressTinySync(plaintext, ZSTD_LEVELS.auto) ?? await compressZstd(plaintext, ZSTD_LEVELS.auto);
			body = Buffer.concat([Buffer.from([2]), compressed]);
		}
		const sealed = sealBytes(this.key, body);
		const id = hashHex(sealed);
		await this.storage.save({type, name: id}, sealed, {signal});
		return id;
	}

	/** Lists the IDs of all files of a type. */
	async listIds(type: FileType, signal?: AbortSignal): Promise<string[]> {
		return listNames(this.storage, type, signal);
	}

	/**
	 * Loads every index file into the in-memory index. An index file that cannot be read is
	 * reported through `onError` (when given) and skipped; without `onError` it throws.
	 */
	async loadIndex(options: {signal?: AbortSignal; onError?: (id: string, error: Error) => void} = {}): Promise<void> {
		const ids = await this.listIds('index', options.signal);
		let failed = false;
		await mapConcurrent(ids, 8, async (id) => {
			try {
				const doc = decodeIndexFile(await this.loadJson('index', id, options.signal), id);
				for (const pack of doc.packs) this.addPack(pack);
				this.indexFiles.add(id);
			} catch (error) {
				failed = true;
				if (!options.onError) throw error;
				options.onError(id, error as Error);
			}
		});
		// With the whole index known, cached packs it no longer lists (pruned elsewhere) can go.
		if (!failed) await this.cached?.retainPacks((id) => this.treePacks.has(id));
	}

	/** Saves an index file listing packs; returns its ID. */
	async saveIndex(packs: readonly PackEntry[], supersedes: readonly string[] = [], signal?: AbortSignal): Promise<string> {
		for (const pack of packs) this.notePack(pack);
		const id = await this.saveUnpacked('index', encodeIndexFile(packs, supersedes), signal);
		this.indexFiles.add(id);
		return id;
	}

	/** Adds a pack to the in-memory index. */
	private addPack(pack: PackEntry): void {
		this.index.addPack(pack);
		this.notePack(pack);
	}

	/** Remembers packs that hold trees: the local cache keeps those. */
	private notePack(pack: PackEntry): void {
		if (pack.blobs.some((blob) => blob.type === 'tree')) this.treePacks.add(pack.packId);
	}

	/**
	 * Loads a blob: reads its byte range from the pack, verifies the MAC, decompresses and checks
	 * that its SHA-256 equals its ID. Every failure is an error naming the pack and blob.
	 */
	async loadBlob(type: BlobType, id: string, signal?: AbortSignal): Promise<Buffer> {
		const location = this.index.lookup(type, id);
		if (!location) throw new IntegrityError(`${type} blob ${id} is not in the index (the repository index is missing an entry; run \`cairn check\`)`);
		const handle = {type: 'data' as const, name: location.packId};
		const range = {offset: location.offset, length: location.length, signal};
		const raw = await this.storage.load(handle, range);
		try {
			return await this.decodeBlob(type, id, raw, location.packId, location.uncompressedLength);
		} catch (error) {
			// A cached pack is checked once per process; should its copy have changed since, drop it and read again.
			if (!(error instanceof IntegrityError) || this.cached === undefined || !(await this.cached.evict(handle))) throw error;
			return this.decodeBlob(type, id, await this.storage.load(handle, range), location.packId, location.uncompressedLength);
		}
	}

	/** Verifies and decodes one encrypted blob read from a pack; failures are IntegrityErrors naming pack and blob. */
	async decodeBlob(type: BlobType, id: string, raw: Uint8Array, packId: string, uncompressedLength: number): Promise<Buffer> {
		try {
			return await decodeStoredBlob(this.key, type, id, raw, packId, uncompressedLength, type === 'tree');
		} catch (error) {
			throw new IntegrityError((error as Error).message, {cause: error});
		}
	}

	/**
	 * Stores a blob unless the repository already has it. Compression, encryption and packing happen
	 * here; packs are uploaded in the background with a bounded number in flight.
	 */
	async saveBlob(type: BlobType, plaintext: Uint8Array, id = hashHex(plaintext), signal?: AbortSignal): Promise<SaveBlobResult> {
		if (this.index.has(type, id) || this.uploader.isPending(type, id)) return {id, known: true, storedSize: 0};
		this.uploader.markPending(type, id);
		let body: Uint8Array = plaintext;
		let uncompressedLength = 0;
		if (this.compression !== 'off' && plaintext.length > 0) {
			const compressed = await compressZstd(plaintext, ZSTD_LEVELS[this.compression]);
			if (compressed.length < plaintext.length) {
				body = compressed;
				uncompressedLength = plaintext.length;
			}
		}
		const sealed = sealBytes(this.key, body);
		await this.uploader.add(type, id, sealed, uncompressedLength, signal);
		return {id, known: false, storedSize: sealed.length};
	}

	/**
	 * Stores a whole data pack laid out elsewhere (a chunk worker's) and indexes it with the packs
	 * this repository writes itself, so one backup still ends in one index file. The caller vouches
	 * for the layout, the pack ID and the blob list. Resolves once the pack is stored.
	 */
	async storePack(bytes: Uint8Array, id: string, blobs: PackedBlob[], signal?: AbortSignal): Promise<void> {
		await this.uploader.storeFinished(bytes, id, blobs, signal);
	}

	/** Uploads every open pack and writes an index for all packs not yet in a saved index file. */
	async flush(signal?: AbortSignal): Promise<void> {
		await this.uploader.flush(signal);
	}

	/**
	 * Starts storing the packs being filled, waiting only for an upload slot: blobs saved so far go
	 * up while other work goes on. They are indexed (and durable) only once {@link flush} resolves.
	 */
	async uploadOpenPacks(signal?: AbortSignal): Promise<void> {
		await this.uploader.uploadOpenPacks(signal);
	}

	/** After a failure or cancellation: indexes the packs that reached storage and drops the rest. */
	async salvage(): Promise<void> {
		await this.uploader.salvage();
	}

	/** Bytes uploaded in packs since open. */
	get uploadedBytes(): number {
		return this.uploader.uploadedBytes;
	}

	/** Closes the storage. Call flush first when blobs were saved. */
	async close(): Promise<void> {
		await this.storage.close();
	}
}

/**
 * Opens the local cache named by the options for this repository, or undefined when there is none
 * or it cannot be opened (reported through `onCacheError`).
 */
async function openCache(config: RepositoryConfig, options: RepositoryOptions): Promise<LocalCache | undefined> {
	if (options.cacheDir === undefined) return undefined;
	try {
		return await LocalCache.open(options.cacheDir, config.id);
	} catch (error) {
		options.onCacheError?.(error as Error);
		return undefined;
	}
}

/** Tells whether a finished pack holds tree blobs, from its (encrypted) header. */
function packHoldsTrees(key: MasterKey, pack: Uint8Array): boolean {
	if (pack.length < 4) return false;
	const bytes = Buffer.from(pack.buffer, pack.byteOffset, pack.byteLength);
	const headerLength = bytes.readUInt32LE(bytes.length - 4);
	if (headerLength + 4 > bytes.length) return false;
	const header = openBytes(key, bytes.subarray(bytes.length - 4 - headerLength, bytes.length - 4));
	return decodePackHeader(header).some((blob) => blob.type === 'tree');
}

/**
 * Decodes the plaintext of an unpacked file: plain JSON (`[` or `{`) or version byte 2 + zstd.
 * Small files (snapshots, most index files) are decompressed in this thread (zstd-sync.ts):
 * cheaper than a trip through libuv's pool.
 */
export async function decodeUnpacked(plain: Buffer, what: string): Promise<Buffer> {
	if (plain.length === 0) throw new Error(`${what} is empty`);
	const first = plain[0];
	if (first === 0x5b || first === 0x7b) return plain;
	if (first === 2) {
		const body = plain.subarray(1);
		if (!isWasmZstdLoaded()) await loadWasmZstd();
		return decompressZstdInThreadFirst(body);
	}
	throw new Error(`${what} uses unsupported encoding version ${first}`);
}

/** The names of the files of one type in the storage. */
async function listNames(storage: Storage, type: FileType, signal?: AbortSignal): Promise<string[]> {
	const names: string[] = [];
	for await (const info of storage.list(type, {signal})) names.push(info.name);
	return names;
}
