/**
 * The Google Drive adapter (EXPERIMENTAL): a repository inside one Drive folder, given by its ID,
 * through @googleapis/drive with a service account, built on the shared object-store core (keys such
 * as `keys/<id>` name a file in a sub-folder; see {@link FLAT_LAYOUT}).
 *
 * Layout inside the folder: the `config` file, and one sub-folder per kind of file (`keys`,
 * `locks`, `snapshots`, `index`, `data`), with every pack directly in `data` (no `data/xx`
 * sub-folders: Drive finds files by name and parent, so more folders would only cost lookups).
 *
 * - Only items inside that folder are ever read, written or deleted: every query names the
 *   folder (or one of its sub-folders) as parent, and deletes touch only IDs such queries found.
 * - Drive allows several files of one name in a folder. Saving a name that exists replaces the
 *   newest file's content (files.update); listings report a name once; `remove` deletes every file
 *   of that name.
 * - Small files go up in one multipart request; larger ones through a resumable session in chunks
 *   (requests made with the SDK's auth client, since the SDK has no resumable uploads).
 * - Ranged loads send a `Range` header with `alt=media`.
 * - Items in shared drives are supported (`supportsAllDrives`); service accounts need a shared
 *   drive, as they have no storage quota of their own.
 */

import {Readable} from 'node:stream';

import {auth as driveAuth, drive as makeDrive, type drive_v3} from '@googleapis/drive';

import {RangeNotSatisfiableError, type ListOptions, type ObjectCallOptions, type ObjectClient, type ObjectErrorContext, type ObjectInfo, type ObjectRange, type PutOptions} from '../object-store/client.js';
import {FLAT_LAYOUT} from '../object-store/layout.js';
import {ObjectStore} from '../object-store/store.js';
import {Remembered} from '../shared/remembered.js';
import {NotFoundError, PermanentError, throwIfAborted, type FileType, type Storage} from '../storage.js';
import {readClientEmail, type GoogleCredentials} from '../gcs/credentials.js';
import {DriveHttpError, mapDriveError, readDriveStatus} from './errors.js';

const FOLDER_MIME = 'application/vnd.google-apps.folder';
const FILE_MIME = 'application/octet-stream';
const DRIVE_SCOPE = 'https://www.googleapis.com/auth/drive';
/** The sub-folders of a repository, by file type. */
const TYPE_FOLDERS: readonly FileType[] = ['keys', 'locks', 'snapshots', 'index', 'data'];
/** Fields asked of every file. */
const FILE_FIELDS = 'id,name,size,modifiedTime';

/** Default of {@link DriveStorageSettings.resumableThreshold} (Drive recommends resumable uploads above 5 MB). */
export const DEFAULT_DRIVE_RESUMABLE_THRESHOLD = 5 * 1024 * 1024;
/** Default of {@link DriveStorageSettings.chunkSize} (a multiple of 256 KiB, as Drive requires). */
export const DEFAULT_DRIVE_CHUNK_SIZE = 8 * 1024 * 1024;

/** Settings of {@link createDriveStorage}. */
export interface DriveStorageSettings {
	/** ID of the folder that holds the repository. */
	readonly folderId: string;
	/** Parsed credentials file (a service-account key); absent means application-default credentials. */
	readonly credentials?: GoogleCredentials;
	/**
	 * Another API root (a test server), e.g. `http://127.0.0.1:8080`. With a service-account key
	 * the requests then carry self-signed JWTs with the Drive scope (AIP-4111) instead of tokens
	 * from Google's token server.
	 */
	readonly endpoint?: string;
	/** Suggested requests at once; default 4. */
	readonly concurrency?: number;
	readonly resumableThreshold?: number;
	readonly chunkSize?: number;
}

