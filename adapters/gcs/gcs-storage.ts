/**
 * The Google Cloud Storage adapter: a repository under a prefix of a bucket, in restic's layout
 * (`PREFIX/config`, `PREFIX/keys/<id>`, …, `PREFIX/data/<xx>/<id>`), through @google-cloud/storage.
 *
 * - Uploads are atomic (GCS makes an object visible only once it is complete). Files up to
 *   `resumableThreshold` bytes go in one multipart request; larger ones in a resumable session
 *   of `chunkSize` chunks. Both are checked end to end with CRC32C.
 * - Loads with an offset or length ask GCS for that byte range only.
 * - The storage class of each upload follows `.storageconfig` at the repository root (Kopia's
 *   format; see adapters/shared/storage-config.ts). Every GCS class (STANDARD, NEARLINE,
 *   COLDLINE, ARCHIVE) can be read directly, so nothing ever needs a thaw.
 * - A delete refused by a bucket retention policy, object retention or a hold rejects with
 *   DeleteRefusedError, and the object stays as it was.
 * - The SDK's own retries are off: retries belong to the retry wrapper.
 */

import {Storage as GcsClient, type Bucket, type File, type StorageOptions} from '@google-cloud/storage';

import {findStorageClass, parseStorageConfig, STORAGE_CONFIG_NAME, type StorageConfig} from '../shared/storage-config.js';
import {checkByteRange, checkFileHandle, checkFileType, makeRangeError, readListedName} from '../shared/file-names.js';
import {DeleteRefusedError} from '../shared/storage-errors.js';
import {
	AlreadyExistsError,
	NotFoundError,
	PermanentError,
	pathOf,
	throwIfAborted,
	type FileHandle,
	type FileInfo,
	type FileType,
	type LoadOptions,
	type OperationOptions,
	type Storage,
	type StorageCapabilities,
	type StorageConfigFile,
} from '../storage.js';
import type {GoogleCredentials} from './credentials.js';
import {isAbortError, isRetentionRefusal, mapGcsError, readGoogleError, readStatus} from './errors.js';
import {joinKey} from './location.js';
import {readAllFromStream, writeAllToStream} from './streams.js';

/** The storage classes of Google Cloud Storage. */
export const GCS_STORAGE_CLASSES: readonly string[] = ['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE'];

/** Default of {@link GcsStorageSettings.resumableThreshold}. */
export const DEFAULT_RESUMABLE_THRESHOLD = 32 * 1024 * 1024;
/** Default of {@link GcsStorageSettings.chunkSize} (a multiple of 256 KiB, as GCS requires). */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** Settings of {@link createGcsStorage}. */
export interface GcsStorageSettings {
	readonly bucket: string;
	/** Folder inside the bucket, without leading or trailing slashes; empty for the bucket root. */
	readonly prefix: string;
	/** Parsed credentials file; absent means application-default credentials (or none, with an `endpoint`). */
	readonly credentials?: GoogleCredentials;
	readonly projectId?: string;
	/**
	 * Another JSON API endpoint (an emulator, a private endpoint), e.g. `http://127.0.0.1:4443`.
	 * Requests to it carry credentials only when `credentials` is given, and then a service
	 * account signs its own tokens (self-signed JWTs with a scope, AIP-4111) instead of fetching
	 * them from Google's token server.
	 */
	readonly endpoint?: string;
	/** Suggested requests at once; default 5. */
	readonly concurrency?: number;
	/** Files larger than this use a resumable upload; default {@link DEFAULT_RESUMABLE_THRESHOLD}. */
	readonly resumableThreshold?: number;
	/** Chunk size of resumable uploads, a multiple of 256 KiB; default {@link DEFAULT_CHUNK_SIZE}. */
	readonly chunkSize?: number;
}

/** Opens (does not create) a repository in a GCS bucket. */
export function createGcsStorage(settings: GcsStorageSettings): Storage {
	return new GcsStorage(settings);
}

class GcsStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	readonly storageConfig: StorageConfigFile;
	private readonly client: GcsClient;
	private readonly bucket: Bucket;
	private readonly service: string;
	private readonly resumableThreshold: number;
	private readonly chunkSize: number;
	/** Resumable uploads to a custom endpoint need their Authorization header added by hand (see {@link authorizeResumable}). */
	private readonly signsResumableUploads: boolean;
	private configLoad?: Promise<StorageConfig | undefined>;
	private closed = false;

	constructor(private readonly settings: GcsStorageSettings) {
		this.location = `gs:${settings.bucket}:/${settings.prefix}`;
		// A bucket retention policy, object retention or a hold (set in GCS itself) can refuse deletes.
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: true, concurrency: settings.concurrency ?? 5};
		this.service = settings.endpoint === undefined ? 'Google Cloud Storage' : `Google Cloud Storage at ${settings.endpoint}`;
		this.resumableThreshold = settings.resumableThreshold ?? DEFAULT_RESUMABLE_THRESHOLD;
		this.chunkSize = settings.chunkSize ?? DEFAULT_CHUNK_SIZE;
		const options: StorageOptions = {retryOptions: {autoRetry: false, maxRetries: 0}};
		if (settings.projectId !== undefined) options.projectId = settings.projectId;
		if (settings.credentials !== undefined) options.credentials = settings.credentials as StorageOptions['credentials'];
		if (settings.endpoint !== undefined) {
			options.apiEndpoint = settings.endpoint.replace(/\/+$/, '');
			options.useAuthWithCustomEndpoint = settings.credentials !== undefined;
		}
		this.client = new GcsClient(options);
		const selfSigned = settings.endpoint !== undefined && settings.credentials?.type === 'service_account';
		if (selfSigned) (this.client.authClient as unknown as {useJWTAccessWithScope: boolean}).useJWTAccessWithScope = true;
		this.signsResumableUploads = settings.endpoint !== undefined && settings.credentials !== undefined;
		this.bucket = this.client.bucket(settings.bucket);
		this.storageConfig = {
			classes: GCS_STORAGE_CLASSES,
			coldClasses: [],
			read: (options) => this.readStorageConfig(options),
			write: (data, options) => this.writeStorageConfig(data, options),
		};
	}

	async create(options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		throwIfAborted(options.signal);
		try {
			await this.bucket.getMetadata();
		} catch (error) {
			// Object-only roles (roles/storage.objectAdmin) may not read bucket metadata: go on and let the listing tell.
			if (readStatus(error) !== 403) throw this.mapError(error, 'check the bucket');
		}
		throwIfAborted(options.signal);
		const prefix = this.settings.prefix === '' ? '' : `${this.settings.prefix}/`;
		let names: string[];
		try {
			const [files] = await this.bucket.getFiles({prefix, maxResults: 10, autoPaginate: false});
			names = files.map((file) => file.name.slice(prefix.length)).filter((name) => name !== STORAGE_CONFIG_NAME);
		} catch (error) {
			throw this.mapError(error, 'list the location');
		}
		if (names.length > 0) {
			const shown = names.slice(0, 3).map((name) => JSON.stringify(name)).join(', ');
			const hint = names.includes('config') ? ' (it looks like a repository already exists there)' : '';
			throw new AlreadyExistsError(`cannot create a repository at ${this.location}: it already holds ${shown}${names.length > 3 ? ' and more' : ''}${hint}; pick an empty or new folder`);
		}
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		checkFileHandle(handle);
		throwIfAborted(options.signal);
		const relative = pathOf(handle);
		const storageClass = await this.findClass(relative);
		await this.upload(relative, data, storageClass, options.signal);
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		this.checkOpen();
		checkFileHandle(handle);
		const offset = options.offset ?? 0;
		const length = options.length;
		checkByteRange(offset, length);
		throwIfAborted(options.signal);
		const relative = pathOf(handle);
		if (length === 0) {
			const {size} = await this.stat(handle, options);
			if (offset > size) throw makeRangeError(this.describe(relative), size, offset, length);
			return new Uint8Array(0);
		}
		const file = this.bucket.file(joinKey(this.settings.prefix, relative));
		const range = offset === 0 && length === undefined ? {} : {start: offset, ...(length === undefined ? {} : {end: offset + length - 1})};
		let bytes: Uint8Array;
		try {
			bytes = await readAllFromStream(file.createReadStream(range), options.signal);
		} catch (error) {
			if (readStatus(error) === 416) {
				const {size} = await this.stat(handle, options);
				if (offset === size && length === undefined) return new Uint8Array(0);
				throw makeRangeError(this.describe(relative), size, offset, length);
			}
			throw this.mapError(error, `load ${relative}`, relative);
		}
		if (length !== undefined && bytes.byteLength < length) throw makeRangeError(this.describe(relative), offset + bytes.byteLength, offset, length);
		return bytes;
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		this.checkOpen();
		checkFileHandle(handle);
		throwIfAborted(options.signal);
		const relative = pathOf(handle);
		try {
			const [metadata] = await this.bucket.file(joinKey(this.settings.prefix, relative)).getMetadata();
			return {name: handle.name, size: Number(metadata.size ?? 0)};
		} catch (error) {
			throw this.mapError(error, `stat ${relative}`, relative);
		}
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		this.checkOpen();
		checkFileType(type);
		throwIfAborted(options.signal);
		if (type === 'config') {
			try {
				yield {name: '', size: (await this.stat({type: 'config', name: ''}, options)).size};
			} catch (error) {
				if (!(error instanceof NotFoundError)) throw error;
			}
			return;
		}
		const prefix = joinKey(this.settings.prefix, `${type}/`);
		let pageToken: string | undefined;
		do {
			throwIfAborted(options.signal);
			let files: File[];
			let next: {pageToken?: string} | null | undefined;
			try {
				[files, next] = (await this.bucket.getFiles({prefix, maxResults: 1000, autoPaginate: false, ...(pageToken === undefined ? {} : {pageToken})})) as unknown as [File[], {pageToken?: string} | null];
			} catch (error) {
				throw this.mapError(error, `list ${type}`);
			}
			for (const file of files) {
				const name = readListedName(type, file.name.slice(prefix.length));
				if (name !== undefined) yield {name, size: Number(file.metadata.size ?? 0)};
			}
			pageToken = next?.pageToken;
		} while (pageToken !== undefined);
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		checkFileHandle(handle);
		throwIfAborted(options.signal);
		const relative = pathOf(handle);
		try {
			await this.bucket.file(joinKey(this.settings.prefix, relative)).delete();
		} catch (error) {
			if (readStatus(error) === 403 && isRetentionRefusal(error)) {
				throw new DeleteRefusedError(handle, `cannot delete ${relative} from ${this.location}: a retention policy, object retention or hold protects it (${readGoogleError(error).message}). The file was left in place`, {cause: error});
			}
			throw this.mapError(error, `remove ${relative}`, relative);
		}
	}

	async close(): Promise<void> {
		this.closed = true;
	}

	/** Uploads one object: multipart for small files, a resumable session for large ones. */
	private async upload(relative: string, data: Uint8Array, storageClass: string | undefined, signal: AbortSignal | undefined): Promise<void> {
		const file = this.bucket.file(joinKey(this.settings.prefix, relative));
		const resumable = data.byteLength > this.resumableThreshold;
		let sessionUri: string | undefined;
		try {
			if (resumable) await this.authorizeResumable(file);
			const stream = file.createWriteStream({
				resumable,
				...(resumable ? {chunkSize: this.chunkSize} : {}),
				validation: 'crc32c',
				metadata: {contentType: 'application/octet-stream', ...(storageClass === undefined ? {} : {storageClass})},
			});
			stream.on('uri', (uri: string) => {
				sessionUri = uri;
			});
			await writeAllToStream(stream, data, signal);
		} catch (error) {
			if (sessionUri !== undefined) void this.cancelSession(sessionUri);
			if (isAbortError(error)) throw error;
			throw this.mapError(error, `save ${relative}`, relative);
		}
	}

	/**
	 * @google-cloud/storage 7.22 sends the requests of a resumable upload to a custom endpoint
	 * without credentials even when `useAuthWithCustomEndpoint` is set (the flag is not passed on
	 * to the upload; googleapis/nodejs-storage#2637). Add the header the other requests carry.
	 */
	private async authorizeResumable(file: File): Promise<void> {
		if (!this.signsResumableUploads) return;
		const headers = (await this.client.authClient.getRequestHeaders()) as Record<string, string>;
		const authorization = headers['Authorization'] ?? headers['authorization'];
		if (authorization === undefined) return;
		file.interceptors.push({
			request: (request: {headers?: Record<string, string>}) => ({...request, headers: {...request.headers, Authorization: authorization}}),
		} as unknown as (typeof file.interceptors)[number]);
	}

	/** Best effort: tells GCS to drop an unfinished resumable session (session URIs need no credentials). */
	private async cancelSession(uri: string): Promise<void> {
		try {
			await fetch(uri, {method: 'DELETE', signal: AbortSignal.timeout(10_000)});
		} catch {
			// An unfinished session expires by itself after a week and never becomes an object.
		}
	}

	/** The storage class `.storageconfig` asks for, checked against the classes GCS has. */
	private async findClass(relative: string): Promise<string | undefined> {
		this.configLoad ??= this.loadStorageConfig();
		let config: StorageConfig | undefined;
		try {
			config = await this.configLoad;
		} catch (error) {
			this.configLoad = undefined;
			throw error;
		}
		const storageClass = findStorageClass(config, relative)?.toUpperCase();
		if (storageClass !== undefined && !GCS_STORAGE_CLASSES.includes(storageClass)) {
			throw new PermanentError(
				`${STORAGE_CONFIG_NAME} of ${this.location} asks for storage class ${storageClass} for ${relative}, which Google Cloud Storage does not have; ` +
					`use ${GCS_STORAGE_CLASSES.join(', ')} (cairn storageconfig set)`,
			);
		}
		return storageClass;
	}

	private async loadStorageConfig(): Promise<StorageConfig | undefined> {
		const bytes = await this.readStorageConfig();
		if (bytes === undefined) return undefined;
		try {
			return parseStorageConfig(bytes);
		} catch (error) {
			throw new PermanentError(`${STORAGE_CONFIG_NAME} of ${this.location} cannot be used: ${(error as Error).message}; fix it with cairn storageconfig set`, {cause: error});
		}
	}

	private async readStorageConfig(options: OperationOptions = {}): Promise<Uint8Array | undefined> {
		this.checkOpen();
		throwIfAborted(options.signal);
		try {
			return await readAllFromStream(this.bucket.file(joinKey(this.settings.prefix, STORAGE_CONFIG_NAME)).createReadStream(), options.signal);
		} catch (error) {
			if (readStatus(error) === 404) return undefined;
			throw this.mapError(error, `read ${STORAGE_CONFIG_NAME}`, STORAGE_CONFIG_NAME);
		}
	}

	private async writeStorageConfig(data: Uint8Array | undefined, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		throwIfAborted(options.signal);
		const file = this.bucket.file(joinKey(this.settings.prefix, STORAGE_CONFIG_NAME));
		if (data === undefined) {
			try {
				await file.delete({ignoreNotFound: true});
			} catch (error) {
				throw this.mapError(error, `remove ${STORAGE_CONFIG_NAME}`, STORAGE_CONFIG_NAME);
			}
			this.configLoad = Promise.resolve(undefined);
			return;
		}
		let config: StorageConfig;
		try {
			config = parseStorageConfig(data);
		} catch (error) {
			throw new PermanentError(`${STORAGE_CONFIG_NAME} for ${this.location} not written: ${(error as Error).message}`, {cause: error});
		}
		await this.upload(STORAGE_CONFIG_NAME, data, undefined, options.signal);
		this.configLoad = Promise.resolve(config);
	}

	private mapError(error: unknown, action: string, relative?: string): Error {
		return mapGcsError(error, {
			action,
			bucket: this.settings.bucket,
			...(relative === undefined ? {} : {key: joinKey(this.settings.prefix, relative)}),
			service: this.service,
		});
	}

	private describe(relative: string): string {
		return `gs://${this.settings.bucket}/${joinKey(this.settings.prefix, relative)}`;
	}

	private checkOpen(): void {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
	}
}

