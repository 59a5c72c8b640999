/**
 * The Azure Blob {@link ObjectClient}: the raw calls of @azure/storage-blob the shared core needs,
 * and the translation of Azure's errors (an archived blob, a delete refused by an immutability
 * policy or legal hold, a missing container).
 *
 * Puts are one Put Blob up to the block threshold, and staged blocks committed with one Put Block
 * List above it, so a blob appears whole or not at all (uncommitted blocks of a failed or aborted
 * save are never visible and Azure discards them). Every upload carries an MD5 the service checks.
 */

import {createHash, randomBytes} from 'node:crypto';

import type {BlockBlobClient, ContainerClient} from '@azure/storage-blob';

import type {ListOptions, ObjectCallOptions, ObjectClient, ObjectErrorContext, ObjectInfo, ObjectRange, PutOptions} from '../object-store/client.js';
import {RangeNotSatisfiableError} from '../object-store/client.js';
import {ColdStorageError, DeleteRefusedError} from '../shared/storage-errors.js';
import {pathOf, throwIfAborted, type FileHandle} from '../storage.js';
import {describeMissingContainer, isAzureAbort, mapAzureError, readAzureErrorCode, readAzureStatus, type AzureErrorContext} from './errors.js';

/** What {@link AzureObjectClient} needs. */
export interface AzureObjectSettings {
	readonly containerClient: ContainerClient;
	readonly container: string;
	readonly account: string;
	readonly prefix: string;
	/** The blob service URL, for messages. */
	readonly service: string;
	/** The store's location, for messages. */
	readonly location: string;
	readonly blockSize: number;
	readonly threshold: number;
}

/** See the module notes. */
export class AzureObjectClient implements ObjectClient {
	constructor(private readonly settings: AzureObjectSettings) {}

	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		const blob = this.blob(key);
		const headers = {blobContentType: options.contentType, blobContentMD5: md5(data)};
		if (data.byteLength <= this.settings.threshold) {
			await blob.upload(data, data.byteLength, {tier: options.storageClass, abortSignal: options.signal, blobHTTPHeaders: headers});
			return;
		}
		// Stage the blocks (a few at once) and commit them with the tier; nothing is visible before the commit.
		const {blockSize} = this.settings;
		const count = Math.ceil(data.byteLength / blockSize);
		const upload = randomBytes(6).toString('hex');
		const ids = Array.from({length: count}, (_, index) => Buffer.from(`${upload}-${String(index).padStart(6, '0')}`).toString('base64'));
		let next = 0;
		const worker = async (): Promise<void> => {
			while (next < count) {
				const index = next++;
				throwIfAborted(options.signal);
				const body = data.subarray(index * blockSize, Math.min(data.byteLength, (index + 1) * blockSize));
				await blob.stageBlock(ids[index]!, body, body.byteLength, {abortSignal: options.signal, transactionalContentMD5: md5(body)});
			}
		};
		await Promise.all(Array.from({length: Math.min(count, 4)}, worker));
		throwIfAborted(options.signal);
		await blob.commitBlockList(ids, {tier: options.storageClass, abortSignal: options.signal, blobHTTPHeaders: headers});
	}

	async get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array> {
		try {
			const response = await this.blob(key).download(range?.offset ?? 0, range?.length, {abortSignal: options.signal, maxRetryRequests: 0});
			const bytes = await readStream(response.readableStreamBody);
			return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
		} catch (error) {
			if (readAzureErrorCode(error) === 'InvalidRange' || readAzureStatus(error) === 416) throw new RangeNotSatisfiableError({cause: error});
			throw error;
		}
	}

	async head(key: string, options: ObjectCallOptions): Promise<ObjectInfo> {
		return {key, size: (await this.blob(key).getProperties({abortSignal: options.signal})).contentLength ?? 0};
	}

	async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo> {
		const pages = this.settings.containerClient.listBlobsFlat({prefix, abortSignal: options.signal}).byPage({maxPageSize: options.limit ?? 5000});
		for await (const page of pages) {
			for (const item of page.segment.blobItems) yield {key: item.name, size: item.properties.contentLength ?? 0};
			if (options.limit !== undefined) return;
		}
	}

	async delete(key: string, options: ObjectCallOptions): Promise<void> {
		try {
			await this.blob(key).delete({abortSignal: options.signal});
		} catch (error) {
			const code = readAzureErrorCode(error) ?? '';
			const forbidden = readAzureStatus(error) === 403;
			const refused = forbidden || code.startsWith('BlobImmutable') || code === 'ImmutabilityPolicyDeleteProhibited' || code === 'BlobUnderLegalHold';
			if (!refused || options.handle === undefined) throw error;
			const reason = forbidden
				? 'the credentials may not delete (a SAS needs sp=d, a role needs Storage Blob Data Contributor)'
				: `it is protected by an immutability policy or legal hold (${code})`;
			throw new DeleteRefusedError(options.handle, `cannot delete ${pathOf(options.handle)} from ${this.settings.location}: ${reason}. The file was left in place`, {cause: error});
		}
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		if (readAzureErrorCode(error) === 'BlobArchived' && context.handle !== undefined) return this.describeArchived(context.handle, error);
		return mapAzureError(error, this.context(context.operation, context.key));
	}

	/** Checks that the container exists. */
	async connect(options: ObjectCallOptions): Promise<void> {
		try {
			await this.settings.containerClient.getProperties({abortSignal: options.signal});
		} catch (error) {
			const context = this.context('list');
			if (readAzureErrorCode(error) === 'ContainerNotFound' || (readAzureStatus(error) === 404 && !isAzureAbort(error))) throw describeMissingContainer(context, error);
			throw mapAzureError(error, context);
		}
	}

	/** The error context of {@link mapAzureError}. */
	context(operation: AzureErrorContext['operation'], blob?: string): AzureErrorContext {
		return {operation, blob, container: this.settings.container, account: this.settings.account, service: this.settings.service};
	}

	private blob(key: string): BlockBlobClient {
		return this.settings.containerClient.getBlockBlobClient(key);
	}

	/** The ColdStorageError of a blob in the Archive tier. */
	private describeArchived(handle: FileHandle, cause: unknown): ColdStorageError {
		return new ColdStorageError(
			handle,
			'Archive',
			`${pathOf(handle)} is in the Archive tier of ${this.settings.location} and cannot be read until it is rehydrated: run \`cairn restore --thaw …\` ` +
				'(rehydration takes up to 15 hours, or about 1 hour with -o azure.thaw-priority=High, and is billed by Azure)',
			{cause},
		);
	}
}

function md5(data: Uint8Array): Uint8Array {
	return createHash('md5').update(data).digest();
}

async function readStream(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
	if (stream === undefined) return Buffer.alloc(0);
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
	return Buffer.concat(chunks);
}
