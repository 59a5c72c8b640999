/**
 * A repository on an SFTP server, in restic's layout, so that restic's own sftp backend can open
 * the same repository.
 *
 * Saves write `<dir>/.tmp-<random>` (mode 0600, created exclusively), then rename it over the
 * final name (`posix-rename@openssh.com` where the server has it, so the replace is atomic), so
 * a reader never sees a prefix; an aborted or failed save removes its temporary file. Missing
 * type directories are created on demand below the repository directory, never the repository
 * directory itself. The file operations come from files.ts: ssh2-sftp-client in the built-in
 * mode, cairn's own SFTP client over the ssh process's stdio in external mode.
 *
 * When the connection drops, the operations in flight fail with {@link TransientError} and the
 * next operation reconnects once; if reconnecting fails too, this store stays broken and every
 * later call fails at once with the reason (so a dead server ends a backup within seconds, with
 * the repository consistent, and the next backup carries on).
 */

import {randomBytes} from 'node:crypto';

import {
	AlreadyExistsError,
	NotFoundError,
	PermanentError,
	TransientError,
	listLayoutDirectories,
	pathOf,
	throwIfAborted,
	type FileHandle,
	type FileInfo,
	type FileType,
	type LoadOptions,
	type OperationOptions,
	type Storage,
	type StorageCapabilities,
} from '../storage.js';
import {checkByteRange, checkFileHandle, checkFileType, isRepositoryId, makeRangeError} from '../shared/file-names.js';
import {SftpStatusError} from './client.js';
import {openSftpConnection, type SftpConnection, type SftpConnectionSettings} from './connect.js';
import {mapSftpError} from './errors.js';
import type {SftpFileOperations} from './files.js';
import {StatusCode, isDirectory, isRegularFile} from './packets.js';

/** Mode of every file the adapter creates. */
const FILE_MODE = 0o600;
/** Mode of every directory the adapter creates. */
const DIRECTORY_MODE = 0o700;
/** Prefix of temporary files; listings skip them (they are not repository IDs). */
const TEMP_PREFIX = '.tmp-';
/** Directories listed or created at once. */
const DIRECTORY_BATCH = 16;

/** What {@link openSftpStorage} needs. */
export interface SftpStorageOptions {
	readonly settings: SftpConnectionSettings;
	/** The repository directory on the server; relative paths start at the login directory. */
	readonly path: string;
	/** The location shown to people, e.g. `sftp:backup@nas:/srv/restic`. */
	readonly location: string;
	/** Suggested number of operations at once. */
	readonly concurrency: number;
}

/** Connects (rejecting with a storage error that says what to do) and returns the store. */
export async function openSftpStorage(options: SftpStorageOptions): Promise<Storage> {
	const connection = await openSftpConnection(options.settings);
	return new SftpStorage(options, connection);
}

class SftpStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	private readonly root: string;
	private connection: SftpConnection | undefined;
	private reconnecting: Promise<SftpFileOperations> | undefined;
	private broken: Error | undefined;
	private closed = false;

	constructor(private readonly options: SftpStorageOptions, connection: SftpConnection) {
		this.location = options.location;
		this.root = options.path === '' ? '.' : options.path.replace(/(.)\/+$/, '$1');
		this.connection = connection;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: options.concurrency};
	}

	async create(options: OperationOptions = {}): Promise<void> {
		await this.run('create the repository', options.signal, async (client) => {
			let entries: string[] | undefined;
			try {
				entries = (await client.readDirectory(this.root)).map((entry) => entry.filename).filter((name) => name !== '.' && name !== '..');
			} catch (error) {
				if (!isStatus(error, StatusCode.NO_SUCH_FILE)) throw error;
			}
			if (entries !== undefined && entries.length > 0) {
				const hint = entries.includes('config') ? ' (it looks like a repository already exists there)' : '';
				throw new AlreadyExistsError(`cannot create a repository in ${this.location}: the directory already holds ${describeEntries(entries)}${hint}; pick an empty or new directory`);
			}
			if (entries === undefined) await this.makeDirectories(client, this.root);
			const directories = listLayoutDirectories();
			for (let start = 0; start < directories.length; start += DIRECTORY_BATCH) {
				throwIfAborted(options.signal);
				await Promise.all(directories.slice(start, start + DIRECTORY_BATCH).map((directory) => this.makeDirectory(client, this.join(directory))));
			}
		});
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		checkFileHandle(handle);
		const target = this.join(pathOf(handle));
		const directory = target.slice(0, target.lastIndexOf('/'));
		const temp = `${directory}/${TEMP_PREFIX}${randomBytes(8).toString('hex')}`;
		await this.run(`save ${pathOf(handle)}`, options.signal, async (client) => {
			let renamed = false;
			try {
				await this.writeNewFile(client, temp, directory, data, options.signal);
				throwIfAborted(options.signal);
				await client.replace(temp, target);
				renamed = true;
			} finally {
				if (!renamed && client.lost === undefined) await client.remove(temp).catch(() => undefined);
			}
		});
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		checkFileHandle(handle);
		const offset = options.offset ?? 0;
		checkByteRange(offset, options.length);
		const path = this.join(pathOf(handle));
		return this.run(`load ${pathOf(handle)}`, options.signal, async (client) => {
			const file = await client.openForReading(path);
			try {
				const attributes = file.attributes;
				if (isDirectory(attributes)) throw new PermanentError(`cannot load ${pathOf(handle)}: ${path} is a directory on ${this.location}`);
				const size = attributes.size ?? 0;
				const end = options.length === undefined ? size : offset + options.length;
				if (offset > size || end > size) throw makeRangeError(`${pathOf(handle)} on ${this.location}`, size, offset, options.length);
				return await file.read(offset, end - offset, options.signal);
			} finally {
				await file.close().catch(() => undefined);
			}
		});
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		checkFileHandle(handle);
		const path = this.join(pathOf(handle));
		return this.run(`stat ${pathOf(handle)}`, options.signal, async (client) => {
			const attributes = await client.stat(path);
			if (!isRegularFile(attributes)) throw new PermanentError(`cannot stat ${pathOf(handle)}: ${path} is not a regular file on ${this.location}`);
			return {name: handle.name, size: attributes.size ?? 0};
		});
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		checkFileType(type);
		throwIfAborted(options.signal);
		if (type === 'config') {
			const size = await this.run('list config', options.signal, (client) => this.statIfFile(client, this.join('config')));
			if (size !== undefined) yield {name: '', size};
			return;
		}
		const base = this.join(type);
		if (type !== 'data') {
			yield* await this.run(`list ${type}`, options.signal, (client) => this.listFiles(client, base));
			return;
		}
		const subdirectories = await this.run('list data', options.signal, async (client) =>
			(await this.readDirectoryIfPresent(client, base)).filter((entry) => isDirectory(entry.attributes) && entry.filename !== '.' && entry.filename !== '..').map((entry) => entry.filename),
		);
		subdirectories.sort();
		for (let start = 0; start < subdirectories.length; start += DIRECTORY_BATCH) {
			throwIfAborted(options.signal);
			const batch = subdirectories.slice(start, start + DIRECTORY_BATCH);
			const listed = await this.run('list data', options.signal, (client) => Promise.all(batch.map((name) => this.listFiles(client, `${base}/${name}`))));
			for (const files of listed) yield* files;
		}
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		checkFileHandle(handle);
		const path = this.join(pathOf(handle));
		await this.run(`remove ${pathOf(handle)}`, options.signal, (client) => client.remove(path));
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		const connection = this.connection;
		this.connection = undefined;
		await connection?.close().catch(() => undefined);
	}

	/** Runs one operation on a live session, translating every failure into a storage error. */
	private async run<T>(action: string, signal: AbortSignal | undefined, operation: (client: SftpFileOperations) => Promise<T>): Promise<T> {
		throwIfAborted(signal);
		const client = await this.session();
		try {
			return await operation(client);
		} catch (error) {
			throw mapSftpError(error, action, this.location);
		}
	}

	/** The live session; reconnects once after the connection was lost (see the module comment). */
	private async session(): Promise<SftpFileOperations> {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
		if (this.broken !== undefined) throw this.broken;
		const current = this.connection;
		if (current !== undefined && current.files.lost === undefined) return current.files;
		this.reconnecting ??= this.reconnect(current);
		return this.reconnecting;
	}

	private async reconnect(lost: SftpConnection | undefined): Promise<SftpFileOperations> {
		const reason = lost?.files.lost?.message ?? 'the connection was closed';
		await lost?.close().catch(() => undefined);
		try {
			const connection = await openSftpConnection(this.options.settings);
			if (this.closed) {
				await connection.close();
				throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
			}
			this.connection = connection;
			return connection.files;
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			this.broken =
				error instanceof TransientError
					? new PermanentError(`lost the connection to ${this.location} (${reason}) and could not reconnect: ${message}. Check the server and the network, then run the command again: a backup carries on where this one stopped`, {cause: error})
					: (error as Error);
			throw this.broken;
		} finally {
			this.reconnecting = undefined;
		}
	}

	/** Writes a new temporary file, creating missing directories below the repository directory. */
	private async writeNewFile(client: SftpFileOperations, temp: string, directory: string, data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
		try {
			await client.writeNewFile(temp, data, FILE_MODE, signal);
			return;
		} catch (error) {
			if (!isStatus(error, StatusCode.NO_SUCH_FILE)) throw error;
		}
		try {
			await client.stat(this.root);
		} catch (error) {
			if (isStatus(error, StatusCode.NO_SUCH_FILE)) {
				throw new NotFoundError(`the repository directory ${this.root} does not exist on ${this.location}; check the path (run init to create a repository)`, {cause: error});
			}
			throw error;
		}
		const relative = directory.slice(this.root.length + 1).split('/');
		for (let depth = 1; depth <= relative.length; depth++) await this.makeDirectory(client, this.join(relative.slice(0, depth).join('/')));
		await client.writeNewFile(temp, data, FILE_MODE, signal);
	}

	/** Creates a directory; one that exists already is fine. */
	private async makeDirectory(client: SftpFileOperations, path: string): Promise<void> {
		try {
			await client.mkdir(path, DIRECTORY_MODE);
		} catch (error) {
			if (!(error instanceof SftpStatusError)) throw error;
			const attributes = await client.stat(path).catch(() => undefined);
			if (attributes === undefined || !isDirectory(attributes)) throw error;
		}
	}

	/** Creates a directory and its missing parents. */
	private async makeDirectories(client: SftpFileOperations, path: string): Promise<void> {
		const parts = path.split('/');
		for (let depth = 1; depth <= parts.length; depth++) {
			const prefix = parts.slice(0, depth).join('/');
			if (prefix === '' || prefix === '.' || prefix === '~') continue;
			const attributes = await client.stat(prefix).catch((error: unknown) => {
				if (isStatus(error, StatusCode.NO_SUCH_FILE)) return undefined;
				throw error;
			});
			if (attributes === undefined) await this.makeDirectory(client, prefix);
			else if (!isDirectory(attributes)) throw new PermanentError(`cannot create a repository at ${this.location}: ${prefix} is a file, not a directory`);
		}
	}

	private async readDirectoryIfPresent(client: SftpFileOperations, path: string) {
		try {
			return await client.readDirectory(path);
		} catch (error) {
			if (isStatus(error, StatusCode.NO_SUCH_FILE)) return [];
			throw error;
		}
	}

	/** The repository files in one directory (none when it is missing). */
	private async listFiles(client: SftpFileOperations, directory: string): Promise<FileInfo[]> {
		const files: FileInfo[] = [];
		for (const entry of await this.readDirectoryIfPresent(client, directory)) {
			if (!isRepositoryId(entry.filename) || !isRegularFile(entry.attributes)) continue;
			const size = entry.attributes.size ?? (await this.statIfFile(client, `${directory}/${entry.filename}`));
			if (size !== undefined) files.push({name: entry.filename, size});
		}
		return files;
	}

	/** Size of a regular file, or undefined when it is missing or not a file. */
	private async statIfFile(client: SftpFileOperations, path: string): Promise<number | undefined> {
		try {
			const attributes = await client.stat(path);
			return isRegularFile(attributes) ? (attributes.size ?? 0) : undefined;
		} catch (error) {
			if (isStatus(error, StatusCode.NO_SUCH_FILE)) return undefined;
			throw error;
		}
	}

	private join(relative: string): string {
		if (this.root === '.') return relative;
		return this.root.endsWith('/') ? `${this.root}${relative}` : `${this.root}/${relative}`;
	}
}

function isStatus(error: unknown, code: number): boolean {
	return error instanceof SftpStatusError && error.code === code;
}

/** `"a", "b", "c" and 4 more entries` */
function describeEntries(entries: string[]): string {
	const shown = [...entries].sort().slice(0, 3).map((name) => JSON.stringify(name));
	const more = entries.length - shown.length;
	if (more > 0) return `${shown.join(', ')} and ${more} more ${more === 1 ? 'entry' : 'entries'}`;
	if (shown.length === 1) return shown[0]!;
	return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`;
}
