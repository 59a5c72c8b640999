/**
 * `cairn backup --stdin [--stdin-filename NAME]`: saves standard input as one file of a new snapshot.
 */
import {runStdinBackup} from '../../engine/archiver/stdin.js';
import {UsageError} from '../../engine/errors.js';
import {openRepository, printJson} from '../cli/context.js';
import {ProgressLine} from '../cli/format.js';
import {parseTags, parseTimeFlag, printSummary, type BackupFlags} from './backup.js';

/** Runs the stdin backup; returns 0. */
export async function runStdinBackupCommand(flags: BackupFlags, signal: AbortSignal): Promise<number> {
	if (process.stdin.isTTY) throw new UsageError('--stdin reads the data to back up from standard input, which is a terminal: pipe the data in, e.g. pg_dump db | cairn backup --stdin --stdin-filename db.sql');
	const time = parseTimeFlag(flags.time);
	const tags = parseTags(flags.tag);
	const repo = await openRepository(flags, signal, {dryRun: flags.dryRun, lock: !flags.dryRun});
	const line = new ProgressLine(!flags.json && !flags.quiet);
	try {
		const summary = await runStdinBackup(repo, process.stdin, {
			filename: flags.stdinFilename ?? 'stdin', tags, host: flags.host, time, dryRun: flags.dryRun, signal,
			onProgress: (event) => {
				if (flags.json) printJson({message_type: 'status', seconds_elapsed: Math.round(event.elapsed), percent_done: 0, total_files: 1, files_done: event.filesDone, bytes_done: event.bytesDone, current_files: event.currentFile ? [event.currentFile] : []});
				else line.update(event);
			},
		});
		line.clear();
		printSummary(summary, flags);
		return 0;
	} finally {
		line.clear();
		await repo.close();
	}
}
