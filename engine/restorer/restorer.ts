/**
 * Restore: writes a snapshot (or parts of it) into a target directory. Every blob is verified
 * before it is written, nothing is written outside the target, existing files are only replaced
 * when the overwrite policy allows it, and files appear atomically (temporary name + rename).
 */
import * as fs from 'node:fs/promises';
import * as fsSync from 'node:fs';
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
import {loadSnapshot} from '../repository/snapshots.js';
import {acquireLock} from '../repository/lock.js';
import {walkTree, type TreeSource} from './walk.js';
import {CANCELLED_MESSAGE, describeWriteError, parseNodeTime, writeFileContents, type ContentFile} from './content.js';
import {setPathTimes, writeXattrs, type XattrWriteProblem} from '../util/file-metadata.js';
import {verifyRestoredFiles} from './verify.js';
import {BlobCodecPool} from '../repository/codec-pool.js';
import {findDefaultWorkerCount} from '../archiver/worker-pool.js';

/** What to do when a file to restore already exists at the target. */
export type OverwriteMode = 'always' | 'if-changed' | 'never';

export const OVERWRITE_MODES: readonly OverwriteMode[] = ['always', 'if-changed', 'never'];

/** Restore options. */
export interface RestoreOptions {
	/** Paths (or globs) inside the snapshot to restore; everything when empty. */
	includes?: string[];
	/**
	 * restic's selection (overrides `includes`): called with each entry's absolute path inside the
	 * snapshot (`/home/me/a`); `selected` restores it, `childMayBeSelected` descends into a directory.
	 */
	select?: (snapshotPath: string, node: TreeNode) => {selected: boolean; childMayBeSelected: boolean};
	/** After restoring, read every restored file back and check it against the snapshot (restic's --verify). */
	verify?: boolean;
	/** Non-fatal problems (extended attributes the target cannot take); not counted as errors. */
	onWarning?: (path: string, message: string) => void;
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
	/** Files read back and checked with `verify`. */
	filesVerified?: number;
}

interface PlanItem {
	rel: string;
	node: TreeNode;
}

/** An entry with its absolute destination; `plainDirectory` as in {@link ContentFile}. */
type PlacedItem = PlanItem & {dest: string; plainDirectory?: boolean};

