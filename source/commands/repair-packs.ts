/**
 * `cairn repair packs ID...` (restic 0.17): salvages the intact blobs of damaged packs, after
 * saving a copy of each pack as `pack-<ID>` in the current directory. Exclusive lock.
 */
import {open} from 'node:fs/promises';
import {UsageError} from '../../engine/errors.js';
import {repairPacks} from '../../engine/maintenance/repair-packs.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {makeVerbose} from './maintenance-common.js';

/** `cairn repair packs ID...`. */
export async function runRepairPacksCommand(ids: string[], flags: GlobalFlags, signal: AbortSignal): Promise<number> {
	if (ids.length === 0) throw new UsageError('no IDs given: name the damaged pack files, e.g. `cairn repair packs 1a2b...` (`cairn check --read-data` lists them)');
	for (const id of ids) if (!/^[0-9a-f]{64}$/.test(id)) throw new UsageError(`invalid pack ID ${JSON.stringify(id)}: give the full 64-digit ID`);
	const unique = [...new Set(ids)];
	const verbose = makeVerbose(flags);
	const repo = await openRepository(flags, signal, {cache: false});
	try {
		const lock = await acquireLock(repo, {exclusive: true, signal});
		try {
			verbose('saving backup copies of pack files to current folder\n');
			for (const id of unique) {
				let bytes: Uint8Array | undefined;
				try {
					bytes = await repo.storage.load({type: 'data', name: id}, {signal});
				} catch (error) {
					if (signal.aborted) throw error;
					process.stderr.write(`cannot read pack ${id} for a backup copy: ${(error as Error).message}\n`);
				}
				if (!bytes) continue;
				const file = await open(`pack-${id}`, 'wx', 0o600);
				try {
					await file.writeFile(bytes);
				} finally {
					await file.close();
				}
			}
			verbose('salvaging intact data from specified pack files\n');
			const result = await repairPacks(repo, unique, {
				signal,
				onEvent: (event) => {
					if (event.kind === 'no-blobs') process.stderr.write(`no blobs found for pack ${event.packId}\n`);
					if (event.kind === 'blob-lost') process.stderr.write(`failed to load blob ${event.blobId}: ${event.error.message}\n`);
				},
			});
			verbose(`salvaged ${result.salvaged} blobs, lost ${result.lost}\nremoving salvaged pack files\n`);
			process.stderr.write('\nUse `cairn repair snapshots --forget` to remove the corrupted data blobs from all snapshots\n');
			return 0;
		} finally {
			await lock.release();
		}
	} finally {
		await repo.close();
	}
}
