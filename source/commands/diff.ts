import {diffTrees} from '../../engine/diff/diff.js';
import {formatResticBytes} from '../../engine/format/go-values.js';
import {CairnError} from '../../engine/errors.js';
import {findSnapshotId, loadSnapshot} from '../../engine/repository/snapshots.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {withSharedLock, type LockFlags} from '../cli/snapshot-select.js';
import {lookupPlaintextSize, makeTreeLoader} from '../cli/tree-access.js';
import {OutputBuffer} from './snapshots.js';

/** Flags of `cairn diff`. */
export interface DiffFlags extends GlobalFlags, LockFlags {
	metadata?: boolean;
}

/** `cairn diff A B`: what changed from snapshot A to snapshot B, as restic prints it. */
export async function runDiff(args: string[], flags: DiffFlags, signal: AbortSignal): Promise<number> {
	if (args.length !== 2) throw new CairnError('specify two snapshot IDs');
	const repo = await openRepository(flags, signal);
	try {
		return await withSharedLock(repo, flags, signal, async () => {
			const [id1, id2] = [await findSnapshotId(repo, args[0]!, {}, signal), await findSnapshotId(repo, args[1]!, {}, signal)];
			const [sn1, sn2] = [await loadSnapshot(repo, id1, signal), await loadSnapshot(repo, id2, signal)];
			const out = new OutputBuffer();
			if (!flags.json && !flags.quiet) out.line(`comparing snapshot ${id1.slice(0, 8)} to ${id2.slice(0, 8)}:\n`);
			await repo.loadIndex({signal});
			if (!sn1.tree || !sn2.tree) throw new CairnError('a snapshot has no tree');
			const warn = (message: string): void => {
				out.flush();
				process.stderr.write(`${message}\n`);
			};
			try {
				const stats = await diffTrees(makeTreeLoader(repo, signal), sn1.tree, sn2.tree, {metadata: flags.metadata, blobSize: (type, id) => lookupPlaintextSize(repo, type, id), onWarning: warn}, (change) => {
					if (flags.quiet) return;
					if (flags.json) out.line(JSON.stringify({message_type: 'change', path: change.path, modifier: change.modifier}));
					else out.line(`${change.modifier.padEnd(5)}${change.path}`);
				});
				if (flags.json) {
					out.flush();
					printJson({message_type: 'statistics', source_snapshot: args[0], target_snapshot: args[1], ...stats});
					return 0;
				}
				const n = (value: number): string => String(value).padStart(5);
				out.line('');
				out.line(`Files:       ${n(stats.added.files)} new, ${n(stats.removed.files)} removed, ${n(stats.changed_files)} changed`);
				out.line(`Dirs:        ${n(stats.added.dirs)} new, ${n(stats.removed.dirs)} removed`);
				out.line(`Others:      ${n(stats.added.others)} new, ${n(stats.removed.others)} removed`);
				out.line(`Data Blobs:  ${n(stats.added.data_blobs)} new, ${n(stats.removed.data_blobs)} removed`);
				out.line(`Tree Blobs:  ${n(stats.added.tree_blobs)} new, ${n(stats.removed.tree_blobs)} removed`);
				out.line(`  Added:   ${formatResticBytes(stats.added.bytes).padEnd(5)}`);
				out.line(`  Removed: ${formatResticBytes(stats.removed.bytes).padEnd(5)}`);
				return 0;
			} finally {
				out.flush();
			}
		});
	} finally {
		await repo.close();
	}
}