/** Opens (does not create) a repository in a Drive folder. */
export function createDriveStorage(settings: DriveStorageSettings): Storage {
	return new ObjectStore(new DriveObjectClient(settings), {
		location: `gdrive:${settings.folderId}`,
		prefix: '',
		capabilities: {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: settings.concurrency ?? 4},
		layout: FLAT_LAYOUT,
		words: {objects: 'files', instead: 'an empty or new folder'},
	});
}

interface DriveFile {
	readonly id: string;
	readonly name: string;
	readonly size: number;
	readonly modifiedTime: string;
}

interface RootInfo {
	/** Set when the folder is in a shared drive. */
	readonly driveId?: string;
	/** Sub-folder IDs by type; missing ones are made on the first save. */
	readonly folders: Map<FileType, string>;
}

/** The Drive calls, for {@link ObjectStore}: a key is `config` (in the folder) or `<type>/<name>` (in the type's sub-folder). */
class DriveObjectClient implements ObjectClient {
	private readonly auth: InstanceType<typeof driveAuth.GoogleAuth>;
	private readonly client: drive_v3.Drive;
	private readonly service: string;
	private readonly apiRoot: string;
	private readonly account?: string;
	private readonly resumableThreshold: number;
	private readonly chunkSize: number;
	private readonly root = new Remembered<RootInfo>();
	private readonly folderCreations = new Map<FileType, Promise<string>>();

	constructor(private readonly settings: DriveStorageSettings) {
		this.service = settings.endpoint === undefined ? 'Google Drive' : `Google Drive at ${settings.endpoint}`;
		this.apiRoot = `${(settings.endpoint ?? 'https://www.googleapis.com').replace(/\/+$/, '')}/`;
		this.resumableThreshold = settings.resumableThreshold ?? DEFAULT_DRIVE_RESUMABLE_THRESHOLD;
		this.chunkSize = settings.chunkSize ?? DEFAULT_DRIVE_CHUNK_SIZE;
		this.account = settings.credentials === undefined ? undefined : readClientEmail(settings.credentials);
		this.auth = new driveAuth.GoogleAuth({scopes: [DRIVE_SCOPE], ...(settings.credentials === undefined ? {} : {credentials: settings.credentials as object})});
		if (settings.endpoint !== undefined && settings.credentials?.type === 'service_account') this.auth.useJWTAccessWithScope = true;
		this.client = makeDrive({version: 'v3', auth: this.auth, retry: false, ...(settings.endpoint === undefined ? {} : {rootUrl: this.apiRoot})});
	}

