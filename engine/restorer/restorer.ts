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
import {acquireLock, type HeldLock} from '../repository/lock.js';
import {walkTree, type TreeSource} from './walk.js';
import {CANCELLED_MESSAGE, ContentFlow, describeWriteError, parseNodeTime, writeFileContents, type ContentFile} from './content.js';
import {setPathTimes, writeXattrs, type XattrWriteProblem} from '../util/file-metadata.js';
import {verifyRestoredFiles} from './verify.js';
import {BlobCodecPool} from '../repository/codec-pool.js';
import {findDefaultWorkerCount} from '../archiver/worker-pool.js';
import {limitHeapGrowth} from './heap-growth.js';

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
	/** Entries per window (default {@link RESTORE_WINDOW_ENTRIES}); smaller saves memory, larger pauses the workers less often. */
	windowEntries?: number;
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

/**
 * A directory met by the walk. Frames live while the walk is inside the directory (and while a
 * window still refers to them), so the restore holds the directories on the walk's path, not all.
 */
interface DirFrame {
	readonly rel: string;
	/** Undefined for the target itself. */
	readonly node?: TreeNode;
	readonly parent?: DirFrame;
	/** Entries below are included (includes mode). */
	included: boolean;
	/** The restore creates this directory and sets its metadata. */
	wanted: boolean;
	/** Created by this run (so empty: its entries need no overwrite check). */
	fresh: boolean;
	/** Created by this run and not setgid (see {@link ContentFile.plainDirectory}). */
	plain: boolean;
	/** It, or a directory above it, could not be prepared: nothing is restored below. */
	bad: boolean;
}

/** A non-directory entry to restore, with its directory. */
interface WindowEntry {
	readonly rel: string;
	readonly node: TreeNode;
	readonly parent: DirFrame;
}

/** An entry with its absolute destination; `plainDirectory` as in {@link ContentFile}. */
interface PlacedItem extends ContentFile {
	/** Identity shared with its hard links, for files with more than one link. */
	readonly linkKey?: string;
}

/**
 * A slice of the snapshot restored as one unit: the directories to create, the entries, and the
 * directories the walk has left since the last window (their metadata is set once the entries
 * are written, since writing into a directory changes its times).
 */
interface RestoreWindow {
	dirs: DirFrame[];
	entries: WindowEntry[];
	left: DirFrame[];
}

/** The first file of a set of hard links, and whether it was written. */
interface LinkSource {
	readonly rel: string;
	written: boolean;
}

/**
 * Entries (files, links, directories) per window. A window's plan (nodes, file states, pieces)
 * is all the restore holds besides the walk's path and the planned directories, about 1.3 KiB
 * per entry, so this trades memory against the pauses at a window's end (the next window's reads
 * start while the last drains, which hides most of them).
 */
export const RESTORE_WINDOW_ENTRIES = 8192;

/** Entries other than file contents (links, symlinks, devices) restored at once. */
const ENTRY_CONCURRENCY = 6;
/** Directories of one level created at once. */
const DIRECTORY_CONCURRENCY = 8;
/** Existing entries checked against the overwrite policy at once. */
const CHECK_CONCURRENCY = 16;
/** Files handed to the read-back check at once. */
const VERIFY_BATCH = 512;
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

/** What the selection makes of one entry: restored or not, and whether to walk below it. */
type Choice = {selected: boolean; descend: boolean; included: boolean};

/** The selection of {@link RestoreOptions} as one function of an entry and its directory. */
function compileSelection(options: RestoreOptions): (rel: string, node: TreeNode, parentIncluded: boolean) => Choice {
	const select = options.select;
	if (select) {
		return (rel, node) => {
			const {selected, childMayBeSelected} = select(`/${rel}`, node);
			return {selected, descend: node.type === 'dir' ? childMayBeSelected : true, included: false};
		};
	}
	const included = compileIncludes(options.includes ?? []);
	return (rel, _node, parentIncluded) => {
		const isIncluded = included === undefined || parentIncluded || included(rel);
		return {selected: isIncluded, descend: true, included: isIncluded};
	};
}

