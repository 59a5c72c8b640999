/**
 * The S3 adapter: a repository under a prefix of an existing bucket on Amazon S3 or any
 * S3-compatible service, in restic's layout (`config`, `keys/<id>`, `data/<xx>/<id>`, ...).
 *
 * - Saves are single PUTs up to {@link S3StorageOptions.multipartThreshold} and multipart uploads
 *   above it (aborted on any failure), so an object appears whole or not at all.
 * - Every PUT and part carries Content-MD5 (S3 verifies it; object lock requires a checksum).
 * - Each object gets the storage class of the first matching `.storageconfig` rule, else the
 *   `storageClass` option; with a retention mode and period, every object cairn writes except
 *   lock files (`locks/`, which cairn deletes when a command ends) gets `x-amz-object-lock-mode`
 *   and `x-amz-object-lock-retain-until-date`.
 * - Loads are ranged GETs. An object in GLACIER or DEEP_ARCHIVE rejects with ColdStorageError
 *   until {@link S3Storage.thaw} has restored a readable copy.
 * - A refused delete (object lock, missing permission) rejects with DeleteRefusedError.
 * - The bucket must exist: the first call checks it once and says how to fix it when it does not.
 *
 * Checksums: the SDK's default (`WHEN_SUPPORTED`) sends streamed bodies with aws-chunked framing
 * and trailing checksums, which many S3-compatible servers store framing and all (a 5,000,000-byte
 * stream put to s3rver reads back as 5,000,728 bytes). For endpoints other than Amazon S3 the
 * default is therefore `WHEN_REQUIRED` (option `s3.checksum`).
 */

import {createHash} from 'node:crypto';

import {
	AbortMultipartUploadCommand,
	CompleteMultipartUploadCommand,
	CreateMultipartUploadCommand,
	DeleteObjectCommand,
	GetObjectCommand,
	HeadBucketCommand,
	HeadObjectCommand,
	ListObjectsV2Command,
	PutObjectCommand,
	PutObjectRetentionCommand,
	RestoreObjectCommand,
	UploadPartCommand,
	type HeadObjectCommandOutput,
	type S3Client,
	type StorageClass,
} from '@aws-sdk/client-s3';

import {findStorageClass, parseStorageConfig, STORAGE_CONFIG_NAME, type StorageConfig, StorageConfigCache} from '../shared/storage-config.js';
import {ColdStorageError, DeleteRefusedError} from '../shared/storage-errors.js';
import {
	AlreadyExistsError,
	PermanentError,
	isStorageError,
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
	type ThawOptions,
	type ThawState,
} from '../storage.js';
import {createS3Client, DEFAULT_S3_CONNECTIONS, describeService, type S3Settings} from './client.js';
import {describeMissingBucket, isAbortError, mapS3Error, readHttpStatus, readS3ErrorCode, type S3ErrorContext} from './errors.js';
import {formatS3Location, joinKey} from './location.js';
import type {RetentionMode} from './retention.js';

import {S3_COLD_CLASSES, S3_STORAGE_CLASSES, S3_THAW_TIERS, type S3ThawTier} from './classes.js';
import {checkFileHandle, checkFileType, readListedName} from '../shared/file-names.js';

export {S3_COLD_CLASSES, S3_STORAGE_CLASSES, S3_THAW_TIERS, type S3ThawTier};

/** Default part size of multipart uploads, and the size above which they are used. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Everything {@link createS3Storage} needs. */
export interface S3StorageOptions extends S3Settings {
	/** Class of objects no `.storageconfig` rule covers; undefined leaves the bucket's default. */
	readonly storageClass?: string;
	/** Object lock for every object written. */
	readonly retention?: {readonly mode: RetentionMode; readonly periodMs: number};
	/** RestoreObject tier; default Standard. */
	readonly thawTier?: S3ThawTier;
	/** Days a thawed copy stays readable; default 7. */
	readonly thawDays?: number;
	/** Bytes per part; default 8 MiB (S3's minimum is 5 MiB except for the last part). */
	readonly partSize?: number;
	/** Saves larger than this use a multipart upload; default {@link partSize}. */
	readonly multipartThreshold?: number;
	/** Parts uploaded at once within one save; default 4. */
	readonly partConcurrency?: number;
	/** The clock for retain-until dates; default the system clock. */
	readonly now?: () => Date;
	/** A client to use instead of building one (tests). */
	readonly client?: S3Client;
}