/** Entries other than file contents (links, symlinks, devices) restored at once. */
const ENTRY_CONCURRENCY = 6;
/** Directories of one level created at once. */
const DIRECTORY_CONCURRENCY = 8;
/** Existing entries checked against the overwrite policy at once. */
const CHECK_CONCURRENCY = 16;
/** Two mtimes closer than this count as equal for `if-changed`. */
const MTIME_TOLERANCE_NS = 2000n;
const execFileAsync = promisify(execFile);

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
	let xattrsUnsupported = false;
	const onXattrProblem = (rel: string, problem: XattrWriteProblem): void => {
		if (problem.unsupported) {
			if (xattrsUnsupported) return;
			xattrsUnsupported = true;
			options.onWarning?.(rel, `extended attributes cannot be restored here (${problem.message}); files are restored without them`);
			return;
		}
		options.onWarning?.(rel, `cannot restore extended attribute ${problem.name}: ${problem.message}`);
	};
	const lock = options.noLock ? undefined : await acquireLock(repo, {exclusive: false, signal: options.signal});
	// Started now, so that the workers are ready when the contents are written.
	let codecs: BlobCodecPool | undefined = new BlobCodecPool(repo.key, findDefaultWorkerCount());
	try {
		await repo.loadIndex({signal: options.signal});
		const snapshot = await loadSnapshot(repo, snapshotId, options.signal);
		const included = compileIncludes(options.includes ?? []);
		const dirs = new Map<string, TreeNode>();
		const items: PlanItem[] = [];
		const includedDirs = new Set<string>();
		const select = options.select;
		await walkTree(repo, snapshot.tree, ({path: rel, node}) => {
			if (select) {
				const {selected, childMayBeSelected} = select(`/${rel}`, node);
				if (node.type === 'dir') dirs.set(rel, node);
				if (selected) items.push({rel, node});
				return node.type === 'dir' ? childMayBeSelected : true;
			}
			const parent = parentOf(rel);
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
			if (item.node.type === 'dir') wanted.set(item.rel, item.node);
			for (let ancestor = parentOf(item.rel); ancestor !== '' && !wanted.has(ancestor); ancestor = parentOf(ancestor)) {
				const node = dirs.get(ancestor);
				if (!node) break;
				wanted.set(ancestor, node);
			}
		}
		const entries = items.filter((i) => i.node.type !== 'dir');
		progress.filesTotal = entries.filter((i) => i.node.type === 'file').length;
		progress.bytesTotal = entries.reduce((sum, i) => sum + (i.node.type === 'file' ? i.node.size ?? 0 : 0), 0);
		throwIfCancelled(options.signal);
		// Directories created by this run are empty: what goes into them needs no check against existing files.
		const fresh = new Set<string>();
		if ((await fs.mkdir(root, {recursive: true})) !== undefined) fresh.add('');
		// Created directories that are not setgid: a new file there gets the restoring process's group.
		const plain = new Set<string>();
		if (fresh.has('') && ((await fs.lstat(root)).mode & 0o2000) === 0) plain.add('');
		const depth = new Map([...wanted.keys()].map((rel) => [rel, rel.split('/').length]));
		const dirOrder = [...wanted.keys()].sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
		const badDirs = new Set<string>();
		const inBadDir = (rel: string): boolean => {
			if (badDirs.size === 0) return false;
			for (let ancestor = parentOf(rel); ancestor !== ''; ancestor = parentOf(ancestor)) if (badDirs.has(ancestor)) return true;
			return false;
		};
		// Level by level (parents first), several directories of a level at once.
		for (let start = 0; start < dirOrder.length;) {
			let end = start;
			while (end < dirOrder.length && depth.get(dirOrder[end]!) === depth.get(dirOrder[start]!)) end++;
			await mapConcurrent(dirOrder.slice(start, end), DIRECTORY_CONCURRENCY, async (rel) => {
				throwIfCancelled(options.signal);
				if (inBadDir(rel)) return;
				const outcome = await prepareDirectory(resolveInside(root, rel), overwrite);
				if (typeof outcome === 'string') {
					badDirs.add(rel);
					fail(rel, outcome);
					return;
				}
				summary.dirsRestored++;
				if (outcome.created) fresh.add(rel);
				if (outcome.created && plain.has(parentOf(rel))) plain.add(rel);
			});
			start = end;
		}

		// Existing entries are checked against the overwrite policy first (only outside fresh directories).
		const todo: PlacedItem[] = [];
		const unchecked: PlacedItem[] = [];
		for (const item of entries) {
			if (inBadDir(item.rel)) continue;
			let dest: string;
			try {
				dest = resolveInside(root, item.rel);
			} catch (error) {
				fail(item.rel, describeRestoreError(error));
				continue;
			}
			const parent = parentOf(item.rel);
			(fresh.has(parent) ? todo : unchecked).push({...item, dest, plainDirectory: plain.has(parent)});
		}
		if (unchecked.length > 0) {
			const allowed = await mapConcurrent(unchecked, CHECK_CONCURRENCY, async (item) => {
				throwIfCancelled(options.signal);
				return mayReplace(item.dest, item.node, overwrite);
			});
			const skipped = new Set<string>();
			for (const [index, item] of unchecked.entries()) {
				if (allowed[index]) continue;
				skipped.add(item.rel);
				if (item.node.type === 'file') {
					progress.bytesDone += item.node.size ?? 0;
					progress.filesDone++;
				}
			}
			for (const item of entries) if (skipped.has(item.rel)) summary.skipped.push(item.rel);
			todo.push(...unchecked.filter((_, index) => allowed[index]));
		}

		// Hard links: the first entry of each (device, inode) is written, the others link to it.
		const linkTargets = new Map<string, string>();
		const firsts: ContentFile[] = [];
		const links: Array<{item: PlacedItem; key: string}> = [];
		const others: PlacedItem[] = [];
		for (const item of todo) {
			if (item.node.type !== 'file') {
				others.push(item);
				continue;
			}
			const key = findHardLinkKey(item.node);
			if (key && linkTargets.has(key)) links.push({item, key});
			else {
				if (key) linkTargets.set(key, item.rel);
				firsts.push(item);
			}
		}
		const written = new Set<string>();
		const writeContents = async (files: ContentFile[]): Promise<void> => {
			if (files.length === 0) return;
			await writeFileContents(repo, codecs!, files, {
				onRestored: (file) => {
					written.add(file.rel);
					summary.filesRestored++;
					summary.bytesRestored += file.node.size ?? 0;
					progress.filesDone++;
					progress.maybeEmit();
				},
				onFailed: (file, message) => fail(file.rel, message),
				onBytes: (bytes) => {
					progress.bytesDone += bytes;
					progress.maybeEmit();
				},
				onCurrent: (file) => {
					progress.currentFile = file.rel;
				},
				onXattrProblem: (file, problem) => onXattrProblem(file.rel, problem),
			}, {signal: options.signal});
		};
		try {
			// Symlinks, FIFOs and devices while the contents are written.
			const otherEntries = mapConcurrent(others, ENTRY_CONCURRENCY, async (item) => {
				throwIfCancelled(options.signal);
				try {
					await restoreEntry(item.node, item.dest, undefined, (problem) => onXattrProblem(item.rel, problem));
				} catch (error) {
					if (error instanceof CancelledError) throw error;
					fail(item.rel, describeRestoreError(error));
				}
			});
			const outcomes = await Promise.allSettled([otherEntries, writeContents(firsts)]);
			for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
			// A link whose first entry could not be written gets the content itself.
			const orphans: ContentFile[] = [];
			await mapConcurrent(links, ENTRY_CONCURRENCY, async ({item, key}) => {
				throwIfCancelled(options.signal);
				const source = linkTargets.get(key)!;
				if (!written.has(source)) {
					orphans.push(item);
					return;
				}
				try {
					progress.currentFile = item.rel;
					await restoreEntry(item.node, item.dest, resolveInside(root, source));
					written.add(item.rel);
					summary.filesRestored++;
					summary.bytesRestored += item.node.size ?? 0;
					progress.bytesDone += item.node.size ?? 0;
					progress.filesDone++;
					progress.maybeEmit();
				} catch (error) {
					if (error instanceof CancelledError) throw error;
					fail(item.rel, describeRestoreError(error));
				}
			});
			await writeContents(orphans);
		} finally {
			await codecs?.close();
			codecs = undefined;
		}
		throwIfCancelled(options.signal);
		// Directory metadata last, deepest first, because writing into a directory changes its times.
		for (const rel of [...dirOrder].reverse()) {
			if (badDirs.has(rel) || inBadDir(rel)) continue;
			try {
				const node = wanted.get(rel)!;
				// A directory created here in a plain directory already has the process's owner and group.
				const ownerIsSet = plain.has(rel) && node.uid === process.geteuid?.() && node.gid === process.getegid?.();
				applyDirectoryMetadata(resolveInside(root, rel), node, !ownerIsSet, (problem) => onXattrProblem(rel, problem));
			} catch (error) {
				fail(rel, `cannot set metadata: ${(error as Error).message}`);
			}
		}
		progress.currentFile = undefined;
		if (options.verify) {
			const restored = [...firsts, ...links.map((l) => l.item)].filter((item) => written.has(item.rel));
			summary.filesVerified = await verifyRestoredFiles(repo, restored, {signal: options.signal, onError: fail});
		}
		return summary;
	} finally {
		await codecs?.close();
		progress.finish();
		await lock?.release();
	}
}

