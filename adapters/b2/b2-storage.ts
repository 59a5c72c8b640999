/**
 * The Backblaze B2 adapter: a repository under a prefix of a bucket, in restic's layout, over the
 * B2 native API (see ./client.ts), built on the shared object-store core.
 *
 * - Files up to the part size go up with one b2_upload_file; larger ones as a large file
 *   (b2_start_large_file, b2_upload_part for each part, b2_finish_large_file), which B2 makes
 *   visible only when finished. Every upload carries its SHA-1, which B2 checks; large files
 *   record the SHA-1 of the whole file in `large_file_sha1`, which whole downloads check.
 * - Loads with an offset or length send a `Range` header.
 * - B2 keeps versions: saving a name again adds a version, and `remove` deletes every version of
 *   the name (b2_delete_file_version), so nothing stays billed. A name hidden by another tool
 *   (b2_hide_file) counts as missing; removing it still deletes its versions.
 * - Nothing is retried here; an expired authorization is reported as transient and renewed by
 *   the next attempt.
 */

import {createHash} from 'node:crypto';

import {RangeNotSatisfiableError, type ListOptions, type ObjectCallOptions, type ObjectClient, type ObjectErrorContext, type ObjectInfo, type ObjectRange, type PutOptions} from '../object-store/client.js';
import {describeBucketStore, ObjectStore, type BucketStoreSettings} from '../object-store/store.js';
import {Remembered} from '../shared/remembered.js';
import {AuthError, NotFoundError, PermanentError, TransientError, throwIfAborted, type Storage} from '../storage.js';
import {B2ApiError, isAbortError, mapB2Error} from './errors.js';
import {B2Client, type B2Authorization, type B2FileVersion} from './client.js';

/** The default API endpoint. */
export const DEFAULT_B2_ENDPOINT = 'https://api.backblazeb2.com';

/** Settings of {@link createB2Storage}; the endpoint defaults to {@link DEFAULT_B2_ENDPOINT}. */
export interface B2StorageSettings extends BucketStoreSettings {
	/** Application key ID (or the account ID with the master key). */
	readonly keyId: string;
	readonly applicationKey: string;
	/** Files larger than this go up as large files in parts of this size; default B2's recommended part size. Never below B2's minimum. */
	readonly partSize?: number;
}

/** Opens (does not create) a repository in a B2 bucket. */
export function createB2Storage(settings: B2StorageSettings): Storage {
	return new ObjectStore(new B2ObjectClient(settings), {...describeBucketStore('b2', settings, false), words: {instead: 'an empty or new folder'}});
}

/** The capability each kind of call needs, for messages. */
type Capability = 'listBuckets' | 'listFiles' | 'readFiles' | 'writeFiles' | 'deleteFiles';

/** The capability each operation of the core needs first. */
const CAPABILITIES: Record<ObjectErrorContext['operation'], Capability> = {
	create: 'listFiles',
	save: 'writeFiles',
	load: 'readFiles',
	stat: 'listFiles',
	list: 'listFiles',
	remove: 'deleteFiles',
	storageconfig: 'readFiles',
};

/** The B2 native API calls, for {@link ObjectStore}. Each call maps its own failures, naming the capability it needs. */
class B2ObjectClient implements ObjectClient {
	private readonly client: B2Client;
	private readonly service: string;
	private readonly root: string;
	private readonly bucketId = new Remembered<string>();

