/**
 * Saves an entry of a snapshot to a local path the way `cairn dump` writes it: a file's contents,
 * or a directory as a tar archive. Written under a temporary name and renamed when complete.
 */
import type {TreeNode} from '../engine/format/tree.js';
import {dumpArchive, streamFileContent} from '../engine/dump/dump.js';
import {saveToPath} from '../engine/dump/save.js';
import {CountingSink, type ByteSink} from '../engine/dump/sink.js';
import {access} from 'node:fs/promises';
import type {Session} from './session.js';

/** Saves `node` (at `source` in the snapshot) to `target`; refuses to replace an existing file. Resolves with the bytes written. */
export async function saveEntry(session: Session, node: TreeNode, source: string, target: string, signal: AbortSignal, onProgress: (bytes: number) => void): Promise<number> {
	const exists = await access(target).then(() => true, () => false);
	if (exists) throw new Error(`${target} exists already: choose another name (nothing was written)`);
	const {sink, finish} = await saveToPath(target, 0o644);
	const counting = new CountingSink(sink);
	let last = 0;
	const progress: ByteSink = {
		async write(bytes) {
			await counting.write(bytes);
			if (counting.written - last >= 1024 * 1024) {
				last = counting.written;
				onProgress(counting.written);
			}
		},
	};
	const loadBlob = (id: string): Promise<Uint8Array> => session.repo.loadBlob('data', id, signal);
	try {
		if (node.type === 'file') {
			await streamFileContent(node, loadBlob, (bytes) => progress.write(bytes), signal);
		} else {
			const nodes = node.subtree ? await session.trees.load(node.subtree, signal) : [];
			await dumpArchive(nodes, source, progress, {format: 'tar', loadTree: (id) => session.trees.load(id, signal), loadBlob, signal});
		}
		await finish(true);
		return counting.written;
	} catch (error) {
		await finish(false);
		throw error;
	}
}
