import {STATS_MODES, StatsCounter, type StatsMode} from '../../engine/stats/stats.js';
import {formatResticBytes} from '../../engine/format/go-values.js';
import {CairnError} from '../../engine/errors.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {selectSnapshots, withSharedLock, type LockFlags, type SnapshotFilterFlags} from '../cli/snapshot-select.js';
import {lookupPlaintextSize, lookupStoredSize, makeTreeLoader} from '../cli/tree-access.js';

/** Flags of `cairn stats`. */
export interface StatsFlags extends GlobalFlags, LockFlags, SnapshotFilterFlags {
	mode?: string;
}

/** `cairn stats [SNAPSHOT...]`: sizes in one of restic's four counting modes. */
export async function runStats(args: string[], flags: StatsFlags, signal: AbortSignal): Promise<number> {
	const mode = (flags.mode ?? 'restore-size') as StatsMode;
	if (!STATS_MODES.includes(mode)) throw new CairnError(`unknown counting mode: ${flags.mode} (use the -h flag to get a list of supported modes)`);
	const repo = await openRepository(flags, signal);
	try {
		return await withSharedLock(repo, flags, signal, async () => {
			await repo.loadIndex({signal});
			if (!flags.json) process.stdout.write('scanning...\n');
			const warn = (message: string): void => void process.stderr.write(`${message}\n`);
			const counter = new StatsCounter(mode, makeTreeLoader(repo, signal), {
				plaintextSize: (type, id) => lookupPlaintextSize(repo, type, id),
				storedSize: (type, id) => lookupStoredSize(repo, type, id),
			});
			for (const snapshot of await selectSnapshots(repo, args, flags, warn, signal)) {
				try {
					await counter.addSnapshot(snapshot.tree);
				} catch (error) {
					throw new CairnError(`error walking snapshot: walking tree ${snapshot.tree}: ${(error as Error).message}`, {cause: error});
				}
			}
			const result = counter.result();
			if (flags.json) {
				printJson(result);
				return 0;
			}
			const lines = [`Stats in ${mode} mode:`, `Snapshots processed:   ${result.snapshots_count}`];
			if (result.total_blob_count) lines.push(`   Total Blob Count:   ${result.total_blob_count}`);
			if (result.total_file_count) lines.push(`   Total File Count:   ${result.total_file_count}`);
			lines.push(`         Total Size:   ${formatResticBytes(result.total_size).padEnd(5)}`);
			process.stdout.write(lines.join('\n') + '\n');
			return 0;
		});
	} finally {
		await repo.close();
	}
}
