/**
 * The local cache: copies of a repository's index files, snapshot files and tree packs on this
 * machine, so that a repository behind a slow link opens and browses quickly.
 *
 * Layout (restic 0.14's, so that restic and cairn can share one `--cache-dir`):
 * `<base>/CACHEDIR.TAG`, and per repository `<base>/<repository id>/` with `version` (the text `1`)
 * and `index/`, `snapshots/`, `data/`, each holding `<first two hex chars of the id>/<id>`.
 * Directories are 0700, files 0600, and every file is written under a temporary name and renamed
 * into place, so a reader never sees a partial file. The files are content-addressed (a file's
 * name is the SHA-256 of its bytes), so a cached copy is either identical to the repository's file
 * or detectably wrong. Files of cairn's own (such as the decoded snapshot list) sit beside
 * `version`; restic ignores them. Cairn before 0.2 kept index and snapshot files directly in
 * `index/` and `snapshots/`; those are never read and are removed by {@link LocalCache.retain}.
 */
import {randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import {closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync} from 'node:fs';
import {homedir} from 'node:os';
import {threadId} from 'node:worker_threads';
import {isAbsolute, join, resolve} from 'node:path';
import type {FileHandle} from '../../adapters/storage.js';

/** The kinds of repository file the cache holds. */
export type CachedFileType = 'index' | 'snapshots' | 'data';

/** The tag that tells backup tools to skip a cache directory (https://bford.info/cachedir/). */
export const CACHEDIR_TAG = 'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cairn.\n# For information about cache directory tags, see https://bford.info/cachedir/\n';

/** Temporary files older than this are left-overs of an interrupted write and may be removed. */
const STALE_TEMP_MS = 60 * 60 * 1000;

const HEX_ID = /^[0-9a-f]{64}$/;
const HEX_PREFIX = /^[0-9a-f]{2}$/;

/** The version restic 0.14 writes into (and expects in) a repository's cache directory. */
const CACHE_VERSION = '1';
const TEMP_SUFFIX = /\.tmp-[0-9a-f]+$/;

/** How the cache location is chosen: the `--cache-dir` and `--no-cache` flags. */
export interface CacheLocationOptions {
	/** An explicit base directory (`--cache-dir`). */
	readonly cacheDir?: string;
	/** Use no cache at all (`--no-cache`). */
	readonly noCache?: boolean;
}

/**
 * The base directory of the cache, or undefined for no cache: `--cache-dir`, else
 * `CAIRN_CACHE_DIR`, else `$XDG_CACHE_HOME/cairn` (when absolute), else `~/.cache/cairn`
 * (`~/Library/Caches/cairn` on macOS).
 */
export function findCacheDirectory(options: CacheLocationOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
	if (options.noCache) return undefined;
	if (options.cacheDir) return resolve(options.cacheDir);
	if (env.CAIRN_CACHE_DIR) return resolve(env.CAIRN_CACHE_DIR);
	const xdg = env.XDG_CACHE_HOME;
	if (xdg && isAbsolute(xdg)) return join(xdg, 'cairn');
	const home = env.HOME || homedir();
	if (!home) return undefined;
	return process.platform === 'darwin' ? join(home, 'Library', 'Caches', 'cairn') : join(home, '.cache', 'cairn');
}

/** Tells whether a file of this type and name belongs in the cache. */
export function isCacheable(handle: FileHandle): handle is FileHandle & {type: CachedFileType} {
	return (handle.type === 'index' || handle.type === 'snapshots' || handle.type === 'data') && HEX_ID.test(handle.name);
}

function isMissing(error: unknown): boolean {
	return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Writes a file under a temporary name (mode 0600), then renames it into place. */
export async function writeAtomically(target: string, bytes: Uint8Array): Promise<void> {
	const temp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
	try {
		await fs.writeFile(temp, bytes, {flag: 'wx', mode: 0o600});
		await fs.rename(temp, target);
	} catch (error) {
		await fs.rm(temp, {force: true}).catch(() => undefined);
		throw error;
	}
}

/** Process, thread and a counter in hex: unique among writers without asking for random bytes per file. */
let tempCounter = 0;
function nextTempSuffix(): string {
	return `${process.pid.toString(16)}0${threadId.toString(16)}0${(tempCounter++).toString(16)}`;
}

/**
 * The same as {@link writeAtomically} with synchronous calls: for small files (snapshot and index
 * files), where four trips through libuv's pool cost more than the system calls themselves.
 */
function writeAtomicallySync(target: string, bytes: Uint8Array): void {
	const temp = `${target}.tmp-${nextTempSuffix()}`;
	try {
		const fd = openSync(temp, 'wx', 0o600);
		try {
			let done = 0;
			while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
		} finally {
			closeSync(fd);
		}
		renameSync(temp, target);
	} catch (error) {
		try {
			rmSync(temp, {force: true});
		} catch {
			// the original error says more
		}
		throw error;
	}
}

/** Cached files of these types are small and read and written with synchronous calls. */
function isSmallType(type: CachedFileType): boolean {
	return type === 'snapshots' || type === 'index';
}

/**
 * The cache directory of one repository. Every method works on the local file system only;
 * failures other than a missing file reject (callers treat the cache as optional and fall back to
 * the repository). Contract: {@link LocalCache.write} is atomic and leaves a 0600 file; reads
 * return the bytes written, or undefined when there is no such file; nothing here checks contents.
 */
export class LocalCache {
	/** Subdirectories made (or found) by this process, so each is made once. */
	private readonly made = new Set<string>();

	private constructor(
		/** `<base>/<repository id>`. */
		readonly directory: string,
	) {}

	/**
	 * Opens (creating as needed) the cache of the repository with this ID under `base`, writes
	 * `CACHEDIR.TAG` into `base` when it has none, and marks the repository's directory as used now.
	 * Rejects when the ID is not hex or a directory cannot be created.
	 */
	static async open(base: string, repositoryId: string): Promise<LocalCache> {
		if (!/^[0-9a-f]{8,128}$/.test(repositoryId)) throw new Error(`the repository ID ${JSON.stringify(repositoryId.slice(0, 80))} cannot name a cache directory`);
		await fs.mkdir(base, {recursive: true, mode: 0o700});
		const tag = join(base, 'CACHEDIR.TAG');
		await fs.writeFile(tag, CACHEDIR_TAG, {flag: 'wx', mode: 0o600}).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== 'EEXIST') throw error;
		});
		const directory = join(base, repositoryId);
		for (const sub of ['', 'index', 'snapshots', 'data']) await fs.mkdir(join(directory, sub), {recursive: true, mode: 0o700});
		await fs.writeFile(join(directory, 'version'), CACHE_VERSION, {flag: 'wx', mode: 0o600}).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== 'EEXIST') throw error;
		});
		const now = new Date();
		await fs.utimes(directory, now, now).catch(() => undefined);
		return new LocalCache(directory);
	}

	/** The path of a cached file. */
	pathOf(handle: FileHandle & {type: CachedFileType}): string {
		return join(this.directory, handle.type, handle.name.slice(0, 2), handle.name);
	}

	/** Makes the `<type>/<xx>` directory of a file, once per process. */
	private makeParent(handle: FileHandle & {type: CachedFileType}): void {
		const dir = join(this.directory, handle.type, handle.name.slice(0, 2));
		if (this.made.has(dir)) return;
		try {
			mkdirSync(dir, {mode: 0o700});
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		this.made.add(dir);
	}

	/**
	 * The whole cached file, or undefined when it is not cached. Snapshot and index files are read
	 * with one synchronous call (the cache is a local directory; see {@link readRange}).
	 */
	async read(handle: FileHandle & {type: CachedFileType}): Promise<Buffer | undefined> {
		try {
			if (isSmallType(handle.type)) return readFileSync(this.pathOf(handle));
			return await fs.readFile(this.pathOf(handle));
		} catch (error) {
			if (isMissing(error)) return undefined;
			throw error;
		}
	}

	/**
	 * `length` bytes from `offset` of a cached file; undefined when it is not cached or shorter
	 * than that. Synchronous calls on purpose: the cache is a local directory, a tree blob is a
	 * few kilobytes, and three system calls cost far less than three trips through libuv's pool
	 * (a backup of an unchanged tree reads thousands of them).
	 */
	async readRange(handle: FileHandle & {type: CachedFileType}, offset: number, length: number): Promise<Buffer | undefined> {
		let fd: number;
		try {
			fd = openSync(this.pathOf(handle), 'r');
		} catch (error) {
			if (isMissing(error)) return undefined;
			throw error;
		}
		try {
			const buffer = Buffer.allocUnsafe(length);
			let done = 0;
			while (done < length) {
				const bytesRead = readSync(fd, buffer, done, length - done, offset + done);
				if (bytesRead === 0) return undefined;
				done += bytesRead;
			}
			return buffer;
		} finally {
			closeSync(fd);
		}
	}

	/** The size of a cached file, or undefined when it is not cached. */
	async size(handle: FileHandle & {type: CachedFileType}): Promise<number | undefined> {
		try {
			return (await fs.stat(this.pathOf(handle))).size;
		} catch (error) {
			if (isMissing(error)) return undefined;
			throw error;
		}
	}

	/**
	 * Stores a file atomically (temporary name, then rename), mode 0600. Snapshot and index files
	 * are written with synchronous calls (a cold listing of 10,000 snapshots writes 10,000 of them).
	 */
	async write(handle: FileHandle & {type: CachedFileType}, bytes: Uint8Array): Promise<void> {
		this.makeParent(handle);
		if (isSmallType(handle.type)) return writeAtomicallySync(this.pathOf(handle), bytes);
		await writeAtomically(this.pathOf(handle), bytes);
	}

	/**
	 * A file of the cache's own (not a copy of a repository file), such as the decoded snapshot
	 * list, or undefined when there is none. Names are lowercase words joined by dashes.
	 */
	async readOwn(name: string): Promise<Buffer | undefined> {
		try {
			return await fs.readFile(this.ownPath(name));
		} catch (error) {
			if (isMissing(error)) return undefined;
			throw error;
		}
	}

	/** Stores a file of the cache's own atomically, mode 0600. */
	async writeOwn(name: string, bytes: Uint8Array): Promise<void> {
		await writeAtomically(this.ownPath(name), bytes);
	}

	private ownPath(name: string): string {
		if (!/^[a-z]+(-[a-z]+)*$/.test(name)) throw new Error(`invalid cache file name ${JSON.stringify(name)}`);
		return join(this.directory, name);
	}

	/** Removes a cached file; true when there was one. */
	async remove(handle: FileHandle & {type: CachedFileType}): Promise<boolean> {
		try {
			await fs.unlink(this.pathOf(handle));
			return true;
		} catch (error) {
			if (isMissing(error)) return false;
			throw error;
		}
	}

	/** The names of the cached files of a type. */
	async list(type: CachedFileType): Promise<string[]> {
		const names: string[] = [];
		for (const {name, legacy} of await this.listEntries(type)) if (!legacy && HEX_ID.test(name)) names.push(name);
		return names;
	}

	/**
	 * Removes every cached file of a type for which `keep` returns false, and temporary files
	 * left by interrupted writes (an hour old or more). Resolves with the number of files removed.
	 * `kept`, when given, receives the names of the cached files left in place.
	 */
	async retain(type: CachedFileType, keep: (name: string) => boolean, kept?: Set<string>): Promise<number> {
		let removed = 0;
		const now = Date.now();
		for (const {name, dir, legacy} of await this.listEntries(type)) {
			const file = join(dir, name);
			if (HEX_ID.test(name) && !legacy) {
				if (keep(name)) {
					kept?.add(name);
					continue;
				}
			} else if (legacy && HEX_ID.test(name)) {
				// an old layout's file: never read, so removed
			} else if (TEMP_SUFFIX.test(name)) {
				const stats = await fs.stat(file).catch(() => undefined);
				if (stats === undefined || now - stats.mtimeMs < STALE_TEMP_MS) continue;
			} else {
				continue;
			}
			try {
				await fs.unlink(file);
				removed++;
			} catch (error) {
				if (!isMissing(error)) throw error;
			}
		}
		return removed;
	}

	/**
	 * The files under `<type>/<xx>/`, plus the hex-named files directly in `<type>/` (the old,
	 * flat layout of index and snapshot files), marked `legacy`.
	 */
	private async listEntries(type: CachedFileType): Promise<Array<{name: string; dir: string; legacy?: boolean}>> {
		const readNames = async (dir: string): Promise<string[]> => {
			try {
				return await fs.readdir(dir);
			} catch (error) {
				if (isMissing(error)) return [];
				throw error;
			}
		};
		const root = join(this.directory, type);
		const entries: Array<{name: string; dir: string; legacy?: boolean}> = [];
		for (const sub of await readNames(root)) {
			if (HEX_ID.test(sub) || TEMP_SUFFIX.test(sub)) {
				entries.push({name: sub, dir: root, legacy: true});
				continue;
			}
			if (!HEX_PREFIX.test(sub)) continue;
			const dir = join(root, sub);
			for (const name of await readNames(dir)) entries.push({name, dir});
		}
		return entries;
	}
}