/** Opens (does not create) the repository at the bucket and prefix of `options`. */
export function createS3Storage(options: S3StorageOptions): S3Storage {
	return new S3Storage(options);
}

/** See the module notes. Besides {@link Storage}, it has `thaw`, `extendRetention` and `storageConfig`. */
export class S3Storage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	readonly storageConfig: StorageConfigFile;
	/** The SDK client (tests drive it directly, e.g. for HeadObject). */
	readonly client: S3Client;
	private readonly service: string;
	private readonly partSize: number;
	private readonly threshold: number;
	private bucketChecked: Promise<void> | undefined;
	private configCache: StorageConfigCache | undefined;

	private get config(): StorageConfigCache {
		this.configCache ??= new StorageConfigCache(this.location, (signal) => this.readStorageConfig({signal}));
		return this.configCache;
	}
	private closed = false;

	constructor(private readonly options: S3StorageOptions) {
		this.client = options.client ?? createS3Client(options);
		this.service = describeService(options);
		this.location = `s3:${formatS3Location({endpoint: options.endpoint, bucket: options.bucket, prefix: options.prefix})}`;
		this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
		this.threshold = options.multipartThreshold ?? this.partSize;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: true, concurrency: options.connections ?? DEFAULT_S3_CONNECTIONS, coldStorage: true};
		this.storageConfig = {
			classes: S3_STORAGE_CLASSES,
			coldClasses: S3_COLD_CLASSES,
			read: (operation) => this.readStorageConfig(operation),
			write: (data, operation) => this.writeStorageConfig(data, operation),
		};
	}

	async create(options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		const listPrefix = joinKey(this.options.prefix, '');
		const context = this.context('create');
		let found: string[];
		try {
			// Grouped by "folder", the answer stays short whatever the prefix holds.
			const page = await this.client.send(new ListObjectsV2Command({Bucket: this.options.bucket, Prefix: listPrefix, Delimiter: '/'}), {abortSignal: options.signal});
			found = [...(page.Contents ?? []).map((item) => item.Key ?? ''), ...(page.CommonPrefixes ?? []).map((item) => item.Prefix ?? '')]
				.filter((key) => key !== '' && key !== joinKey(this.options.prefix, STORAGE_CONFIG_NAME))
				.sort();
		} catch (error) {
			throw mapS3Error(error, context);
		}
		if (found.length > 0) {
			const shown = found.slice(0, 3).map((key) => JSON.stringify(key.slice(listPrefix.length))).join(', ');
			const hint = found.some((key) => key.slice(listPrefix.length) === 'config') ? ' (it looks like a repository already exists there)' : '';
			throw new AlreadyExistsError(`cannot create a repository at ${this.location}: it already holds objects such as ${shown}${hint}; pick an empty bucket or a new prefix`);
		}
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		const key = this.keyOf(handle);
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		const config = await this.loadStorageConfig(options.signal);
		const storageClass = findStorageClass(config, pathOf(handle)) ?? this.options.storageClass;
		const common = {
			Bucket: this.options.bucket,
			Key: key,
			ContentType: 'application/octet-stream',
			...(storageClass === undefined ? {} : {StorageClass: storageClass as StorageClass}),
			// Lock files must stay deletable: cairn removes them when a command ends.
			...(handle.type === 'locks' ? {} : this.lockParameters()),
		};
		const context = this.context('save', key);
		if (data.byteLength <= this.threshold) {
			try {
				await this.client.send(new PutObjectCommand({...common, Body: data, ContentLength: data.byteLength, ContentMD5: md5Base64(data)}), {abortSignal: options.signal});
			} catch (error) {
				throw mapS3Error(error, context);
			}
			return;
		}
		await this.saveMultipart(common, data, context, options.signal);
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		this.checkOpen();
		const key = this.keyOf(handle);
		const offset = options.offset ?? 0;
		const length = options.length;
		checkRange(offset, length, pathOf(handle));
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		const context = this.context('load', key);
		if (length === 0) {
			const size = await this.headSize(key, context, options.signal);
			if (offset > size) throw pastEnd(pathOf(handle), offset, offset, size);
			return new Uint8Array(0);
		}
		const range = offset === 0 && length === undefined ? undefined : `bytes=${offset}-${length === undefined ? '' : offset + length - 1}`;
		let bytes: Uint8Array;
		try {
			const response = await this.client.send(new GetObjectCommand({Bucket: this.options.bucket, Key: key, Range: range}), {abortSignal: options.signal});
			bytes = response.Body === undefined ? new Uint8Array(0) : await response.Body.transformToByteArray();
		} catch (error) {
			const code = readS3ErrorCode(error);
			if (code === 'InvalidRange' || (error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode === 416) {
				// S3 refuses `bytes=SIZE-`; reading from the very end gives no bytes, past it is an error.
				const size = await this.headSize(key, context, options.signal);
				if (length === undefined && offset === size) return new Uint8Array(0);
				throw pastEnd(pathOf(handle), offset, offset + (length ?? 0), size, error);
			}
			if (code === 'InvalidObjectState') throw this.coldError(handle, error);
			throw mapS3Error(error, context);
		}
		if (length !== undefined && bytes.byteLength !== length) {
			throw pastEnd(pathOf(handle), offset, offset + length, offset + bytes.byteLength);
		}
		return bytes;
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		this.checkOpen();
		const key = this.keyOf(handle);
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		return {name: handle.name, size: await this.headSize(key, this.context('stat', key), options.signal)};
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		this.checkOpen();
		checkFileType(type);
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		if (type === 'config') {
			try {
				yield {name: '', size: await this.headSize(this.keyOf({type, name: ''}), this.context('list'), options.signal)};
			} catch (error) {
				if (!isStorageError(error, 'not-found')) throw error;
			}
			return;
		}
		const folder = joinKey(this.options.prefix, `${type}/`);
		const context = this.context('list', folder);
		let token: string | undefined;
		do {
			throwIfAborted(options.signal);
			let page;
			try {
				page = await this.client.send(new ListObjectsV2Command({Bucket: this.options.bucket, Prefix: folder, ContinuationToken: token}), {abortSignal: options.signal});
			} catch (error) {
				throw mapS3Error(error, context);
			}
			for (const item of page.Contents ?? []) {
				const name = readListedName(type, (item.Key ?? '').slice(folder.length));
				if (name !== undefined) yield {name, size: item.Size ?? 0};
			}
			token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
		} while (token !== undefined);
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		const key = this.keyOf(handle);
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		const context = this.context('remove', key);
		// S3 answers a delete of a missing key with success; the contract wants NotFoundError.
		await this.headSize(key, context, options.signal);
		try {
			await this.client.send(new DeleteObjectCommand({Bucket: this.options.bucket, Key: key}), {abortSignal: options.signal});
		} catch (error) {
			const code = readS3ErrorCode(error);
			if (code === 'AccessDenied' || code === 'InvalidRequest' || code === 'MethodNotAllowed' || code === 'ObjectLocked') {
				throw await this.describeRefusedDelete(handle, key, code, error, options.signal);
			}
			throw mapS3Error(error, context);
		}
	}

	/** See {@link Storage.thaw}: HeadObject for the class and `x-amz-restore`, then RestoreObject when needed. */
	async thaw(handle: FileHandle, options: ThawOptions = {}): Promise<ThawState> {
		this.checkOpen();
		const key = this.keyOf(handle);
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		const head = await this.head(key, this.context('thaw', key), options.signal);
		const state = readThawState(head);
		if (state !== 'frozen' || options.checkOnly === true) return state;
		const archived = head.ArchiveStatus !== undefined;
		try {
			const response = await this.client.send(
				new RestoreObjectCommand({
					Bucket: this.options.bucket,
					Key: key,
					// Intelligent-Tiering archive tiers take no Days: the object moves back to a readable tier.
					RestoreRequest: archived
						? {}
						: {Days: this.options.thawDays ?? 7, GlacierJobParameters: {Tier: this.options.thawTier ?? 'Standard'}},
				}),
				{abortSignal: options.signal},
			);
			// 202: restore started; 200: a restored copy already exists (its expiry was updated).
			return response.$metadata.httpStatusCode === 200 ? 'ready' : 'started';
		} catch (error) {
			if (readS3ErrorCode(error) === 'RestoreAlreadyInProgress') return 'pending';
			throw mapS3Error(error, this.context('thaw', key));
		}
	}

	/** See {@link Storage.extendRetention}: PutObjectRetention unless the lock already reaches `until`. */
	async extendRetention(handle: FileHandle, until: Date, options: OperationOptions = {}): Promise<Date> {
		this.checkOpen();
		const key = this.keyOf(handle);
		const mode = this.options.retention?.mode;
		if (mode === undefined) {
			throw new PermanentError('cannot extend retention: no retention mode is set; pass -o s3.retention-mode=GOVERNANCE (or COMPLIANCE) and -o s3.retention-period=…');
		}
		throwIfAborted(options.signal);
		await this.checkBucket(options.signal);
		const context = this.context('retention', key);
		const head = await this.head(key, context, options.signal);
		const current = head.ObjectLockRetainUntilDate;
		if (current !== undefined && current.getTime() >= until.getTime()) return current;
		try {
			await this.client.send(
				new PutObjectRetentionCommand({
					Bucket: this.options.bucket,
					Key: key,
					// A COMPLIANCE lock cannot become GOVERNANCE: keep the mode in force.
					Retention: {Mode: (head.ObjectLockMode as RetentionMode | undefined) ?? mode, RetainUntilDate: until},
				}),
				{abortSignal: options.signal},
			);
		} catch (error) {
			throw mapS3Error(error, context);
		}
		return until;
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		if (this.options.client === undefined) this.client.destroy();
	}

	/** Uploads in parts; any failure or abort aborts the upload so that no part is left billed or visible. */
	private async saveMultipart(common: Record<string, unknown> & {Bucket: string; Key: string}, data: Uint8Array, context: S3ErrorContext, signal?: AbortSignal): Promise<void> {
		let uploadId: string | undefined;
		try {
			const created = await this.client.send(new CreateMultipartUploadCommand(common), {abortSignal: signal});
			uploadId = created.UploadId;
			if (uploadId === undefined) throw new PermanentError(`${this.service} did not return an upload ID for ${context.key}`);
			const count = Math.ceil(data.byteLength / this.partSize);
			const etags: string[] = new Array<string>(count);
			let next = 0;
			const worker = async (): Promise<void> => {
				while (next < count) {
					const index = next++;
					throwIfAborted(signal);
					const body = data.subarray(index * this.partSize, Math.min(data.byteLength, (index + 1) * this.partSize));
					const part = await this.client.send(
						new UploadPartCommand({Bucket: common.Bucket, Key: common.Key, UploadId: uploadId, PartNumber: index + 1, Body: body, ContentLength: body.byteLength, ContentMD5: md5Base64(body)}),
						{abortSignal: signal},
					);
					if (part.ETag === undefined) throw new PermanentError(`${this.service} did not return an ETag for part ${index + 1} of ${context.key}`);
					etags[index] = part.ETag;
				}
			};
			await Promise.all(Array.from({length: Math.min(count, this.options.partConcurrency ?? 4)}, worker));
			throwIfAborted(signal);
			await this.client.send(
				new CompleteMultipartUploadCommand({
					Bucket: common.Bucket,
					Key: common.Key,
					UploadId: uploadId,
					MultipartUpload: {Parts: etags.map((ETag, index) => ({ETag, PartNumber: index + 1}))},
				}),
				{abortSignal: signal},
			);
		} catch (error) {
			if (uploadId !== undefined) {
				await this.client.send(new AbortMultipartUploadCommand({Bucket: common.Bucket, Key: common.Key, UploadId: uploadId})).catch(() => undefined);
			}
			if (isAbortError(error) && signal?.aborted) throwIfAborted(signal);
			throw mapS3Error(error, context);
		}
	}

	/** Object-lock headers for a new object, when a retention mode and period are set. */
	private lockParameters(): {ObjectLockMode?: RetentionMode; ObjectLockRetainUntilDate?: Date} {
		const retention = this.options.retention;
		if (retention === undefined) return {};
		const now = this.options.now?.() ?? new Date();
		return {ObjectLockMode: retention.mode, ObjectLockRetainUntilDate: new Date(now.getTime() + retention.periodMs)};
	}

	/** HeadObject, mapped. */
	private async head(key: string, context: S3ErrorContext, signal?: AbortSignal): Promise<HeadObjectCommandOutput> {
		try {
			return await this.client.send(new HeadObjectCommand({Bucket: this.options.bucket, Key: key}), {abortSignal: signal});
		} catch (error) {
			throw mapS3Error(error, context);
		}
	}

	private async headSize(key: string, context: S3ErrorContext, signal?: AbortSignal): Promise<number> {
		return (await this.head(key, context, signal)).ContentLength ?? 0;
	}

	/**
	 * Checks once that the bucket exists (HeadBucket). A HEAD answer has no body, so when it is
	 * refused a one-key listing is made to learn why (wrong key, bad signature, missing permission).
	 */
	private checkBucket(signal?: AbortSignal): Promise<void> {
		if (this.bucketChecked === undefined) {
			const context = this.context('list');
			this.bucketChecked = (async () => {
				try {
					await this.client.send(new HeadBucketCommand({Bucket: this.options.bucket}), {abortSignal: signal});
					return;
				} catch (error) {
					const status = readHttpStatus(error);
					if (status === 404) throw describeMissingBucket(context, error);
					if (status === undefined || status >= 500 || isAbortError(error)) throw mapS3Error(error, context);
				}
				try {
					await this.client.send(new ListObjectsV2Command({Bucket: this.options.bucket, Prefix: joinKey(this.options.prefix, ''), MaxKeys: 1}), {abortSignal: signal});
				} catch (error) {
					if (readS3ErrorCode(error) === 'NoSuchBucket') throw describeMissingBucket(context, error);
					throw mapS3Error(error, context);
				}
			})().catch((error: unknown) => {
				this.bucketChecked = undefined;
				throw error;
			});
		}
		return this.bucketChecked;
	}

	/** The parsed `.storageconfig`, read once. An invalid file fails saves (never reads) with a message saying how to fix it. */
	private async loadStorageConfig(signal?: AbortSignal): Promise<StorageConfig | undefined> {
		return this.config.load(signal);
	}

	private async readStorageConfig(options: OperationOptions = {}): Promise<Uint8Array | undefined> {
		this.checkOpen();
		await this.checkBucket(options.signal);
		const key = joinKey(this.options.prefix, STORAGE_CONFIG_NAME);
		try {
			const response = await this.client.send(new GetObjectCommand({Bucket: this.options.bucket, Key: key}), {abortSignal: options.signal});
			return response.Body === undefined ? new Uint8Array(0) : await response.Body.transformToByteArray();
		} catch (error) {
			const mapped = mapS3Error(error, this.context('storageconfig', key));
			if (isStorageError(mapped, 'not-found')) return undefined;
			throw mapped;
		}
	}

	private async writeStorageConfig(data: Uint8Array | undefined, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		await this.checkBucket(options.signal);
		const key = joinKey(this.options.prefix, STORAGE_CONFIG_NAME);
		const parsed = data === undefined ? undefined : parseStorageConfig(data);
		try {
			if (data === undefined) {
				await this.client.send(new DeleteObjectCommand({Bucket: this.options.bucket, Key: key}), {abortSignal: options.signal});
			} else {
				await this.client.send(
					new PutObjectCommand({Bucket: this.options.bucket, Key: key, Body: data, ContentLength: data.byteLength, ContentMD5: md5Base64(data), ContentType: 'application/json'}),
					{abortSignal: options.signal},
				);
			}
		} catch (error) {
			throw mapS3Error(error, {...this.context('storageconfig', key), operation: 'save'});
		}
		this.config.replace(parsed);
	}

	/** A DeleteRefusedError saying why, using the object's lock headers when they can be read. */
	private async describeRefusedDelete(handle: FileHandle, key: string, code: string, cause: unknown, signal?: AbortSignal): Promise<Error> {
		let head: HeadObjectCommandOutput | undefined;
		try {
			head = await this.head(key, this.context('stat', key), signal);
		} catch {
			head = undefined;
		}
		const until = head?.ObjectLockRetainUntilDate;
		const locked = until !== undefined && until.getTime() > Date.now();
		const reason = locked
			? `it is under ${head?.ObjectLockMode ?? 'an'} object lock until ${until.toISOString()}`
			: head?.ObjectLockLegalHoldStatus === 'ON'
				? 'it is under an object-lock legal hold'
				: `the store refused (${code}): the object may be under object lock, or the credentials lack s3:DeleteObject`;
		return new DeleteRefusedError(handle, `cannot delete ${pathOf(handle)} from ${this.location}: ${reason}. The file was left in place`, {cause, retainUntil: locked ? until : undefined});
	}

	/** The ColdStorageError for a GET refused with InvalidObjectState. */
	private coldError(handle: FileHandle, cause: unknown): ColdStorageError {
		const storageClass = readErrorStorageClass(cause) ?? 'GLACIER';
		return new ColdStorageError(
			handle,
			storageClass,
			`${pathOf(handle)} is in the ${storageClass} storage class of ${this.location} and cannot be read until it is thawed: run \`cairn restore --thaw …\` ` +
				'(it requests a temporary readable copy, which takes minutes to hours and is billed by the provider)',
			{cause},
		);
	}

	/** The object key of a handle, after checking its type and name. */
	private keyOf(handle: FileHandle): string {
		checkFileHandle(handle);
		return joinKey(this.options.prefix, pathOf(handle));
	}

	private context(operation: S3ErrorContext['operation'], key?: string): S3ErrorContext {
		return {operation, key, bucket: this.options.bucket, service: this.service, region: this.options.region};
	}

	private checkOpen(): void {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
	}
}

