/**
 * Backup: walks the source paths, chunks and stores file contents, builds trees bottom-up and
 * saves a snapshot. Unchanged files (against the parent snapshot) are not read again.
 */
import * as fs from 'node:fs/promises';
import type {BigIntStats} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {encodeTree, decodeTree, type Tree, type TreeNode} from '../format/tree.js';
import {formatGoTime, nowNs, parseGoTime} from '../format/time.js';
import {CancelledError, CairnError} from '../errors.js';
import {Semaphore} from '../util/concurrency.js';
import {ProgressTracker, type ProgressListener} from '../progress.js';
import type {Repository} from '../repository/repository.js';
import {findSnapshotId, loadSnapshot, saveSnapshot, samePaths, listSnapshots} from '../repository/snapshots.js';
import {acquireLock} from '../repository/lock.js';
import {indexUnindexedPacks} from '../repository/unindexed-packs.js';
import {buildNode, isUnchanged} from './node-from-stat.js';
import {compileExcludes, type ExcludeMatcher} from './excludes.js';
import {scanTotals} from './scanner.js';
import {ChunkWorkerPool} from './worker-pool.js';
import {displayPath, isUtf8, joinPath, type FsPath} from './fs-path.js';
import {FileReadError} from './file-chunker.js';

/** What to back up and how. */
export interface BackupOptions {
	paths: string[];
	excludes?: string[];
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
	/** Number of chunk worker threads (default: one per core). */
	workers?: number;
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

const PROGRAM_VERSION = 'cairn 0.1.0';
/** Files handed to the chunk workers at once. */
const FILE_CONCURRENCY = 8;

interface VirtualDir {
	/** Absolute path of this directory on disk. */
	abs: string;
	children: Map<string, VirtualDir | 'target'>;
}

interface Context {
	repo: Repository;
	exclude: ExcludeMatcher;
	progress: ProgressTracker;
	summary: BackupSummary;
	fileSlots: Semaphore;
	/** The chunk workers, started when the first file has to be read. */
	pool: LazyPool;
	signal?: AbortSignal;
	warn: (path: string, message: string) => void;
}

function throwIfCancelled(signal?: AbortSignal): void {
	if (signal?.aborted) throw new CancelledError('backup cancelled: no snapshot was saved');
}

function sameTime(a: string, b: string): boolean {
	if (a === b) return true;
	try {
		return parseGoTime(a) === parseGoTime(b);
	} catch {
		return false;
	}
}

/** Starts the chunk workers on first use, so a backup with nothing to read starts none. */
class LazyPool {
	private pool: ChunkWorkerPool | undefined;

	constructor(private readonly start: () => ChunkWorkerPool) {}

