/**
 * Backup: walks the source paths, chunks and stores file contents, builds trees bottom-up and
 * saves a snapshot. Unchanged files (against the parent snapshot) are not read again.
 */
import * as fs from 'node:fs';
import type {BigIntStats} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {encodeTree, decodeTree, type Tree, type TreeNode} from '../format/tree.js';
import {formatGoTime, nowNs} from '../format/time.js';
import {CancelledError, CairnError} from '../errors.js';
import {Semaphore} from '../util/concurrency.js';
import {ProgressTracker, type ProgressListener} from '../progress.js';
import type {Repository} from '../repository/repository.js';
import {findSnapshotId, loadSnapshot, saveSnapshot, samePaths, listSnapshots} from '../repository/snapshots.js';
import {acquireLock} from '../repository/lock.js';
import {indexUnindexedPacks, listPacksAndLocks, type PackAndLockListings} from '../repository/unindexed-packs.js';
import {buildNode, isUnchanged, matchesUnchangedFile} from './node-from-stat.js';
import {resetStatTimes} from './stat-time.js';
import type {ExcludeMatcher} from './excludes.js';
import {compileSelection, type SelectionOptions} from './selection.js';
import {XattrReader} from './xattrs.js';
import {scanTotalsInWorker} from './scanner.js';
import {ChunkWorkerPool} from './worker-pool.js';
import {sameNode, sameNodes} from './same-nodes.js';
import {CIPHERTEXT_OVERHEAD} from '../crypto/cipher.js';
import {displayPath, isUtf8, joinPath, type FsPath} from './fs-path.js';
import {FileReadError} from './file-chunker.js';
import {readBuildInfo} from '../version.js';

/** What to back up and how (what to leave out: see {@link SelectionOptions}). */
export interface BackupOptions extends SelectionOptions {
	paths: string[];
	excludes?: string[];
	/** Save no snapshot and take no lock; the caller opens the repository on a dry-run storage. */
	dryRun?: boolean;
	/** Non-fatal notices (e.g. extended attributes unsupported, a bad tag file); not counted as errors. */
	onNotice?: (message: string) => void;
	tags?: string[];
	/** Hostname recorded in the snapshot (default: this host). */
	host?: string;
	/** Snapshot time in nanoseconds since the epoch (default: now). */
	time?: bigint;
	/** Parent snapshot ID; default the latest snapshot of this host with the same paths. `false` disables. */
	parent?: string | false;
	signal?: AbortSignal;
	onProgress?: ProgressListener;
	/** Called for every file or directory that could not be read; the backup goes on. */
	onWarning?: (path: string, message: string) => void;
	/** Take no lock (the caller holds one). */
	noLock?: boolean;
	/**
	 * Read some paths from elsewhere: recorded absolute path (as given in `paths`, resolved) to the
	 * directory or file actually read, e.g. a ZFS, LVM or btrfs snapshot of it. The snapshot records
	 * the recorded path, so restic lists and restores it there. Exclude patterns match the path read.
	 */
	readFrom?: Readonly<Record<string, string>>;
	/** Number of chunk worker threads (default: one per core). */
	workers?: number;
	/**
	 * Count the files and bytes to back up beside the backup, for progress totals and an ETA
	 * (default true). Callers that show no progress turn it off and save the second walk.
	 */
	scan?: boolean;
}

/** Counts in restic's summary shape. */
export interface BackupSummary {
	files_new: number;
	files_changed: number;
	files_unmodified: number;
	dirs_new: number;
	dirs_changed: number;
	dirs_unmodified: number;
	data_blobs: number;
	tree_blobs: number;
	/** Plaintext bytes of the blobs this backup added (restic's meaning). */
	data_added: number;
	/** Bytes those blobs take in the repository, compressed and encrypted. */
	data_added_packed: number;
	total_files_processed: number;
	total_bytes_processed: number;
	total_duration: number;
	snapshot_id: string;
	parent?: string;
	/** Number of files and directories that could not be read. */
	errors: number;
}

