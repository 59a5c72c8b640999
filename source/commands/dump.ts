import {ARCHIVE_FORMATS, dumpArchive, resolveDumpPath, streamFileContent, type ArchiveFormat} from '../../engine/dump/dump.js';
import {sinkFromStream, type ByteSink} from '../../engine/dump/sink.js';
import {CairnError} from '../../engine/errors.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {resolveSnapshot, withSharedLock, type LockFlags, type SnapshotFilterFlags} from '../cli/snapshot-select.js';
import {makeTreeLoader} from '../cli/tree-access.js';

/** Flags of `cairn dump`. */
export interface DumpFlags extends GlobalFlags, LockFlags, SnapshotFilterFlags {
	archive?: string;
	/** Write to this file instead of stdout (restic's --target of later versions). */
	target?: string;
}

/**
 * `cairn dump SNAPSHOT PATH`: a file's contents, or a directory (or `/`) as a tar or zip archive,
 * on stdout. Exit codes as restic's: 1 for an unknown snapshot, 2 when the path cannot be dumped.
 */
export async function runDump(args: string[], flags: DumpFlags, signal: AbortSignal): Promise<number> {
	if (args.length !== 2) throw new CairnError('no file and no snapshot ID specified');
	const format = (flags.archive ?? 'tar') as ArchiveFormat;
	if (!ARCHIVE_FORMATS.includes(format)) throw new CairnError(`unknown archive format ${JSON.stringify(flags.archive)}: use tar or zip`);
	const repo = await openRepository(flags, signal);
	try {
		return await withSharedLock(repo, flags, signal, async () => {
			const snapshot = await resolveSnapshot(repo, args[0]!, flags, signal).catch((error: Error) => {
				throw new CairnError(args[0] === 'latest' ? `latest snapshot for criteria not found: ${error.message}` : `invalid id ${JSON.stringify(args[0])}: ${error.message}`);
			});
			await repo.loadIndex({signal});
			const loadTree = makeTreeLoader(repo, signal);
			const target = await resolveDumpPath(loadTree, snapshot.tree, args[1]!).catch((error: Error) => {
				throw new CairnError(`cannot dump file: ${error.message}`, {exitCode: 2});
			});
			const {sink, finish} = await openOutput(flags.target);
			try {
				if (target.kind === 'file') {
					await streamFileContent(target.node, (id) => repo.loadBlob('data', id, signal), (bytes) => sink.write(bytes), signal);
				} else {
					if (flags.target === undefined && process.stdout.isTTY) throw new CairnError('cannot dump file: stdout is the terminal, please redirect output', {exitCode: 2});
					await dumpArchive(target.nodes, target.path, sink, {format, loadTree, loadBlob: (id) => repo.loadBlob('data', id, signal), signal});
				}
				await finish(true);
			} catch (error) {
				await finish(false);
				throw error instanceof CairnError ? error : new CairnError(`cannot dump file: ${(error as Error).message}`, {exitCode: 2, cause: error});
			}
			return 0;
		});
	} finally {
		await repo.close();
	}
}

async function openOutput(target: string | undefined): Promise<{sink: ByteSink; finish: (ok: boolean) => Promise<void>}> {
	if (target === undefined) {
		return {sink: sinkFromStream(process.stdout), finish: async () => undefined};
	}
	const {saveToPath} = await import('../../engine/dump/save.js');
	return saveToPath(target);
}
