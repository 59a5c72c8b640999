/**
 * `cairn tag`: adds, removes or sets the tags of snapshots (restic's `tag`), under an exclusive lock.
 */
import {UsageError} from '../../engine/errors.js';
import {selectSnapshots} from '../../engine/maintenance/select.js';
import {changeTags} from '../../engine/maintenance/tags.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {flattenTagLists, makeUnresolvedReporter, makeVerbose, readSnapshotFilter, type SnapshotFilterFlags} from './maintenance-common.js';

/** Flags of `cairn tag`. */
export interface TagFlags extends GlobalFlags, SnapshotFilterFlags {
	set?: string[];
	add?: string[];
	remove?: string[];
}

/** `cairn tag [ID...]`. Exit 0, or 1 when some snapshot could not be changed. */
export async function runTagCommand(ids: string[], flags: TagFlags, signal: AbortSignal): Promise<number> {
	const set = flattenTagLists(flags.set);
	const add = flattenTagLists(flags.add);
	const remove = flattenTagLists(flags.remove);
	if (!set.length && !add.length && !remove.length) throw new UsageError('nothing to do: give --add, --remove or --set with the tags (e.g. --add important)');
	if (set.length && (add.length || remove.length)) throw new UsageError('--set and --add/--remove cannot be given at the same time');
	const verbose = makeVerbose(flags);
	const repo = await openRepository(flags, signal);
	try {
		verbose('create exclusive lock for repository\n');
		const lock = await acquireLock(repo, {exclusive: true, signal});
		try {
			const unresolved = makeUnresolvedReporter();
			const snapshots = await selectSnapshots(repo, ids, {onUnresolved: unresolved.onUnresolved, filter: readSnapshotFilter(flags), signal});
			const outcomes = await changeTags(repo, snapshots, {set, add, remove}, signal);
			let changed = 0;
			let failed = 0;
			for (const outcome of outcomes) {
				if (outcome.error) {
					failed++;
					process.stderr.write(`unable to modify the tags for snapshot ID "${outcome.snapshot.id}", ignoring: ${outcome.error.message}\n`);
				} else if (outcome.newId) {
					changed++;
					if (flags.json) printJson({message_type: 'changed', old_snapshot_id: outcome.snapshot.id, new_snapshot_id: outcome.newId});
				}
			}
			if (flags.json) printJson({message_type: 'summary', changed_snapshots: changed});
			else verbose(changed === 0 ? 'no snapshots were modified\n' : `modified tags on ${changed} snapshots\n`);
			return failed > 0 || unresolved.count > 0 ? 1 : 0;
		} finally {
			await lock.release();
		}
	} finally {
		await repo.close();
	}
}
