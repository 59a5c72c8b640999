import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {Repository} from '../../../engine/repository/repository.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';
import {decodeTree, type TreeNode} from '../../../engine/format/tree.js';
import {sameNode, sameNodes} from '../../../engine/archiver/same-nodes.js';

let work: string;
let source: string;
const DIRS = ['a', 'a/one', 'a/two', 'b', 'b/three'];

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-unchanged-trees-'));
	source = path.join(work, 'src');
	for (const dir of DIRS) {
		await fs.mkdir(path.join(source, dir), {recursive: true});
		await fs.writeFile(path.join(source, dir, 'file.txt'), `contents of ${dir}\n`);
	}
	await fs.symlink('a/file.txt', path.join(source, 'link'));
	await settleAccessTimes();
});

/**
 * Sets every access time after its modification and change times, so that reading the tree does
 * not change it (relatime updates an access time that is not newer than both). A minute ahead:
 * the change time the kernel sets comes from a coarse clock that can be later than `new Date()`.
 */
async function settleAccessTimes(): Promise<void> {
	const past = new Date(Date.now() - 3_600_000);
	const ahead = new Date(Date.now() + 60_000);
	for (const dir of [...DIRS].reverse()) {
		await fs.utimes(path.join(source, dir, 'file.txt'), ahead, past);
		await fs.utimes(path.join(source, dir), ahead, past);
	}
	await fs.lutimes(path.join(source, 'link'), ahead, past);
	await fs.utimes(source, ahead, past);
}

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** Tree IDs of every directory of a snapshot, by path below the source. */
async function collectTreeIds(repo: Repository, snapshotId: string): Promise<Map<string, string>> {
	const ids = new Map<string, string>();
	const walk = async (treeId: string, rel: string): Promise<void> => {
		ids.set(rel, treeId);
		for (const node of decodeTree(await repo.loadBlob('tree', treeId)).nodes) {
			if (node.type === 'dir' && node.subtree) await walk(node.subtree, rel ? `${rel}/${node.name}` : node.name);
		}
	};
	await walk((await loadSnapshot(repo, snapshotId)).tree, '');
	return ids;
}

/** Counts the tree blobs a backup hands to saveBlob. */
async function backUpCountingTrees(repo: Repository): Promise<{id: string; treesSaved: number}> {
	const spy = vi.spyOn(repo, 'saveBlob');
	try {
		const summary = await runBackup(repo, {paths: [source]});
		return {id: summary.snapshot_id, treesSaved: spy.mock.calls.filter(([type]) => type === 'tree').length};
	} finally {
		spy.mockRestore();
	}
}

describe('unchanged directories reuse the parent tree', () => {
	it('encodes no tree of the walked directories again, and re-encodes only the changed path', async () => {
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		const first = await backUpCountingTrees(repo);
		const firstIds = await collectTreeIds(repo, first.id);
		// The source and its subdirectories, plus the directories above the source.
		expect(first.treesSaved).toBeGreaterThan(DIRS.length);

		const second = await backUpCountingTrees(repo);
		const secondIds = await collectTreeIds(repo, second.id);
		// The walked tree (the source and below) is the same; the skeleton above it holds the
		// times of /tmp and the work directory, which other processes change.
		const walked = (ids: Map<string, string>): Array<[string, string]> => [...ids].filter(([key]) => key.startsWith(source.slice(1)));
		expect(walked(secondIds)).toHaveLength(DIRS.length + 1);
		expect(walked(secondIds)).toEqual(walked(firstIds));
		// Only the directories above the walked tree (saved as skeleton) are encoded again.
		expect(second.treesSaved).toBe(first.treesSaved - DIRS.length - 1);

		// A changed file: its directory and the ones above it get new trees, the others keep theirs.
		await fs.writeFile(path.join(source, 'a', 'two', 'file.txt'), 'changed contents\n');
		await fs.utimes(path.join(source, 'a', 'two', 'file.txt'), new Date(Date.now() + 60_000), new Date());
		const third = await backUpCountingTrees(repo);
		const thirdIds = await collectTreeIds(repo, third.id);
		const rel = source.slice(1);
		for (const dir of DIRS) {
			const key = `${rel}/${dir}`;
			const changed = dir === 'a' || dir === 'a/two';
			expect(thirdIds.get(key) !== firstIds.get(key), key).toBe(changed);
		}
		expect(thirdIds.get(rel)).not.toBe(firstIds.get(rel));

		const target = path.join(work, 'restore');
		const summary = await runRestore(repo, third.id, target);
		expect(summary.errors).toEqual([]);
		for (const dir of DIRS) {
			expect(await fs.readFile(path.join(target, source, dir, 'file.txt'), 'utf8')).toBe(await fs.readFile(path.join(source, dir, 'file.txt'), 'utf8'));
		}
		expect(await fs.readlink(path.join(target, source, 'link'))).toBe('a/file.txt');
	});
});

describe('sameNode', () => {
	const base: TreeNode = {name: 'f', type: 'file', mode: 0o644, mtime: '2024-01-01T00:00:00Z', content: ['ab'], size: 3} as TreeNode;

	it('treats absent, undefined and null fields alike', () => {
		expect(sameNode({...base, linktarget: undefined} as TreeNode, {...base, linktarget: null} as unknown as TreeNode)).toBe(true);
		expect(sameNode(base, {...base, subtree: null} as unknown as TreeNode)).toBe(true);
	});

	it('tells any differing field apart', () => {
		expect(sameNode(base, {...base, size: 4})).toBe(false);
		expect(sameNode(base, {...base, content: ['ac']})).toBe(false);
		expect(sameNode(base, {...base, inode: 7} as TreeNode)).toBe(false);
		expect(sameNode({...base, inode: 7} as TreeNode, base)).toBe(false);
	});

	it('compares whole directories by name', () => {
		const other = {...base, name: 'g'};
		expect(sameNodes(new Map([['f', base], ['g', other]]), new Map([['g', {...other}], ['f', {...base}]]))).toBe(true);
		expect(sameNodes(new Map([['f', base]]), new Map([['f', base], ['g', other]]))).toBe(false);
		expect(sameNodes(new Map([['f', base]]), new Map([['g', other]]))).toBe(false);
	});
});
