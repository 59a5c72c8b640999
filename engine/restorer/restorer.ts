/**
 * Restore: writes a snapshot (or parts of it) into a target directory. Every blob is verified
 * before it is written, nothing is written outside the target, existing files are only replaced
 * when the overwrite policy allows it, and files appear atomically (temporary name + rename).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {randomBytes} from 'node:crypto';
import picomatch from 'picomatch';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import type {TreeNode} from '../format/tree.js';
import {goModeToUnixPermissions} from '../format/mode.js';
import {parseGoTime} from '../format/time.js';
import {CancelledError} from '../errors.js';
import {mapConcurrent} from '../util/concurrency.js';
import {ProgressTracker, type ProgressListener} from '../progress.js';
import type {Repository} from '../repository/repository.js';
import type {BlobLocation} from '../repository/master-index.js';
import {loadSnapshot} from '../repository/snapshots.js';
import {acquireLock} from '../repository/lock.js';
import {walkTree, type TreeSource} from './walk.js';
import {BlobCodecPool} from '../repository/codec-pool.js';
import {findDefaultWorkerCount} from '../archiver/worker-pool.js';

/** What to do when a file to restore already exists at the target. */
export type OverwriteMode = 'always' | 'if-changed' | 'never';

export const OVERWRITE_MODES: readonly OverwriteMode[] = ['always', 'if-changed', 'never'];

/** Restore options. */
export interface RestoreOptions {
	/** Paths (or globs) inside the snapshot to restore; everything when empty. */
	includes?: string[];
	overwrite?: OverwriteMode;
	signal?: AbortSignal;
	onProgress?: ProgressListener;
	/** Called for each entry that could not be restored, with the reason. */
	onError?: (path: string, message: string) => void;
	/** Where tree listings come from (default: decoded in this thread). */
	loadTree?: TreeSource;
	noLock?: boolean;
}

/** What a restore did. */
export interface RestoreSummary {
	filesRestored: number;
	dirsRestored: number;
	bytesRestored: number;
	/** Existing files left untouched by the overwrite policy. */
	skipped: string[];
	/** Entries that could not be restored, with reasons. */
	errors: Array<{path: string; message: string}>;
	/** Number of entries that the include filter matched. */
	matched: number;
}

interface PlanItem {
	rel: string;
	node: TreeNode;
}

/** Largest single read when blobs of a file sit next to each other in a pack. */
const MAX_MERGED_READ = 8 * 1024 * 1024;
const FILE_CONCURRENCY = 6;
/** Two mtimes closer than this count as equal for `if-changed`. */
const MTIME_TOLERANCE_NS = 2000n;
const execFileAsync = promisify(execFile);

function nsToSeconds(text: string): number {
	try {
		return Number(parseGoTime(text)) / 1e9;
	} catch {
		return Date.now() / 1000;
	}
}

/** Turns include paths and globs into a matcher of snapshot-relative paths; undefined when there are none. */
export function compileIncludes(includes: readonly string[]): ((p: string) => boolean) | undefined {
	const cleaned = includes.map((i) => i.replace(/^\/+/, '').replace(/\/+$/, '')).filter(Boolean);
	if (cleaned.length === 0) return undefined;
	const globs = cleaned.filter((i) => /[*?[\]{}]/.test(i)).map((g) => picomatch(g, {dot: true}));
	const literal = new Set(cleaned.filter((i) => !/[*?[\]{}]/.test(i)));
	// A path is included when it or one of its ancestors is listed: a look-up per path component,
	// so marking 100,000 entries stays fast.
	const listed = (p: string): boolean => {
		if (literal.has(p)) return true;
		for (let slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/', slash - 1)) {
			if (literal.has(p.slice(0, slash))) return true;
		}
		return false;
	};
	return (p) => listed(p) || globs.some((g) => g(p));
}