/**
 * Walks the selected part of a snapshot, calling `onEntry` for each selected entry with its
 * directory's frame, `onLeave` after a directory's contents. Frames carry the selection state.
 */
async function walkSelection(
	repo: Repository,
	treeId: string,
	root: DirFrame,
	options: RestoreOptions,
	handlers: {onEntry(rel: string, node: TreeNode, parent: DirFrame, frame: DirFrame | undefined): void | Promise<void>; onLeave?(frame: DirFrame): void | Promise<void>; onUnsafe?(rel: string, reason: string): void},
): Promise<void> {
	const choose = compileSelection(options);
	const stack: DirFrame[] = [root];
	await walkTree(repo, treeId, async ({path: rel, node}) => {
		const parent = stack.at(-1)!;
		const choice = choose(rel, node, parent.included);
		let frame: DirFrame | undefined;
		if (node.type === 'dir') frame = {rel, node, parent, included: choice.included, wanted: false, fresh: false, plain: false, bad: false};
		if (choice.selected) await handlers.onEntry(rel, node, parent, frame);
		if (frame === undefined) return true;
		if (choice.descend && node.subtree) {
			stack.push(frame);
			return true;
		}
		await handlers.onLeave?.(frame);
		return false;
	}, {
		signal: options.signal,
		onUnsafe: handlers.onUnsafe,
		loadTree: options.loadTree,
		leave: async () => {
			// Popped whether or not there is a handler.
			const frame = stack.pop()!;
			await handlers.onLeave?.(frame);
		},
	});
}

/** A fresh frame for the target directory. */
function createRootFrame(): DirFrame {
	return {rel: '', included: false, wanted: true, fresh: false, plain: false, bad: false};
}

