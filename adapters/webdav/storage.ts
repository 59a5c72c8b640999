/**
 * A repository in a WebDAV folder (Nextcloud, ownCloud, a NAS, Apache mod_dav, rclone serve
 * webdav, …), in restic's layout, through the `webdav` package.
 *
 * Saves PUT the bytes to `<dir>/.tmp-<random>` (written straight from the pack's buffer to the
 * connection, with its Content-Length), then MOVE it over the final name, so readers never see a
 * prefix; a failed or aborted save deletes its temporary file. Collections (folders) are made as
 * needed: the type folders when the repository is created, `data/xx` on the first save into it.
 * Loads of a part of a file use a ranged GET.
 */

import {randomBytes} from 'node:crypto';
import {Agent as HttpAgent} from 'node:http';
import {Agent as HttpsAgent} from 'node:https';

import {createClient, type FileStat, type ResponseDataDetailed, type WebDAVClient} from 'webdav';

import {
	AlreadyExistsError,
	NotFoundError,
	PermanentError,
	StorageError,
	throwIfAborted,
	pathOf,
	type FileHandle,
	type FileInfo,
	type FileType,
	type LoadOptions,
	type OperationOptions,
	type Storage,
	type StorageCapabilities,
} from '../storage.js';
import {checkByteRange, checkFileHandle, checkFileType, isRepositoryId, makeRangeError} from '../shared/file-names.js';
import {isAbortError, mapHttpStatus, mapNetworkFailure} from '../http/status.js';

/** Prefix of temporary files; listings skip them (they are not repository IDs). */
const TEMP_PREFIX = '.tmp-';
/** Folders listed at once when listing data. */
const DIRECTORY_BATCH = 8;
/** The type folders made when a repository is created. */
const TYPE_FOLDERS = ['data', 'index', 'keys', 'locks', 'snapshots'];

/** What {@link createWebdavStorage} needs. */
export interface WebdavStorageOptions {
	/** URL of the repository folder, without credentials. */
	readonly url: string;
	readonly username?: string;
	readonly password?: string;
	/** The location shown to people (no secrets). */
	readonly location: string;
	readonly concurrency: number;
}

/** Creates the store; no request is made until the first operation. */
export function createWebdavStorage(options: WebdavStorageOptions): Storage {
	return new WebdavStorage(options);
}

class WebdavStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	private readonly client: WebDAVClient;
	/** A client at the server's root, for making the repository folder and its parents. */
	private readonly rootClient: WebDAVClient;
	private readonly agent: HttpAgent | HttpsAgent;
	private readonly server: string;
	private closed = false;

	constructor(private readonly options: WebdavStorageOptions) {
		this.location = options.location;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: options.concurrency};
		const secure = options.url.startsWith('https:');
		this.agent = secure ? new HttpsAgent({keepAlive: true, maxSockets: options.concurrency}) : new HttpAgent({keepAlive: true, maxSockets: options.concurrency});
		const clientOptions = {username: options.username, password: options.password, ...(secure ? {httpsAgent: this.agent} : {httpAgent: this.agent})};
		this.client = createClient(options.url.replace(/\/+$/, ''), clientOptions);
		this.rootClient = createClient(new URL(options.url).origin, clientOptions);
		this.server = `the WebDAV server at ${options.url}`;
	}

	async create(options: OperationOptions = {}): Promise<void> {
		const action = 'create the repository';
		await this.run(action, options.signal, async () => {
			let entries: FileStat[] | undefined;
			try {
				entries = await this.readFolder('/', options.signal);
			} catch (error) {
				if (statusOf(error) !== 404) throw error;
			}
			if (entries !== undefined && entries.length > 0) {
				const names = entries.map((entry) => entry.basename);
				const hint = names.includes('config') ? ' (a repository already exists there)' : '';
				throw new AlreadyExistsError(`cannot create a repository at ${this.location}: the folder already holds ${describeEntries(names)}${hint}; pick an empty or new folder`);
			}
			if (entries === undefined) await this.makeFolderChain(decodeURIComponent(new URL(this.options.url).pathname), options.signal);
			await Promise.all(TYPE_FOLDERS.map((folder) => this.makeFolder(`/${folder}`, options.signal)));
		});
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		checkFileHandle(handle);
		const target = `/${pathOf(handle)}`;
		const folder = target.slice(0, target.lastIndexOf('/'));
		const temp = `${folder}/${TEMP_PREFIX}${randomBytes(8).toString('hex')}`;
		const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
		await this.run(`save ${pathOf(handle)}`, options.signal, async () => {
			let moved = false;
			try {
				try {
					await this.put(temp, body, options.signal);
				} catch (error) {
					// 409 Conflict: the parent folder is missing (some servers answer 404).
					const status = statusOf(error);
					if (status !== 409 && status !== 404) throw error;
					await this.makeParentFolders(folder, options.signal);
					await this.put(temp, body, options.signal);
				}
				throwIfAborted(options.signal);
				await this.client.moveFile(temp, target, {overwrite: true, signal: options.signal});
				moved = true;
			} finally {
				if (!moved) await this.client.deleteFile(temp).catch(() => undefined);
			}
		});
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		checkFileHandle(handle);
		const offset = options.offset ?? 0;
		checkByteRange(offset, options.length);
		const path = `/${pathOf(handle)}`;
		return this.run(`load ${pathOf(handle)}`, options.signal, async () => {
			if (options.length === 0) {
				const size = await this.statFile(path, options.signal);
				if (offset > size) throw makeRangeError(pathOf(handle), size, offset, 0);
				return new Uint8Array(0);
			}
			const ranged = offset > 0 || options.length !== undefined;
			const headers: Record<string, string> = ranged ? {Range: `bytes=${offset}-${options.length === undefined ? '' : offset + options.length - 1}`} : {};
			let response: ResponseDataDetailed<Buffer>;
			try {
				response = (await this.client.getFileContents(path, {format: 'binary', details: true, headers, signal: options.signal})) as ResponseDataDetailed<Buffer>;
			} catch (error) {
				if (statusOf(error) !== 416) throw error;
				const size = await this.statFile(path, options.signal);
				if (offset === size && options.length === undefined) return new Uint8Array(0);
				throw makeRangeError(pathOf(handle), size, offset, options.length);
			}
			let body = response.data;
			if (ranged && response.status === 200) {
				// The server ignored the range and sent the whole file.
				if (offset > body.length) throw makeRangeError(pathOf(handle), body.length, offset, options.length);
				body = body.subarray(offset, options.length === undefined ? undefined : offset + options.length);
			}
			if (options.length !== undefined && body.length !== options.length) {
				throw makeRangeError(pathOf(handle), await this.statFile(path, options.signal), offset, options.length);
			}
			return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
		});
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		checkFileHandle(handle);
		const path = `/${pathOf(handle)}`;
		return this.run(`stat ${pathOf(handle)}`, options.signal, async () => ({name: handle.name, size: await this.statFile(path, options.signal)}));
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		checkFileType(type);
		throwIfAborted(options.signal);
		if (type === 'config') {
			const size = await this.run('list config', options.signal, async () => {
				try {
					return await this.statFile('/config', options.signal);
				} catch (error) {
					if (statusOf(error) === 404) return undefined;
					throw error;
				}
			});
			if (size !== undefined) yield {name: '', size};
			return;
		}
		const action = `list ${type}`;
		const entries = await this.run(action, options.signal, () => this.readFolderIfPresent(`/${type}`, options.signal));
		if (type !== 'data') {
			yield* toFileInfos(entries);
			return;
		}
		const folders = entries.filter((entry) => entry.type === 'directory').map((entry) => entry.basename).sort();
		for (let start = 0; start < folders.length; start += DIRECTORY_BATCH) {
			throwIfAborted(options.signal);
			const batch = folders.slice(start, start + DIRECTORY_BATCH);
			const listed = await this.run(action, options.signal, () => Promise.all(batch.map((name) => this.readFolderIfPresent(`/data/${name}`, options.signal))));
			for (const files of listed) yield* toFileInfos(files);
		}
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		checkFileHandle(handle);
		await this.run(`remove ${pathOf(handle)}`, options.signal, () => this.client.deleteFile(`/${pathOf(handle)}`, {signal: options.signal}));
	}

	async close(): Promise<void> {
		this.closed = true;
		this.agent.destroy();
	}

	/** Runs one operation, translating every failure into a storage error. */
	private async run<T>(action: string, signal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
		throwIfAborted(signal);
		try {
			return await operation();
		} catch (error) {
			if (error instanceof StorageError) throw error;
			if (isAbortError(error) || signal?.aborted) throw signal?.reason ?? error;
			const status = statusOf(error);
			if (status !== undefined) {
				const body = await readErrorBody(error);
				throw mapHttpStatus(status, body, {action, server: this.server, authHint: 'check the user name and password (-o webdav.username, -o webdav.password or CAIRN_WEBDAV_PASSWORD); for Nextcloud, use an app password'});
			}
			throw mapNetworkFailure(error, action, this.server);
		}
	}

	private async put(path: string, body: Buffer, signal?: AbortSignal): Promise<void> {
		await this.client.putFileContents(path, body, {overwrite: true, contentLength: body.length, signal});
	}

	private async statFile(path: string, signal?: AbortSignal): Promise<number> {
		const stat = (await this.client.stat(path, {signal})) as FileStat;
		if (stat.type !== 'file') throw new PermanentError(`${path} is a folder on ${this.server}, where a file was expected`);
		return stat.size;
	}

	private async readFolder(path: string, signal?: AbortSignal): Promise<FileStat[]> {
		return (await this.client.getDirectoryContents(path, {signal})) as FileStat[];
	}

	private async readFolderIfPresent(path: string, signal?: AbortSignal): Promise<FileStat[]> {
		try {
			return await this.readFolder(path, signal);
		} catch (error) {
			if (statusOf(error) === 404) return [];
			throw error;
		}
	}

	/** Makes a folder; one that exists already is fine (405 Method Not Allowed). */
	private async makeFolder(path: string, signal?: AbortSignal): Promise<void> {
		try {
			await this.client.createDirectory(path, {signal});
		} catch (error) {
			if (statusOf(error) !== 405) throw error;
		}
	}

	/**
	 * Makes a folder given by its path from the server's root, and its missing parents: MKCOL
	 * answers 409 Conflict while the parent is missing, and 405 when the folder exists. Folders
	 * above the first one that exists are never touched (a Nextcloud user cannot make them).
	 */
	private async makeFolderChain(path: string, signal?: AbortSignal): Promise<void> {
		const folder = path.replace(/\/+$/, '');
		if (folder === '') return;
		try {
			await this.rootClient.createDirectory(`${folder}/`, {signal});
		} catch (error) {
			const status = statusOf(error);
			if (status === 405) return;
			if (status !== 409) throw error;
			await this.makeFolderChain(folder.slice(0, folder.lastIndexOf('/')), signal);
			await this.rootClient.createDirectory(`${folder}/`, {signal}).catch((again: unknown) => {
				if (statusOf(again) !== 405) throw again;
			});
		}
	}

	/** Makes the folders between the repository folder (which must exist) and `folder`. */
	private async makeParentFolders(folder: string, signal?: AbortSignal): Promise<void> {
		try {
			await this.client.stat('/', {signal});
		} catch (error) {
			if (statusOf(error) === 404) throw new NotFoundError(`the repository folder ${this.options.url} does not exist on the WebDAV server; check the URL (run init to create a repository)`, {cause: error});
			throw error;
		}
		const parts = folder.split('/').filter((part) => part !== '');
		for (let depth = 1; depth <= parts.length; depth++) await this.makeFolder(`/${parts.slice(0, depth).join('/')}`, signal);
	}
}

/** The HTTP status of an error from the webdav package, if it has one. */
function statusOf(error: unknown): number | undefined {
	const status = (error as {status?: unknown})?.status;
	return typeof status === 'number' ? status : undefined;
}

/** The body of the failed response, for the message (empty when unavailable). */
async function readErrorBody(error: unknown): Promise<Buffer> {
	const response = (error as {response?: {text?: () => Promise<string>}})?.response;
	try {
		return Buffer.from((await response?.text?.()) ?? '');
	} catch {
		return Buffer.alloc(0);
	}
}

/** Repository files among folder entries. */
function toFileInfos(entries: readonly FileStat[]): FileInfo[] {
	return entries.filter((entry) => entry.type === 'file' && isRepositoryId(entry.basename)).map((entry) => ({name: entry.basename, size: entry.size}));
}

/** `"a", "b", "c" and 4 more entries` */
function describeEntries(entries: string[]): string {
	const shown = [...entries].sort().slice(0, 3).map((name) => JSON.stringify(name));
	const more = entries.length - shown.length;
	if (more > 0) return `${shown.join(', ')} and ${more} more ${more === 1 ? 'entry' : 'entries'}`;
	if (shown.length === 1) return shown[0]!;
	return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`;
}
