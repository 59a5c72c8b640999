/**
 * The Google Cloud Storage adapter: a repository under a prefix of a bucket, in restic's layout
 * (`PREFIX/config`, `PREFIX/keys/<id>`, …, `PREFIX/data/<xx>/<id>`), through @google-cloud/storage,
 * built on the shared object-store core.
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

import {RangeNotSatisfiableError, type ListOptions, type ObjectCallOptions, type ObjectClient, type ObjectErrorContext, type ObjectInfo, type ObjectRange, type PutOptions} from '../object-store/client.js';
import {describeBucketStore, ObjectStore, type BucketStoreSettings} from '../object-store/store.js';
import {STORAGE_CONFIG_NAME} from '../shared/storage-config.js';
import {DeleteRefusedError} from '../shared/storage-errors.js';
import {PermanentError, pathOf, type Storage} from '../storage.js';
import type {GoogleCredentials} from './credentials.js';
import {isRetentionRefusal, mapGcsError, readGoogleError, readStatus} from './errors.js';
import {readAllFromStream, writeAllToStream} from './streams.js';

/** The storage classes of Google Cloud Storage. */
export const GCS_STORAGE_CLASSES: readonly string[] = ['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE'];

/** Default of {@link GcsStorageSettings.resumableThreshold}. */
export const DEFAULT_RESUMABLE_THRESHOLD = 32 * 1024 * 1024;
/** Default of {@link GcsStorageSettings.chunkSize} (a multiple of 256 KiB, as GCS requires). */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** Settings of {@link createGcsStorage}. */
export interface GcsStorageSettings extends BucketStoreSettings {
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
	/** Files larger than this use a resumable upload; default {@link DEFAULT_RESUMABLE_THRESHOLD}. */
	readonly resumableThreshold?: number;
	/** Chunk size of resumable uploads, a multiple of 256 KiB; default {@link DEFAULT_CHUNK_SIZE}. */
	readonly chunkSize?: number;
}

/** Opens (does not create) a repository in a GCS bucket. */
export function createGcsStorage(settings: GcsStorageSettings): Storage {
	return new ObjectStore(new GcsObjectClient(settings), {
		// A bucket retention policy, object retention or a hold (set in GCS itself) can refuse deletes.
		...describeBucketStore('gs', settings, true),
		storageClasses: {classes: GCS_STORAGE_CLASSES, coldClasses: [], resolveClass: checkGcsClass},
		words: {instead: 'an empty or new folder'},
	});
}

/** The class in upper case, or a PermanentError for one GCS does not have. */
function checkGcsClass(storageClass: string, path: string, location: string): string {
	const upper = storageClass.toUpperCase();
	if (GCS_STORAGE_CLASSES.includes(upper)) return upper;
	throw new PermanentError(
		`${STORAGE_CONFIG_NAME} of ${location} asks for storage class ${upper} for ${path}, which Google Cloud Storage does not have; use ${GCS_STORAGE_CLASSES.join(', ')} (cairn storageconfig set)`,
	);
}

/** The raw calls of @google-cloud/storage, for {@link ObjectStore}. */
class GcsObjectClient implements ObjectClient {
	private readonly client: GcsClient;
	private readonly bucket: Bucket;
	private readonly service: string;
	private readonly resumableThreshold: number;
	private readonly chunkSize: number;
	/** Resumable uploads to a custom endpoint need their Authorization header added by hand (see {@link authorizeResumable}). */
	private readonly signsResumableUploads: boolean;

	constructor(private readonly settings: GcsStorageSettings) {
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
	}

	/** Multipart for small files, a resumable session for large ones; both checked with CRC32C. */
	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		const file = this.bucket.file(key);
		const resumable = data.byteLength > this.resumableThreshold;
		let sessionUri: string | undefined;
		try {
			if (resumable) await this.authorizeResumable(file);
			const stream = file.createWriteStream({
				resumable,
				...(resumable ? {chunkSize: this.chunkSize} : {}),
				validation: 'crc32c',
				metadata: {contentType: options.contentType, ...(options.storageClass === undefined ? {} : {storageClass: options.storageClass})},
			});
			stream.on('uri', (uri: string) => {
				sessionUri = uri;
			});
			await writeAllToStream(stream, data, options.signal);
		} catch (error) {
			if (sessionUri !== undefined) void this.cancelSession(sessionUri);
			throw error;
		}
	}

	async get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array> {
		const bounds = range === undefined ? {} : {start: range.offset, ...(range.length === undefined ? {} : {end: range.offset + range.length - 1})};
		try {
			return await readAllFromStream(this.bucket.file(key).createReadStream(bounds), options.signal);
		} catch (error) {
			if (readStatus(error) === 416) throw new RangeNotSatisfiableError({cause: error});
			throw error;
		}
	}

	async head(key: string): Promise<ObjectInfo> {
		const [metadata] = await this.bucket.file(key).getMetadata();
		return {key, size: Number(metadata.size ?? 0)};
	}

	async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo> {
		let pageToken: string | undefined;
		do {
			const query = {prefix, maxResults: options.limit ?? 1000, autoPaginate: false, ...(pageToken === undefined ? {} : {pageToken})};
			const [files, next] = (await this.bucket.getFiles(query)) as unknown as [File[], {pageToken?: string} | null];
			for (const file of files) yield {key: file.name, size: Number(file.metadata.size ?? 0)};
			pageToken = options.limit === undefined ? next?.pageToken : undefined;
		} while (pageToken !== undefined);
	}

	async delete(key: string, options: ObjectCallOptions): Promise<void> {
		try {
			await this.bucket.file(key).delete();
		} catch (error) {
			if (readStatus(error) !== 403 || !isRetentionRefusal(error) || options.handle === undefined) throw error;
			const reason = `a retention policy, object retention or hold protects it (${readGoogleError(error).message})`;
			throw new DeleteRefusedError(options.handle, `cannot delete ${pathOf(options.handle)} from gs:${this.settings.bucket}:/${this.settings.prefix}: ${reason}. The file was left in place`, {cause: error});
		}
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		const action = context.operation === 'storageconfig' ? `read ${STORAGE_CONFIG_NAME}` : `${context.operation} ${context.path ?? 'the location'}`;
		return mapGcsError(error, {action, bucket: this.settings.bucket, ...(context.path === undefined ? {} : {key: context.key}), service: this.service});
	}

	/** Reads the bucket's metadata; object-only roles (roles/storage.objectAdmin) may not, and the listing then tells. */
	async checkCreate(): Promise<void> {
		try {
			await this.bucket.getMetadata();
		} catch (error) {
			if (readStatus(error) !== 403) throw mapGcsError(error, {action: 'check the bucket', bucket: this.settings.bucket, service: this.service});
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
}
