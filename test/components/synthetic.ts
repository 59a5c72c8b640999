/**
 * Synthetic repositories for the component tests: trees written directly with the engine, so
 * that a directory of 100,000 entries takes a second to make instead of 100,000 files on disk.
 */
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {encodeTree, type TreeNode} from '../../engine/format/tree.js';
import {saveSnapshot} from '../../engine/repository/snapshots.js';

/** A file or directory of a synthetic tree: a directory maps names to children. */
export type SyntheticEntry = number | {readonly [name: string]: SyntheticEntry};

const TIME = '2024-03-01T10:00:00+00:00';

function makeNode(name: string, type: 'file' | 'dir', extra: Partial<TreeNode>): TreeNode {
	return {name, type, mode: type === 'dir' ? 0x800001ed : 0o644, mtime: TIME, atime: TIME, ctime: TIME, uid: 1000, gid: 1000, user: 'me', group: 'me', content: type === 'file' ? [] : null, ...extra};
}

async function saveDirectory(repo: Repository, entries: Readonly<Record<string, SyntheticEntry>>): Promise<string> {
	const nodes: TreeNode[] = [];
	for (const name of Object.keys(entries).sort()) {
		const entry = entries[name]!;
		if (typeof entry === 'number') nodes.push(makeNode(name, 'file', {size: entry}));
		else nodes.push(makeNode(name, 'dir', {subtree: await saveDirectory(repo, entry)}));
	}
	return (await repo.saveBlob('tree', encodeTree(nodes))).id;
}

/** `count` files named `file-000000.dat` … with sizes 0, 1, 2, … */
export function makeManyFiles(count: number): Record<string, number> {
	const files: Record<string, number> = {};
	for (let i = 0; i < count; i++) files[`file-${String(i).padStart(6, '0')}.dat`] = i;
	return files;
}

/** Creates a repository holding one snapshot of `root` (its paths are the top-level names, e.g. `/data`). Files have sizes but no content. */
export async function createSyntheticRepository(path: string, password: string, root: Readonly<Record<string, SyntheticEntry>>, options: {hostname?: string; tags?: string[]} = {}): Promise<string> {
	const repo = await Repository.init(createLocalStorage(path), password);
	try {
		const tree = await saveDirectory(repo, root);
		await repo.flush();
		return await saveSnapshot(repo, {time: '2024-03-01T10:00:00.000000000+00:00', tree, paths: Object.keys(root).map((name) => `/${name}`), hostname: options.hostname ?? 'synthetic', username: 'me', tags: options.tags});
	} finally {
		await repo.close();
	}
}
