/**
 * Counts files and bytes under the source paths, so progress can show totals and an ETA.
 * Runs beside the backup; errors are ignored here (the backup itself reports them).
 *
 * The walk uses synchronous calls in short slices, yielding to the event loop between them:
 * a directory listing with types needs no stat for directories and symlinks, and a stat
 * answered from the inode cache costs a few microseconds, far less than a promise round trip
 * through libuv's pool (which the backup keeps busy).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {setImmediate as yieldToLoop} from 'node:timers/promises';
import type {ExcludeMatcher} from './excludes.js';
import type {SelectionOptions} from './selection.js';
import {startModuleWorker} from '../util/worker.js';

/** Totals of a scan. */
export interface ScanTotals {
	files: number;
	bytes: number;
}

/** Milliseconds of synchronous work before the scan lets other work run. */
const SLICE_MS = 4;

/** Counts one entry; pushes a directory's children onto the stack. */
function scanEntry(p: string, type: 'file' | 'dir' | 'unknown', stack: string[], totals: ScanTotals): void {
	try {
		if (type === 'dir') {
			for (const name of fs.readdirSync(p, {withFileTypes: true})) {
				const child = path.posix.join(p, name.name);
				if (name.isDirectory()) stack.push(`d${child}`);
				else if (name.isFile()) stack.push(`f${child}`);
				else if (name.isSymbolicLink()) continue;
				else stack.push(`u${child}`);
			}
			return;
		}
		const stats = fs.lstatSync(p, {throwIfNoEntry: false});
		if (!stats) return;
		if (stats.isFile()) {
			totals.files++;
			totals.bytes += stats.size;
		} else if (stats.isDirectory()) {
			scanEntry(p, 'dir', stack, totals);
		}
	} catch {
		// unreadable entries are reported by the backup itself
	}
}

/** Walks the paths and counts regular files and their bytes, in one go (for a worker thread). */
export function scanTotalsSync(paths: readonly string[], exclude: ExcludeMatcher): ScanTotals {
	const totals: ScanTotals = {files: 0, bytes: 0};
	const stack = paths.map((p) => `u${p}`);
	while (stack.length > 0) {
		const entry = stack.pop()!;
		const p = entry.slice(1);
		if (exclude(p)) continue;
		scanEntry(p, entry[0] === 'd' ? 'dir' : entry[0] === 'f' ? 'file' : 'unknown', stack, totals);
	}
	return totals;
}

/** What the scan worker is asked: the paths to walk and the selection that leaves entries out. */
export interface ScanRequest {
	/** The paths read (after BackupOptions.readFrom). */
	paths: string[];
	/** The backup's target paths, as compileSelection takes them. */
	targets: string[];
	selection: SelectionOptions;
}

/**
 * Counts like {@link scanTotals}, in a worker thread (another core). Falls back to
 * {@link scanTotals} on this thread when the worker cannot run. The worker never keeps the
 * process alive, and is stopped when `signal` fires.
 */
export async function scanTotalsInWorker(request: ScanRequest, exclude: ExcludeMatcher, signal?: AbortSignal): Promise<ScanTotals> {
	if (signal?.aborted) throw new Error('scan cancelled');
	let worker;
	try {
		worker = startModuleWorker(import.meta.url, 'scan-worker');
	} catch {
		return scanTotals(request.paths, exclude, signal);
	}
	const running = worker;
	running.unref();
	try {
		return await new Promise<ScanTotals>((resolve, reject) => {
			const stop = (): void => reject(new Error('scan cancelled'));
			signal?.addEventListener('abort', stop, {once: true});
			running.once('message', (answer: {totals?: ScanTotals; error?: string}) => {
				signal?.removeEventListener('abort', stop);
				if (answer.totals) resolve(answer.totals);
				else reject(new Error(answer.error ?? 'the scan failed'));
			});
			running.once('error', (error) => {
				signal?.removeEventListener('abort', stop);
				reject(error);
			});
			running.postMessage({paths: request.paths, targets: request.targets, selection: pickSelection(request.selection)} satisfies ScanRequest);
		});
	} finally {
		void running.terminate();
	}
}

/** The selection options alone (the backup's options also hold functions, which cannot cross to a worker). */
function pickSelection(options: SelectionOptions): SelectionOptions {
	const {excludes, iexcludes, excludeIfPresent, excludeCaches, excludeLargerThan, oneFileSystem, excludeDirectories} = options;
	return {excludes, iexcludes, excludeIfPresent, excludeCaches, excludeLargerThan, oneFileSystem, excludeDirectories};
}

/** Walks the targets and counts regular files and their bytes. */
export async function scanTotals(targets: readonly string[], exclude: ExcludeMatcher, signal?: AbortSignal): Promise<ScanTotals> {
	const totals: ScanTotals = {files: 0, bytes: 0};
	// Entries are tagged with what the listing said they are: d(irectory), f(ile), u(nknown).
	const stack = targets.map((target) => `u${target}`);
	while (stack.length > 0) {
		if (signal?.aborted) break;
		const sliceEnd = performance.now() + SLICE_MS;
		while (stack.length > 0 && performance.now() < sliceEnd) {
			const entry = stack.pop()!;
			const p = entry.slice(1);
			if (exclude(p)) continue;
			scanEntry(p, entry[0] === 'd' ? 'dir' : entry[0] === 'f' ? 'file' : 'unknown', stack, totals);
		}
		await yieldToLoop();
	}
	return totals;
}