	/** Replaces the newest file of the name (files.update), or makes one. */
	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		const {type, name} = splitKey(key);
		const root = await this.readRoot(options.signal);
		const parent = type === undefined ? this.settings.folderId : await this.ensureFolder(root, type, options.signal);
		const existing = (await this.findFiles(root, parent, name, options.signal))[0];
		if (data.byteLength > this.resumableThreshold) {
			await this.uploadResumable(existing?.id, {name, parents: [parent], mimeType: FILE_MIME}, data, options.signal);
			return;
		}
		const media = {mimeType: FILE_MIME, body: Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)])};
		if (existing !== undefined) {
			await this.client.files.update({fileId: existing.id, media, fields: 'id', supportsAllDrives: true}, this.callOptions(options.signal));
		} else {
			await this.client.files.create({requestBody: {name, parents: [parent], mimeType: FILE_MIME}, media, fields: 'id', supportsAllDrives: true}, this.callOptions(options.signal));
		}
	}

	async get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array> {
		const file = await this.findFile(key, options.signal);
		if (range !== undefined && range.offset >= file.size) {
			if (range.offset === file.size && range.length === undefined) return new Uint8Array(0);
			throw new RangeNotSatisfiableError();
		}
		const header = range === undefined ? undefined : `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
		try {
			const answer = await this.client.files.get(
				{fileId: file.id, alt: 'media', supportsAllDrives: true},
				{...this.callOptions(options.signal), responseType: 'arraybuffer', ...(header === undefined ? {} : {headers: {Range: header}})},
			);
			return new Uint8Array(answer.data as unknown as ArrayBuffer);
		} catch (error) {
			if (readDriveStatus(error) === 416) throw new RangeNotSatisfiableError({cause: error});
			throw error;
		}
	}

	async head(key: string, options: ObjectCallOptions): Promise<ObjectInfo> {
		return {key, size: (await this.findFile(key, options.signal)).size};
	}

	/** The files of a type's folder, each name once; with an empty prefix, every child of the repository folder. */
	async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo> {
		const root = await this.readRoot(options.signal);
		const folder = prefix === '' ? this.settings.folderId : root.folders.get(prefix.replace(/\/$/, '') as FileType);
		if (folder === undefined) return;
		const seen = new Set<string>();
		let pageToken: string | undefined;
		do {
			throwIfAborted(options.signal);
			const filesOnly = prefix === '' ? '' : ` and mimeType != ${quote(FOLDER_MIME)}`;
			const answer = (
				await this.client.files.list(
					{
						q: `${quote(folder)} in parents and trashed = false${filesOnly}`,
						fields: `nextPageToken,files(${FILE_FIELDS})`,
						pageSize: options.limit ?? 1000,
						...(pageToken === undefined ? {} : {pageToken}),
						...this.listScope(root),
					},
					this.callOptions(options.signal),
				)
			).data;
			for (const file of answer.files ?? []) {
				const name = file.name ?? '';
				if (seen.has(name)) continue;
				seen.add(name);
				yield {key: `${prefix}${name}`, size: Number(file.size ?? 0)};
			}
			pageToken = options.limit === undefined ? (answer.nextPageToken ?? undefined) : undefined;
		} while (pageToken !== undefined);
	}

	/** Deletes every file of the name. */
	async delete(key: string, options: ObjectCallOptions): Promise<void> {
		const {type, name} = splitKey(key);
		const root = await this.readRoot(options.signal);
		const parent = type === undefined ? this.settings.folderId : root.folders.get(type);
		const files = parent === undefined ? [] : await this.findFiles(root, parent, name, options.signal);
		if (files.length === 0) throw new NotFoundError(`cannot remove ${key} (${this.describe(key)}): it does not exist`);
		for (const file of files) {
			throwIfAborted(options.signal);
			try {
				await this.client.files.delete({fileId: file.id, supportsAllDrives: true}, this.callOptions(options.signal));
			} catch (error) {
				if (readDriveStatus(error) !== 404) throw error; // 404: removed meanwhile.
			}
		}
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		const action = context.operation === 'create' ? 'create the repository' : `${context.operation} ${context.path ?? ''}`.trim();
		return this.mapDriveError(error, action);
	}

	/** Reads the folder afresh: it must exist and be a folder. */
	async checkCreate(options: ObjectCallOptions): Promise<void> {
		await this.readRoot(options.signal, true);
	}

	/** Makes the type sub-folders. */
	async prepareCreate(options: ObjectCallOptions): Promise<void> {
		const root = await this.readRoot(options.signal);
		for (const type of TYPE_FOLDERS) {
			throwIfAborted(options.signal);
			await this.ensureFolder(root, type, options.signal);
		}
	}

	/** The newest file of a key, or NotFoundError. */
	private async findFile(key: string, signal?: AbortSignal): Promise<DriveFile> {
		const {type, name} = splitKey(key);
		const root = await this.readRoot(signal);
		const parent = type === undefined ? this.settings.folderId : root.folders.get(type);
		const file = parent === undefined ? undefined : (await this.findFiles(root, parent, name, signal))[0];
		if (file === undefined) throw new NotFoundError(`cannot read ${key} (${this.describe(key)}): it does not exist`);
		return file;
	}

	/** Every file of a name in a folder, newest first. */
	private async findFiles(root: RootInfo, parent: string, name: string, signal?: AbortSignal): Promise<DriveFile[]> {
		const answer = await this.client.files.list(
			{q: `name = ${quote(name)} and ${quote(parent)} in parents and trashed = false and mimeType != ${quote(FOLDER_MIME)}`, fields: `files(${FILE_FIELDS})`, pageSize: 100, ...this.listScope(root)},
			{signal},
		);
		return (answer.data.files ?? [])
			.map((file) => ({id: file.id ?? '', name: file.name ?? '', size: Number(file.size ?? 0), modifiedTime: file.modifiedTime ?? ''}))
			.filter((file) => file.id !== '' && file.name === name)
			.sort((a, b) => b.modifiedTime.localeCompare(a.modifiedTime));
	}

	/** Reads the repository folder and its sub-folders once. */
	private readRoot(signal?: AbortSignal, fresh = false): Promise<RootInfo> {
		return this.root.get(() => this.run('open the folder', () => this.lookUpRoot(signal)), fresh);
	}

	private async lookUpRoot(signal?: AbortSignal): Promise<RootInfo> {
		let folder: drive_v3.Schema$File;
		try {
			folder = (await this.client.files.get({fileId: this.settings.folderId, fields: 'id,name,mimeType,driveId', supportsAllDrives: true}, this.callOptions(signal))).data;
		} catch (error) {
			if (readDriveStatus(error) === 404) {
				throw new NotFoundError(
					`Drive folder ${this.settings.folderId} was not found: check the ID (the last part of the folder's address in the browser) and share the folder with ${this.account ?? 'the service account'}`,
					{cause: error},
				);
			}
			throw error;
		}
		if (folder.mimeType !== FOLDER_MIME) throw new PermanentError(`Drive item ${this.settings.folderId} ("${folder.name ?? ''}") is a file, not a folder: give the ID of a folder`);
		const root: RootInfo = {...(folder.driveId ? {driveId: folder.driveId} : {}), folders: new Map()};
		const answer = await this.client.files.list(
			{q: `${quote(this.settings.folderId)} in parents and trashed = false and mimeType = ${quote(FOLDER_MIME)}`, fields: 'files(id,name,createdTime)', pageSize: 100, ...this.listScope(root)},
			{signal},
		);
		const folders = [...(answer.data.files ?? [])].sort((a, b) => (a.createdTime ?? '').localeCompare(b.createdTime ?? ''));
		for (const type of TYPE_FOLDERS) {
			// With duplicates (two programs made the folder at once), the oldest one is used.
			const found = folders.find((candidate) => candidate.name === type);
			if (found?.id) root.folders.set(type, found.id);
		}
		return root;
	}

	/** The sub-folder of a type, made when missing (once per process). */
	private async ensureFolder(root: RootInfo, type: FileType, signal?: AbortSignal): Promise<string> {
		const known = root.folders.get(type);
		if (known !== undefined) return known;
		let creation = this.folderCreations.get(type);
		if (creation === undefined) {
			creation = this.run(`make the ${type} folder`, async () => {
				const answer = await this.client.files.create({requestBody: {name: type, mimeType: FOLDER_MIME, parents: [this.settings.folderId]}, fields: 'id', supportsAllDrives: true}, this.callOptions(signal));
				const id = answer.data.id ?? '';
				root.folders.set(type, id);
				return id;
			});
			this.folderCreations.set(type, creation);
			creation.catch(() => this.folderCreations.delete(type));
		}
		return creation;
	}

	/**
	 * A resumable upload (https://developers.google.com/workspace/drive/api/guides/manage-uploads#resumable):
	 * start a session (POST to create, PATCH to replace), then PUT the content in chunks of
	 * `chunkSize` (a multiple of 256 KiB), each answered 308 with the bytes received so far,
	 * until the last one. An aborted or failed upload cancels the session.
	 */
	private async uploadResumable(fileId: string | undefined, metadata: {name: string; parents: string[]; mimeType: string}, data: Uint8Array, signal?: AbortSignal): Promise<void> {
		const url = `${this.apiRoot}upload/drive/v3/files${fileId === undefined ? '' : `/${encodeURIComponent(fileId)}`}?uploadType=resumable&supportsAllDrives=true&fields=id`;
		const start = await fetch(url, {
			method: fileId === undefined ? 'POST' : 'PATCH',
			headers: {...(await this.readAuthHeaders(url)), 'content-type': 'application/json; charset=UTF-8', 'x-upload-content-type': FILE_MIME, 'x-upload-content-length': String(data.byteLength)},
			body: JSON.stringify(fileId === undefined ? metadata : {}),
			signal,
		});
		if (!start.ok) throw new DriveHttpError(start.status, await start.text());
		await start.arrayBuffer().catch(() => undefined);
		const session = start.headers.get('location');
		if (session === null) throw new PermanentError(`${this.service} started an upload session without a Location header`);
		try {
			let offset = 0;
			for (;;) {
				throwIfAborted(signal);
				const end = Math.min(offset + this.chunkSize, data.byteLength);
				const chunk = data.subarray(offset, end);
				const answer = await fetch(session, {
					method: 'PUT',
					headers: {'content-range': `bytes ${offset}-${end - 1}/${data.byteLength}`},
					body: chunk,
					signal,
				});
				const text = await answer.text();
				if (answer.status === 200 || answer.status === 201) return;
				if (answer.status !== 308) throw new DriveHttpError(answer.status, text);
				const received = /bytes=0-(\d+)/.exec(answer.headers.get('range') ?? '');
				offset = received === null ? 0 : Number(received[1]) + 1;
				if (offset >= data.byteLength && end === data.byteLength) throw new DriveHttpError(500, 'the upload session took every byte but did not finish');
			}
		} catch (error) {
			void fetch(session, {method: 'DELETE', signal: AbortSignal.timeout(10_000)}).catch(() => undefined);
			throw error;
		}
	}

	/** The Authorization header Google's auth library makes for a URL. */
	private async readAuthHeaders(url: string): Promise<Record<string, string>> {
		const headers = (await this.auth.getRequestHeaders(url)) as unknown;
		if (headers instanceof Headers) return Object.fromEntries(headers.entries());
		return headers as Record<string, string>;
	}

	/**
	 * Options of every SDK call. The API-level `rootUrl` does not reach media uploads (the SDK
	 * builds their URL from the per-call options only), so a custom endpoint goes on each call.
	 */
	private callOptions(signal: AbortSignal | undefined): {signal?: AbortSignal; rootUrl?: string} {
		return {...(signal === undefined ? {} : {signal}), ...(this.settings.endpoint === undefined ? {} : {rootUrl: this.apiRoot})};
	}

	/** Parameters that make a listing see items in a shared drive. */
	private listScope(root: RootInfo): {supportsAllDrives: true; includeItemsFromAllDrives: true; corpora?: string; driveId?: string} {
		return {supportsAllDrives: true, includeItemsFromAllDrives: true, ...(root.driveId === undefined ? {} : {corpora: 'drive', driveId: root.driveId})};
	}

	/** Runs `work`, mapping failures to storage errors. */
	private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			throw this.mapDriveError(error, action);
		}
	}

	private mapDriveError(error: unknown, action: string): Error {
		return mapDriveError(error, {action, folderId: this.settings.folderId, service: this.service, ...(this.account === undefined ? {} : {account: this.account})});
	}

	private describe(key: string): string {
		return `gdrive:${this.settings.folderId}/${key}`;
	}
}

/** The sub-folder (undefined for a file in the repository folder itself) and the file name of a key. */
function splitKey(key: string): {type?: FileType; name: string} {
	const slash = key.indexOf('/');
	return slash < 0 ? {name: key} : {type: key.slice(0, slash) as FileType, name: key.slice(slash + 1)};
}

/** A string literal of Drive's query language. */
function quote(value: string): string {
	return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
