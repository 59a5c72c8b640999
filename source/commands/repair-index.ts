/**
 * `cairn repair index` (alias `rebuild-index`, restic's command of 0.14): a new index from the
 * pack files, under an exclusive lock.
 */
import {repairIndex} from '../../engine/maintenance/repair-index.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {makeVerbose} from './maintenance-common.js';

/** Flags of `cairn repair index`. */
export interface RepairIndexFlags extends GlobalFlags {
	readAllPacks?: boolean;
}

/** `cairn repair index`. */
export async function runRepairIndexCommand(flags: RepairIndexFlags, signal: AbortSignal): Promise<number> {
	const verbose = makeVerbose(flags);
	const warn = (text: string): void => {
		process.stderr.write(text);
	};
	// The cache would serve index files that are being replaced: read the repository itself.
	const repo = await openRepository(flags, signal, {cache: false});
	try {
		const lock = await acquireLock(repo, {exclusive: true, signal});
		try {
			if (!flags.readAllPacks) verbose('loading indexes...\n');
			let lastPercent = -1;
			await repairIndex(repo, {
				readAllPacks: flags.readAllPacks, signal,
				onEvent: (event) => {
					switch (event.kind) {
						case 'invalid-index': warn(`removing invalid index ${event.id}: ${event.error.message}\n`); break;
						case 'pack-added': warn(`adding pack file to index ${event.id}\n`); break;
						case 'pack-resized': warn(`reindexing pack file ${event.id} with unexpected size ${event.size} instead of ${event.expected}\n`); break;
						case 'pack-missing': warn(`removing not found pack file ${event.id}\n`); break;
						case 'pack-incomplete': verbose(`skipped incomplete pack file: ${event.id}\n`); break;
						case 'reading-packs': verbose('getting pack files to read...\nreading pack files\n'); break;
						case 'pack-read': {
							const percent = Math.floor((event.done / event.total) * 100);
							if (process.stderr.isTTY && !flags.quiet && percent !== lastPercent) process.stderr.write(`\r[${percent}%] ${event.done} / ${event.total} packs`);
							if (process.stderr.isTTY && event.done === event.total) process.stderr.write('\n');
							lastPercent = percent;
							break;
						}
					}
				},
			});
			verbose('done\n');
			return 0;
		} finally {
			await lock.release();
		}
	} finally {
		await repo.close();
	}
}