/** The snapshot-relative path of the directory holding `rel` ('' for the root). */
function parentOf(rel: string): string {
	const slash = rel.lastIndexOf('/');
	return slash < 0 ? '' : rel.slice(0, slash);
}

function throwIfCancelled(signal?: AbortSignal): void {
	if (signal?.aborted) throw new CancelledError(CANCELLED_MESSAGE);
}

function describeRestoreError(error: unknown): string {
	return describeWriteError(error as NodeJS.ErrnoException);
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

/**
 * Makes sure `dest` is a real directory (never a symlink). Returns an error message, or whether
 * the directory was created (and so is empty).
 */
async function prepareDirectory(dest: string, overwrite: OverwriteMode): Promise<string | {created: boolean}> {
	try {
		await fs.mkdir(dest, {mode: 0o700});
		return {created: true};
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return describeRestoreError(error);
	}
	try {
		const stats = await fs.lstat(dest);
		if (stats.isDirectory()) return {created: false};
		if (overwrite !== 'always') return `exists and is not a directory (left untouched; use --overwrite always to replace it)`;
		await fs.rm(dest, {force: true});
		await fs.mkdir(dest, {mode: 0o700});
		return {created: true};
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

/**
 * Restores an entry other than a regular file's content: a hard link to a file restored already,
 * a symlink, a FIFO or a device (sockets are skipped), under a temporary name renamed into place.
 */
async function restoreEntry(node: TreeNode, dest: string, hardLinkSource?: string, onXattrProblem?: (problem: XattrWriteProblem) => void): Promise<'restored' | 'ignored'> {
	const temp = path.join(path.dirname(dest), `.cairn-restore-${randomBytes(6).toString('hex')}`);
	try {
		switch (node.type) {
			case 'file':
				if (!hardLinkSource) throw new Error('internal error: file content is written by the content writer');
				await fs.link(hardLinkSource, temp);
				await fs.rename(temp, dest);
				return 'restored';
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
		await applyMetadata(temp, node, node.type === 'symlink', onXattrProblem);
		await fs.rename(temp, dest);
		return 'restored';
	} catch (error) {
		await fs.rm(temp, {force: true}).catch(() => undefined);
		throw error;
	}
}

/** Sets owner (when running as root and `setOwner`), mode, times and extended attributes of a directory. */
function applyDirectoryMetadata(dest: string, node: TreeNode, setOwner: boolean, onXattrProblem: (problem: XattrWriteProblem) => void): void {
	if (setOwner && process.getuid?.() === 0) {
		try {
			fsSync.lchownSync(dest, node.uid, node.gid);
		} catch {
			// like restic: a failed chown is not fatal
		}
	}
	// Attributes before the mode: setting user.* needs write permission on the directory.
	for (const problem of writeXattrs({path: dest}, node.extended_attributes, process.getuid?.() === 0)) onXattrProblem(problem);
	if (node.mode !== undefined) fsSync.chmodSync(dest, goModeToUnixPermissions(node.mode));
	setPathTimes(dest, parseNodeTime(node.atime), parseNodeTime(node.mtime));
}

/** Sets mode, owner (when running as root), extended attributes and times (a symlink's own). */
async function applyMetadata(dest: string, node: TreeNode, isSymlink: boolean, onXattrProblem?: (problem: XattrWriteProblem) => void): Promise<void> {
	if (process.getuid?.() === 0) await fs.lchown(dest, node.uid, node.gid).catch(() => undefined);
	for (const problem of writeXattrs({path: dest}, node.extended_attributes, process.getuid?.() === 0)) onXattrProblem?.(problem);
	if (!isSymlink && node.mode !== undefined) await fs.chmod(dest, goModeToUnixPermissions(node.mode));
	setPathTimes(dest, parseNodeTime(node.atime), parseNodeTime(node.mtime), isSymlink);
}