/**
 * Restores a snapshot into `target`. Resolves with a summary; entry failures are collected, not thrown.
 *
 * A first walk of the trees counts the totals and creates every directory of the selection; a
 * second walk restores the entries in windows of {@link RESTORE_WINDOW_ENTRIES} (the next window
 * is gathered while one is written), so memory does not grow with the number of files. `verify`
 * walks the snapshot again afterwards.
 */
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
	const releaseHeap = limitHeapGrowth();
	let lock: HeldLock | undefined;
	try {
		// The index is loaded while the lock's recheck waits (two round trips less on a slow link).
		const loadIndex = (): Promise<void> => repo.loadIndex({signal: options.signal});
		if (options.noLock) await loadIndex();
		else lock = await acquireLock(repo, {exclusive: false, signal: options.signal, meanwhile: loadIndex});
	} catch (error) {
		releaseHeap();
		throw error;
	}
	// Started now, so that the workers are ready when the contents are written.
	let codecs: BlobCodecPool | undefined = new BlobCodecPool(repo.key, findDefaultWorkerCount());
	try {
		const snapshot = await loadSnapshot(repo, snapshotId, options.signal);
		throwIfCancelled(options.signal);
		const rootFrame = createRootFrame();
		// Directories created by this run are empty: what goes into them needs no check against existing files.
		if ((await fs.mkdir(root, {recursive: true})) !== undefined) rootFrame.fresh = true;
		// Created directories that are not setgid: a new file there gets the restoring process's group.
		if (rootFrame.fresh && ((await fs.lstat(root)).mode & 0o2000) === 0) rootFrame.plain = true;
		/** Directories that could not be prepared (few): the read-back check skips what lies below. */
		const badDirs = new Set<string>();
		// First pass (trees only): the progress totals and every directory to create. Directories are
		// all created before any file, as ext4 then places file inodes cheaply: created window by
		// window, file creation took 2.5 times the system time (perf: inode allocation).
		const dirFrames = await planDirectories(repo, snapshot.tree, rootFrame, options, progress);
		const linkSources = new Map<string, LinkSource>();
		const context: WindowContext = {repo, root, overwrite, options, summary, progress, fail, onXattrProblem, badDirs, linkSources, codecs, flow: new ContentFlow()};
		await prepareDirectories(context, [...dirFrames.values()]);

		const windowEntries = Math.max(1, options.windowEntries ?? RESTORE_WINDOW_ENTRIES);
		let window: RestoreWindow = {dirs: [], entries: [], left: []};
		let size = 0;
		/** The window written last; each window finishes after the one before it. */
		let writing: Promise<void> | undefined;
		/** Every window not yet settled (all are awaited before the workers stop). */
		const running = new Set<Promise<void>>();
		/** Resolves once the last window's reads are all started (or it ended). */
		let dispatched: Promise<void> = Promise.resolve();
		/** Hands the gathered window to the writer once the previous one has started its last reads. */
		let failed: {error: unknown} | undefined;
		const submit = async (): Promise<void> => {
			await dispatched;
			if (failed) throw failed.error;
			const ready = window;
			window = {dirs: [], entries: [], left: []};
			size = 0;
			let markDispatched!: () => void;
			dispatched = new Promise((resolve) => (markDispatched = resolve));
			const job = restoreWindow(context, ready, writing, markDispatched);
			writing = job;
			running.add(job);
			void job.then(markDispatched, markDispatched).finally(() => running.delete(job));
			// A failed window stops the walk at the next submit.
			job.catch((error: unknown) => (failed ??= {error}));
		};
		try {
			await walkSelection(repo, snapshot.tree, createRootFrame(), options, {
				onEntry: async (rel, node) => {
					summary.matched++;
					if (node.type !== 'dir') {
						window.entries.push({rel, node, parent: dirFrames.get(parentOf(rel)) ?? rootFrame});
						size++;
					}
					if (size >= windowEntries) await submit();
				},
				onLeave: (frame) => {
					const planned = dirFrames.get(frame.rel);
					if (planned === undefined) return;
					dirFrames.delete(frame.rel);
					window.left.push(planned);
					size++;
				},
				onUnsafe: (rel, reason) => fail(rel, `refused: ${reason}`),
			});
			await submit();
			await writing;
		} catch (error) {
			// A tree load stopped by the signal says so in the restore's words.
			if (options.signal?.aborted && !(error instanceof CancelledError)) throw new CancelledError(CANCELLED_MESSAGE);
			throw error;
		} finally {
			// Nothing may write once the workers stop (an error or cancellation ends the walk early).
			while (running.size > 0) await Promise.allSettled([...running]);
			await codecs?.close();
			codecs = undefined;
		}
		progress.currentFile = undefined;
		throwIfCancelled(options.signal);
		if (options.verify) summary.filesVerified = await verifySelection(repo, snapshot.tree, root, options, summary, badDirs, fail);
		return summary;
	} finally {
		await codecs?.close();
		releaseHeap();
		progress.finish();
		await lock?.release();
	}
}

/** What {@link restoreWindow} works with: the run's settings, reporting and state across windows. */
interface WindowContext {
	readonly repo: Repository;
	readonly root: string;
	readonly overwrite: OverwriteMode;
	readonly options: RestoreOptions;
	readonly summary: RestoreSummary;
	readonly progress: ProgressTracker;
	readonly fail: (rel: string, message: string) => void;
	readonly onXattrProblem: (rel: string, problem: XattrWriteProblem) => void;
	readonly badDirs: Set<string>;
	/** First file of each set of hard links met so far (only files with several links). */
	readonly linkSources: Map<string, LinkSource>;
	readonly codecs: BlobCodecPool;
	/** Reads in flight across windows (the next window starts while the last drains). */
	readonly flow: ContentFlow;
}

/**
 * The first pass: walks the selection (trees only) for the progress totals, and returns every
 * directory the restore creates (selected ones and those leading to selected entries), parents
 * first, keyed by path. Only directories are kept: a few per cent of a snapshot's entries.
 */