/** Restores a snapshot into `target`. Resolves with a summary; entry failures are collected, not thrown. */
export async function runRestore(repo: Repository, snapshotId: string, target: string, options: RestoreOptions = {}): Promise<RestoreSummary> {
	const overwrite = options.overwrite ?? 'never';
	const root = path.resolve(target);
	const summary: RestoreSummary = {filesRestored: 0, dirsRestored: 0, bytesRestored: 0, skipped: [], errors: [], matched: 0};
	const progress = new ProgressTracker('restore', options.onProgress);
	const fail = (rel: string, message: string): void => {
		summary.errors.push({path: rel, message});
		progress.errors++;
		options.onError?.(rel, message);
	};
	const lock = options.noLock ? undefined : await acquireLock(repo, {exclusive: false, signal: options.signal});
	try {
		await repo.loadIndex({signal: options.signal});
		const snapshot = await loadSnapshot(repo, snapshotId, options.signal);
		const included = compileIncludes(options.includes ?? []);
		const dirs = new Map<string, TreeNode>();
		const items: PlanItem[] = [];
		const includedDirs = new Set<string>();
		await walkTree(repo, snapshot.tree, ({path: rel, node}) => {
			const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
			const isIncluded = included === undefined || includedDirs.has(parent) || included(rel);
			if (node.type === 'dir') {
				dirs.set(rel, node);
				if (isIncluded) includedDirs.add(rel);
			}
			if (isIncluded) items.push({rel, node});
			return true;
		}, {signal: options.signal, onUnsafe: (rel, reason) => fail(rel, `refused: ${reason}`), loadTree: options.loadTree});
		summary.matched = items.length;
		// Directories that lead to included entries are created too.
		const wanted = new Map<string, TreeNode>();
		for (const item of items) {
			const parts = item.rel.split('/');
			for (let i = 1; i < parts.length; i++) {
				const ancestor = parts.slice(0, i).join('/');
				const node = dirs.get(ancestor);
				if (node && !wanted.has(ancestor)) wanted.set(ancestor, node);
			}
			if (item.node.type === 'dir') wanted.set(item.rel, item.node);
		}
		const files = items.filter((i) => i.node.type !== 'dir');
		progress.filesTotal = files.filter((i) => i.node.type === 'file').length;
		progress.bytesTotal = files.reduce((sum, i) => sum + (i.node.type === 'file' ? i.node.size ?? 0 : 0), 0);
		await fs.mkdir(root, {recursive: true});
		const dirOrder = [...wanted.keys()].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
		const badDirs = new Set<string>();
		for (const rel of dirOrder) {
			throwIfCancelled(options.signal);
			if ([...badDirs].some((b) => rel.startsWith(b + '/'))) continue;
			const message = await prepareDirectory(resolveInside(root, rel), overwrite);
			if (message) {
				badDirs.add(rel);
				fail(rel, message);
			} else {
				summary.dirsRestored++;
			}
		}
		const inBadDir = (rel: string): boolean => [...badDirs].some((b) => rel.startsWith(b + '/'));
		const codecs = new BlobCodecPool(repo.key, findDefaultWorkerCount());
		// Hard links: the first entry of each (device, inode) is written, the others link to it.
		const linkTargets = new Map<string, string>();
		const firsts: PlanItem[] = [];
		const links: Array<{item: PlanItem; key: string}> = [];
		for (const item of files) {
			const key = findHardLinkKey(item.node);
			if (key && linkTargets.has(key)) links.push({item, key});
			else {
				if (key) linkTargets.set(key, item.rel);
				firsts.push(item);
			}
		}
		const written = new Set<string>();
		const restoreOne = async (item: PlanItem, linkTo?: string): Promise<void> => {
			throwIfCancelled(options.signal);
			if (inBadDir(item.rel)) return;
			try {
				const dest = resolveInside(root, item.rel);
				progress.currentFile = item.rel;
				const source = linkTo && written.has(linkTo) ? resolveInside(root, linkTo) : undefined;
				const outcome = await restoreEntry(repo, codecs, item.node, dest, overwrite, progress, options.signal, source);
				if (outcome === 'skipped') summary.skipped.push(item.rel);
				else if (item.node.type === 'file') {
					written.add(item.rel);
					summary.filesRestored++;
					summary.bytesRestored += item.node.size ?? 0;
				}
				if (item.node.type === 'file') progress.filesDone++;
				progress.maybeEmit();
			} catch (error) {
				if (error instanceof CancelledError) throw error;
				fail(item.rel, describeRestoreError(error));
			}
		};
		try {
			await mapConcurrent(firsts, FILE_CONCURRENCY, (item) => restoreOne(item));
			await mapConcurrent(links, FILE_CONCURRENCY, ({item, key}) => restoreOne(item, linkTargets.get(key)));
		} finally {
			await codecs.close();
		}
		// Directory metadata last, deepest first, because writing into a directory changes its times.
		for (const rel of [...dirOrder].reverse()) {
			if (badDirs.has(rel) || inBadDir(rel)) continue;
			try {
				await applyMetadata(resolveInside(root, rel), wanted.get(rel)!, false);
			} catch (error) {
				fail(rel, `cannot set metadata: ${(error as Error).message}`);
			}
		}
		progress.currentFile = undefined;
		return summary;
	} finally {
		progress.finish();
		await lock?.release();
	}
}

