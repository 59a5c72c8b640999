/**
 * The Azure Blob adapter: a repository under a prefix of an existing container, in restic's layout,
 * built on the shared object-store core with the client of ./objects.ts.
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

import {AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, type BlobGetPropertiesResponse, type ContainerClient} from '@azure/storage-blob';

import {ObjectStore} from '../object-store/store.js';
import {PermanentError, type FileHandle, type StorageConfigFile, type ThawOptions, type ThawState} from '../storage.js';
import {mapAzureError, readAzureErrorCode} from './errors.js';
import {formatAzureLocation} from './location.js';
import {AzureObjectClient} from './objects.js';
import {AZURE_ACCESS_TIERS, AZURE_COLD_TIERS, AZURE_THAW_PRIORITIES, AZURE_THAW_TIERS} from './tiers.js';

/** The access tiers of block blobs. */
export {AZURE_ACCESS_TIERS, AZURE_COLD_TIERS, AZURE_THAW_TIERS, AZURE_THAW_PRIORITIES} from './tiers.js';

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
export class AzureStorage extends ObjectStore {
	declare readonly storageConfig: StorageConfigFile;
	/** The container client (tests read blob properties through it). */
	readonly containerClient: ContainerClient;
	private readonly azure: AzureObjectClient;

	constructor(private readonly options: AzureStorageOptions) {
		if (options.accountKey === undefined && options.sas === undefined) {
			throw new PermanentError('the Azure adapter needs an account key (AZURE_ACCOUNT_KEY or -o azure.account-key=…) or a SAS token (AZURE_ACCOUNT_SAS or -o azure.account-sas=…)');
		}
		const service = describeAzureService(options);
		const pipeline = {retryOptions: {maxTries: 1}, keepAliveOptions: {enable: true}};
		const client =
			options.accountKey !== undefined
				? new BlobServiceClient(service, new StorageSharedKeyCredential(options.accountName, options.accountKey), pipeline)
				: new BlobServiceClient(`${service}?${options.sas!.replace(/^\?/, '')}`, new AnonymousCredential(), pipeline);
		const containerClient = client.getContainerClient(options.container);
		const location = `azure:${formatAzureLocation({container: options.container, prefix: options.prefix})}`;
		const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
		const objects = new AzureObjectClient({
			containerClient,
			container: options.container,
			account: options.accountName,
			prefix: options.prefix ?? '',
			service,
			location,
			blockSize,
			threshold: options.blockThreshold ?? blockSize,
		});
		super(objects, {
			location,
			prefix: options.prefix ?? '',
			capabilities: {atomicSave: true, rangedLoad: true, mayRefuseDelete: true, concurrency: options.connections ?? DEFAULT_AZURE_CONNECTIONS, coldStorage: true},
			storageClasses: {classes: AZURE_ACCESS_TIERS, coldClasses: AZURE_COLD_TIERS, defaultClass: options.accessTier, resolveClass: normaliseTier},
			words: {objects: 'blobs', instead: 'an empty container or a new prefix'},
		});
		this.containerClient = containerClient;
		this.azure = objects;
	}

	/** See {@link Storage.thaw}: Get Blob Properties, then Set Blob Tier with a rehydrate priority when archived. */
	async thaw(handle: FileHandle, options: ThawOptions = {}): Promise<ThawState> {
		const {key, signal} = await this.open(handle, options);
		const context = this.azure.context('thaw', key);
		const blob = this.containerClient.getBlockBlobClient(key);
		let properties: BlobGetPropertiesResponse;
		try {
			properties = await blob.getProperties({abortSignal: signal});
		} catch (error) {
			throw mapAzureError(error, context);
		}
		const state = readAzureThawState(properties);
		if (state !== 'frozen' || options.checkOnly === true) return state;
		try {
			const response = await blob.setAccessTier(this.options.thawTier ?? 'Cool', {rehydratePriority: this.options.thawPriority ?? 'Standard', abortSignal: signal});
			// 202: rehydration started; 200: the tier changed at once.
			return response._response.status === 200 ? 'ready' : 'started';
		} catch (error) {
			if (readAzureErrorCode(error) === 'BlobBeingRehydrated') return 'pending';
			throw mapAzureError(error, context);
		}
	}
}

/** `ready` unless the blob is archived: `pending` while it rehydrates (archiveStatus `rehydrate-pending-to-…`), else `frozen`. */
export function readAzureThawState(properties: Pick<BlobGetPropertiesResponse, 'accessTier' | 'archiveStatus'>): ThawState {
	if (properties.archiveStatus?.startsWith('rehydrate-pending') === true) return 'pending';
	return properties.accessTier?.toLowerCase() === 'archive' ? 'frozen' : 'ready';
}

/** `hot` → `Hot`; names Azure does not have are passed on for the service to refuse. */
function normaliseTier(tier: string): string {
	return AZURE_ACCESS_TIERS.find((known) => known.toLowerCase() === tier.toLowerCase()) ?? tier;
}
