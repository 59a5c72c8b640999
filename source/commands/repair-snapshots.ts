/**
 * `cairn repair snapshots` (restic 0.16): new snapshots without references to data the
 * repository lacks. Exclusive lock; nothing written with --dry-run.
 */
import {repairSnapshots} from '../../engine/maintenance/repair-snapshots.js';
import {selectSnapshots} from '../../engine/maintenance/select.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {describeSnapshotLine, makeUnresolvedReporter, makeVerbose, readSnapshotFilter, type SnapshotFilterFlags} from './maintenance-common.js';

/** Flags of `cairn repair snapshots`. */
export interface RepairSnapshotsFlags extends GlobalFlags, SnapshotFilterFlags {
	forget?: boolean;
	dryRun?: boolean;
}

/** `cairn repair snapshots [ID...]`. */
export async function runRepairSnapshotsCommand(ids: string[], flags: RepairSnapshotsFlags, signal: AbortSignal): Promise<number> {
	const verbose = makeVerbose(flags);
	const repo = await openRepository(flags, signal, {cache: false});
	try {
		const lock = flags.dryRun ? undefined : await acquireLock(repo, {exclusive: true, signal});
		try {
			const unresolved = makeUnresolvedReporter();
			const snapshots = await selectSnapshots(repo, ids, {onUnresolved: unresolved.onUnresolved, filter: readSnapshotFilter(flags), signal});
			await repo.loadIndex({signal});
			const changed = await repairSnapshots(repo, snapshots, {
				forget: flags.forget, dryRun: flags.dryRun, signal,
				onSnapshot: (snapshot) => verbose(`\n${describeSnapshotLine(snapshot)}\n`),
				onNote: (note) => {
					switch (note.kind) {
						case 'file-content': verbose(`  file "${note.path}": removed missing content\n`); break;
						case 'file-size': verbose(`  file "${note.path}": fixed incorrect size\n`); break;
						case 'dir-unreadable': verbose(`  dir "${note.path}": not readable\n`); break;
						case 'dir-emptied': verbose(`  dir "${note.path}": replaced with empty directory\n`); break;
					}
				},
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
			});
			verbose('\n');
			if (changed === 0) verbose(flags.dryRun ? 'no snapshots would be modified\n' : 'no snapshots were modified\n');
			else verbose(flags.dryRun ? `would modify ${changed} snapshots\n` : `modified ${changed} snapshots\n`);
			return unresolved.count > 0 ? 1 : 0;
		} finally {
			await lock?.release();
		}
	} finally {
		await repo.close();
	}
}
