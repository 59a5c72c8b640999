/**
 * The Azure Blob adapter: a repository under a prefix of an existing container, in restic's layout.
 *
 * - Saves are one Put Blob up to {@link AzureStorageOptions.blockThreshold}, and staged blocks
 *   committed with one Put Block List above it, so a blob appears whole or not at all (uncommitted
 *   blocks of a failed or aborted save are never visible and Azure discards them).
 * - Every upload carries an MD5 that the service checks.
 * - Each blob gets the access tier (Hot, Cool, Cold, Archive) of the first matching
 *   `.storageconfig` rule, else the `accessTier` option, else the account's default.
 * - Loads are ranged downloads. A blob in the Archive tier rejects with ColdStorageError until
 *   {@link AzureStorage.thaw} has rehydrated it (Set Blob Tier with a rehydrate priority; the
 *   blob then stays in the thaw tier).
 * - A delete refused by an immutability policy or legal hold rejects with DeleteRefusedError.
 * - The container must exist: the first call checks it once and says how to fix it when it does not.
 */

import {randomBytes, createHash} from 'node:crypto';

import {
	AnonymousCredential,
	BlobServiceClient,
	StorageSharedKeyCredential,
	type BlobGetPropertiesResponse,
	type BlockBlobClient,
	type ContainerClient,
} from '@azure/storage-blob';

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
import {describeMissingContainer, isAzureAbort, mapAzureError, readAzureErrorCode, readAzureStatus, type AzureErrorContext} from './errors.js';
import {formatAzureLocation} from './location.js';

/** The access tiers of block blobs. */
export {AZURE_ACCESS_TIERS, AZURE_COLD_TIERS, AZURE_THAW_TIERS, AZURE_THAW_PRIORITIES} from './tiers.js';
import {AZURE_ACCESS_TIERS, AZURE_COLD_TIERS, AZURE_THAW_TIERS, AZURE_THAW_PRIORITIES} from './tiers.js';
import {checkFileHandle, checkFileType, readListedName} from '../shared/file-names.js';

/** Default block size of staged uploads, and the size above which they are used. */
export const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;
/** The default number of requests at once. */
export const DEFAULT_AZURE_CONNECTIONS = 8;

/** Everything {@link createAzureStorage} needs. */
export interface AzureStorageOptions {
	readonly accountName: string;
	/** Shared key; one of `accountKey` and `sas` is needed. */
	readonly accountKey?: string;
	/** SAS token (with or without a leading `?`). */
	readonly sas?: string;
	/** Storage domain, default `core.windows.net` (sovereign clouds: `core.chinacloudapi.cn`, `core.usgovcloudapi.net`). */
	readonly endpointSuffix?: string;
	/** Blob service URL replacing `https://ACCOUNT.blob.SUFFIX`, e.g. azurite's `http://127.0.0.1:10000/devstoreaccount1`. */
	readonly endpoint?: string;
	readonly container: string;
	/** Folder inside the container (no leading or trailing slash); undefined for the container root. */
	readonly prefix?: string;
	/** Tier of blobs no `.storageconfig` rule covers; undefined leaves the account's default. */
	readonly accessTier?: string;
	/** Tier a thawed (rehydrated) blob moves to; default Cool. */
	readonly thawTier?: (typeof AZURE_THAW_TIERS)[number];
	/** Rehydrate priority; default Standard. */
	readonly thawPriority?: (typeof AZURE_THAW_PRIORITIES)[number];
	readonly connections?: number;
	/** Bytes per staged block; default 8 MiB. */
	readonly blockSize?: number;
	/** Saves larger than this use staged blocks; default {@link blockSize}. */
	readonly blockThreshold?: number;
}

/** Opens (does not create) the repository in the container and prefix of `options`. */
export function createAzureStorage(options: AzureStorageOptions): AzureStorage {
	return new AzureStorage(options);
}

/** The blob service URL for the options (no SAS). */
export function describeAzureService(options: Pick<AzureStorageOptions, 'accountName' | 'endpoint' | 'endpointSuffix'>): string {
	return (options.endpoint ?? `https://${options.accountName}.blob.${options.endpointSuffix ?? 'core.windows.net'}`).replace(/\/+$/, '');
}