	constructor(private readonly settings: B2StorageSettings) {
		const endpoint = settings.endpoint ?? DEFAULT_B2_ENDPOINT;
		this.service = endpoint === DEFAULT_B2_ENDPOINT ? 'Backblaze B2' : `Backblaze B2 at ${endpoint}`;
		this.client = new B2Client({endpoint, keyId: settings.keyId, applicationKey: settings.applicationKey});
		this.root = settings.prefix === '' ? '' : `${settings.prefix}/`;
	}

	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		await this.run(`save ${this.relative(key)}`, 'writeFiles', key, async (bucketId, authorization) => {
			const partSize = Math.max(this.settings.partSize ?? authorization.recommendedPartSize, authorization.absoluteMinimumPartSize);
			if (data.byteLength > partSize) await this.uploadLargeFile(bucketId, key, data, partSize, options.signal);
			else await this.uploadFile(bucketId, key, data, options.signal);
		});
	}

	async get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array> {
		const header = range === undefined ? undefined : `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
		const relative = this.relative(key);
		let answer: {data: Uint8Array; headers: Headers};
		try {
			answer = await this.run(`load ${relative}`, 'readFiles', key, () => this.client.download(this.settings.bucket, key, header, options.signal));
		} catch (error) {
			if (error instanceof PermanentError && error.cause instanceof B2ApiError && error.cause.status === 416) throw new RangeNotSatisfiableError({cause: error});
			throw error;
		}
		if (header === undefined) checkDownloadHash(answer, `cannot load ${relative} (${this.describe(key)})`);
		return answer.data;
	}

	async head(key: string, options: ObjectCallOptions): Promise<ObjectInfo> {
		const relative = this.relative(key);
		const found = await this.run(`stat ${relative}`, 'listFiles', key, async (bucketId) => {
			const answer = await this.client.call<{files: B2FileVersion[]}>('b2_list_file_names', {bucketId, prefix: key, startFileName: key, maxFileCount: 1}, options.signal);
			return answer.files.find((file) => file.fileName === key && file.action === 'upload');
		});
		if (found === undefined) throw new NotFoundError(`cannot stat ${relative} (${this.describe(key)}): it does not exist`);
		return {key, size: found.contentLength};
	}

	async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo> {
		const action = options.limit === undefined ? `list ${this.relative(prefix).replace(/\/$/, '')}` : 'create the repository';
		let start: string | undefined;
		do {
			throwIfAborted(options.signal);
			const query = {prefix, maxFileCount: options.limit ?? 1000, ...(start === undefined ? {} : {startFileName: start})};
			const answer = await this.run(action, 'listFiles', undefined, (bucketId) =>
				this.client.call<{files: B2FileVersion[]; nextFileName: string | null}>('b2_list_file_names', {bucketId, ...query}, options.signal),
			);
			for (const file of answer.files) {
				if (file.action === 'upload') yield {key: file.fileName, size: file.contentLength};
			}
			start = options.limit === undefined ? (answer.nextFileName ?? undefined) : undefined;
		} while (start !== undefined);
	}

	/**
	 * Deletes every version of the name. Versions come newest first: a hide marker on top means the
	 * file is gone for readers (NotFoundError), but its older versions are still billed, so they are
	 * deleted all the same.
	 */
	async delete(key: string, options: ObjectCallOptions): Promise<void> {
		const relative = this.relative(key);
		const versions = await this.run(`remove ${relative}`, 'listFiles', key, async (bucketId) => {
			const answer = await this.client.call<{files: B2FileVersion[]}>('b2_list_file_versions', {bucketId, prefix: key, startFileName: key, maxFileCount: 1000}, options.signal);
			return answer.files.filter((file) => file.fileName === key);
		});
		const missing = new NotFoundError(`cannot remove ${relative} (${this.describe(key)}): it does not exist`);
		const hidden = versions[0]?.action === 'hide';
		if (!versions.some((version) => version.action === 'upload')) throw missing;
		for (const version of versions) {
			if (version.action === 'start') continue; // An unfinished large file of an aborted save; B2 drops those after a while.
			throwIfAborted(options.signal);
			try {
				await this.run(`remove ${relative}`, 'deleteFiles', key, () => this.client.call('b2_delete_file_version', {fileName: key, fileId: version.fileId}, options.signal));
			} catch (error) {
				// Removed meanwhile by someone else: the goal is reached.
				if (!(error instanceof NotFoundError)) throw error;
			}
		}
		if (hidden) throw missing;
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		return mapB2Error(error, {action: `${context.operation} ${context.path ?? 'the repository'}`, bucket: this.settings.bucket, ...(context.key === undefined ? {} : {key: context.key}), service: this.service, capability: CAPABILITIES[context.operation]});
	}

	/** One b2_upload_file; the upload URL goes back to the pool only when it worked. */
	private async uploadFile(bucketId: string, key: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
		const target = await this.client.takeUploadTarget(bucketId, signal);
		await this.client.uploadFile(target, key, data, sha1Hex(data), signal);
		this.client.releaseUploadTarget(bucketId, target);
	}

	/** A large file in parts; an unfinished one is cancelled (best effort) so that it leaves nothing behind. */
	private async uploadLargeFile(bucketId: string, key: string, data: Uint8Array, partSize: number, signal?: AbortSignal): Promise<void> {
		const started = await this.client.call<{fileId: string}>(
			'b2_start_large_file',
			{bucketId, fileName: key, contentType: 'application/octet-stream', fileInfo: {large_file_sha1: sha1Hex(data)}},
			signal,
		);
		try {
			const target = await this.client.call<{uploadUrl: string; authorizationToken: string}>('b2_get_upload_part_url', {fileId: started.fileId}, signal);
			const sha1s: string[] = [];
			for (let offset = 0, number = 1; offset < data.byteLength; offset += partSize, number++) {
				throwIfAborted(signal);
				const part = data.subarray(offset, Math.min(offset + partSize, data.byteLength));
				const sha1 = sha1Hex(part);
				await this.client.uploadPart(target, number, part, sha1, signal);
				sha1s.push(sha1);
			}
			throwIfAborted(signal);
			await this.client.call('b2_finish_large_file', {fileId: started.fileId, partSha1Array: sha1s}, signal);
		} catch (error) {
			void this.client.call('b2_cancel_large_file', {fileId: started.fileId}, AbortSignal.timeout(10_000)).catch(() => undefined);
			throw error;
		}
	}

	/**
	 * Runs `work` with the bucket's ID and the authorization, mapping every failure to a storage
	 * error that names the operation, the file and the capability it needs.
	 */
	private async run<T>(action: string, capability: Capability, key: string | undefined, work: (bucketId: string, authorization: B2Authorization) => Promise<T>): Promise<T> {
		let authorization: B2Authorization | undefined;
		try {
			authorization = await this.client.authorize();
			const bucketId = await this.findBucketId(authorization);
			return await work(bucketId, authorization);
		} catch (error) {
			if (isAbortError(error)) throw error;
			throw mapB2Error(error, {
				action,
				bucket: this.settings.bucket,
				...(key === undefined ? {} : {key}),
				service: this.service,
				capability,
				...(authorization === undefined
					? {}
					: {allowed: {capabilities: authorization.capabilities, ...(authorization.namePrefix === undefined ? {} : {namePrefix: authorization.namePrefix}), ...(authorization.bucket === undefined ? {} : {bucketName: authorization.bucket.name})}}),
			});
		}
	}

	/** The bucket's ID: from a key limited to it, or from b2_list_buckets. Checks the key's bucket and name-prefix limits. */
	private findBucketId(authorization: B2Authorization): Promise<string> {
		return this.bucketId.get(() => this.lookUpBucket(authorization));
	}

	private async lookUpBucket(authorization: B2Authorization): Promise<string> {
		if (authorization.namePrefix !== undefined && !this.root.startsWith(authorization.namePrefix)) {
			throw new AuthError(
				`the application key is limited to file names starting with "${authorization.namePrefix}", but the repository is at "${this.root}" in bucket "${this.settings.bucket}": put the repository under that prefix (e.g. b2:${this.settings.bucket}:/${authorization.namePrefix.replace(/\/+$/, '')}) or use another key`,
			);
		}
		if (authorization.bucket !== undefined) {
			if (authorization.bucket.name !== this.settings.bucket) {
				throw new AuthError(`the application key is limited to bucket "${authorization.bucket.name}", not "${this.settings.bucket}": use that bucket or another key`);
			}
			return authorization.bucket.id;
		}
		let answer: {buckets: Array<{bucketId: string; bucketName: string}>};
		try {
			answer = await this.client.call('b2_list_buckets', {accountId: authorization.accountId, bucketName: this.settings.bucket});
		} catch (error) {
			throw mapB2Error(error, {action: 'look up the bucket', bucket: this.settings.bucket, service: this.service, capability: 'listBuckets', allowed: {capabilities: authorization.capabilities}});
		}
		const bucket = answer.buckets.find((candidate) => candidate.bucketName === this.settings.bucket);
		if (bucket === undefined) {
			throw new NotFoundError(`bucket "${this.settings.bucket}" does not exist in this B2 account: cairn does not create buckets; create it in the Backblaze web UI (or with \`b2 bucket create\`) or fix the name in the location`);
		}
		return bucket.bucketId;
	}

	/** The key relative to the repository root. */
	private relative(key: string): string {
		return key.slice(this.root.length);
	}

	private describe(key: string): string {
		return `b2://${this.settings.bucket}/${key}`;
	}
}

/** Checks a whole download against the SHA-1 B2 reports (`X-Bz-Content-Sha1`, or `large_file_sha1` for large files). */
function checkDownloadHash(answer: {data: Uint8Array; headers: Headers}, failed: string): void {
	const reported = answer.headers.get('x-bz-content-sha1');
	const expected = reported !== null && /^[0-9a-f]{40}$/.test(reported) ? reported : answer.headers.get('x-bz-info-large_file_sha1');
	if (expected === null || !/^[0-9a-f]{40}$/.test(expected)) return;
	if (sha1Hex(answer.data) !== expected) throw new TransientError(`${failed}: the data was damaged in transit (SHA-1 mismatch); a retry may succeed`);
}

function sha1Hex(data: Uint8Array): string {
	return createHash('sha1').update(data).digest('hex');
}