const PROGRAM_VERSION = `cairn ${readBuildInfo().version}`;
/**
 * Files handed to the chunk workers at once. Small files travel to the workers, and their
 * results back, in batches (see worker-protocol.ts); this lets the walk run far enough ahead to
 * fill them. A file in flight costs only its node and a few closures.
 */
const FILE_CONCURRENCY = 128;
/** Parent-snapshot trees loaded at once ahead of the walk. */
const TREE_PREFETCH = 16;
/**
 * The walk hands the event loop a turn after this long. An unchanged tree is walked with
 * synchronous stats and trees already loaded, on promises that resolve at once, so without a turn
 * no timer or I/O callback runs until it ends: the lock's recheck (due 200 ms after the lock was
 * written) then waited for the whole walk (measured: 400 ms instead of 200 on 10,000 files),
 * and its round trip came after it instead of beside it.
 */
const WALK_SLICE_MS = 10;

interface VirtualDir {
	/** Absolute path of this directory on disk. */
	abs: string;
	children: Map<string, VirtualDir | 'target'>;
}

interface Context {
	repo: Repository;
	exclude: ExcludeMatcher;
	/** Leaves out entries by their metadata (size, device). */
	rejectStats: (absolutePath: string, stats: BigIntStats) => boolean;
	xattrs: XattrReader;
	progress: ProgressTracker;
	summary: BackupSummary;
	fileSlots: Semaphore;
	/** The chunk workers, started when the first file has to be read. */
	pool: LazyPool;
	/** Settles once the repository may be written to (the lock is held); rejects when it cannot be. */
	writable: Promise<unknown>;
	signal?: AbortSignal;
	warn: (path: string, message: string) => void;
	/** Parent-snapshot trees being loaded ahead of the walk, by tree ID. */
	prefetched: Map<string, Promise<Map<string, TreeNode> | undefined>>;
	treeLoads: Semaphore;
	/** The path read for a target path (see BackupOptions.readFrom). */
	sourceOf: (recorded: string) => string;
	/** When the walk next hands the event loop a turn (performance.now(); see {@link WALK_SLICE_MS}). */
	nextTurn: number;
}

/** Hands the event loop a turn (call once the walk has run until {@link Context.nextTurn}). */
async function takeTurn(ctx: Context): Promise<void> {
	await new Promise<void>((resolve) => setImmediate(resolve));
	ctx.nextTurn = performance.now() + WALK_SLICE_MS;
}

function throwIfCancelled(signal?: AbortSignal): void {
	if (signal?.aborted) throw new CancelledError('backup cancelled: no snapshot was saved');
}

/** Starts the chunk workers on first use, so a backup with nothing to read starts none. */
class LazyPool {
	private pool: ChunkWorkerPool | undefined;

	constructor(private readonly start: () => ChunkWorkerPool) {}

	get(): ChunkWorkerPool {
		this.pool ??= this.start();
		return this.pool;
	}

	/** Waits until every blob the workers were told to store is in a stored pack. */
	async flush(): Promise<void> {
		await this.pool?.flush();
	}

	async close(): Promise<void> {
		await this.pool?.close();
	}
}

/** Builds the directory skeleton that leads from `/` to every target path. */
function buildSkeleton(targets: string[]): VirtualDir {
	const root: VirtualDir = {abs: '/', children: new Map()};
	for (const target of targets) {
		const parts = target.split('/').filter(Boolean);
		let dir = root;
		for (let i = 0; i < parts.length; i++) {
			const name = parts[i]!;
			if (i === parts.length - 1) {
				dir.children.set(name, 'target');
				break;
			}
			const existing = dir.children.get(name);
			if (existing === 'target') break; // an ancestor is itself a target: it covers this path
			let next = existing;
			if (!next) {
				next = {abs: '/' + parts.slice(0, i + 1).join('/'), children: new Map()};
				dir.children.set(name, next);
			}
			dir = next;
		}
	}
	return root;
}

/**
 * Runs a backup and saves a snapshot. Returns the summary with the snapshot ID.
 * Throws CairnError when no source path exists, CancelledError when the signal fires
 * (in which case uploaded packs are indexed for reuse and no snapshot is saved).
 */
