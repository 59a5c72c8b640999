/**
 * Atomic file replacement: write a temporary file beside the target, flush it, rename it into place.
 */

import {randomBytes} from 'node:crypto';
import {mkdir, open, rename, rm, stat, type FileHandle} from 'node:fs/promises';
import {dirname, join} from 'node:path';

import {NotFoundError, throwIfAborted} from '../storage.js';
import {readErrorCode} from './errors.js';

/** Every temporary file starts with this; listings ignore such names. */
export const TEMP_PREFIX = '.tmp-';

/** Bytes written per call, so that an abort is noticed between chunks of a large file. */
const WRITE_CHUNK = 4 * 1024 * 1024;

/** fsync failures that mean "this file system cannot sync", not "the data is lost". */
const SYNC_UNSUPPORTED = new Set(['ENOTSUP', 'EINVAL', 'EOPNOTSUPP', 'ENOSYS']);

/** Failures to open or sync a directory that are ignored, as many systems cannot sync directories. */
const DIR_SYNC_IGNORED = new Set([...SYNC_UNSUPPORTED, 'EISDIR', 'EBADF', 'EPERM', 'EACCES', 'ENOENT']);

/** Settings for {@link writeFileAtomically}. */
export interface AtomicWriteOptions {
	/** Mode of the new file, e.g. 0o600. */
	readonly fileMode: number;
	/** Mode of directories created on the way, e.g. 0o700. */
	readonly directoryMode: number;
	/** Missing directories are created below this one, never this one or above it. */
	readonly root: string;
	readonly signal?: AbortSignal;
}

/**
 * Writes `data` to `target` so that readers see either the old state or the whole new file.
 *
 * The bytes go to `<dir>/.tmp-<random>`, which is synced, closed and renamed over `target`;
 * the directory is then synced where the platform allows. Missing parent directories below
 * `root` are created. On any failure or abort the temporary file is removed and the error is
 * thrown unchanged (raw node:fs errors; the caller maps them).
 */
export async function writeFileAtomically(target: string, data: Uint8Array, options: AtomicWriteOptions): Promise<void> {
	throwIfAborted(options.signal);
	const directory = dirname(target);
	const temp = join(directory, TEMP_PREFIX + randomBytes(8).toString('hex'));
	let file: FileHandle | undefined = await openTemporary(temp, options);
	let renamed = false;
	try {
		await writeAll(file, data, options.signal);
		await syncFile(file);
		await file.close();
		file = undefined;
		throwIfAborted(options.signal);
		await rename(temp, target);
		renamed = true;
	} catch (error) {
		await file?.close().catch(() => undefined);
		if (!renamed) await rm(temp, {force: true}).catch(() => undefined);
		throw error;
	}
	await syncDirectory(directory);
}

/** Creates the temporary file (exclusive, with the file mode), making missing parents first if needed. */
async function openTemporary(temp: string, options: AtomicWriteOptions): Promise<FileHandle> {
	try {
		return await open(temp, 'wx', options.fileMode);
	} catch (error) {
		if (readErrorCode(error) !== 'ENOENT') throw error;
	}
	await createParentDirectories(dirname(temp), options.root, options.directoryMode);
	throwIfAborted(options.signal);
	return await open(temp, 'wx', options.fileMode);
}

/**
 * Creates `directory` and any missing directories between it and `root` (exclusive), each with
 * `mode`. Throws {@link NotFoundError} when `root` itself is missing: a vanished repository (an
 * unmounted disk, say) must not be silently re-created.
 */
export async function createParentDirectories(directory: string, root: string, mode: number): Promise<void> {
	const missing: string[] = [];
	let current = directory;
	while (current !== root && current.startsWith(root) && !(await isPresent(current))) {
		missing.unshift(current);
		current = dirname(current);
	}
	if (current === root && !(await isPresent(root))) {
		throw new NotFoundError(`repository directory ${root} does not exist; check the path, or that its disk is mounted`);
	}
	for (const path of missing) {
		try {
			await mkdir(path, {mode});
		} catch (error) {
			if (readErrorCode(error) !== 'EEXIST') throw error;
		}
	}
}

/** Tells whether a path exists; errors other than "missing" are thrown. */
async function isPresent(path: string): Promise<boolean> {
	try {
		await stat(path);
		return true;
	} catch (error) {
		if (readErrorCode(error) === 'ENOENT') return false;
		throw error;
	}
}

/** Writes every byte, in chunks, checking the signal before each. */
async function writeAll(file: FileHandle, data: Uint8Array, signal?: AbortSignal): Promise<void> {
	let written = 0;
	while (written < data.byteLength) {
		throwIfAborted(signal);
		const length = Math.min(WRITE_CHUNK, data.byteLength - written);
		const {bytesWritten} = await file.write(data, written, length, written);
		written += bytesWritten;
	}
}

/** fsyncs a file, tolerating file systems without fsync. */
async function syncFile(file: FileHandle): Promise<void> {
	try {
		await file.sync();
	} catch (error) {
		if (!SYNC_UNSUPPORTED.has(readErrorCode(error) ?? '')) throw error;
	}
}

/** fsyncs a directory so that a rename in it is durable; a no-op where directories cannot be synced. */
export async function syncDirectory(directory: string): Promise<void> {
	let handle: FileHandle | undefined;
	try {
		handle = await open(directory, 'r');
		await handle.sync();
	} catch (error) {
		if (!DIR_SYNC_IGNORED.has(readErrorCode(error) ?? '')) throw error;
	} finally {
		await handle?.close().catch(() => undefined);
	}
}
