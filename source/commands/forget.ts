/**
 * `cairn forget`: applies a retention policy (or removes given snapshots), optionally followed by
 * a prune. Human output is a table per group; `--json` prints restic's shape.
 */
import {UsageError} from '../../engine/errors.js';
import {encodeSnapshot, type Snapshot} from '../../engine/format/snapshot.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {runPrune, type PruneReport} from '../../engine/prune/prune.js';
import {findSnapshotId} from '../../engine/repository/snapshots.js';
import {runForget, type ForgetResult} from '../../engine/retention/forget.js';
import {compareStrings, describeGroupKey, GroupByError, parseGroupBy, type GroupBy} from '../../engine/retention/group.js';
import type {RetentionPlanGroup} from '../../engine/retention/plan.js';
import {describePolicy, isEmptyPolicy, parseTagList, PolicyError, POLICY_OPTION_NAMES, readPolicyOptions, type RetentionPolicy} from '../../engine/retention/policy.js';
import type {SnapshotDecision} from '../../engine/retention/apply.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {formatBytes} from '../cli/format.js';
import {parseMaxUnused, printReport, toJson as toPruneJson} from './prune.js';
import {formatLocalTime} from './snapshots.js';

/** Flags of `cairn forget` (commander's camelCase names). */
export interface ForgetFlags extends GlobalFlags {
	keepLatest?: string;
	keepLast?: string;
	keepHourly?: string;
	keepDaily?: string;
	keepWeekly?: string;
	keepMonthly?: string;
	keepAnnual?: string;
	keepYearly?: string;
	keepWithin?: string;
	keepWithinHourly?: string;
	keepWithinDaily?: string;
	keepWithinWeekly?: string;
	keepWithinMonthly?: string;
	keepWithinAnnual?: string;
	keepWithinYearly?: string;
	keepTag?: string[];
	groupBy?: string;
	host?: string[];
	tag?: string[];
	path?: string[];
	dryRun?: boolean;
	prune?: boolean;
	maxUnused?: string;
}

function camelCase(option: string): string {
	return option.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Reads the policy from the flags (aliases folded in); throws UsageError for a bad value. */
export function readPolicyFlags(flags: ForgetFlags): RetentionPolicy {
	const values: Record<string, string | string[] | undefined> = {};
	for (const names of Object.values(POLICY_OPTION_NAMES)) {
		for (const name of names) values[name] = (flags as Record<string, string | string[] | undefined>)[camelCase(name)];
	}
	try {
		return readPolicyOptions(values);
	} catch (error) {
		if (error instanceof PolicyError) throw new UsageError(error.message, {cause: error});
		throw error;
	}
}

function readGroupBy(text: string | undefined): GroupBy {
	try {
		return parseGroupBy(text ?? 'host,paths');
	} catch (error) {
		if (error instanceof GroupByError) throw new UsageError(error.message, {cause: error});
		throw error;
	}
}

/** A snapshot as restic's `forget --json` prints it: the snapshot file's fields (paths sorted), plus `id` and `short_id` unless left out. */
export function toForgetSnapshotJson(snapshot: Snapshot, options: {sortTags: boolean; withId: boolean}): Record<string, unknown> {
	const {id, ...fields} = snapshot;
	const sorted = {...fields, paths: [...fields.paths].sort(compareStrings), tags: options.sortTags && fields.tags ? [...fields.tags].sort(compareStrings) : fields.tags};
	const json = JSON.parse(encodeSnapshot(sorted).toString('utf8')) as Record<string, unknown>;
	return options.withId ? {...json, id, short_id: id.slice(0, 8)} : json;
}

/** The JSON of one group, in restic 0.14's shape: tags, host, paths, keep, remove, reasons (empty lists are null, as Go prints them). */
export function toForgetGroupJson(group: RetentionPlanGroup<Snapshot>, groupBy: GroupBy): Record<string, unknown> {
	const sortTags = groupBy.tags;
	const list = (snapshots: Snapshot[]): unknown => (snapshots.length ? snapshots.map((s) => toForgetSnapshotJson(s, {sortTags, withId: true})) : null);
	const kept = group.decisions.filter((d) => d.keep);
	return {
		tags: group.key.tags,
		host: group.key.hostname,
		paths: group.key.paths,
		keep: list(group.keep),
		remove: list(group.remove),
		reasons: kept.length ? kept.map((d) => ({snapshot: toForgetSnapshotJson(d.snapshot, {sortTags, withId: false}), matches: d.reasons, counters: d.counters})) : null,
	};
}

function formatTable(header: string[], rows: string[][][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.flatMap((row) => row[i]!.map((line) => line.length))));
	const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
	let text = line(header) + '\n' + '-'.repeat(widths.reduce((a, b) => a + b + 2, -2)) + '\n';
	for (const row of rows) {
		const height = Math.max(...row.map((cell) => cell.length));
		for (let i = 0; i < height; i++) text += line(row.map((cell) => cell[i] ?? '')) + '\n';
	}
	return text;
}

