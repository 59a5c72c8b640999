import {readFile} from 'node:fs/promises';
import {runBackup, type BackupSummary} from '../../engine/archiver/archiver.js';
import {parseLocalDateTime} from '../../engine/format/time.js';
import {UsageError} from '../../engine/errors.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {formatBytes, formatDuration, ProgressLine} from '../cli/format.js';

/** Flags of `cairn backup`. */
export interface BackupFlags extends GlobalFlags {
	exclude?: string[];
	excludeFile?: string[];
	tag?: string[];
	host?: string;
	time?: string;
	parent?: string;
	force?: boolean;
}

async function readExcludeFiles(files: readonly string[] = []): Promise<string[]> {
	const patterns: string[] = [];
	for (const file of files) {
		const text = await readFile(file, 'utf8').catch((error: Error) => {
			throw new UsageError(`cannot read exclude file ${file}: ${error.message}`);
		});
		for (const line of text.split('\n')) {
			const trimmed = line.trim();
			if (trimmed && !trimmed.startsWith('#')) patterns.push(trimmed);
		}
	}
	return patterns;
}

/** `cairn backup`: returns 0, or 3 when some files could not be read. */
export async function runBackupCommand(paths: string[], flags: BackupFlags, signal: AbortSignal): Promise<number> {
	if (paths.length === 0) throw new UsageError('nothing to back up: give one or more paths, e.g. cairn backup --repo LOC ~/documents');
	let time: bigint | undefined;
	if (flags.time !== undefined) {
		time = parseLocalDateTime(flags.time);
		if (time === undefined) throw new UsageError(`invalid --time ${JSON.stringify(flags.time)}: use "YYYY-MM-DD HH:MM:SS", e.g. --time "2024-01-31 23:59:00"`);
	}
	const tags = (flags.tag ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
	const excludes = [...(flags.exclude ?? []), ...(await readExcludeFiles(flags.excludeFile))];
	const repo = await openRepository(flags, signal);
	const line = new ProgressLine(!flags.json && !flags.quiet);
	try {
		const summary = await runBackup(repo, {
			paths, excludes, tags, host: flags.host, time, signal,
			// Totals are only worth a second walk when progress is shown (a terminal, or --json status lines).
			scan: Boolean(flags.json) || line.enabled,
			parent: flags.force ? false : flags.parent,
			onProgress: (event) => {
				if (flags.json) {
					printJson({
						message_type: 'status', seconds_elapsed: Math.round(event.elapsed), seconds_remaining: event.eta === undefined ? undefined : Math.round(event.eta),
						percent_done: event.bytesTotal ? Math.min(1, event.bytesDone / event.bytesTotal) : 0,
						total_files: event.filesTotal, files_done: event.filesDone, total_bytes: event.bytesTotal, bytes_done: event.bytesDone,
						error_count: event.errors, current_files: event.currentFile ? [event.currentFile] : [],
					});
				} else {
					line.update(event);
				}
			},
			onWarning: (p, message) => {
				line.clear();
				if (flags.json) process.stderr.write(JSON.stringify({message_type: 'error', error: {message}, during: 'archival', item: p}) + '\n');
				else process.stderr.write(`warning: ${p}: ${message}\n`);
			},
		});
		line.clear();
		printSummary(summary, flags);
		return summary.errors > 0 ? 3 : 0;
	} finally {
		line.clear();
		await repo.close();
	}
}

function printSummary(summary: BackupSummary, flags: BackupFlags): void {
	if (flags.json) {
		const {errors: _errors, ...rest} = summary;
		printJson({message_type: 'summary', ...rest});
		return;
	}
	if (flags.quiet) return;
	const out = process.stdout;
	if (summary.parent) out.write(`using parent snapshot ${summary.parent.slice(0, 8)}\n`);
	out.write(`Files:       ${summary.files_new} new, ${summary.files_changed} changed, ${summary.files_unmodified} unmodified\n`);
	out.write(`Dirs:        ${summary.dirs_new} new, ${summary.dirs_changed} changed, ${summary.dirs_unmodified} unmodified\n`);
	out.write(`Added to the repository: ${formatBytes(summary.data_added)}\n\n`);
	out.write(`processed ${summary.total_files_processed} files, ${formatBytes(summary.total_bytes_processed)} in ${formatDuration(summary.total_duration)}\n`);
	out.write(`snapshot ${summary.snapshot_id.slice(0, 8)} saved\n`);
	if (summary.errors > 0) out.write(`Warning: ${summary.errors} source files could not be read; the snapshot was saved without them\n`);
}
