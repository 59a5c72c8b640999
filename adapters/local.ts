/**
 * The local file-system adapter: a repository in a directory, in restic's default layout
 * (`config`, `keys/`, `locks/`, `snapshots/`, `index/`, `data/xx/<id>`).
 *
 * Files are written to a `.tmp-<random>` file beside their final name, synced and renamed into
 * place, so a reader never sees a prefix. New files get mode 0600 and new directories 0700 (the
 * modes are passed when creating them; a umask can only make them stricter).
 *
 * Listing yields only names that look like repository IDs (64 lowercase hex characters), so
 * temporary files and stray files such as `.DS_Store` never show up; `list('config')` yields the
 * config file, named `''`, when it exists. Names of other shapes are refused by every operation.
 */

import {readFileSync, statSync, type Dirent} from 'node:fs';
import {mkdir, readdir, stat, unlink} from 'node:fs/promises';
import {availableParallelism, homedir} from 'node:os';
import {join, resolve} from 'node:path';

import type {AdapterDefinition} from './options.js';
import {readNumberOption} from './options.js';
import {
	AlreadyExistsError,
	FILE_TYPES,
	PermanentError,
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
} from './storage.js';
import {syncDirectory, writeFileAtomically} from './local/atomic-write.js';
import {readErrorCode, mapFsError} from './local/errors.js';
import {readFileRange} from './local/ranged-read.js';

/** Mode of every file the adapter creates. */
export const FILE_MODE = 0o600;
/** Types of file that are always small, read whole with one synchronous call. */
const SMALL_FILE_TYPES: ReadonlySet<FileType> = new Set<FileType>(['snapshots', 'locks', 'keys', 'config']);
/** Mode of every directory the adapter creates. */
export const DIRECTORY_MODE = 0o700;

/** The shape of a repository file name: a SHA-256 ID in lowercase hex. */
const ID_PATTERN = /^[0-9a-f]{64}$/;

/** How many stat calls a listing runs at once. */
const LIST_STAT_BATCH = 32;

/** Settings of {@link createLocalStorage}. */
export interface LocalStorageOptions {
	/** Suggested number of operations at once; default twice the number of CPU cores. */
	readonly concurrency?: number;
}

/** The default of {@link LocalStorageOptions.concurrency}. */
export function getDefaultLocalConcurrency(): number {
	return Math.max(2, 2 * availableParallelism());
}

/** Opens (does not create) the repository directory at `path`; relative paths are resolved against the working directory. */
export function createLocalStorage(path: string, options: LocalStorageOptions = {}): Storage {
	return new LocalStorage(resolve(path), options.concurrency ?? getDefaultLocalConcurrency());
}

class LocalStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	private closed = false;

	constructor(private readonly root: string, concurrency: number) {
		this.location = `local:${root}`;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency};
	}

	async create(options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		throwIfAborted(options.signal);
		await this.refuseNonEmptyRoot();
		try {
			await mkdir(this.root, {recursive: true, mode: DIRECTORY_MODE});
			for (const directory of listLayoutDirectories()) {
				throwIfAborted(options.signal);
				await makeDirectory(join(this.root, directory));
			}
			await syncDirectory(this.root);
		} catch (error) {
			throw mapFsError(error, 'create the repository directories', this.root);
		}
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		const path = this.pathOf(handle);
		try {
			await writeFileAtomically(path, data, {fileMode: FILE_MODE, directoryMode: DIRECTORY_MODE, root: this.root, signal: options.signal});
		} catch (error) {
			throw mapFsError(error, `save ${pathOf(handle)}`, path);
		}
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		this.checkOpen();
		const path = this.pathOf(handle);
		try {
			// Snapshot, lock and key files and the config are a few hundred bytes: one synchronous
			// call costs far less than open, fstat, read and close through libuv's pool (a listing
			// of 10,000 snapshots reads 10,000 of them).
			if (SMALL_FILE_TYPES.has(handle.type) && (options.offset ?? 0) === 0 && options.length === undefined) {
				throwIfAborted(options.signal);
				return readFileSync(path);
			}
			return await readFileRange({path, label: pathOf(handle), offset: options.offset ?? 0, length: options.length, signal: options.signal});
		} catch (error) {
			throw mapFsError(error, `load ${pathOf(handle)}`, path);
		}
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		this.checkOpen();
		const path = this.pathOf(handle);
		throwIfAborted(options.signal);
		try {
			const info = await stat(path);
			if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), {code: 'EISDIR'});
			return {name: handle.name, size: info.size};
		} catch (error) {
			throw mapFsError(error, `stat ${pathOf(handle)}`, path);
		}
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		this.checkOpen();
		checkType(type);
		throwIfAborted(options.signal);
		if (type === 'config') {
			const info = await this.statIfFile(join(this.root, 'config'), `list ${type}`);
			if (info !== undefined) yield {name: '', size: info};
			return;
		}
		const base = join(this.root, type);
		const directories = type === 'data' ? (await this.readNames(base, type)).map((name) => join(base, name)) : [base];
		for (const directory of directories) {
			const names = (await this.readNames(directory, type)).filter((name) => ID_PATTERN.test(name));
			if (SMALL_FILE_TYPES.has(type)) {
				// As their loads: a synchronous stat costs less than a trip through libuv's pool (a
				// listing of 10,000 snapshots stats 10,000 files).
				for (const name of names) {
					const path = join(directory, name);
					let info;
					try {
						info = statSync(path, {throwIfNoEntry: false});
					} catch (error) {
						throw mapFsError(error, `list ${type}`, path);
					}
					if (info?.isFile()) yield {name, size: info.size};
				}
				throwIfAborted(options.signal);
				continue;
			}
			for (let start = 0; start < names.length; start += LIST_STAT_BATCH) {
				throwIfAborted(options.signal);
				const batch = names.slice(start, start + LIST_STAT_BATCH);
				const sizes = await Promise.all(batch.map((name) => this.statIfFile(join(directory, name), `list ${type}`)));
				for (const [index, size] of sizes.entries()) {
					if (size !== undefined) yield {name: batch[index]!, size};
				}
			}
		}
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		this.checkOpen();
		const path = this.pathOf(handle);
		throwIfAborted(options.signal);
		try {
			await unlink(path);
		} catch (error) {
			throw mapFsError(error, `remove ${pathOf(handle)}`, path);
		}
	}

	async close(): Promise<void> {
		this.closed = true;
	}

	/** Rejects with AlreadyExistsError when the root exists and holds anything. */
	private async refuseNonEmptyRoot(): Promise<void> {
		let entries: string[];
		try {
			entries = await readdir(this.root);
		} catch (error) {
			const code = readErrorCode(error);
			if (code === 'ENOENT') return;
			if (code === 'ENOTDIR') {
				throw new PermanentError(`cannot create a repository at ${this.root}: it is a file, not a directory; pick an empty or new directory`, {cause: error});
			}
			throw mapFsError(error, 'create the repository', this.root);
		}
		if (entries.length === 0) return;
		const hint = entries.includes('config') ? ' (it looks like a repository already exists there)' : '';
		throw new AlreadyExistsError(`cannot create a repository in ${this.root}: it already holds ${describeEntries(entries)}${hint}; pick an empty or new directory`);
	}

	/** Names in a directory; none when the directory does not exist (restic repositories may lack some). */
	private async readNames(directory: string, type: FileType): Promise<string[]> {
		let entries: Dirent[];
		try {
			entries = await readdir(directory, {withFileTypes: true});
		} catch (error) {
			const code = readErrorCode(error);
			if (code === 'ENOENT' || code === 'ENOTDIR') return [];
			throw mapFsError(error, `list ${type}`, directory);
		}
		return entries.map((entry) => entry.name);
	}

	/** Size of a regular file, or undefined when it is missing (removed meanwhile) or not a file. */
	private async statIfFile(path: string, action: string): Promise<number | undefined> {
		try {
			const info = await stat(path);
			return info.isFile() ? info.size : undefined;
		} catch (error) {
			if (readErrorCode(error) === 'ENOENT') return undefined;
			throw mapFsError(error, action, path);
		}
	}

	/** The absolute path of a handle, after checking its type and name. */
	private pathOf(handle: FileHandle): string {
		checkType(handle.type);
		if (handle.type !== 'config' && !ID_PATTERN.test(handle.name)) {
			throw new PermanentError(`invalid ${handle.type} file name ${JSON.stringify(handle.name)}: names must be 64 lowercase hex characters`);
		}
		return join(this.root, pathOf(handle));
	}

	private checkOpen(): void {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
	}
}

/** Rejects unknown file types from untyped callers. */
function checkType(type: FileType): void {
	if (!FILE_TYPES.includes(type)) throw new PermanentError(`unknown file type ${JSON.stringify(type)}; expected one of ${FILE_TYPES.join(', ')}`);
}

/** Creates one directory with the directory mode; an existing one is fine. */
async function makeDirectory(path: string): Promise<void> {
	try {
		await mkdir(path, {mode: DIRECTORY_MODE});
	} catch (error) {
		if (readErrorCode(error) !== 'EEXIST') throw error;
	}
}

/** `"a", "b", "c" and 4 more entries` */
function describeEntries(entries: string[]): string {
	const shown = [...entries].sort().slice(0, 3).map((name) => JSON.stringify(name));
	const more = entries.length - shown.length;
	if (more > 0) return `${shown.join(', ')} and ${more} more ${more === 1 ? 'entry' : 'entries'}`;
	if (shown.length === 1) return shown[0]!;
	return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`;
}

/** The declaration of the `local:` scheme for the adapter registry. */
export const localAdapter: AdapterDefinition = {
	scheme: 'local',
	label: 'Local directory',
	description: 'A directory on this computer, an attached disk or a mounted network share.',
	example: 'local:/srv/backup',
	options: [
		{
			name: 'path',
			label: 'Path',
			description: 'Directory that holds the repository; a relative path is taken from the current directory and a leading ~ is your home directory.',
			required: true,
			kind: 'path',
			inLocation: true,
			placeholder: '/srv/backup',
		},
		{
			name: 'connections',
			label: 'Connections',
			description: 'How many file operations to run at once (default: twice the number of CPU cores).',
			required: false,
			kind: 'number',
			validate: (value) => (Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 256 ? undefined : 'must be a whole number from 1 to 256'),
		},
	],
	parseLocation: (rest): Record<string, string> => (rest === '' ? {} : {path: rest}),
	formatLocation: (values) => values['path'] ?? '',
	open: async (values) => {
		const path = values['path'];
		if (path === undefined || path === '') throw new PermanentError('the local adapter needs a path, e.g. local:/srv/backup');
		return createLocalStorage(expandHome(path), {concurrency: readNumberOption(values, 'connections')});
	},
};

/** Replaces a leading `~` or `~/` with the home directory, as a shell would (profiles are not expanded by a shell). */
function expandHome(path: string): string {
	if (path === '~') return homedir();
	if (path.startsWith('~/')) return join(homedir(), path.slice(2));
	return path;
}
