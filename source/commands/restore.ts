import {runRestore, OVERWRITE_MODES, type OverwriteMode} from '../../engine/restorer/restorer.js';
import {findSnapshotId} from '../../engine/repository/snapshots.js';
import {UsageError} from '../../engine/errors.js';
import {compilePathFilter, PatternError} from '../../engine/util/path-filter.js';
import type {TreeNode} from '../../engine/format/tree.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {formatBytes, formatDuration, ProgressLine} from '../cli/format.js';

/** Flags of `cairn restore`. */
export interface RestoreFlags extends GlobalFlags {
	target?: string;
	include?: string[];
	iinclude?: string[];
	exclude?: string[];
	iexclude?: string[];
	verify?: boolean;
	overwrite?: string;
	/** Thaw packs held in cold storage first (see ./thaw.ts). */
	thaw?: boolean;
	thawPoll?: string;
	wait?: boolean;
}

/** `cairn restore SNAPSHOT --target DIR`: returns 0, or 1 when some entries could not be restored. */
export async function runRestoreCommand(snapshotRef: string, flags: RestoreFlags, signal: AbortSignal): Promise<number> {
	if (!flags.target) throw new UsageError('no target given: use --target DIR (a new directory is safest)');
	const overwrite = (flags.overwrite ?? 'never') as OverwriteMode;
	if (!OVERWRITE_MODES.includes(overwrite)) throw new UsageError(`invalid --overwrite ${JSON.stringify(flags.overwrite)}: use always, if-changed or never`);
	const select = buildSelection(flags);
	const repo = await openRepository(flags, signal, {lock: true});
	const line = new ProgressLine(!flags.json && !flags.quiet);
	try {
		const id = await findSnapshotId(repo, snapshotRef, {}, signal);
		if (flags.thaw && !(await (await import('./thaw.js')).runThawStep(repo, id, flags, signal))) return 1;
		if (!flags.json && !flags.quiet) process.stderr.write(`restoring snapshot ${id.slice(0, 8)} to ${flags.target}\n`);
		const started = performance.now();
		const summary = await runRestore(repo, id, flags.target, {
			select, overwrite, signal, verify: flags.verify,
			onWarning: (p, message) => {
				line.clear();
				if (flags.json) process.stderr.write(JSON.stringify({message_type: 'error', error: {message}, during: 'restore', item: p}) + '\n');
				else process.stderr.write(`warning: ${p}: ${message}\n`);
			},
			onProgress: (event) => {
				if (flags.json) printJson({message_type: 'status', seconds_elapsed: Math.round(event.elapsed), percent_done: event.bytesTotal ? event.bytesDone / event.bytesTotal : 0, total_files: event.filesTotal, files_restored: event.filesDone, total_bytes: event.bytesTotal, bytes_restored: event.bytesDone});
				else line.update(event);
			},
			onError: (p, message) => {
				line.clear();
				if (flags.json) process.stderr.write(JSON.stringify({message_type: 'error', error: {message}, during: 'restore', item: p}) + '\n');
				else process.stderr.write(`error: ${p}: ${message}\n`);
			},
		});
		line.clear();
		const seconds = (performance.now() - started) / 1000;
		const includes = [...(flags.include ?? []), ...(flags.iinclude ?? [])];
		if (includes.length > 0 && summary.matched === 0) {
			process.stderr.write(`nothing matched --include ${includes.join(', ')}: run \`cairn ls ${id.slice(0, 8)}\` to see the paths in the snapshot\n`);
		}
		if (flags.verify && !flags.json && !flags.quiet) process.stdout.write(`finished verifying ${summary.filesVerified ?? 0} files in ${flags.target}\n`);
		if (flags.json) {
			printJson({message_type: 'summary', seconds_elapsed: seconds, files_restored: summary.filesRestored, dirs_restored: summary.dirsRestored, bytes_restored: summary.bytesRestored, files_skipped: summary.skipped.length, errors: summary.errors.length, snapshot_id: id, ...(flags.verify ? {files_verified: summary.filesVerified ?? 0} : {})});
		} else if (!flags.quiet) {
			process.stdout.write(`restored ${summary.filesRestored} files (${formatBytes(summary.bytesRestored)}) and ${summary.dirsRestored} directories in ${formatDuration(seconds)}\n`);
		}
		if (summary.skipped.length > 0) {
			const shown = summary.skipped.slice(0, 5).join(', ');
			const advice = overwrite === 'if-changed' ? 'they already match the snapshot' : 'use --overwrite if-changed or --overwrite always to replace them';
			process.stderr.write(`${summary.skipped.length} existing file${summary.skipped.length === 1 ? ' was' : 's were'} left untouched (${shown}${summary.skipped.length > 5 ? ', …' : ''}); ${advice}\n`);
		}
		if (summary.errors.length > 0) {
			process.stderr.write(`${summary.errors.length} entr${summary.errors.length === 1 ? 'y' : 'ies'} could not be restored (listed above); everything else was restored. If the repository is damaged, run \`cairn check --read-data\` for a full report\n`);
			return 1;
		}
		if (includes.length > 0 && summary.matched === 0) return 1;
		return 0;
	} finally {
		line.clear();
		await repo.close();
	}
}

/**
 * restic's selection from --include/--iinclude or --exclude/--iexclude (which exclude each other);
 * undefined restores everything.
 */
export function buildSelection(flags: RestoreFlags): ((snapshotPath: string, node: TreeNode) => {selected: boolean; childMayBeSelected: boolean}) | undefined {
	const hasIncludes = Boolean(flags.include?.length || flags.iinclude?.length);
	const hasExcludes = Boolean(flags.exclude?.length || flags.iexclude?.length);
	if (hasIncludes && hasExcludes) throw new UsageError('exclude and include patterns are mutually exclusive: give either --include/--iinclude or --exclude/--iexclude');
	if (!hasIncludes && !hasExcludes) return undefined;
	let filter;
	try {
		filter = hasIncludes ? compilePathFilter(flags.include ?? [], flags.iinclude ?? []) : compilePathFilter(flags.exclude ?? [], flags.iexclude ?? []);
	} catch (error) {
		if (error instanceof PatternError) throw new UsageError(`${hasIncludes ? '--include' : '--exclude'}: ${error.message}`);
		throw error;
	}
	if (hasExcludes) {
		return (p, node) => {
			const selected = !filter.matches(p);
			return {selected, childMayBeSelected: selected && node.type === 'dir'};
		};
	}
	return (p, node) => {
		const {matched, childMayMatch} = filter.list(p);
		return {selected: matched, childMayBeSelected: childMayMatch && node.type === 'dir'};
	};
}