/**
 * The thaw state from a HeadObject answer: `ready` for readable classes and finished restores
 * (`x-amz-restore: ongoing-request="false", expiry-date="…"`), `pending` while one runs
 * (`ongoing-request="true"`), `frozen` otherwise.
 */
export function readThawState(head: Pick<HeadObjectCommandOutput, 'StorageClass' | 'Restore' | 'ArchiveStatus'>): ThawState {
	const cold = (S3_COLD_CLASSES as readonly string[]).includes(head.StorageClass ?? '') || head.ArchiveStatus !== undefined;
	if (!cold) return 'ready';
	const restore = head.Restore ?? '';
	if (/ongoing-request\s*=\s*"true"/i.test(restore)) return 'pending';
	if (/ongoing-request\s*=\s*"false"/i.test(restore)) return 'ready';
	return 'frozen';
}

/** Rejects offsets and lengths that are not non-negative safe integers. */
function checkRange(offset: number, length: number | undefined, label: string): void {
	const valid = (n: number) => Number.isSafeInteger(n) && n >= 0;
	if (!valid(offset) || (length !== undefined && !valid(length))) {
		throw new PermanentError(`cannot load ${label}: invalid range (offset ${offset}, length ${length}); both must be non-negative integers`);
	}
}

function pastEnd(label: string, start: number, end: number, size: number, cause?: unknown): PermanentError {
	return new PermanentError(`cannot load ${label}: the range ${start}..${end} is past the end of the object (${size} bytes)`, cause === undefined ? undefined : {cause});
}

function md5Base64(data: Uint8Array): string {
	return createHash('md5').update(data).digest('base64');
}

/** The `<StorageClass>` S3 puts in an InvalidObjectState error. */
function readErrorStorageClass(error: unknown): string | undefined {
	const value = (error as {StorageClass?: unknown} | null)?.StorageClass;
	return typeof value === 'string' && value !== '' ? value : undefined;
}

