/**
 * Counts files and bytes under the source paths, so progress can show totals and an ETA.
 * Runs beside the backup; errors are ignored here (the backup itself reports them).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type {ExcludeMatcher} from './excludes.js';

/** Totals of a scan. */
export interface ScanTotals {
	files: number;
	bytes: number;
}

/** Walks the targets and counts regular files and their bytes. */
export async function scanTotals(targets: readonly string[], exclude: ExcludeMatcher, signal?: AbortSignal): Promise<ScanTotals> {
	const totals: ScanTotals = {files: 0, bytes: 0};
	const stack = [...targets];
	while (stack.length > 0) {
		if (signal?.aborted) break;
		const batch = stack.splice(-64);
		await Promise.all(batch.map(async (p) => {
			if (exclude(p)) return;
			try {
				const stats = await fs.lstat(p);
				if (stats.isFile()) {
					totals.files++;
					totals.bytes += stats.size;
				} else if (stats.isDirectory()) {
					for (const name of await fs.readdir(p)) stack.push(path.posix.join(p, name));
				}
			} catch {
				// unreadable entries are reported by the backup itself
			}
		}));
	}
	return totals;
}
