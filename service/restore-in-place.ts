/**
 * Restores a snapshot over the configured paths so that each ends up exactly as the snapshot has
 * it: entries the snapshot lacks are removed (the caller has taken a safety snapshot first).
 *
 * For each path the snapshot is first restored into a staging directory on the same file system
 * (inside the path for a directory, which works for mount points too; beside it for a file). Only
 * when that succeeded are the path's old entries moved aside and the staged ones moved in, both
 * by rename; the old entries are removed last. A failure before the swap leaves the path
 * untouched; a failure during it leaves the old entries in `.cairn-old-*` and says so.
 */
import {randomBytes} from 'node:crypto';
import type {Stats} from 'node:fs';
import {chmod, chown, lstat, mkdir, readdir, rename, rm, utimes} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import type {Repository} from '../engine/repository/repository.js';
import {runRestore} from '../engine/restorer/restorer.js';
import type {ProgressListener} from '../engine/progress.js';

/** What was restored. */
export interface InPlaceSummary {
	readonly files: number;
	readonly bytes: number;
	readonly removedEntries: number;
}

/** A restore that could not finish; `leftover` names a folder that still holds old entries, if any. */
export class InPlaceRestoreError extends Error {
	constructor(message: string, readonly leftover?: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'InPlaceRestoreError', enumerable: false});
	}
}

async function exists(path: string): Promise<boolean> {
	return lstat(path).then(() => true, () => false);
}

/** Gives `target` the mode, owner and times the restorer gave a staged directory (read before anything was moved out of it). */
async function copyMetadata(info: Stats, target: string): Promise<void> {
	await chmod(target, info.mode & 0o7777);
	if (process.getuid?.() === 0) await chown(target, info.uid, info.gid).catch(() => undefined);
	await utimes(target, info.atime, info.mtime);
}

/** Restores one configured path in place (see the module comment). */
async function restoreOnePath(repo: Repository, snapshotId: string, configured: string, token: string, signal: AbortSignal | undefined, onProgress: ProgressListener | undefined): Promise<InPlaceSummary> {
	const rel = configured.replace(/^\/+/, '');
	const current = await lstat(configured).catch(() => undefined);
	const isDirectory = current === undefined || current.isDirectory();
	if (current === undefined) await mkdir(configured, {recursive: true, mode: 0o700});
	const stagingParent = isDirectory ? configured : dirname(configured);
	const staging = join(stagingParent, `.cairn-restore-${token}`);
	await mkdir(staging, {mode: 0o700});
	let removed = 0;
	try {
		const summary = await runRestore(repo, snapshotId, staging, {includes: [rel], overwrite: 'always', signal, onProgress});
		if (summary.errors.length > 0) {
			const first = summary.errors[0]!;
			throw new InPlaceRestoreError(`restoring ${configured} failed for ${summary.errors.length} entr${summary.errors.length === 1 ? 'y' : 'ies'} (first: ${first.path}: ${first.message}); ${configured} was left as it was`);
		}
		const staged = join(staging, rel);
		const stagedInfo = await lstat(staged).catch(() => undefined);
		if (stagedInfo === undefined) throw new InPlaceRestoreError(`snapshot ${snapshotId.slice(0, 8)} does not contain ${configured}; ${configured} was left as it was`);
		if (stagedInfo.isDirectory() && isDirectory) {
			const old = join(configured, `.cairn-old-${token}`);
			await mkdir(old, {mode: 0o700});
			const skip = new Set([basename(staging), basename(old)]);
			try {
				for (const name of await readdir(configured)) {
					if (skip.has(name)) continue;
					await rename(join(configured, name), join(old, name));
					removed++;
				}
				for (const name of await readdir(staged)) await rename(join(staged, name), join(configured, name));
			} catch (error) {
				throw new InPlaceRestoreError(`restoring ${configured} stopped half-way (${(error as Error).message}): its previous entries are in ${old}, the safety snapshot has them too`, old, {cause: error});
			}
			await rm(old, {recursive: true, force: true});
			await rm(staging, {recursive: true, force: true});
			// Last: removing the two folders above changed the directory's times.
			await copyMetadata(stagedInfo, configured);
		} else {
			// A file (or a type change): swap the whole entry beside it.
			const old = join(dirname(configured), `.cairn-old-${token}-${basename(configured)}`);
			if (current !== undefined) {
				await rename(configured, old);
				removed++;
			} else {
				await rm(configured, {recursive: true, force: true});
			}
			try {
				await rename(staged, configured);
			} catch (error) {
				throw new InPlaceRestoreError(`restoring ${configured} stopped half-way (${(error as Error).message}): the previous entry is ${old}`, old, {cause: error});
			}
			await rm(old, {recursive: true, force: true});
		}
		return {files: summary.filesRestored, bytes: summary.bytesRestored, removedEntries: removed};
	} finally {
		if (await exists(staging)) await rm(staging, {recursive: true, force: true});
	}
}

/** Restores the snapshot over every configured path, one after another. */
export async function restoreInPlace(repo: Repository, snapshotId: string, paths: readonly string[], options: {signal?: AbortSignal; onProgress?: ProgressListener} = {}): Promise<InPlaceSummary> {
	const token = randomBytes(4).toString('hex');
	let files = 0;
	let bytes = 0;
	let removedEntries = 0;
	for (const path of paths) {
		const done = await restoreOnePath(repo, snapshotId, path, token, options.signal, options.onProgress);
		files += done.files;
		bytes += done.bytes;
		removedEntries += done.removedEntries;
	}
	return {files, bytes, removedEntries};
}
