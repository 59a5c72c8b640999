import {DEFAULT_MAX_UNUSED, runPrune, type PruneProgress, type PruneReport} from '../../engine/prune/prune.js';
import {UsageError} from '../../engine/errors.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {formatBytes} from '../cli/format.js';

/** Flags of `cairn prune`. */
export interface PruneFlags extends GlobalFlags {
	dryRun?: boolean;
	maxUnused?: string;
}

/** Parses --max-unused: a percentage from 0 up to (not including) 100, with or without `%`. */
export function parseMaxUnused(text: string | undefined): number {
	if (text === undefined) return DEFAULT_MAX_UNUSED;
	const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
	const value = match ? Number(match[1]) : Number.NaN;
	if (!(value >= 0 && value < 100)) throw new UsageError(`invalid --max-unused ${JSON.stringify(text)}: give a percentage from 0 up to (not including) 100, e.g. --max-unused 5%`);
	return value;
}

const PHASE_LINES: Partial<Record<PruneProgress['phase'], string>> = {
	'index': 'loading indexes...',
	'snapshots': 'loading all snapshots...',
	'plan': 'collecting packs for deletion and repacking',
	'delete-unreferenced': 'deleting unreferenced packs',
	'repack': 'repacking packs',
	'write-index': 'rebuilding index',
	'delete-index': 'deleting obsolete index files',
	'delete-packs': 'removing old packs',
};

function percent(part: number, whole: number): string {
	return whole > 0 ? `${((part / whole) * 100).toFixed(2)}%` : '0.00%';
}

/** Prints a prune report for people (restic's layout). */
export function printReport(report: PruneReport): void {
	const {blobs, bytes, packs} = report;
	const out = (line = ''): void => {
		process.stdout.write(`${line}\n`);
	};
	const row = (label: string, count: number, size: number): string => `${label.padEnd(14)}${String(count).padStart(10)} blobs / ${formatBytes(size)}`;
	out();
	out(row('used:', blobs.used, bytes.used));
	if (blobs.duplicate > 0) out(row('duplicates:', blobs.duplicate, bytes.duplicate));
	out(row('unused:', blobs.unused, bytes.unused));
	if (bytes.unreferenced > 0) out(`${'unreferenced:'.padEnd(14)}${' '.repeat(10)}       ${formatBytes(bytes.unreferenced)}`);
	out(row('total:', blobs.total, bytes.total));
	out(`unused size: ${percent(bytes.duplicate + bytes.unused, bytes.total)} of total size`);
	out();
	out(row('to repack:', blobs.repack, bytes.repack));
	out(row('this removes:', blobs.repackRemove, bytes.repackRemove));
	out(row('to delete:', blobs.remove, bytes.remove + bytes.unreferenced));
	out(row('total prune:', blobs.removeTotal, bytes.removeTotal));
	out(row('remaining:', blobs.remaining, bytes.remaining));
	out(`unused size after prune: ${formatBytes(bytes.remainingUnused)} (${percent(bytes.remainingUnused, bytes.remaining)} of remaining size)`);
	out();
	out(`totally used packs: ${String(packs.used).padStart(10)}`);
	out(`partly used packs:  ${String(packs.partlyUsed).padStart(10)}`);
	out(`unused packs:       ${String(packs.unused).padStart(10)}`);
	out();
	out(`to keep:      ${String(packs.keep).padStart(10)} packs`);
	out(`to repack:    ${String(packs.repack).padStart(10)} packs`);
	out(`to delete:    ${String(packs.remove).padStart(10)} packs`);
	if (packs.unreferenced > 0) out(`to delete:    ${String(packs.unreferenced).padStart(10)} unreferenced packs`);
	if (packs.missing > 0) out(`to forget:    ${String(packs.missing).padStart(10)} missing packs that held nothing needed`);
	out();
}

/** The JSON summary, with restic's field names where restic has them. */
export function toJson(report: PruneReport): Record<string, unknown> {
	const {blobs, bytes, packs} = report;
	return {
		message_type: 'summary',
		dry_run: report.dryRun,
		snapshots: report.snapshots,
		blobs: {used: blobs.used, duplicate: blobs.duplicate, unused: blobs.unused, total: blobs.total, repack: blobs.repack, repack_remove: blobs.repackRemove, remove: blobs.remove, remove_total: blobs.removeTotal, remaining: blobs.remaining},
		bytes: {used: bytes.used, duplicate: bytes.duplicate, unused: bytes.unused, unreferenced: bytes.unreferenced, total: bytes.total, repack: bytes.repack, repack_remove: bytes.repackRemove, remove: bytes.remove, remove_total: bytes.removeTotal, remaining: bytes.remaining, remaining_unused: bytes.remainingUnused},
		packfiles: {used: packs.used, unused: packs.unused, partly_used: packs.partlyUsed, unreferenced: packs.unreferenced, missing: packs.missing, total: packs.total, keep: packs.keep, repack: packs.repack, remove: packs.remove, remove_total: packs.removeTotal},
		removed_packs: report.removedPacks,
		packs_written: report.packsWritten,
		bytes_written: report.bytesWritten,
		index_files_written: report.indexFilesWritten,
		index_files_deleted: report.indexFilesDeleted,
		delete_failures: report.deleteFailures,
	};
}

/** `cairn prune`: exit 0 when done (or planned, with --dry-run). */
export async function runPruneCommand(flags: PruneFlags, signal: AbortSignal): Promise<number> {
	const maxUnused = parseMaxUnused(flags.maxUnused);
	const repo = await openRepository(flags, signal, {lock: true});
	const verbose = !flags.json && !flags.quiet;
	let lastPhase: PruneProgress['phase'] | undefined;
	const onProgress = (event: PruneProgress): void => {
		if (!verbose || event.phase === lastPhase) return;
		lastPhase = event.phase;
		const line = PHASE_LINES[event.phase];
		if (line) process.stdout.write(`${line}${event.total ? ` (${event.total})` : ''}\n`);
	};
	try {
		const report = await runPrune(repo, {dryRun: flags.dryRun, maxUnused, signal, onProgress});
		if (flags.json) {
			printJson(toJson(report));
			return 0;
		}
		if (!flags.quiet) {
			process.stdout.write(`\nsnapshots walked: ${report.snapshots}\n`);
			printReport(report);
			if (report.dryRun) {
				process.stdout.write(`dry run: nothing was changed. Prune would free ${formatBytes(report.bytes.removeTotal)} by deleting ${report.packs.removeTotal} pack files (${report.packs.repack} of them after repacking their needed blobs).\n`);
			} else {
				process.stdout.write(`done: deleted ${report.packs.removeTotal - report.deleteFailures.length} pack files and wrote ${report.packsWritten} (${formatBytes(report.bytesWritten)}); freed about ${formatBytes(report.bytes.removeTotal)}.\n`);
			}
		}
		if (report.deleteFailures.length > 0) {
			process.stderr.write(`warning: ${report.deleteFailures.length} pack files could not be deleted (${report.deleteFailures.slice(0, 3).join(', ')}${report.deleteFailures.length > 3 ? ', …' : ''}); they are unreferenced now, which is harmless. Check that deleting files in the repository is allowed, then run prune again\n`);
		}
		return 0;
	} finally {
		await repo.close();
	}
}
