import {decodeIndexFile} from '../../engine/format/index-file.js';
import {CairnError} from '../../engine/errors.js';
import type {FileType} from '../../adapters/storage.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {withSharedLock, type LockFlags} from '../cli/snapshot-select.js';
import {OutputBuffer} from './snapshots.js';

const LIST_TYPES: Record<string, FileType | 'blobs'> = {packs: 'data', index: 'index', snapshots: 'snapshots', keys: 'keys', locks: 'locks', blobs: 'blobs'};

/** `cairn list TYPE`: IDs of the repository's files of a type, or `data|tree ID` per indexed blob. */
export async function runList(args: string[], flags: GlobalFlags & LockFlags, signal: AbortSignal): Promise<number> {
	if (args.length !== 1) throw new CairnError('type not specified, usage: cairn list [blobs|packs|index|snapshots|keys|locks]');
	const type = LIST_TYPES[args[0]!];
	if (type === undefined) throw new CairnError('invalid type');
	const repo = await openRepository(flags, signal, {cache: false});
	// restic lists locks without taking one.
	const lockFlags = type === 'locks' ? {lock: false} : flags;
	try {
		return await withSharedLock(repo, lockFlags, signal, async () => {
			const out = new OutputBuffer();
			try {
				if (type === 'blobs') {
					for (const id of await repo.listIds('index', signal)) {
						const doc = decodeIndexFile(await repo.loadJson('index', id, signal), id);
						for (const pack of doc.packs) for (const blob of pack.blobs) out.line(`${blob.type} ${blob.id}`);
					}
				} else {
					for await (const info of repo.storage.list(type, {signal})) out.line(info.name);
				}
			} finally {
				out.flush();
			}
			return 0;
		});
	} finally {
		await repo.close();
	}
}