export async function runBackup(repo: Repository, options: BackupOptions): Promise<BackupSummary> {
	const started = performance.now();
	resetStatTimes();
	const warnings: Array<[string, string]> = [];
	const warn = (p: string, message: string): void => {
		warnings.push([p, message]);
		summary.errors++;
		progress.errors++;
		options.onWarning?.(p, message);
	};
	const targets: string[] = [];
	const readFrom = new Map(Object.entries(options.readFrom ?? {}).map(([recorded, read]) => [path.resolve(recorded), path.resolve(read)]));
	const sourceOf = (recorded: string): string => readFrom.get(recorded) ?? recorded;
	for (const given of options.paths) {
		const abs = path.resolve(given);
		try {
			fs.lstatSync(sourceOf(abs));
			targets.push(abs);
		} catch (error) {
			warnings.push([abs, `cannot read source path: ${(error as Error).message}`]);
		}
	}
	if (targets.length === 0) {
		const list = warnings.map(([p, m]) => `${p}: ${m}`).join('; ');
		throw new CairnError(`nothing to back up: no source path exists (${list}). Check the paths and try again`);
	}
	const summary: BackupSummary = {
		files_new: 0, files_changed: 0, files_unmodified: 0, dirs_new: 0, dirs_changed: 0, dirs_unmodified: 0,
		data_blobs: 0, tree_blobs: 0, data_added: 0, data_added_packed: 0, total_files_processed: 0, total_bytes_processed: 0, total_duration: 0,
		snapshot_id: '', errors: 0,
	};
	const progress = new ProgressTracker('backup', options.onProgress);
	for (const [p, m] of warnings) {
		summary.errors++;
		progress.errors++;
		options.onWarning?.(p, m);
	}
	const notice = (message: string): void => options.onNotice?.(message);
	const selection = compileSelection(options, targets, notice);
	const hostname = options.host ?? os.hostname();
	// The index, the parent and the pack and lock listings are read at once, while the lock's
	// recheck waits (round trips at once on a slow link; see acquireLock's `meanwhile`).
	const prepared: {parent?: Promise<string | undefined>; listings?: PackAndLockListings} = {};
	let markPrepared!: () => void;
	const preparedReady = new Promise<void>((resolve) => {
		markPrepared = resolve;
	});
	const prepare = async (ownLock?: string): Promise<void> => {
		prepared.parent = findParent(repo, options, hostname, targets);
		prepared.parent.catch(() => undefined);
		if (!options.dryRun) prepared.listings = listPacksAndLocks(repo, options.signal, ownLock);
		await repo.loadIndex({signal: options.signal});
		markPrepared();
	};
	// The walk only reads (the source, the parent's trees, the index), so it starts as soon as the
	// index is loaded, while the lock's recheck still waits (restic sleeps 200 ms there); every
	// write to the repository (packs, trees, the index) waits until the lock is held. When the
	// lock cannot be taken, the walk is stopped and the lock's error is thrown.
	const walk = new AbortController();
	const stopWalk = (): void => walk.abort(options.signal?.reason);
	options.signal?.addEventListener('abort', stopWalk, {once: true});
	let lockError: {error: unknown} | undefined;
	const locking = options.noLock || options.dryRun ? undefined : acquireLock(repo, {exclusive: false, signal: options.signal, meanwhile: prepare});
	locking?.catch((error: unknown) => {
		lockError = {error};
		walk.abort(error);
	});
	const writable: Promise<unknown> = locking ?? Promise.resolve();
	try {
		if (!locking) await prepare();
		else await Promise.race([preparedReady, locking]);
		// Packs a killed backup uploaded but never indexed: index them (under the lock) so their blobs are reused.
		if (prepared.listings && await hasUnindexedPacks(repo, prepared.listings)) {
			await writable;
			await indexUnindexedPacks(repo, {signal: options.signal, listings: prepared.listings}).catch(() => undefined);
		}
		const parentId = await prepared.parent;
		const parentTree = parentId ? (await loadSnapshot(repo, parentId, options.signal)).tree : undefined;
		const exclude: ExcludeMatcher = (p) => selection.rejectByName(p);
		const scan = options.scan === false ? Promise.resolve() : scanTotalsInWorker({paths: targets.map(sourceOf), targets, selection: options}, exclude, options.signal).then((totals) => {
			progress.filesTotal = totals.files;
			progress.bytesTotal = totals.bytes;
		}, () => undefined);
		const pool = new LazyPool(() => new ChunkWorkerPool({
			polynomial: repo.config.chunker_polynomial,
			key: repo.key,
			compression: repo.compression,
			packSize: repo.packSize,
			isKnown: (id) => repo.index.has('data', id),
			storePack: async (bytes, id, blobs) => {
				await writable;
				return repo.storePack(bytes, id, blobs, options.signal);
			},
			onBlobStored: (blob) => {
				summary.data_blobs++;
				summary.data_added += blob.uncompressedLength || blob.length - CIPHERTEXT_OVERHEAD;
				summary.data_added_packed += blob.length;
			},
		}, options.workers));
		const ctx: Context = {
			repo, exclude, progress, summary, pool, writable,
			rejectStats: (p, stats) => selection.rejectByStats(p, stats),
			xattrs: new XattrReader(warn, notice),
			fileSlots: new Semaphore(FILE_CONCURRENCY),
			prefetched: new Map(),
			treeLoads: new Semaphore(TREE_PREFETCH),
			signal: walk.signal, warn, sourceOf,
			nextTurn: performance.now() + WALK_SLICE_MS,
		};
		let treeId: string;
		try {
			treeId = await saveVirtualDir(ctx, buildSkeleton(targets), parentTree);
			await writable;
			// The last tree pack goes up beside the workers' last data packs (a round trip less on a
			// slow link); the index is written once all of them are stored.
			const stored = await Promise.allSettled([pool.flush(), repo.uploadOpenPacks(options.signal)]);
			for (const result of stored) if (result.status === 'rejected') throw result.reason;
			await repo.flush(options.signal);
		} catch (error) {
			await pool.close();
			await repo.salvage().catch(() => undefined);
			if (lockError) throw lockError.error;
			if (options.signal?.aborted) throw new CancelledError('backup cancelled: no snapshot was saved; uploaded data is indexed and the next backup reuses it', {cause: error});
			throw error;
		}
		await pool.close();
		await scan;
		throwIfCancelled(options.signal);
		const user = os.userInfo();
		summary.total_duration = (performance.now() - started) / 1000;
		if (!options.dryRun) summary.snapshot_id = await saveSnapshot(repo, {
			time: formatGoTime(options.time ?? nowNs()),
			parent: parentId,
			tree: treeId,
			paths: targets,
			hostname,
			username: user.username,
			uid: user.uid,
			gid: user.gid,
			excludes: options.excludes?.length ? options.excludes : undefined,
			tags: options.tags?.length ? options.tags : undefined,
			program_version: PROGRAM_VERSION,
		}, options.signal);
		if (parentId) summary.parent = parentId;
		progress.currentFile = undefined;
		progress.finish();
		return summary;
	} finally {
		progress.finish();
		options.signal?.removeEventListener('abort', stopWalk);
		const lock = await locking?.catch(() => undefined);
		await lock?.release();
	}
}

