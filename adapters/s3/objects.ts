/**
 * The S3 {@link ObjectClient}: the raw calls of @aws-sdk/client-s3 the shared core needs, and the
 * translation of S3's errors (including a GET refused for an archived object, and a refused delete).
 *
 * - Puts are single PUTs up to the multipart threshold and multipart uploads above it (aborted on
 *   any failure), so an object appears whole or not at all; every PUT and part carries Content-MD5.
 * - Every object cairn writes except lock files (`locks/`, which cairn deletes when a command
 *   ends) and `.storageconfig` gets the object-lock headers when a retention mode is set.
 * - S3 answers a delete of a missing key with success, so `delete` checks the key first.
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
	UploadPartCommand,
	type HeadObjectCommandOutput,
	type S3Client,
	type StorageClass,
} from '@aws-sdk/client-s3';

import type {ListOptions, ObjectCallOptions, ObjectClient, ObjectErrorContext, ObjectInfo, ObjectRange, PutOptions} from '../object-store/client.js';
import {RangeNotSatisfiableError} from '../object-store/client.js';
import {joinKey} from '../object-store/layout.js';
import {ColdStorageError, DeleteRefusedError} from '../shared/storage-errors.js';
import {PermanentError, pathOf, throwIfAborted, type FileHandle} from '../storage.js';
import {describeMissingBucket, isAbortError, mapS3Error, readHttpStatus, readS3ErrorCode, type S3ErrorContext} from './errors.js';
import type {RetentionMode} from './retention.js';

/** What {@link S3ObjectClient} needs. */
export interface S3ObjectSettings {
	readonly client: S3Client;
	readonly bucket: string;
	readonly prefix: string;
	readonly region?: string;
	/** `Amazon S3` or the endpoint, for messages. */
	readonly service: string;
	/** The store's location, for messages. */
	readonly location: string;
	readonly partSize: number;
	readonly threshold: number;
	readonly partConcurrency: number;
	readonly retention?: {readonly mode: RetentionMode; readonly periodMs: number};
	readonly now?: () => Date;
}