function throwIfCancelled(signal?: AbortSignal): void {
	if (signal?.aborted) throw new CancelledError('restore cancelled: files restored so far are complete; no partial file was left');
}

function describeRestoreError(error: unknown): string {
	const e = error as NodeJS.ErrnoException;
	if (e.code === 'ENOSPC') return 'no space left on the target device';
	if (e.code === 'EDQUOT') return 'disk quota exceeded on the target';
	if (e.code === 'EROFS') return 'the target file system is read-only';
	if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied: ${e.message}`;
	return e.message ?? String(error);
}

/** The identity shared by hard links of one file, or undefined when the node has a single link. */
function findHardLinkKey(node: TreeNode): string | undefined {
	if (node.type !== 'file' || (node.links ?? 1) < 2 || !node.inode) return undefined;
	return `${node.device_id ?? 0}:${node.inode}`;
}

/** Joins a snapshot-relative path onto the target and proves the result stays inside it. */
export function resolveInside(root: string, rel: string): string {
	const dest = path.resolve(root, rel);
	if (dest !== root && !dest.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) {
		throw new Error(`refused: ${JSON.stringify(rel)} would be written outside the target`);
	}
	return dest;
}

/** Makes sure `dest` is a real directory (never a symlink). Returns an error message or undefined. */
async function prepareDirectory(dest: string, overwrite: OverwriteMode): Promise<string | undefined> {
	try {
		const stats = await fs.lstat(dest);
		if (stats.isDirectory()) return undefined;
		if (overwrite !== 'always') return `exists and is not a directory (left untouched; use --overwrite always to replace it)`;
		await fs.rm(dest, {force: true});
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return describeRestoreError(error);
	}
	try {
		await fs.mkdir(dest, {mode: 0o700});
		return undefined;
	} catch (error) {
		return describeRestoreError(error);
	}
}

/** Decides whether an existing destination may be replaced. */
async function mayReplace(dest: string, node: TreeNode, overwrite: OverwriteMode): Promise<boolean> {
	let stats;
	try {
		stats = await fs.lstat(dest, {bigint: true});
	} catch {
		return true;
	}
	if (stats.isDirectory()) return false;
	if (overwrite === 'never') return false;
	if (overwrite === 'if-changed' && node.type === 'file' && stats.isFile()) {
		const sameSize = Number(stats.size) === (node.size ?? 0);
		let sameTime = false;
		try {
			// Node sets file times from a double, which can be off by up to a microsecond.
			const delta = stats.mtimeNs - parseGoTime(node.mtime);
			sameTime = delta > -MTIME_TOLERANCE_NS && delta < MTIME_TOLERANCE_NS;
		} catch {
			sameTime = false;
		}
		return !(sameSize && sameTime);
	}
	return true;
}

async function restoreEntry(repo: Repository, codecs: BlobCodecPool, node: TreeNode, dest: string, overwrite: OverwriteMode, progress: ProgressTracker, signal?: AbortSignal, hardLinkSource?: string): Promise<'restored' | 'skipped' | 'ignored'> {
	if (!(await mayReplace(dest, node, overwrite))) {
		if (node.type === 'file') progress.bytesDone += node.size ?? 0;
		return 'skipped';
	}
	const temp = path.join(path.dirname(dest), `.cairn-restore-${randomBytes(6).toString('hex')}`);
	try {
		switch (node.type) {
			case 'file':
				if (hardLinkSource) {
					await fs.link(hardLinkSource, temp);
					progress.bytesDone += node.size ?? 0;
					await fs.rename(temp, dest);
					return 'restored';
				}
				await writeFileContent(repo, codecs, node, temp, progress, signal);
				break;
			case 'symlink':
				await fs.symlink(node.linktarget_raw ? Buffer.from(node.linktarget_raw, 'base64') : node.linktarget ?? '', temp);
				break;
			case 'fifo':
				await execFileAsync('mkfifo', ['-m', '600', temp]);
				break;
			case 'dev':
			case 'chardev': {
				const device = node.device ?? 0;
				const major = Math.floor(device / 256) & 0xfff;
				const minor = (device & 0xff) | ((Math.floor(device / 2 ** 12) & 0xfff00));
				await execFileAsync('mknod', [temp, node.type === 'dev' ? 'b' : 'c', String(major), String(minor)]);
				break;
			}
			case 'socket':
				return 'ignored'; // sockets belong to a running program; like restic, they are not recreated
			default:
				throw new Error(`${node.type} nodes are not restored`);
		}
		await applyMetadata(temp, node, node.type === 'symlink');
		await fs.rename(temp, dest);
		return 'restored';
	} catch (error) {
		await fs.rm(temp, {force: true}).catch(() => undefined);
		throw error;
	}
}

/** Groups a file's blobs into reads: consecutive blobs stored back to back in one pack become one read. */
export function planReads(locations: ReadonlyArray<{id: string; location: BlobLocation}>): Array<{packId: string; offset: number; length: number; blobs: Array<{id: string; location: BlobLocation}>}> {
	const reads: Array<{packId: string; offset: number; length: number; blobs: Array<{id: string; location: BlobLocation}>}> = [];
	for (const blob of locations) {
		const last = reads.at(-1);
		if (last && last.packId === blob.location.packId && last.offset + last.length === blob.location.offset && last.length + blob.location.length <= MAX_MERGED_READ) {
			last.length += blob.location.length;
			last.blobs.push(blob);
		} else {
			reads.push({packId: blob.location.packId, offset: blob.location.offset, length: blob.location.length, blobs: [blob]});
		}
	}
	return reads;
}

async function writeFileContent(repo: Repository, codecs: BlobCodecPool, node: TreeNode, temp: string, progress: ProgressTracker, signal?: AbortSignal): Promise<void> {
	const content = node.content ?? [];
	const located = content.map((id) => {
		const location = repo.index.lookup('data', id);
		if (!location) throw new Error(`data blob ${id} is missing from the index; the file cannot be restored (run \`cairn check\`)`);
		return {id, location};
	});
	const handle = await fs.open(temp, 'wx', 0o600);
	try {
		let position = 0;
		let wroteHole = false;
		for (const read of planReads(located)) {
			throwIfCancelled(signal);
			let raw: Uint8Array;
			try {
				raw = await repo.storage.load({type: 'data', name: read.packId}, {offset: read.offset, length: read.length, signal});
			} catch (error) {
				throw new Error(`cannot read pack ${read.packId}: ${(error as Error).message}`, {cause: error});
			}
			const results = await codecs.decode(read.packId, raw, read.blobs.map((blob) => ({
				type: 'data' as const, id: blob.id, start: blob.location.offset - read.offset, length: blob.location.length, uncompressedLength: blob.location.uncompressedLength,
			})));
			for (const [index, result] of results.entries()) {
				if (!result.ok) throw new Error(result.message);
				const size = repo.index.blobSize('data', read.blobs[index]!.id) ?? 0;
				if (result.zero) {
					wroteHole = true;
					position += size;
					progress.bytesDone += size;
					continue;
				}
				const plain = new Uint8Array(result.plain);
				let written = 0;
				while (written < plain.length) {
					const {bytesWritten} = await handle.write(plain, written, plain.length - written, position + written);
					written += bytesWritten;
				}
				position += plain.length;
				progress.bytesDone += plain.length;
			}
		}
		if (wroteHole) await handle.truncate(position);
		const expected = node.size ?? position;
		if (position !== expected) throw new Error(`restored ${position} bytes but the snapshot records a size of ${expected}`);
	} finally {
		await handle.close();
	}
}

/** Sets mode, owner (when running as root) and times. */
async function applyMetadata(dest: string, node: TreeNode, isSymlink: boolean): Promise<void> {
	if (process.getuid?.() === 0) await fs.lchown(dest, node.uid, node.gid).catch(() => undefined);
	if (!isSymlink && node.mode !== undefined) await fs.chmod(dest, goModeToUnixPermissions(node.mode));
	const atime = nsToSeconds(node.atime);
	const mtime = nsToSeconds(node.mtime);
	if (isSymlink) await fs.lutimes(dest, atime, mtime);
	else await fs.utimes(dest, atime, mtime);
}
