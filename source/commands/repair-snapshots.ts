/**
 * `cairn repair snapshots` (restic 0.16): new snapshots without references to data the
 * repository lacks. Exclusive lock; nothing written with --dry-run.
 */
import {repairSnapshots} from '../../engine/maintenance/repair-snapshots.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {makeVerbose, replaceSelectedSnapshots, type SnapshotFilterFlags} from './maintenance-common.js';

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
			return await replaceSelectedSnapshots(repo, ids, flags, verbose, signal, (snapshots, settings) => repairSnapshots(repo, snapshots, {
				...settings,
				onNote: (note) => {
					switch (note.kind) {
						case 'file-content': verbose(`  file "${note.path}": removed missing content\n`); break;
						case 'file-size': verbose(`  file "${note.path}": fixed incorrect size\n`); break;
						case 'dir-unreadable': verbose(`  dir "${note.path}": not readable\n`); break;
						case 'dir-emptied': verbose(`  dir "${note.path}": replaced with empty directory\n`); break;
					}
				},
			}));
		} finally {
			await lock?.release();
		}
	} finally {
		await repo.close();
	}
}
