/**
 * What the snapshot-changing commands (tag, rewrite, repair, copy) share: restic's snapshot
 * filter flags and the line restic prints before working on a snapshot.
 */
import type {Snapshot} from '../../engine/format/snapshot.js';
import type {ReplaceOutcome} from '../../engine/maintenance/replace-snapshot.js';
import {selectSnapshots} from '../../engine/maintenance/select.js';
import type {Repository} from '../../engine/repository/repository.js';
import type {SnapshotFilter} from '../../engine/retention/plan.js';
import {parseTagList} from '../../engine/retention/policy.js';
import {formatLocalTime} from './snapshots.js';

/** restic's snapshot filter flags. */
export interface SnapshotFilterFlags {
	host?: string[];
	tag?: string[];
	path?: string[];
}

/** The filter the flags describe: hosts, tag lists (`a,b` means both), paths. */
export function readSnapshotFilter(flags: SnapshotFilterFlags): SnapshotFilter {
	return {hosts: flags.host, tags: flags.tag?.map(parseTagList), paths: flags.path};
}

/** `snapshot 1a2b3c4d of [/home /etc] at 2024-05-01 10:00:00)`, as restic prints it (its stray parenthesis included). */
export function describeSnapshotLine(snapshot: Snapshot): string {
	return `snapshot ${snapshot.id.slice(0, 8)} of [${snapshot.paths.join(' ')}] at ${formatLocalTime(snapshot.time)})`;
}

/** Splits repeated `tag[,tag]` values into one list, as restic's TagLists.Flatten. */
export function flattenTagLists(values: readonly string[] | undefined): string[] {
	return (values ?? []).flatMap((value) => parseTagList(value));
}

/** A printer that is silent with --quiet or --json (restic's Verbosef goes to stdout). */
export function makeVerbose(flags: {quiet?: boolean; json?: boolean}): (text: string) => void {
	return (text) => {
		if (!flags.quiet && !flags.json) process.stdout.write(text);
	};
}

/** Collects the refs that named no snapshot: restic's warning for each, and whether any was seen (exit 1 at the end). */
export function makeUnresolvedReporter(): {onUnresolved: (ref: string, error: Error) => void; readonly count: number} {
	let count = 0;
	return {
		onUnresolved: (ref, error) => {
			count++;
			process.stderr.write(`Ignoring "${ref}": ${error.message}\n`);
		},
		get count() {
			return count;
		},
	};
}

/** Prints, as restic's `rewrite` and `repair snapshots` do, each snapshot in turn and what became of it. */
export function makeReplaceReporter(verbose: (text: string) => void, flags: {dryRun?: boolean; forget?: boolean}): {onSnapshot: (snapshot: Snapshot) => void; onOutcome: (snapshot: Snapshot, outcome: ReplaceOutcome) => void} {
	return {
		onSnapshot: (snapshot) => verbose(`\n${describeSnapshotLine(snapshot)}\n`),
		onOutcome: (snapshot, outcome) => {
			if (outcome.kind === 'removed-empty') verbose(flags.dryRun ? 'would delete empty snapshot\n' : `removed empty snapshot ${snapshot.id.slice(0, 8)}\n`);
			if (outcome.kind !== 'replaced') return;
			if (flags.dryRun) {
				verbose('would save new snapshot\n');
				if (flags.forget) verbose('would remove old snapshot\n');
				return;
			}
			verbose(`saved new snapshot ${outcome.newId!.slice(0, 8)}\n`);
			if (outcome.forgotten) verbose(`removed old snapshot ${snapshot.id.slice(0, 8)}\n`);
		},
	};
}

/** Prints the closing count of `rewrite` and `repair snapshots`. */
export function printModifiedCount(verbose: (text: string) => void, changed: number, dryRun: boolean | undefined): void {
	verbose('\n');
	if (changed === 0) verbose(dryRun ? 'no snapshots would be modified\n' : 'no snapshots were modified\n');
	else verbose(dryRun ? `would modify ${changed} snapshots\n` : `modified ${changed} snapshots\n`);
}

/** What `rewrite` and `repair snapshots` tell their engine function: the dry-run and forget flags, the printers. */
export type ReplaceSettings = {forget?: boolean; dryRun?: boolean; signal: AbortSignal} & ReturnType<typeof makeReplaceReporter>;

/**
 * The part `rewrite` and `repair snapshots` share once the lock is held: selects the snapshots (by
 * ID, or all that the filter flags pass), loads the index, runs `replace` on them, prints the count.
 * Resolves with the exit code: 1 when an ID did not resolve, else 0.
 */
export async function replaceSelectedSnapshots(repo: Repository, ids: readonly string[], flags: SnapshotFilterFlags & {forget?: boolean; dryRun?: boolean}, verbose: (text: string) => void, signal: AbortSignal, replace: (snapshots: Snapshot[], settings: ReplaceSettings) => Promise<number>): Promise<number> {
	const unresolved = makeUnresolvedReporter();
	const snapshots = await selectSnapshots(repo, ids, {onUnresolved: unresolved.onUnresolved, filter: readSnapshotFilter(flags), signal});
	await repo.loadIndex({signal});
	const changed = await replace(snapshots, {forget: flags.forget, dryRun: flags.dryRun, signal, ...makeReplaceReporter(verbose, flags)});
	printModifiedCount(verbose, changed, flags.dryRun);
	return unresolved.count > 0 ? 1 : 0;
}
