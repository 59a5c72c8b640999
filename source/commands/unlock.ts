import {describeLock, listLocks, removeLocks, type LockInfo} from '../../engine/repository/lock.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';

function toJson(lock: LockInfo): Record<string, unknown> {
	return {id: lock.id, time: lock.time, exclusive: lock.exclusive, hostname: lock.hostname, username: lock.username, pid: lock.pid, stale: lock.stale ?? null};
}

/**
 * `cairn unlock [--remove-all]`: removes stale locks (or every lock), saying who held each one and
 * since when, and names the live locks it left in place.
 */
export async function runUnlock(flags: GlobalFlags & {removeAll?: boolean}, signal: AbortSignal): Promise<number> {
	const repo = await openRepository(flags, signal);
	try {
		const removed = await removeLocks(repo, {all: flags.removeAll, signal});
		const removedIds = new Set(removed.map((l) => l.id));
		const live = (await listLocks(repo, signal)).filter((l) => !removedIds.has(l.id) && !l.stale);
		if (flags.json) {
			printJson({removed: removed.map(toJson), remaining: live.map(toJson)});
			return 0;
		}
		for (const lock of removed) process.stdout.write(`removed ${describeLock(lock)}${lock.stale ? ` (stale: ${lock.stale})` : ' (it was live)'}\n`);
		if (removed.length === 0) process.stdout.write('no stale locks\n');
		for (const lock of live) process.stdout.write(`kept ${describeLock(lock)}: it is live; wait for it to finish, or use --remove-all if you are sure that process is gone\n`);
		return 0;
	} finally {
		await repo.close();
	}
}