/** One repository's directory in the cache base directory. */
export interface CacheDirectoryInfo {
	/** The directory's name: the repository ID. */
	name: string;
	/** When a repository was last opened through it (the directory's mtime), ms since the epoch. */
	lastUsedMs: number;
}

/** restic's default for `cache --max-age`: directories unused for 30 days are old. */
export const DEFAULT_CACHE_MAX_AGE_DAYS = 30;

/** The repository directories under a cache base (names that are repository IDs), oldest use first. */
export async function listCacheDirectories(base: string): Promise<CacheDirectoryInfo[]> {
	let entries: import('node:fs').Dirent[];
	try {
		entries = await fs.readdir(base, {withFileTypes: true});
	} catch (error) {
		if (isMissing(error)) return [];
		throw error;
	}
	const dirs: CacheDirectoryInfo[] = [];
	for (const entry of entries) {
		if (!entry.isDirectory() || !/^[0-9a-f]{64}$/.test(entry.name)) continue;
		const stats = await fs.stat(join(base, entry.name)).catch(() => undefined);
		if (stats) dirs.push({name: entry.name, lastUsedMs: stats.mtimeMs});
	}
	return dirs.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
}

/** Tells whether a cache directory last used at `lastUsedMs` is old. */
export function isCacheDirectoryOld(lastUsedMs: number, maxAgeDays: number, now = Date.now()): boolean {
	return now - lastUsedMs > maxAgeDays * 86_400_000;
}

/** Bytes of the files below a directory. */
export async function measureDirectory(dir: string): Promise<number> {
	let total = 0;
	const entries = await fs.readdir(dir, {withFileTypes: true, recursive: true}).catch(() => []);
	for (const entry of entries) {
		if (entry.isDirectory()) continue;
		const stats = await fs.lstat(join(entry.parentPath, entry.name)).catch(() => undefined);
		if (stats) total += stats.size;
	}
	return total;
}

/** Removes the cache directories not used for `maxAgeDays`; returns their names (and errors per directory). */
export async function removeOldCacheDirectories(base: string, maxAgeDays: number, now = Date.now()): Promise<{removed: string[]; failed: Array<{name: string; error: Error}>}> {
	const removed: string[] = [];
	const failed: Array<{name: string; error: Error}> = [];
	for (const dir of await listCacheDirectories(base)) {
		if (!isCacheDirectoryOld(dir.lastUsedMs, maxAgeDays, now)) continue;
		try {
			await fs.rm(join(base, dir.name), {recursive: true, force: true});
			removed.push(dir.name);
		} catch (error) {
			failed.push({name: dir.name, error: error as Error});
		}
	}
	return {removed, failed};
}