/** Whether the storage holds packs the index does not know (or the listing failed: then look again under the lock). */
async function hasUnindexedPacks(repo: Repository, listings: PackAndLockListings): Promise<boolean> {
	try {
		return (await listings.packs).some((info) => !repo.index.hasPack(info.name));
	} catch {
		return true;
	}
}

async function findParent(repo: Repository, options: BackupOptions, hostname: string, targets: string[]): Promise<string | undefined> {
	if (options.parent === false) return undefined;
	if (typeof options.parent === 'string') return findSnapshotId(repo, options.parent, {}, options.signal);
	const snapshots = await listSnapshots(repo, {signal: options.signal, onError: () => undefined});
	const candidates = snapshots.filter((s) => s.hostname === hostname && samePaths(s.paths, targets));
	return candidates.at(-1)?.id;
}

async function loadParentTree(ctx: Context, id: string | undefined): Promise<Map<string, TreeNode> | undefined> {
	if (!id) return undefined;
	const prefetched = ctx.prefetched.get(id);
	if (prefetched) {
		ctx.prefetched.delete(id);
		return prefetched;
	}
	return fetchParentTree(ctx, id);
}

/** Loads and decodes one parent tree; undefined when it cannot be read. */
async function fetchParentTree(ctx: Context, id: string): Promise<Map<string, TreeNode> | undefined> {
	try {
		const tree: Tree = decodeTree(await ctx.repo.loadBlob('tree', id, ctx.signal), id);
		const nodes = new Map<string, TreeNode>();
		for (const node of tree.nodes) nodes.set(node.name, node);
		return nodes;
	} catch {
		return undefined; // an unreadable parent only means files are read again
	}
}