function describeGroup(group: RetentionPlanGroup<Snapshot>, groupBy: GroupBy): string {
	const rowOf = (d: SnapshotDecision<Snapshot>, withReasons: boolean): string[][] => {
		const s = d.snapshot;
		const cells = [[s.id.slice(0, 8)], [formatLocalTime(s.time)], [s.hostname ?? ''], [(s.tags ?? []).join(',')]];
		if (withReasons) cells.push(d.reasons);
		cells.push([...s.paths].sort(compareStrings));
		return cells;
	};
	const kept = group.decisions.filter((d) => d.keep);
	const removed = group.decisions.filter((d) => !d.keep);
	let text = `snapshots of ${describeGroupKey(group.key, groupBy)}:\n`;
	if (kept.length) text += `keep ${kept.length} snapshot${kept.length === 1 ? '' : 's'}:\n` + formatTable(['ID', 'Time', 'Host', 'Tags', 'Reasons', 'Paths'], kept.map((d) => rowOf(d, true)));
	if (removed.length) text += `remove ${removed.length} snapshot${removed.length === 1 ? '' : 's'}:\n` + formatTable(['ID', 'Time', 'Host', 'Tags', 'Paths'], removed.map((d) => rowOf(d, false)));
	return text + '\n';
}

/** Prints what a prune after forget did (the same report as `cairn prune`). */
function printPruneReport(report: PruneReport, flags: ForgetFlags): void {
	if (flags.json) {
		printJson(toPruneJson(report));
		return;
	}
	if (flags.quiet) return;
	printReport(report);
	process.stdout.write(`done: deleted ${report.packs.removeTotal - report.deleteFailures.length} pack files and wrote ${report.packsWritten} (${formatBytes(report.bytesWritten)}); freed about ${formatBytes(report.bytes.removeTotal)}.\n`);
	if (report.deleteFailures.length > 0) {
		process.stderr.write(`warning: ${report.deleteFailures.length} pack files could not be deleted; they are unreferenced now, which is harmless. Check that deleting files in the repository is allowed, then run \`cairn prune\` again\n`);
	}
}

/**
 * `cairn forget [ID...]`: under one exclusive lock (as restic), removes the snapshots the policy
 * (or the ID list) names and, with --prune, prunes.
 */
export async function runForgetCommand(ids: string[], flags: ForgetFlags, signal: AbortSignal): Promise<number> {
	const policy = readPolicyFlags(flags);
	const groupBy = readGroupBy(flags.groupBy);
	const filter = {hosts: flags.host, tags: flags.tag?.map(parseTagList), paths: flags.path};
	if (ids.length && Object.keys(policy).length) throw new UsageError('give either snapshot IDs or --keep-* options, not both: IDs are removed as they are, without a policy');
	if (!ids.length && isEmptyPolicy(policy)) {
		throw new UsageError('no policy given, so no snapshot would be removed: give at least one --keep-* option, e.g. --keep-daily 7 --keep-weekly 4 (see `cairn forget --help`)');
	}
	if (flags.maxUnused !== undefined && !flags.prune) throw new UsageError('--max-unused only applies with --prune: add --prune, or run `cairn prune --max-unused ...` later');
	const maxUnused = parseMaxUnused(flags.maxUnused);
	const repo = await openRepository(flags, signal, {lock: true});
	try {
		const fullIds: string[] = [];
		for (const id of ids) fullIds.push(await findSnapshotId(repo, id, {}, signal));
		const print = (text: string): void => {
			if (!flags.json && !flags.quiet) process.stdout.write(text);
		};
		const lock = await acquireLock(repo, {exclusive: true, signal});
		try {
			if (!ids.length) print(`Applying policy: ${describePolicy(policy)}\n`);
			const result: ForgetResult = await runForget(repo, {
				policy, ids: fullIds, groupBy, filter, dryRun: flags.dryRun, signal, noLock: true,
				onUnreadable: (id, error) => process.stderr.write(`error: snapshot ${id.slice(0, 8)} cannot be read and is left alone: ${error.message}\n`),
			});
			if (flags.json) printJson(result.groups.map((g) => toForgetGroupJson(g, groupBy)));
			else for (const group of result.groups) print(describeGroup(group, groupBy));
			for (const failure of result.failed) process.stderr.write(`error: snapshot ${failure.id.slice(0, 8)} could not be removed: ${failure.error.message}\n`);
			const count = (n: number): string => `${n} snapshot${n === 1 ? '' : 's'}`;
			if (flags.dryRun) print(result.remove.length ? `would remove ${count(result.remove.length)}: ${result.remove.map((s) => s.id.slice(0, 8)).join(', ')} (dry run: nothing was changed)\n` : 'no snapshot would be removed (dry run)\n');
			else if (result.removed.length) print(`removed ${count(result.removed.length)}${flags.prune ? '' : '; run `cairn prune` to free the space only they used'}\n`);
			else print('no snapshot removed\n');
			if (result.failed.length) {
				process.stderr.write(`${count(result.failed.length)} could not be removed (see above): check the repository's storage and run \`cairn forget\` again${flags.prune ? '; prune was not run' : ''}\n`);
				return 1;
			}
			if (flags.prune && flags.dryRun && result.remove.length) {
				print('--prune with --dry-run: the prune is not simulated, as its estimate would still count the snapshots above; after a real forget, `cairn prune --dry-run` shows what it would free\n');
			} else if (flags.prune && result.removed.length) {
				print('pruning the repository\n');
				printPruneReport(await runPrune(repo, {maxUnused, signal}), flags);
			}
			return result.unreadable.length ? 1 : 0;
		} finally {
			await lock.release();
		}
	} finally {
		await repo.close();
	}
}
