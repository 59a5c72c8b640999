/**
 * `backup --stdin`: a stream (a database dump piped in) saved as one file node of a new snapshot,
 * laid out as restic lays it out: the file `/NAME` (mode 0644, its three times the snapshot time,
 * the owner this process runs as) inside directories for each part of NAME (mode 0755, times of
 * the moment they are saved), and the snapshot's path `/NAME`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {encodeTree, type TreeNode} from '../format/tree.js';
import {formatGoTime, nowNs} from '../format/time.js';
import {GO_MODE} from '../format/mode.js';
import {splitStream} from '../chunker/chunker.js';
import {createChunkerTables} from '../chunker/tables.js';
import {parsePolynomial} from '../chunker/polynomial.js';
import {CancelledError, UsageError} from '../errors.js';
import {ProgressTracker, type ProgressListener} from '../progress.js';
import type {Repository} from '../repository/repository.js';
import {listSnapshots, samePaths, saveSnapshot} from '../repository/snapshots.js';
import {acquireLock} from '../repository/lock.js';
import type {BackupSummary} from './archiver.js';

/** What to save from a stream. */
export interface StdinBackupOptions {
	/** The name inside the snapshot, e.g. `db/dump.sql` (restic's --stdin-filename; default `stdin`). */
	filename?: string;
	tags?: string[];
	host?: string;
	/** Snapshot time in nanoseconds (default now); also the file's times. */
	time?: bigint;
	/** Save no snapshot and write nothing (the caller gives a dry-run storage). */
	dryRun?: boolean;
	signal?: AbortSignal;
	onProgress?: ProgressListener;
	noLock?: boolean;
}

const PROGRAM_VERSION = 'cairn 0.1.0';

/** Splits and checks the name: no empty result, no `..` escaping the root. */
export function resolveStdinPath(filename: string): string[] {
	const joined = path.posix.join('/', filename);
	const parts = joined.split('/').filter(Boolean);
	if (parts.length === 0) throw new UsageError(`invalid --stdin-filename ${JSON.stringify(filename)}: give a file name, e.g. --stdin-filename db.sql`);
	return parts;
}

/** Saves the stream as a snapshot; resolves with restic's summary counts. */
export async function runStdinBackup(repo: Repository, input: AsyncIterable<Uint8Array>, options: StdinBackupOptions = {}): Promise<BackupSummary> {
	const started = performance.now();
	const parts = resolveStdinPath(options.filename ?? 'stdin');
	const snapshotPath = '/' + parts.join('/');
	const time = options.time ?? nowNs();
	const summary: BackupSummary = {
		files_new: 0, files_changed: 0, files_unmodified: 0, dirs_new: 0, dirs_changed: 0, dirs_unmodified: 0,
		data_blobs: 0, tree_blobs: 0, data_added: 0, data_added_packed: 0, total_files_processed: 0, total_bytes_processed: 0, total_duration: 0,
		snapshot_id: '', errors: 0,
	};
	const progress = new ProgressTracker('backup', options.onProgress);
	const lock = options.noLock || options.dryRun ? undefined : await acquireLock(repo, {exclusive: false, signal: options.signal});
	try {
		await repo.loadIndex({signal: options.signal});
		const hostname = options.host ?? os.hostname();
		const snapshots = await listSnapshots(repo, {signal: options.signal, onError: () => undefined});
		const parent = snapshots.filter((s) => s.hostname === hostname && samePaths(s.paths, [snapshotPath])).at(-1)?.id;
		const tables = createChunkerTables(parsePolynomial(repo.config.chunker_polynomial));
		const content: string[] = [];
		let size = 0;
		progress.currentFile = snapshotPath;
		for await (const chunk of splitStream(tables, input)) {
			if (options.signal?.aborted) throw new CancelledError('backup cancelled: no snapshot was saved');
			const saved = await repo.saveBlob('data', chunk, undefined, options.signal);
			content.push(saved.id);
			size += chunk.length;
			progress.bytesDone += chunk.length;
			progress.maybeEmit();
			if (!saved.known) {
				summary.data_blobs++;
				summary.data_added += chunk.length;
				summary.data_added_packed += saved.storedSize;
			}
		}
		const user = os.userInfo();
		const stamp = formatGoTime(time);
		let node: TreeNode = {
			name: parts.at(-1)!, type: 'file', mode: 0o644, mtime: stamp, atime: stamp, ctime: stamp,
			uid: user.uid, gid: user.gid, size, content,
		};
		summary.files_new = 1;
		summary.total_files_processed = 1;
		summary.total_bytes_processed = size;
		progress.filesDone = 1;
		// Directories from the innermost out, as restic's tree saver makes them.
		for (let i = parts.length - 2; i >= -1; i--) {
			const treeId = await saveTree(repo, [node], summary, options.signal);
			if (i < 0) {
				await repo.flush(options.signal);
				summary.total_duration = (performance.now() - started) / 1000;
				if (!options.dryRun) {
					summary.snapshot_id = await saveSnapshot(repo, {
						time: stamp, parent, tree: treeId, paths: [snapshotPath], hostname,
						username: user.username, uid: user.uid, gid: user.gid,
						tags: options.tags?.length ? options.tags : undefined,
						program_version: PROGRAM_VERSION,
					}, options.signal);
				}
				if (parent) summary.parent = parent;
				break;
			}
			const dirTime = formatGoTime(nowNs());
			summary.dirs_new++;
			node = {
				name: parts[i]!, type: 'dir', mode: GO_MODE.dir + 0o755, mtime: dirTime, atime: dirTime, ctime: dirTime,
				uid: user.uid, gid: user.gid, content: null, subtree: treeId,
			};
		}
		return summary;
	} catch (error) {
		await repo.salvage().catch(() => undefined);
		if (options.signal?.aborted) throw new CancelledError('backup cancelled: no snapshot was saved', {cause: error});
		throw error;
	} finally {
		progress.finish();
		await lock?.release();
	}
}

async function saveTree(repo: Repository, nodes: TreeNode[], summary: BackupSummary, signal?: AbortSignal): Promise<string> {
	const bytes = encodeTree(nodes);
	const result = await repo.saveBlob('tree', bytes, undefined, signal);
	if (!result.known) {
		summary.tree_blobs++;
		summary.data_added += bytes.length;
		summary.data_added_packed += result.storedSize;
	}
	return result.id;
}
