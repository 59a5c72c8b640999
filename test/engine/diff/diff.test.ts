import {describe, expect, it} from 'vitest';
import {diffTrees, nodesEqual, type DiffChange} from '../../../engine/diff/diff.js';
import {addTree, makeFakeRepo} from '../fake-trees.js';

async function run(before: string, after: string, repo: ReturnType<typeof makeFakeRepo>, metadata = false): Promise<{changes: DiffChange[]; stats: Awaited<ReturnType<typeof diffTrees>>}> {
	const changes: DiffChange[] = [];
	const stats = await diffTrees(repo.load, before, after, {metadata, blobSize: (type, id) => (type === 'data' ? repo.blobs.get(id)?.length : 100)}, (c) => void changes.push(c));
	return {changes, stats};
}

describe('diffTrees', () => {
	it('reports added, removed, modified and type changes in name order, directories with a slash', async () => {
		const repo = makeFakeRepo();
		const a = addTree(repo, {'same.txt': 'unchanged', 'edit.txt': 'old text', 'gone': {'x.txt': 'x'}, 'kind': 'a file', 'Z': 'upper'});
		const b = addTree(repo, {'same.txt': 'unchanged', 'edit.txt': 'new text!', 'added': {'deep': {'y.txt': 'yy'}}, 'kind': {link: 'same.txt'}, 'Z': 'upper'});
		const {changes, stats} = await run(a, b, repo);
		expect(changes.map((c) => `${c.modifier} ${c.path}`)).toEqual([
			'+ /added/', '+ /added/deep/', '+ /added/deep/y.txt', 'M /edit.txt', '- /gone/', '- /gone/x.txt', 'T /kind',
		]);
		expect(stats.changed_files).toBe(1);
		expect(stats.added).toMatchObject({files: 1, dirs: 2, others: 0});
		expect(stats.removed).toMatchObject({files: 1, dirs: 1, others: 0});
		expect(changes.find((c) => c.path === '/edit.txt')).toMatchObject({before: {size: 8}, after: {size: 9}});
	});

	it('counts only the blobs one side uses, with their sizes', async () => {
		const repo = makeFakeRepo();
		const a = addTree(repo, {'f': 'aaaabbbb'});
		const b = addTree(repo, {'f': 'aaaacccc'});
		const {stats} = await run(a, b, repo);
		// One data blob each side differs; the root trees differ.
		expect(stats.added).toMatchObject({data_blobs: 1, tree_blobs: 1, bytes: 4 + 100});
		expect(stats.removed).toMatchObject({data_blobs: 1, tree_blobs: 1, bytes: 4 + 100});
	});

	it('reports metadata changes only with metadata, and sees equal times written differently as equal', async () => {
		const repo = makeFakeRepo();
		const a = addTree(repo, {'d': {'f': 'same'}});
		const b = addTree(repo, {'d': {'f': 'same'}}, {mode: 0o600});
		expect((await run(a, b, repo)).changes).toEqual([]);
		expect((await run(a, b, repo, true)).changes.map((c) => `${c.modifier} ${c.path}`)).toEqual(['U /d/', 'U /d/f']);
		const node = repo.trees.get(a)![0]!;
		expect(nodesEqual(node, {...node, mtime: '2021-03-04T04:06:07.123456789Z'})).toBe(true);
		expect(nodesEqual(node, {...node, mtime: '2021-03-04T04:06:07.12345678Z'})).toBe(false);
	});

	it('skips identical subtrees without walking them twice', async () => {
		const repo = makeFakeRepo();
		const shared = {'big': Object.fromEntries(Array.from({length: 20}, (_, i) => [`d${i}`, {'f': `file ${i}`}]))};
		const a = addTree(repo, {...shared, 'x': 'one'});
		const b = addTree(repo, {...shared, 'x': 'two'});
		repo.loads = 0;
		const {changes} = await run(a, b, repo);
		expect(changes.map((c) => c.path)).toEqual(['/x']);
		// Two roots, then the shared subtree collected once (1 + 20 trees).
		expect(repo.loads).toBe(2 + 21);
	});
});
