/**
 * The Google Drive adapter (EXPERIMENTAL): a repository inside one Drive folder, given by its ID,
 * through @googleapis/drive with a service account.
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

import {checkByteRange, checkFileHandle, checkFileType, isRepositoryId, makeRangeError} from '../shared/file-names.js';
import {
	AlreadyExistsError,
	NotFoundError,
	PermanentError,
	throwIfAborted,
	type FileHandle,
	type FileInfo,
	type FileType,
	type LoadOptions,
	type OperationOptions,
	type Storage,
	type StorageCapabilities,
} from '../storage.js';
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
	return new DriveStorage(settings);
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

class DriveStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	private readonly auth: InstanceType<typeof driveAuth.GoogleAuth>;
	private readonly client: drive_v3.Drive;
	private readonly service: string;
	private readonly apiRoot: string;
	private readonly account?: string;
	private readonly resumableThreshold: number;
	private readonly chunkSize: number;
	private root?: Promise<RootInfo>;
	private readonly folderCreations = new Map<FileType, Promise<string>>();
	private closed = false;

	constructor(private readonly settings: DriveStorageSettings) {
		this.location = `gdrive:${settings.folderId}`;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: settings.concurrency ?? 4};
		this.service = settings.endpoint === undefined ? 'Google Drive' : `Google Drive at ${settings.endpoint}`;
		this.apiRoot = `${(settings.endpoint ?? 'https://www.googleapis.com').replace(/\/+$/, '')}/`;
		this.resumableThreshold = settings.resumableThreshold ?? DEFAULT_DRIVE_RESUMABLE_THRESHOLD;
		this.chunkSize = settings.chunkSize ?? DEFAULT_DRIVE_CHUNK_SIZE;
		this.account = settings.credentials === undefined ? undefined : readClientEmail(settings.credentials);
		this.auth = new driveAuth.GoogleAuth({scopes: [DRIVE_SCOPE], ...(settings.credentials === undefined ? {} : {credentials: settings.credentials as object})});
		if (settings.endpoint !== undefined && settings.credentials?.type === 'service_account') this.auth.useJWTAccessWithScope = true;
		this.client = makeDrive({version: 'v3', auth: this.auth, retry: false, ...(settings.endpoint === undefined ? {} : {rootUrl: this.apiRoot})});
	}

	async create(options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		throwIfAborted(options.signal);
		const root = await this.readRoot(options.signal, true);
		const children = await this.run('create the repository', async () => {
			const answer = await this.client.files.list(
				{q: `${quote(this.settings.folderId)} in parents and trashed = false`, fields: 'files(id,name)', pageSize: 10, ...this.listScope(root)},
				this.callOptions(options.signal),
			);
			return answer.data.files ?? [];
		});
		if (children.length > 0) {
			const shown = children.slice(0, 3).map((child) => JSON.stringify(child.name)).join(', ');
			const hint = children.some((child) => child.name === 'config') ? ' (it looks like a repository already exists there)' : '';
			throw new AlreadyExistsError(`cannot create a repository in Drive folder ${this.settings.folderId}: it already holds ${shown}${children.length > 3 ? ' and more' : ''}${hint}; pick an empty or new folder`);
		}
		for (const type of TYPE_FOLDERS) {
			throwIfAborted(options.signal);
			await this.ensureFolder(root, type, options.signal);
		}
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		checkFileHandle(handle);
		throwIfAborted(options.signal);
		const root = await this.readRoot(options.signal);
		const parent = handle.type === 'config' ? this.settings.folderId : await this.ensureFolder(root, handle.type, options.signal);
		const name = nameOf(handle);
		await this.run(`save ${describe(handle)}`, async () => {
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
		});
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		this.checkOpen();
		checkFileHandle(handle);
		const offset = options.offset ?? 0;
		const length = options.length;
		checkByteRange(offset, length);
		throwIfAborted(options.signal);
		const file = await this.findFile(handle, options.signal);
		if (length === 0 || (offset === file.size && length === undefined)) {
			if (offset > file.size) throw makeRangeError(this.describe(handle), file.size, offset, length);
			return new Uint8Array(0);
		}
		const range = offset === 0 && length === undefined ? undefined : `bytes=${offset}-${length === undefined ? '' : offset + length - 1}`;
		let bytes: Uint8Array;
		try {
			const answer = await this.client.files.get(
				{fileId: file.id, alt: 'media', supportsAllDrives: true},
				{...this.callOptions(options.signal), responseType: 'arraybuffer', ...(range === undefined ? {} : {headers: {Range: range}})},
			);
			bytes = new Uint8Array(answer.data as unknown as ArrayBuffer);
		} catch (error) {
			if (readDriveStatus(error) === 416) throw makeRangeError(this.describe(handle), file.size, offset, length);
			throw this.mapError(error, `load ${describe(handle)}`);
		}
		if (length !== undefined && bytes.byteLength < length) throw makeRangeError(this.describe(handle), offset + bytes.byteLength, offset, length);
		return bytes;
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		this.checkOpen();
		checkFileHandle(handle);
		throwIfAborted(options.signal);
		const file = await this.findFile(handle, options.signal);
		return {name: handle.name, size: file.size};
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
		const root = await this.readRoot(options.signal);
		const folder = root.folders.get(type);
		if (folder === undefined) return;
		const seen = new Set<string>();
		let pageToken: string | undefined;
		do {
			throwIfAborted(options.signal);
			const answer = await this.run(`list ${type}`, async () =>
				(
					await this.client.files.list(
						{
							q: `${quote(folder)} in parents and trashed = false and mimeType != ${quote(FOLDER_MIME)}`,
							fields: `nextPageToken,files(${FILE_FIELDS})`,
							pageSize: 1000,
							...(pageToken === undefined ? {} : {pageToken}),
							...this.listScope(root),
						},
						this.callOptions(options.signal),
					)
				).data,
			);
			for (const file of answer.files ?? []) {
				const name = file.name ?? '';
				if (!isRepositoryId(name) || seen.has(name)) continue;
				seen.add(name);
				yield {name, size: Number(file.size ?? 0)};
			}
			pageToken = answer.nextPageToken ?? undefined;
		} while (pageToken !== undefined);
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		checkFileHandle(handle);
		throwIfAborted(options.signal);
		const root = await this.readRoot(options.signal);
		const parent = handle.type === 'config' ? this.settings.folderId : root.folders.get(handle.type);
		const files = parent === undefined ? [] : await this.run(`remove ${describe(handle)}`, () => this.findFiles(root, parent, nameOf(handle), options.signal));
		if (files.length === 0) throw new NotFoundError(`cannot remove ${describe(handle)} (${this.describe(handle)}): it does not exist`);
		for (const file of files) {
			throwIfAborted(options.signal);
			try {
				await this.client.files.delete({fileId: file.id, supportsAllDrives: true}, this.callOptions(options.signal));
			} catch (error) {
				if (readDriveStatus(error) === 404) continue; // Removed meanwhile.
				throw this.mapError(error, `remove ${describe(handle)}`);
			}
		}
	}

	async close(): Promise<void> {
		this.closed = true;
	}

	/** The newest file of a handle, or NotFoundError. */
	private async findFile(handle: FileHandle, signal?: AbortSignal): Promise<DriveFile> {
		const root = await this.readRoot(signal);
		const parent = handle.type === 'config' ? this.settings.folderId : root.folders.get(handle.type);
		const files = parent === undefined ? [] : await this.run(`read ${describe(handle)}`, () => this.findFiles(root, parent, nameOf(handle), signal));
		const file = files[0];
		if (file === undefined) throw new NotFoundError(`cannot read ${describe(handle)} (${this.describe(handle)}): it does not exist`);
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
		if (this.root === undefined || fresh) {
			const pending = this.run('open the folder', () => this.lookUpRoot(signal));
			this.root = pending;
			pending.catch(() => {
				if (this.root === pending) this.root = undefined;
			});
		}
		return this.root;
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
			throw this.mapError(error, action);
		}
	}

	private mapError(error: unknown, action: string): Error {
		return mapDriveError(error, {action, folderId: this.settings.folderId, service: this.service, ...(this.account === undefined ? {} : {account: this.account})});
	}

	private describe(handle: FileHandle): string {
		return `gdrive:${this.settings.folderId}/${describe(handle)}`;
	}

	private checkOpen(): void {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
	}
}

/** The file's name in Drive: the ID, or `config`. */
function nameOf(handle: FileHandle): string {
	return handle.type === 'config' ? 'config' : handle.name;
}

/** `config` or `<type>/<id>`, as laid out in the folder. */
function describe(handle: FileHandle): string {
	return handle.type === 'config' ? 'config' : `${handle.type}/${handle.name}`;
}

/** A string literal of Drive's query language. */
function quote(value: string): string {
	return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