/**
 * Starts loading the parent trees of a directory's subdirectories, so that the walk, which
 * visits them one after another, finds them loaded. Returns the IDs it started.
 */
function prefetchSubtrees(ctx: Context, previousNodes: Map<string, TreeNode> | undefined): string[] {
	const started: string[] = [];
	if (!previousNodes) return started;
	for (const node of previousNodes.values()) {
		const id = node.type === 'dir' ? node.subtree : undefined;
		if (!id || ctx.prefetched.has(id)) continue;
		ctx.prefetched.set(id, ctx.treeLoads.run(() => fetchParentTree(ctx, id)));
		started.push(id);
	}
	return started;
}

async function saveTree(ctx: Context, nodes: TreeNode[]): Promise<string> {
	const bytes = encodeTree(nodes);
	await ctx.writable;
	const result = await ctx.repo.saveBlob('tree', bytes, undefined, ctx.signal);
	if (!result.known) {
		ctx.summary.tree_blobs++;
		ctx.summary.data_added += bytes.length;
		ctx.summary.data_added_packed += result.storedSize;
	}
	return result.id;
}

/**
 * An entry whose walk is done: its node is final once `finished` resolves (undefined when it was
 * left out). A rejection of `finished` is a failure of the whole backup.
 */
interface StartedEntry {
	finished: Promise<TreeNode | undefined>;
}

/** Wraps a node promise; its rejection is handled later, by whoever awaits the directory. */
function startedFrom(finished: Promise<TreeNode | undefined>): StartedEntry {
	finished.catch(() => undefined);
	return {finished};
}

/** Saves an intermediate directory of the skeleton (metadata from disk, children limited to targets). */
async function saveVirtualDir(ctx: Context, dir: VirtualDir, parentTreeId: string | undefined): Promise<string> {
	const previous = await loadParentTree(ctx, parentTreeId);
	const pending: Array<Promise<TreeNode | undefined>> = [];
	for (const [name, child] of dir.children) {
		const abs = path.posix.join(dir.abs, name);
		if (child === 'target') {
			const walked = startEntry(ctx, ctx.sourceOf(abs), name, previous?.get(name));
			if (walked instanceof Promise) {
				const started = await walked;
				if (started) pending.push(started.finished);
			} else if (walked) {
				pending.push(Promise.resolve(walked));
			}
			continue;
		}
		let stats: BigIntStats;
		try {
			stats = fs.lstatSync(abs, {bigint: true});
		} catch (error) {
			ctx.warn(abs, `cannot read directory: ${(error as Error).message}`);
			continue;
		}
		const node = buildNode(name, stats);
		ctx.xattrs.fill(abs, node, stats.dev);
		node.subtree = await saveVirtualDir(ctx, child, previous?.get(name)?.subtree);
		pending.push(Promise.resolve(node));
	}
	const nodes: TreeNode[] = [];
	for (const finished of pending) {
		const node = await finished;
		if (node) nodes.push(node);
	}
	return saveTree(ctx, nodes);
}