/** See the module notes. Besides {@link Storage}, it has `thaw` and `storageConfig`. */
export class AzureStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	readonly storageConfig: StorageConfigFile;
	/** The container client (tests read blob properties through it). */
	readonly containerClient: ContainerClient;
	private readonly service: string;
	private readonly blockSize: number;
	private readonly threshold: number;
	private containerChecked: Promise<void> | undefined;
	private configCache: StorageConfigCache | undefined;

	private get config(): StorageConfigCache {
		this.configCache ??= new StorageConfigCache(this.location, (signal) => this.readStorageConfig({signal}));
		return this.configCache;
	}
	private closed = false;

	constructor(private readonly options: AzureStorageOptions) {
		if (options.accountKey === undefined && options.sas === undefined) {
			throw new PermanentError('the Azure adapter needs an account key (AZURE_ACCOUNT_KEY or -o azure.account-key=…) or a SAS token (AZURE_ACCOUNT_SAS or -o azure.account-sas=…)');
		}
		this.service = describeAzureService(options);
		const pipeline = {retryOptions: {maxTries: 1}, keepAliveOptions: {enable: true}};
		const client =
			options.accountKey !== undefined
				? new BlobServiceClient(this.service, new StorageSharedKeyCredential(options.accountName, options.accountKey), pipeline)
				: new BlobServiceClient(`${this.service}?${options.sas!.replace(/^\?/, '')}`, new AnonymousCredential(), pipeline);
		this.containerClient = client.getContainerClient(options.container);
		this.location = `azure:${formatAzureLocation({container: options.container, prefix: options.prefix})}`;
		this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
		this.threshold = options.blockThreshold ?? this.blockSize;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: true, concurrency: options.connections ?? DEFAULT_AZURE_CONNECTIONS, coldStorage: true};
		this.storageConfig = {
			classes: AZURE_ACCESS_TIERS,
			coldClasses: AZURE_COLD_TIERS,
			read: (operation) => this.readStorageConfig(operation),
			write: (data, operation) => this.writeStorageConfig(data, operation),
		};
	}

	async create(options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		const listPrefix = this.blobName('');
		const found: string[] = [];
		try {
			const pages = this.containerClient.listBlobsByHierarchy('/', {prefix: listPrefix, abortSignal: options.signal}).byPage({maxPageSize: 10});
			const first = await pages.next();
			if (first.done !== true) {
				for (const item of first.value.segment.blobItems) found.push(item.name);
				for (const item of first.value.segment.blobPrefixes ?? []) found.push(item.name);
			}
		} catch (error) {
			throw mapAzureError(error, this.context('create'));
		}
		const shown = found.filter((name) => name !== this.blobName(STORAGE_CONFIG_NAME)).sort();
		if (shown.length > 0) {
			const names = shown.slice(0, 3).map((name) => JSON.stringify(name.slice(listPrefix.length))).join(', ');
			const hint = shown.some((name) => name.slice(listPrefix.length) === 'config') ? ' (it looks like a repository already exists there)' : '';
			throw new AlreadyExistsError(`cannot create a repository at ${this.location}: it already holds blobs such as ${names}${hint}; pick an empty container or a new prefix`);
		}
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		const name = this.nameOf(handle);
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		const config = await this.loadStorageConfig(options.signal);
		const tier = normaliseTier(findStorageClass(config, pathOf(handle)) ?? this.options.accessTier);
		const blob = this.containerClient.getBlockBlobClient(name);
		const context = this.context('save', name);
		try {
			if (data.byteLength <= this.threshold) {
				await blob.upload(data, data.byteLength, {tier, abortSignal: options.signal, blobHTTPHeaders: {blobContentType: 'application/octet-stream', blobContentMD5: md5(data)}});
			} else {
				await this.saveBlocks(blob, data, tier, options.signal);
			}
		} catch (error) {
			throw mapAzureError(error, context);
		}
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		this.checkOpen();
		const name = this.nameOf(handle);
		const offset = options.offset ?? 0;
		const length = options.length;
		checkRange(offset, length, pathOf(handle));
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		const context = this.context('load', name);
		const blob = this.containerClient.getBlockBlobClient(name);
		if (length === 0) {
			const size = await this.sizeOf(blob, context, options.signal);
			if (offset > size) throw pastEnd(pathOf(handle), offset, offset, size);
			return new Uint8Array(0);
		}
		let bytes: Buffer;
		try {
			const response = await blob.download(offset, length, {abortSignal: options.signal, maxRetryRequests: 0});
			bytes = await readStream(response.readableStreamBody);
		} catch (error) {
			const code = readAzureErrorCode(error);
			if (code === 'InvalidRange' || readAzureStatus(error) === 416) {
				const size = await this.sizeOf(blob, context, options.signal);
				if (length === undefined && offset === size) return new Uint8Array(0);
				throw pastEnd(pathOf(handle), offset, offset + (length ?? 0), size, error);
			}
			if (code === 'BlobArchived') {
				throw new ColdStorageError(
					handle,
					'Archive',
					`${pathOf(handle)} is in the Archive tier of ${this.location} and cannot be read until it is rehydrated: run \`cairn restore --thaw …\` ` +
						'(rehydration takes up to 15 hours, or about 1 hour with -o azure.thaw-priority=High, and is billed by Azure)',
					{cause: error},
				);
			}
			throw mapAzureError(error, context);
		}
		if (length !== undefined && bytes.byteLength !== length) throw pastEnd(pathOf(handle), offset, offset + length, offset + bytes.byteLength);
		return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		this.checkOpen();
		const name = this.nameOf(handle);
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		return {name: handle.name, size: await this.sizeOf(this.containerClient.getBlockBlobClient(name), this.context('stat', name), options.signal)};
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		this.checkOpen();
		checkFileType(type);
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		if (type === 'config') {
			try {
				yield await this.stat({type, name: ''}, options);
			} catch (error) {
				if (!isStorageError(error, 'not-found')) throw error;
			}
			return;
		}
		const folder = this.blobName(`${type}/`);
		const context = this.context('list', folder);
		const pages = this.containerClient.listBlobsFlat({prefix: folder, abortSignal: options.signal}).byPage({maxPageSize: 5000});
		for (;;) {
			throwIfAborted(options.signal);
			let page;
			try {
				page = await pages.next();
			} catch (error) {
				throw mapAzureError(error, context);
			}
			if (page.done === true) return;
			for (const item of page.value.segment.blobItems) {
				const name = readListedName(type, item.name.slice(folder.length));
				if (name !== undefined) yield {name, size: item.properties.contentLength ?? 0};
			}
		}
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		const name = this.nameOf(handle);
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		try {
			await this.containerClient.getBlockBlobClient(name).delete({abortSignal: options.signal});
		} catch (error) {
			const code = readAzureErrorCode(error) ?? '';
			if (code.startsWith('BlobImmutable') || code === 'ImmutabilityPolicyDeleteProhibited' || code === 'BlobUnderLegalHold' || readAzureStatus(error) === 403) {
				const reason = readAzureStatus(error) === 403
					? 'the credentials may not delete (a SAS needs sp=d, a role needs Storage Blob Data Contributor)'
					: `it is protected by an immutability policy or legal hold (${code})`;
				throw new DeleteRefusedError(handle, `cannot delete ${pathOf(handle)} from ${this.location}: ${reason}. The file was left in place`, {cause: error});
			}
			throw mapAzureError(error, this.context('remove', name));
		}
	}

	/** See {@link Storage.thaw}: Get Blob Properties, then Set Blob Tier with a rehydrate priority when archived. */
	async thaw(handle: FileHandle, options: ThawOptions = {}): Promise<ThawState> {
		this.checkOpen();
		const name = this.nameOf(handle);
		throwIfAborted(options.signal);
		await this.checkContainer(options.signal);
		const context = this.context('thaw', name);
		const blob = this.containerClient.getBlockBlobClient(name);
		let properties: BlobGetPropertiesResponse;
		try {
			properties = await blob.getProperties({abortSignal: options.signal});
		} catch (error) {
			throw mapAzureError(error, context);
		}
		const state = readAzureThawState(properties);
		if (state !== 'frozen' || options.checkOnly === true) return state;
		try {
			const response = await blob.setAccessTier(this.options.thawTier ?? 'Cool', {rehydratePriority: this.options.thawPriority ?? 'Standard', abortSignal: options.signal});
			// 202: rehydration started; 200: the tier changed at once.
			return response._response.status === 200 ? 'ready' : 'started';
		} catch (error) {
			if (readAzureErrorCode(error) === 'BlobBeingRehydrated') return 'pending';
			throw mapAzureError(error, context);
		}
	}

	async close(): Promise<void> {
		this.closed = true;
	}

	/** Stages the blocks (a few at once) and commits them with the tier; nothing is visible before the commit. */
	private async saveBlocks(blob: BlockBlobClient, data: Uint8Array, tier: string | undefined, signal?: AbortSignal): Promise<void> {
		const count = Math.ceil(data.byteLength / this.blockSize);
		const upload = randomBytes(6).toString('hex');
		const ids = Array.from({length: count}, (_, index) => Buffer.from(`${upload}-${String(index).padStart(6, '0')}`).toString('base64'));
		let next = 0;
		const worker = async (): Promise<void> => {
			while (next < count) {
				const index = next++;
				throwIfAborted(signal);
				const body = data.subarray(index * this.blockSize, Math.min(data.byteLength, (index + 1) * this.blockSize));
				await blob.stageBlock(ids[index]!, body, body.byteLength, {abortSignal: signal, transactionalContentMD5: md5(body)});
			}
		};
		await Promise.all(Array.from({length: Math.min(count, 4)}, worker));
		throwIfAborted(signal);
		await blob.commitBlockList(ids, {tier, abortSignal: signal, blobHTTPHeaders: {blobContentType: 'application/octet-stream', blobContentMD5: md5(data)}});
	}

	private async sizeOf(blob: BlockBlobClient, context: AzureErrorContext, signal?: AbortSignal): Promise<number> {
		try {
			return (await blob.getProperties({abortSignal: signal})).contentLength ?? 0;
		} catch (error) {
			throw mapAzureError(error, context);
		}
	}

	/** Checks once that the container exists. */
	private checkContainer(signal?: AbortSignal): Promise<void> {
		if (this.containerChecked === undefined) {
			const context = this.context('list');
			this.containerChecked = this.containerClient.getProperties({abortSignal: signal}).then(
				() => undefined,
				(error: unknown) => {
					this.containerChecked = undefined;
					if (readAzureErrorCode(error) === 'ContainerNotFound' || (readAzureStatus(error) === 404 && !isAzureAbort(error))) throw describeMissingContainer(context, error);
					throw mapAzureError(error, context);
				},
			);
		}
		return this.containerChecked;
	}

	/** The parsed `.storageconfig`, read once. An invalid file fails saves (never reads) with a message saying how to fix it. */
	private async loadStorageConfig(signal?: AbortSignal): Promise<StorageConfig | undefined> {
		return this.config.load(signal);
	}

	private async readStorageConfig(options: OperationOptions = {}): Promise<Uint8Array | undefined> {
		this.checkOpen();
		await this.checkContainer(options.signal);
		const name = this.blobName(STORAGE_CONFIG_NAME);
		try {
			const response = await this.containerClient.getBlockBlobClient(name).download(0, undefined, {abortSignal: options.signal, maxRetryRequests: 0});
			return new Uint8Array(await readStream(response.readableStreamBody));
		} catch (error) {
			const mapped = mapAzureError(error, this.context('storageconfig', name));
			if (isStorageError(mapped, 'not-found')) return undefined;
			throw mapped;
		}
	}

	private async writeStorageConfig(data: Uint8Array | undefined, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		await this.checkContainer(options.signal);
		const name = this.blobName(STORAGE_CONFIG_NAME);
		const parsed = data === undefined ? undefined : parseStorageConfig(data);
		const blob = this.containerClient.getBlockBlobClient(name);
		try {
			if (data === undefined) await blob.deleteIfExists({abortSignal: options.signal});
			else await blob.upload(data, data.byteLength, {abortSignal: options.signal, blobHTTPHeaders: {blobContentType: 'application/json', blobContentMD5: md5(data)}});
		} catch (error) {
			throw mapAzureError(error, this.context('storageconfig', name));
		}
		this.config.replace(parsed);
	}

	private blobName(key: string): string {
		return this.options.prefix === undefined || this.options.prefix === '' ? key : `${this.options.prefix}/${key}`;
	}

	private nameOf(handle: FileHandle): string {
		checkFileHandle(handle);
		return this.blobName(pathOf(handle));
	}

	private context(operation: AzureErrorContext['operation'], blob?: string): AzureErrorContext {
		return {operation, blob, container: this.options.container, account: this.options.accountName, service: this.service};
	}

	private checkOpen(): void {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
	}
}

