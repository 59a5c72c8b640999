/**
 * The S3 adapter: a repository under a prefix of an existing bucket on Amazon S3 or any
 * S3-compatible service, in restic's layout (`config`, `keys/<id>`, `data/<xx>/<id>`, ...), built
 * on the shared object-store core with the client of ./objects.ts.
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

import {PutObjectRetentionCommand, RestoreObjectCommand, type HeadObjectCommandOutput, type S3Client} from '@aws-sdk/client-s3';

import {ObjectStore} from '../object-store/store.js';
import {PermanentError, type FileHandle, type OperationOptions, type StorageConfigFile, type ThawOptions, type ThawState} from '../storage.js';
import {S3_COLD_CLASSES, S3_STORAGE_CLASSES, S3_THAW_TIERS, type S3ThawTier} from './classes.js';
import {createS3Client, DEFAULT_S3_CONNECTIONS, describeService, type S3Settings} from './client.js';
import {mapS3Error, readS3ErrorCode} from './errors.js';
import {formatS3Location} from './location.js';
import {S3ObjectClient} from './objects.js';
import type {RetentionMode} from './retention.js';

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
export class S3Storage extends ObjectStore {
	declare readonly storageConfig: StorageConfigFile;
	/** The SDK client (tests drive it directly, e.g. for HeadObject). */
	readonly client: S3Client;
	private readonly s3: S3ObjectClient;

	constructor(private readonly options: S3StorageOptions) {
		const client = options.client ?? createS3Client(options);
		const location = `s3:${formatS3Location({endpoint: options.endpoint, bucket: options.bucket, prefix: options.prefix})}`;
		const partSize = options.partSize ?? DEFAULT_PART_SIZE;
		const objects = new S3ObjectClient({
			client,
			bucket: options.bucket,
			prefix: options.prefix ?? '',
			region: options.region,
			service: describeService(options),
			location,
			partSize,
			threshold: options.multipartThreshold ?? partSize,
			partConcurrency: options.partConcurrency ?? 4,
			retention: options.retention,
			now: options.now,
		});
		super(objects, {
			location,
			prefix: options.prefix ?? '',
			capabilities: {atomicSave: true, rangedLoad: true, mayRefuseDelete: true, concurrency: options.connections ?? DEFAULT_S3_CONNECTIONS, coldStorage: true},
			storageClasses: {classes: S3_STORAGE_CLASSES, coldClasses: S3_COLD_CLASSES, defaultClass: options.storageClass},
		});
		this.client = client;
		this.s3 = objects;
	}

	/** See {@link Storage.thaw}: HeadObject for the class and `x-amz-restore`, then RestoreObject when needed. */
	async thaw(handle: FileHandle, options: ThawOptions = {}): Promise<ThawState> {
		const {key, signal} = await this.open(handle, options);
		const context = this.s3.context('thaw', key);
		const head = await this.headObject(key, context, signal);
		const state = readThawState(head);
		if (state !== 'frozen' || options.checkOnly === true) return state;
		const archived = head.ArchiveStatus !== undefined;
		try {
			const response = await this.client.send(
				new RestoreObjectCommand({
					Bucket: this.options.bucket,
					Key: key,
					// Intelligent-Tiering archive tiers take no Days: the object moves back to a readable tier.
					RestoreRequest: archived ? {} : {Days: this.options.thawDays ?? 7, GlacierJobParameters: {Tier: this.options.thawTier ?? 'Standard'}},
				}),
				{abortSignal: signal},
			);
			// 202: restore started; 200: a restored copy already exists (its expiry was updated).
			return response.$metadata.httpStatusCode === 200 ? 'ready' : 'started';
		} catch (error) {
			if (readS3ErrorCode(error) === 'RestoreAlreadyInProgress') return 'pending';
			throw mapS3Error(error, context);
		}
	}

	/** See {@link Storage.extendRetention}: PutObjectRetention unless the lock already reaches `until`. */
	async extendRetention(handle: FileHandle, until: Date, options: OperationOptions = {}): Promise<Date> {
		const mode = this.options.retention?.mode;
		if (mode === undefined) {
			throw new PermanentError('cannot extend retention: no retention mode is set; pass -o s3.retention-mode=GOVERNANCE (or COMPLIANCE) and -o s3.retention-period=…');
		}
		const {key, signal} = await this.open(handle, options);
		const context = this.s3.context('retention', key);
		const head = await this.headObject(key, context, signal);
		const current = head.ObjectLockRetainUntilDate;
		if (current !== undefined && current.getTime() >= until.getTime()) return current;
		try {
			// A COMPLIANCE lock cannot become GOVERNANCE: keep the mode in force.
			const retention = {Mode: (head.ObjectLockMode as RetentionMode | undefined) ?? mode, RetainUntilDate: until};
			await this.client.send(new PutObjectRetentionCommand({Bucket: this.options.bucket, Key: key, Retention: retention}), {abortSignal: signal});
		} catch (error) {
			throw mapS3Error(error, context);
		}
		return until;
	}

	override async close(): Promise<void> {
		const first = !this.isClosed;
		await super.close();
		if (first && this.options.client === undefined) this.client.destroy();
	}

	/** HeadObject, mapped. */
	private async headObject(key: string, context: ReturnType<S3ObjectClient['context']>, signal?: AbortSignal): Promise<HeadObjectCommandOutput> {
		try {
			return await this.s3.headObject(key, signal);
		} catch (error) {
			throw mapS3Error(error, context);
		}
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