/**
 * Walks one file system entry and starts saving it. Like restic's archiver, the walk is depth
 * first and one entry at a time; it waits only for a free file slot (so it runs ahead of the
 * readers by a bounded amount) and for the walk of subdirectories, never for file contents or
 * trees to be stored. Returns undefined when the entry is excluded or unreadable, the final node
 * when it is known at once (an unchanged file, a symlink, a device: no promise for those), else
 * the entry whose node is final later.
 *
 * An entry whose node would equal its node in the parent snapshot field for field is represented
 * by that very node object: the directory then sees at a glance that nothing changed.
 */
function startEntry(ctx: Context, abs: FsPath, name: string, previous: TreeNode | undefined): TreeNode | Promise<StartedEntry | undefined> | undefined {
	throwIfCancelled(ctx.signal);
	const shown = typeof abs === 'string' ? abs : displayPath(abs);
	if (ctx.exclude(shown)) return undefined;
	let stats: BigIntStats;
	try {
		// Synchronous on purpose: a metadata call answered from the inode cache costs far less
		// than a trip through libuv's pool, whose threads are busy compressing (restic's walker
		// also stats one entry at a time).
		stats = fs.lstatSync(abs, {bigint: true});
	} catch (error) {
		ctx.warn(shown, `cannot read: ${(error as Error).message}`);
		return undefined;
	}
	if (ctx.rejectStats(shown, stats)) return undefined;
	const format = Number(stats.mode) & fs.constants.S_IFMT;
	const attributes = ctx.xattrs.read(abs, format === fs.constants.S_IFLNK, stats.dev);
	if (format === fs.constants.S_IFREG && previous !== undefined && matchesUnchangedFile(previous, name, stats, attributes)
		&& previous.content!.every((id) => ctx.repo.index.has('data', id))) {
		ctx.progress.bytesDone += previous.size ?? 0;
		countFile(ctx, previous, 'files_unmodified');
		return previous;
	}
	const node = buildNode(name, stats);
	if (attributes) node.extended_attributes = attributes;
	switch (node.type) {
		case 'file':
			return startFile(ctx, abs, node, previous);
		case 'dir':
			return startDirectory(ctx, abs, node, previous);
		case 'symlink':
			try {
				const target = fs.readlinkSync(abs, {encoding: 'buffer'});
				node.linktarget = target.toString('utf8');
				if (!isUtf8(target)) node.linktarget_raw = target.toString('base64');
			} catch (error) {
				ctx.warn(shown, `cannot read symlink: ${(error as Error).message}`);
				return undefined;
			}
			return previous !== undefined && sameNode(node, previous) ? previous : node;
		default:
			return previous !== undefined && sameNode(node, previous) ? previous : node;
	}
}

/** A directory entry being saved: its final node, or the promise of it. */
interface WalkedEntry {
	path: FsPath;
	node?: TreeNode;
	finished?: Promise<TreeNode | undefined>;
}

/** Walks a directory's entries in order; its tree is saved once every entry is finished. */
async function startDirectory(ctx: Context, abs: FsPath, node: TreeNode, previous: TreeNode | undefined): Promise<StartedEntry | undefined> {
	let names: Buffer[];
	try {
		names = fs.readdirSync(abs, {encoding: 'buffer'});
	} catch (error) {
		ctx.warn(displayPath(abs), `cannot read directory: ${(error as Error).message}`);
		return undefined;
	}
	const previousNodes = await loadParentTree(ctx, previous?.type === 'dir' ? previous.subtree : undefined);
	const prefetching = prefetchSubtrees(ctx, previousNodes);
	const entries: WalkedEntry[] = [];
	try {
		for (const raw of names) {
			if (performance.now() >= ctx.nextTurn) await takeTurn(ctx);
			const child = joinPath(abs, raw);
			const walked = startEntry(ctx, child.path, child.name, previousNodes?.get(child.name));
			if (walked === undefined) continue;
			if (walked instanceof Promise) {
				const started = await walked;
				if (started) entries.push({path: child.path, finished: started.finished});
			} else {
				entries.push({path: child.path, node: walked});
			}
		}
	} finally {
		// Subdirectories that are gone (or excluded) leave their prefetched trees unclaimed.
		for (const id of prefetching) ctx.prefetched.delete(id);
	}
	return startedFrom(finishDirectory(ctx, node, previous, entries, previousNodes));
}