/** See the module notes. */
export class S3ObjectClient implements ObjectClient {
	constructor(private readonly settings: S3ObjectSettings) {}

	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		const type = options.handle?.type;
		const common = {
			Bucket: this.settings.bucket,
			Key: key,
			ContentType: options.contentType,
			...(options.storageClass === undefined ? {} : {StorageClass: options.storageClass as StorageClass}),
			// Lock files must stay deletable: cairn removes them when a command ends.
			...(type === undefined || type === 'locks' ? {} : this.lockParameters()),
		};
		if (data.byteLength <= this.settings.threshold) {
			await this.settings.client.send(new PutObjectCommand({...common, Body: data, ContentLength: data.byteLength, ContentMD5: md5Base64(data)}), {abortSignal: options.signal});
			return;
		}
		await this.putMultipart(common, data, options.signal);
	}

	async get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array> {
		const header = range === undefined ? undefined : `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
		try {
			const response = await this.settings.client.send(new GetObjectCommand({Bucket: this.settings.bucket, Key: key, Range: header}), {abortSignal: options.signal});
			return response.Body === undefined ? new Uint8Array(0) : await response.Body.transformToByteArray();
		} catch (error) {
			// S3 refuses `bytes=SIZE-` as it refuses any range past the end.
			if (readS3ErrorCode(error) === 'InvalidRange' || readHttpStatus(error) === 416) throw new RangeNotSatisfiableError({cause: error});
			throw error;
		}
	}

	async head(key: string, options: ObjectCallOptions): Promise<ObjectInfo> {
		return {key, size: (await this.headObject(key, options.signal)).ContentLength ?? 0};
	}

	/** HeadObject, unmapped (the caller maps). */
	headObject(key: string, signal?: AbortSignal): Promise<HeadObjectCommandOutput> {
		return this.settings.client.send(new HeadObjectCommand({Bucket: this.settings.bucket, Key: key}), {abortSignal: signal});
	}

	async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo> {
		let token: string | undefined;
		do {
			const page = await this.settings.client.send(
				new ListObjectsV2Command({Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token, ...(options.limit === undefined ? {} : {MaxKeys: options.limit})}),
				{abortSignal: options.signal},
			);
			for (const item of page.Contents ?? []) yield {key: item.Key ?? '', size: item.Size ?? 0};
			token = page.IsTruncated === true && options.limit === undefined ? page.NextContinuationToken : undefined;
		} while (token !== undefined);
	}

	async delete(key: string, options: ObjectCallOptions): Promise<void> {
		// S3 answers a delete of a missing key with success; the contract wants NotFoundError.
		await this.headObject(key, options.signal);
		try {
			await this.settings.client.send(new DeleteObjectCommand({Bucket: this.settings.bucket, Key: key}), {abortSignal: options.signal});
		} catch (error) {
			const code = readS3ErrorCode(error);
			const refused = code === 'AccessDenied' || code === 'InvalidRequest' || code === 'MethodNotAllowed' || code === 'ObjectLocked';
			if (refused && options.handle !== undefined) throw await this.describeRefusedDelete(options.handle, key, code, error, options.signal);
			throw error;
		}
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		if (readS3ErrorCode(error) === 'InvalidObjectState' && context.operation === 'load' && context.handle !== undefined) return this.describeColdObject(context.handle, error);
		return mapS3Error(error, this.context(context.operation, context.key));
	}

	/**
	 * Checks that the bucket exists (HeadBucket). A HEAD answer has no body, so when it is refused
	 * a one-key listing is made to learn why (wrong key, bad signature, missing permission).
	 */
	async connect(options: ObjectCallOptions): Promise<void> {
		const context = this.context('list');
		try {
			await this.settings.client.send(new HeadBucketCommand({Bucket: this.settings.bucket}), {abortSignal: options.signal});
			return;
		} catch (error) {
			const status = readHttpStatus(error);
			if (status === 404) throw describeMissingBucket(context, error);
			if (status === undefined || status >= 500 || isAbortError(error)) throw mapS3Error(error, context);
		}
		try {
			await this.settings.client.send(new ListObjectsV2Command({Bucket: this.settings.bucket, Prefix: joinKey(this.settings.prefix, ''), MaxKeys: 1}), {abortSignal: options.signal});
		} catch (error) {
			if (readS3ErrorCode(error) === 'NoSuchBucket') throw describeMissingBucket(context, error);
			throw mapS3Error(error, context);
		}
	}

	/** The error context of {@link mapS3Error}. */
	context(operation: S3ErrorContext['operation'], key?: string): S3ErrorContext {
		return {operation, key, bucket: this.settings.bucket, service: this.settings.service, region: this.settings.region};
	}

	/** Uploads in parts; any failure or abort aborts the upload so that no part is left billed or visible. */
	private async putMultipart(common: Record<string, unknown> & {Bucket: string; Key: string}, data: Uint8Array, signal?: AbortSignal): Promise<void> {
		const {client, partSize} = this.settings;
		let uploadId: string | undefined;
		try {
			const created = await client.send(new CreateMultipartUploadCommand(common), {abortSignal: signal});
			uploadId = created.UploadId;
			if (uploadId === undefined) throw new PermanentError(`${this.settings.service} did not return an upload ID for ${common.Key}`);
			const count = Math.ceil(data.byteLength / partSize);
			const etags: string[] = new Array<string>(count);
			let next = 0;
			const worker = async (): Promise<void> => {
				while (next < count) {
					const index = next++;
					throwIfAborted(signal);
					const body = data.subarray(index * partSize, Math.min(data.byteLength, (index + 1) * partSize));
					const part = await client.send(
						new UploadPartCommand({Bucket: common.Bucket, Key: common.Key, UploadId: uploadId, PartNumber: index + 1, Body: body, ContentLength: body.byteLength, ContentMD5: md5Base64(body)}),
						{abortSignal: signal},
					);
					if (part.ETag === undefined) throw new PermanentError(`${this.settings.service} did not return an ETag for part ${index + 1} of ${common.Key}`);
					etags[index] = part.ETag;
				}
			};
			await Promise.all(Array.from({length: Math.min(count, this.settings.partConcurrency)}, worker));
			throwIfAborted(signal);
			const parts = etags.map((ETag, index) => ({ETag, PartNumber: index + 1}));
			await client.send(new CompleteMultipartUploadCommand({Bucket: common.Bucket, Key: common.Key, UploadId: uploadId, MultipartUpload: {Parts: parts}}), {abortSignal: signal});
		} catch (error) {
			if (uploadId !== undefined) {
				await client.send(new AbortMultipartUploadCommand({Bucket: common.Bucket, Key: common.Key, UploadId: uploadId})).catch(() => undefined);
			}
			throw error;
		}
	}

	/** Object-lock headers for a new object, when a retention mode and period are set. */
	private lockParameters(): {ObjectLockMode?: RetentionMode; ObjectLockRetainUntilDate?: Date} {
		const retention = this.settings.retention;
		if (retention === undefined) return {};
		const now = this.settings.now?.() ?? new Date();
		return {ObjectLockMode: retention.mode, ObjectLockRetainUntilDate: new Date(now.getTime() + retention.periodMs)};
	}

	/** A DeleteRefusedError saying why, using the object's lock headers when they can be read. */
	private async describeRefusedDelete(handle: FileHandle, key: string, code: string, cause: unknown, signal?: AbortSignal): Promise<Error> {
		const head = await this.headObject(key, signal).catch(() => undefined);
		const until = head?.ObjectLockRetainUntilDate;
		const locked = until !== undefined && until.getTime() > Date.now();
		const reason = locked
			? `it is under ${head?.ObjectLockMode ?? 'an'} object lock until ${until.toISOString()}`
			: head?.ObjectLockLegalHoldStatus === 'ON'
				? 'it is under an object-lock legal hold'
				: `the store refused (${code}): the object may be under object lock, or the credentials lack s3:DeleteObject`;
		return new DeleteRefusedError(handle, `cannot delete ${pathOf(handle)} from ${this.settings.location}: ${reason}. The file was left in place`, {cause, retainUntil: locked ? until : undefined});
	}

	/** The ColdStorageError for a GET refused with InvalidObjectState. */
	private describeColdObject(handle: FileHandle, cause: unknown): ColdStorageError {
		const storageClass = readErrorStorageClass(cause) ?? 'GLACIER';
		return new ColdStorageError(
			handle,
			storageClass,
			`${pathOf(handle)} is in the ${storageClass} storage class of ${this.settings.location} and cannot be read until it is thawed: run \`cairn restore --thaw …\` ` +
				'(it requests a temporary readable copy, which takes minutes to hours and is billed by the provider)',
			{cause},
		);
	}
}

function md5Base64(data: Uint8Array): string {
	return createHash('md5').update(data).digest('base64');
}

/** The `<StorageClass>` S3 puts in an InvalidObjectState error. */
function readErrorStorageClass(error: unknown): string | undefined {
	const value = (error as {StorageClass?: unknown} | null)?.StorageClass;
	return typeof value === 'string' && value !== '' ? value : undefined;
}
