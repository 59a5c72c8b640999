import {readFile} from 'node:fs/promises';
import {runBackup, type BackupSummary} from '../../engine/archiver/archiver.js';
import {parseSize} from '../../engine/archiver/selection.js';
import {findCacheDirectory} from '../../engine/repository/cache.js';
import {collectTargets} from '../cli/targets.js';
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
	iexclude?: string[];
	iexcludeFile?: string[];
	excludeCaches?: boolean;
	excludeIfPresent?: string[];
	excludeLargerThan?: string;
	oneFileSystem?: boolean;
	filesFrom?: string[];
	filesFromVerbatim?: string[];
	filesFromRaw?: string[];
	stdin?: boolean;
	stdinFilename?: string;
	dryRun?: boolean;
}

async function readExcludeFiles(files: readonly string[] = []): Promise<string[]> {
	const patterns: string[] = [];
	for (const file of files) {
		const text = await readFile(file, 'utf8').catch((error: Error) => {
			throw new UsageError(`cannot read exclude file ${file}: ${error.message}`);
		});
		for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
			const trimmed = line.trim();
			if (trimmed && !trimmed.startsWith('#')) patterns.push(expandVariables(trimmed));
		}
	}
	return patterns;
}

/** Expands $NAME and ${NAME} from the environment, $$ to $ (as restic does in exclude files). */
export function expandVariables(text: string, env: NodeJS.ProcessEnv = process.env): string {
	return text.replace(/\$(?:\{([^}]*)\}|([A-Za-z0-9_]+|\$))/g, (_match, braced: string | undefined, plain: string | undefined) => {
		const name = braced ?? plain!;
		return name === '$' ? '$' : env[name] ?? '';
	});
}

/** `cairn backup`: returns 0, or 3 when some files could not be read. */
export async function runBackupCommand(args: string[], flags: BackupFlags, signal: AbortSignal): Promise<number> {
	if (flags.stdin) {
		if (flags.filesFrom?.length) throw new UsageError('--stdin and --files-from cannot be used together');
		if (flags.filesFromVerbatim?.length) throw new UsageError('--stdin and --files-from-verbatim cannot be used together');
		if (flags.filesFromRaw?.length) throw new UsageError('--stdin and --files-from-raw cannot be used together');
		if (args.length > 0) throw new UsageError('--stdin was given and files or directories were listed as arguments: give one or the other');
		return (await import('./backup-stdin.js')).runStdinBackupCommand(flags, signal);
	}
	const paths = await collectTargets(args, flags, (message) => process.stderr.write(`${message}\n`));
	if (paths.length === 0) throw new UsageError('nothing to back up: give one or more paths, e.g. cairn backup --repo LOC ~/documents');
	const time = parseTimeFlag(flags.time);
	const tags = parseTags(flags.tag);
	const excludes = [...(flags.exclude ?? []), ...(await readExcludeFiles(flags.excludeFile))];
	const iexcludes = [...(flags.iexclude ?? []), ...(await readExcludeFiles(flags.iexcludeFile))];
	const excludeLargerThan = flags.excludeLargerThan === undefined ? undefined : parseSize(flags.excludeLargerThan);
	const repo = await openRepository(flags, signal, {dryRun: flags.dryRun, lock: !flags.dryRun});
	const line = new ProgressLine(!flags.json && !flags.quiet);
	try {
		const summary = await runBackup(repo, {
			paths, excludes, tags, host: flags.host, time, signal,
			iexcludes, excludeCaches: flags.excludeCaches, excludeIfPresent: flags.excludeIfPresent, excludeLargerThan,
			oneFileSystem: flags.oneFileSystem, dryRun: flags.dryRun,
			excludeDirectories: [findCacheDirectory({cacheDir: flags.cacheDir, noCache: flags.cache === false})].filter((d): d is string => d !== undefined),
			onNotice: (message) => {
				line.clear();
				if (flags.json) process.stderr.write(JSON.stringify({message_type: 'error', error: {message}, during: 'scan'}) + '\n');
				else process.stderr.write(`warning: ${message}\n`);
			},
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

/** Tags from repeated --tag flags, each possibly comma separated. */
export function parseTags(list: readonly string[] = []): string[] {
	return list.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
}

/** Parses --time; undefined when not given. */
export function parseTimeFlag(text: string | undefined): bigint | undefined {
	if (text === undefined) return undefined;
	const time = parseLocalDateTime(text);
	if (time === undefined) throw new UsageError(`invalid --time ${JSON.stringify(text)}: use "YYYY-MM-DD HH:MM:SS", e.g. --time "2024-01-31 23:59:00"`);
	return time;
}

/** Prints the summary as restic does (`Would add` and no snapshot line for a dry run). */
export function printSummary(summary: BackupSummary, flags: BackupFlags): void {
	if (flags.json) {
		const {errors: _errors, ...rest} = summary;
		printJson({message_type: 'summary', ...rest, ...(flags.dryRun ? {dry_run: true} : {})});
		return;
	}
	if (flags.quiet) return;
	const out = process.stdout;
	if (summary.parent) out.write(`using parent snapshot ${summary.parent.slice(0, 8)}\n`);
	out.write(`Files:       ${summary.files_new} new, ${summary.files_changed} changed, ${summary.files_unmodified} unmodified\n`);
	out.write(`Dirs:        ${summary.dirs_new} new, ${summary.dirs_changed} changed, ${summary.dirs_unmodified} unmodified\n`);
	out.write(`${flags.dryRun ? 'Would add' : 'Added'} to the repository: ${formatBytes(summary.data_added)} (${formatBytes(summary.data_added_packed)} stored)\n\n`);
	out.write(`processed ${summary.total_files_processed} files, ${formatBytes(summary.total_bytes_processed)} in ${formatDuration(summary.total_duration)}\n`);
	if (!flags.dryRun) out.write(`snapshot ${summary.snapshot_id.slice(0, 8)} saved\n`);
	if (summary.errors > 0) out.write(`Warning: ${summary.errors} source files could not be read; the snapshot was saved without them\n`);
}