/** Waits for a directory's entries, then saves its tree (or reuses the parent's). */
async function finishDirectory(ctx: Context, node: TreeNode, previous: TreeNode | undefined, entries: WalkedEntry[], previousNodes?: Map<string, TreeNode>): Promise<TreeNode> {
	const children = new Map<string, TreeNode>();
	// Whether every entry is its parent snapshot's node itself (see startEntry).
	let allReused = previousNodes !== undefined;
	for (const entry of entries) {
		const saved = entry.node ?? await entry.finished;
		if (!saved) continue;
		if (children.has(saved.name)) {
			// Two names that are not valid UTF-8 can decode to the same text; a tree holds each name once.
			ctx.warn(displayPath(entry.path), 'left out: its name is not valid UTF-8 and collides with another entry once decoded');
			continue;
		}
		children.set(saved.name, saved);
		if (allReused && previousNodes!.get(saved.name) !== saved) allReused = false;
	}
	throwIfCancelled(ctx.signal);
	// Every entry as in the parent snapshot: its tree blob is the same, so it is neither encoded
	// nor hashed again (the blob must still be in the index).
	const reusable = previous?.type === 'dir' ? previous.subtree : undefined;
	const same = previousNodes !== undefined && (allReused ? children.size === previousNodes.size : sameNodes(children, previousNodes));
	node.subtree = reusable && same && ctx.repo.index.has('tree', reusable)
		? reusable
		: await saveTree(ctx, [...children.values()]);
	if (!previous) ctx.summary.dirs_new++;
	else if (previous.subtree === node.subtree) ctx.summary.dirs_unmodified++;
	else ctx.summary.dirs_changed++;
	// The parent's own node, when this one equals it: the parent directory then compares at a glance.
	return previous !== undefined && previous.subtree === node.subtree && sameNode(node, previous) ? previous : node;
}

/** Counts a file as processed. */
function countFile(ctx: Context, node: TreeNode, kind: 'files_new' | 'files_changed' | 'files_unmodified'): void {
	ctx.summary[kind]++;
	ctx.summary.total_files_processed++;
	ctx.summary.total_bytes_processed += node.size ?? 0;
	ctx.progress.filesDone++;
	ctx.progress.maybeEmit();
}

/** Starts saving a file: reuses the parent's content when unchanged, else reads it in a worker. */
async function startFile(ctx: Context, abs: FsPath, node: TreeNode, previous: TreeNode | undefined): Promise<StartedEntry> {
	if (previous && isUnchanged(previous, node) && previous.content!.every((id) => ctx.repo.index.has('data', id))) {
		node.content = [...previous.content!];
		ctx.progress.bytesDone += node.size ?? 0;
		countFile(ctx, node, 'files_unmodified');
		return startedFrom(Promise.resolve(node));
	}
	const release = await ctx.fileSlots.acquire();
	if (ctx.signal?.aborted) release();
	throwIfCancelled(ctx.signal);
	ctx.progress.currentFile = displayPath(abs);
	return startedFrom(readFileChunks(ctx, abs).then((read) => {
		if (!read) return undefined;
		node.content = read.ids;
		node.size = read.size;
		countFile(ctx, node, previous ? 'files_changed' : 'files_new');
		return node;
	}).finally(release));
}

/** Chunks a file in a worker and stores its new blobs; returns the blob IDs in order, or undefined when it cannot be read. */
async function readFileChunks(ctx: Context, abs: FsPath): Promise<{ids: string[]; size: number} | undefined> {
	const ids: string[] = [];
	try {
		const size = await ctx.pool.get().processFile(abs, (chunk) => {
			ids.push(chunk.id);
			ctx.progress.bytesDone += chunk.length;
		});
		return {ids, size};
	} catch (error) {
		if (error instanceof FileReadError) {
			ctx.warn(displayPath(abs), error.message);
			return undefined;
		}
		throw error;
	}
}

