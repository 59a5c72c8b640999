import {removeLocks} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';

/** `cairn unlock [--remove-all]`: removes stale locks (or every lock). */
export async function runUnlock(flags: GlobalFlags & {removeAll?: boolean}, signal: AbortSignal): Promise<number> {
	const repo = await openRepository(flags, signal);
	try {
		const removed = await removeLocks(repo, {all: flags.removeAll, signal});
		for (const lock of removed) process.stdout.write(`removed lock ${lock.id.slice(0, 8)} (${lock.username}@${lock.hostname}, PID ${lock.pid}${lock.stale ? `: ${lock.stale}` : ''})\n`);
		if (removed.length === 0) process.stdout.write('no stale locks\n');
		return 0;
	} finally {
		await repo.close();
	}
}