/** `ready` unless the blob is archived: `pending` while it rehydrates (archiveStatus `rehydrate-pending-to-…`), else `frozen`. */
export function readAzureThawState(properties: Pick<BlobGetPropertiesResponse, 'accessTier' | 'archiveStatus'>): ThawState {
	if (properties.archiveStatus?.startsWith('rehydrate-pending') === true) return 'pending';
	return properties.accessTier?.toLowerCase() === 'archive' ? 'frozen' : 'ready';
}

/** `hot` → `Hot`; names Azure does not have are passed on for the service to refuse. */
function normaliseTier(tier: string | undefined): string | undefined {
	if (tier === undefined) return undefined;
	return AZURE_ACCESS_TIERS.find((known) => known.toLowerCase() === tier.toLowerCase()) ?? tier;
}

function checkRange(offset: number, length: number | undefined, label: string): void {
	const valid = (n: number) => Number.isSafeInteger(n) && n >= 0;
	if (!valid(offset) || (length !== undefined && !valid(length))) {
		throw new PermanentError(`cannot load ${label}: invalid range (offset ${offset}, length ${length}); both must be non-negative integers`);
	}
}

function pastEnd(label: string, start: number, end: number, size: number, cause?: unknown): PermanentError {
	return new PermanentError(`cannot load ${label}: the range ${start}..${end} is past the end of the blob (${size} bytes)`, cause === undefined ? undefined : {cause});
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