async function planDirectories(repo: Repository, treeId: string, root: DirFrame, options: RestoreOptions, progress: ProgressTracker): Promise<Map<string, DirFrame>> {
	const frames = new Map<string, DirFrame>();
	let files = 0;
	let bytes = 0;
	const want = (frame: DirFrame): void => {
		const chain: DirFrame[] = [];
		for (let at: DirFrame | undefined = frame; at && !at.wanted; at = at.parent) chain.push(at);
		for (let i = chain.length - 1; i >= 0; i--) {
			chain[i]!.wanted = true;
			frames.set(chain[i]!.rel, chain[i]!);
		}
	};
	await walkSelection(repo, treeId, root, options, {
		onEntry: (_rel, node, parent, frame) => {
			if (frame) want(frame);
			else want(parent);
			if (node.type !== 'file') return;
			files++;
			bytes += node.size ?? 0;
		},
	});
	progress.filesTotal = files;
	progress.bytesTotal = bytes;
	return frames;
}

/**
 * Restores one window: creates its directories (level by level), checks existing entries against
 * the overwrite policy, writes file contents and other entries, makes hard links, then sets the
 * metadata of the directories the walk has left.
 */
async function restoreWindow(context: WindowContext, window: RestoreWindow, previous: Promise<void> | undefined, onDispatched: () => void): Promise<void> {
	const {root, overwrite, options, summary, progress, fail, onXattrProblem, linkSources, repo, codecs, flow} = context;

	// Existing entries are checked against the overwrite policy first (only outside fresh directories).
	const todo: PlacedItem[] = [];
	const unchecked: PlacedItem[] = [];
	for (const entry of window.entries) {
		if (entry.parent.bad) continue;
		let dest: string;
		try {
			dest = resolveInside(root, entry.rel);
		} catch (error) {
			fail(entry.rel, describeRestoreError(error));
			continue;
		}
		const item: PlacedItem = {rel: entry.rel, node: entry.node, dest, plainDirectory: entry.parent.plain, linkKey: findHardLinkKey(entry.node)};
		(entry.parent.fresh ? todo : unchecked).push(item);
	}
	if (unchecked.length > 0) {
		const allowed = await mapConcurrent(unchecked, CHECK_CONCURRENCY, async (item) => {
			throwIfCancelled(options.signal);
			return mayReplace(item.dest, item.node, overwrite);
		});
		for (const [index, item] of unchecked.entries()) {
			if (allowed[index]) continue;
			summary.skipped.push(item.rel);
			if (item.node.type === 'file') {
				progress.bytesDone += item.node.size ?? 0;
				progress.filesDone++;
			}
		}
		todo.push(...unchecked.filter((_, index) => allowed[index]));
	}

	// Hard links: the first entry of each (device, inode) is written, the others link to it.
	const firsts: PlacedItem[] = [];
	const links: PlacedItem[] = [];
	const others: PlacedItem[] = [];
	for (const item of todo) {
		if (item.node.type !== 'file') others.push(item);
		else if (item.linkKey && linkSources.has(item.linkKey)) links.push(item);
		else {
			if (item.linkKey) linkSources.set(item.linkKey, {rel: item.rel, written: false});
			firsts.push(item);
		}
	}
	const writeContents = async (files: PlacedItem[], dispatched?: () => void): Promise<void> => {
		if (files.length === 0) return dispatched?.();
		await writeFileContents(repo, codecs, files, {
			onRestored: (file) => {
				const key = (file as PlacedItem).linkKey;
				const source = key === undefined ? undefined : linkSources.get(key);
				if (source && source.rel === file.rel) source.written = true;
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
		}, {signal: options.signal, onDispatched: dispatched, flow});
	};
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
	const outcomes = await Promise.allSettled([otherEntries, writeContents(firsts, onDispatched)]);
	for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
	// Links may point into the previous window, and directories left now may hold its entries.
	await previous;
	// A link whose first entry could not be written gets the content itself.
	const orphans: PlacedItem[] = [];
	await mapConcurrent(links, ENTRY_CONCURRENCY, async (item) => {
		throwIfCancelled(options.signal);
		const source = linkSources.get(item.linkKey!)!;
		if (!source.written) {
			orphans.push(item);
			return;
		}
		try {
			progress.currentFile = item.rel;
			await restoreEntry(item.node, item.dest, resolveInside(root, source.rel));
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
	throwIfCancelled(options.signal);
	// Directory metadata last, deepest first (the walk leaves them in that order), because writing
	// into a directory changes its times.
	for (const frame of window.left) {
		if (frame.bad || frame.rel === '') continue;
		try {
			const node = frame.node!;
			// A directory created here in a plain directory already has the process's owner and group.
			const ownerIsSet = frame.plain && node.uid === process.geteuid?.() && node.gid === process.getegid?.();
			applyDirectoryMetadata(resolveInside(root, frame.rel), node, !ownerIsSet, (problem) => onXattrProblem(frame.rel, problem));
		} catch (error) {
			fail(frame.rel, `cannot set metadata: ${(error as Error).message}`);
		}
	}
}

/** Creates a window's directories level by level (parents first), several of a level at once. */
async function prepareDirectories(context: WindowContext, dirs: readonly DirFrame[]): Promise<void> {
	const {root, overwrite, options, summary, fail, badDirs} = context;
	const depthOf = (frame: DirFrame): number => frame.rel.split('/').length;
	const ordered = [...dirs].sort((a, b) => depthOf(a) - depthOf(b));
	for (let start = 0; start < ordered.length;) {
		let end = start;
		const depth = depthOf(ordered[start]!);
		while (end < ordered.length && depthOf(ordered[end]!) === depth) end++;
		await mapConcurrent(ordered.slice(start, end), DIRECTORY_CONCURRENCY, async (frame) => {
			throwIfCancelled(options.signal);
			if (frame.parent?.bad) {
				frame.bad = true;
				return;
			}
			const outcome = await prepareDirectory(resolveInside(root, frame.rel), overwrite);
			if (typeof outcome === 'string') {
				frame.bad = true;
				badDirs.add(frame.rel);
				fail(frame.rel, outcome);
				return;
			}
			summary.dirsRestored++;
			if (outcome.created) frame.fresh = true;
			if (outcome.created && frame.parent?.plain) frame.plain = true;
		});
		start = end;
	}
}

/**
 * `verify`: walks the selection again and reads back every file the restore wrote (not those that
 * failed, were skipped, or lie below a directory that could not be prepared), in batches.
 */
async function verifySelection(repo: Repository, treeId: string, root: string, options: RestoreOptions, summary: RestoreSummary, badDirs: ReadonlySet<string>, fail: (rel: string, message: string) => void): Promise<number> {
	const notWritten = new Set<string>([...summary.skipped, ...summary.errors.map((e) => e.path)]);
	const inBadDir = (rel: string): boolean => {
		if (badDirs.size === 0) return false;
		for (let ancestor = parentOf(rel); ancestor !== ''; ancestor = parentOf(ancestor)) if (badDirs.has(ancestor)) return true;
		return false;
	};
	let verified = 0;
	let batch: Array<{rel: string; dest: string; node: TreeNode}> = [];
	const flush = async (): Promise<void> => {
		const files = batch;
		batch = [];
		verified += await verifyRestoredFiles(repo, files, {signal: options.signal, onError: fail});
	};
	await walkSelection(repo, treeId, createRootFrame(), options, {
		onEntry: async (rel, node) => {
			if (node.type !== 'file' || notWritten.has(rel) || inBadDir(rel)) return;
			batch.push({rel, node, dest: resolveInside(root, rel)});
			if (batch.length >= VERIFY_BATCH) await flush();
		},
	});
	await flush();
	return verified;
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