	get(): ChunkWorkerPool {
		this.pool ??= this.start();
		return this.pool;
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
	const warnings: Array<[string, string]> = [];
	const warn = (p: string, message: string): void => {
		warnings.push([p, message]);
		summary.errors++;
		progress.errors++;
		options.onWarning?.(p, message);
	};
	const targets: string[] = [];
	for (const given of options.paths) {
		const abs = path.resolve(given);
		try {
			await fs.lstat(abs);
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
	const lock = options.noLock ? undefined : await acquireLock(repo, {exclusive: false, signal: options.signal});
	try {
		await repo.loadIndex({signal: options.signal});
		// Packs a killed backup uploaded but never indexed: index them so their blobs are reused.
		await indexUnindexedPacks(repo, {signal: options.signal}).catch(() => undefined);
		const hostname = options.host ?? os.hostname();
		const parentId = await findParent(repo, options, hostname, targets);
		const parentTree = parentId ? (await loadSnapshot(repo, parentId, options.signal)).tree : undefined;
		const exclude = compileExcludes(options.excludes ?? []);
		const scan = scanTotals(targets, exclude, options.signal).then((totals) => {
			progress.filesTotal = totals.files;
			progress.bytesTotal = totals.bytes;
		}, () => undefined);
		const pool = new LazyPool(() => new ChunkWorkerPool({polynomial: repo.config.chunker_polynomial, key: repo.key, compression: repo.compression}, options.workers));
		const ctx: Context = {
			repo, exclude, progress, summary, pool,
			fileSlots: new Semaphore(FILE_CONCURRENCY),
			signal: options.signal, warn,
		};
		let treeId: string;
		try {
			treeId = await saveVirtualDir(ctx, buildSkeleton(targets), parentTree);
			await repo.flush(options.signal);
		} catch (error) {
			await pool.close();
			await repo.salvage().catch(() => undefined);
			if (options.signal?.aborted) throw new CancelledError('backup cancelled: no snapshot was saved; uploaded data is indexed and the next backup reuses it', {cause: error});
			throw error;
		}
		await pool.close();
		await scan;
		throwIfCancelled(options.signal);
		const user = os.userInfo();
		summary.total_duration = (performance.now() - started) / 1000;
		summary.snapshot_id = await saveSnapshot(repo, {
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
		await lock?.release();
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
	try {
		const tree: Tree = decodeTree(await ctx.repo.loadBlob('tree', id, ctx.signal), id);
		return new Map(tree.nodes.map((n) => [n.name, n]));
	} catch {
		return undefined; // an unreadable parent only means files are read again
	}
}

async function saveTree(ctx: Context, nodes: TreeNode[]): Promise<string> {
	const bytes = encodeTree(nodes);
	const result = await ctx.repo.saveBlob('tree', bytes, undefined, ctx.signal);
	if (!result.known) {
		ctx.summary.tree_blobs++;
		ctx.summary.data_added += bytes.length;
		ctx.summary.data_added_packed += result.storedSize;
	}
	return result.id;
}

/** Saves an intermediate directory of the skeleton (metadata from disk, children limited to targets). */
async function saveVirtualDir(ctx: Context, dir: VirtualDir, parentTreeId: string | undefined): Promise<string> {
	const previous = await loadParentTree(ctx, parentTreeId);
	const nodes: TreeNode[] = [];
	await Promise.all([...dir.children].map(async ([name, child]) => {
		const abs = path.posix.join(dir.abs, name);
		if (child === 'target') {
			const node = await saveEntry(ctx, abs, name, previous?.get(name));
			if (node) nodes.push(node);
			return;
		}
		let stats: BigIntStats;
		try {
			stats = await fs.lstat(abs, {bigint: true});
		} catch (error) {
			ctx.warn(abs, `cannot read directory: ${(error as Error).message}`);
			return;
		}
		const node = buildNode(name, stats);
		node.subtree = await saveVirtualDir(ctx, child, previous?.get(name)?.subtree);
		nodes.push(node);
	}));
	return saveTree(ctx, nodes);
}

/** Saves one file system entry; returns its node, or undefined when it was excluded or unreadable. */
async function saveEntry(ctx: Context, abs: FsPath, name: string, previous: TreeNode | undefined, known?: BigIntStats): Promise<TreeNode | undefined> {
	throwIfCancelled(ctx.signal);
	const shown = displayPath(abs);
	if (ctx.exclude(shown)) return undefined;
	let stats = known;
	if (!stats) {
		try {
			stats = await fs.lstat(abs, {bigint: true});
		} catch (error) {
			ctx.warn(shown, `cannot read: ${(error as Error).message}`);
			return undefined;
		}
	}
	const node = buildNode(name, stats);
	switch (node.type) {
		case 'file':
			return (await saveFile(ctx, abs, node, previous)) ? node : undefined;
		case 'dir':
			return (await saveDirectory(ctx, abs, node, previous)) ? node : undefined;
		case 'symlink':
			try {
				const target = await fs.readlink(abs, {encoding: 'buffer'});
				node.linktarget = target.toString('utf8');
				if (!isUtf8(target)) node.linktarget_raw = target.toString('base64');
			} catch (error) {
				ctx.warn(shown, `cannot read symlink: ${(error as Error).message}`);
				return undefined;
			}
			return node;
		default:
			return node;
	}
}

async function saveDirectory(ctx: Context, abs: FsPath, node: TreeNode, previous: TreeNode | undefined): Promise<boolean> {
	let names: Buffer[];
	try {
		names = await fs.readdir(abs, {encoding: 'buffer'});
	} catch (error) {
		ctx.warn(displayPath(abs), `cannot read directory: ${(error as Error).message}`);
		return false;
	}
	const previousNodes = await loadParentTree(ctx, previous?.type === 'dir' ? previous.subtree : undefined);
	const children = new Map<string, TreeNode>();
	await Promise.all(names.map(async (raw) => {
		const child = joinPath(abs, raw);
		const saved = await saveEntry(ctx, child.path, child.name, previousNodes?.get(child.name));
		if (!saved) return;
		if (children.has(saved.name)) {
			// Two names that are not valid UTF-8 can decode to the same text; a tree holds each name once.
			ctx.warn(displayPath(child.path), 'left out: its name is not valid UTF-8 and collides with another entry once decoded');
			return;
		}
		children.set(saved.name, saved);
	}));
	throwIfCancelled(ctx.signal);
	node.subtree = await saveTree(ctx, [...children.values()]);
	if (!previous) ctx.summary.dirs_new++;
	else if (previous.subtree === node.subtree) ctx.summary.dirs_unmodified++;
	else ctx.summary.dirs_changed++;
	return true;
}

async function saveFile(ctx: Context, abs: FsPath, node: TreeNode, previous: TreeNode | undefined): Promise<boolean> {
	const size = node.size ?? 0;
	if (previous && isUnchanged(previous, node) && sameTime(previous.mtime, node.mtime)
		&& previous.content!.every((id) => ctx.repo.index.has('data', id))) {
		node.content = [...previous.content!];
		ctx.summary.files_unmodified++;
		ctx.summary.total_files_processed++;
		ctx.summary.total_bytes_processed += size;
		ctx.progress.filesDone++;
		ctx.progress.bytesDone += size;
		ctx.progress.maybeEmit();
		return true;
	}
	const release = await ctx.fileSlots.acquire();
	try {
		throwIfCancelled(ctx.signal);
		ctx.progress.currentFile = displayPath(abs);
		const read = await readFileChunks(ctx, abs);
		if (!read) return false;
		node.content = read.ids;
		node.size = read.size;
	} finally {
		release();
	}
	if (previous) ctx.summary.files_changed++;
	else ctx.summary.files_new++;
	ctx.summary.total_files_processed++;
	ctx.summary.total_bytes_processed += node.size ?? 0;
	ctx.progress.filesDone++;
	ctx.progress.maybeEmit();
	return true;
}

/** Chunks a file in a worker and stores its new blobs; returns the blob IDs in order, or undefined when it cannot be read. */
async function readFileChunks(ctx: Context, abs: FsPath): Promise<{ids: string[]; size: number} | undefined> {
	const ids: string[] = [];
	try {
		const size = await ctx.pool.get().processFile(abs, async (chunk) => {
			ids.push(chunk.id);
			ctx.progress.bytesDone += chunk.length;
			const result = await ctx.repo.storeSealedBlob('data', chunk.id, chunk.sealed, chunk.uncompressedLength, ctx.signal);
			if (!result.known) {
				ctx.summary.data_blobs++;
				ctx.summary.data_added += chunk.length;
				ctx.summary.data_added_packed += result.storedSize;
			}
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

