import {describe, expect, it} from 'vitest';
import {findPatternMatches, IdSearch, type FoundObject} from '../../../engine/find/find.js';
import {addTree, makeFakeRepo} from '../fake-trees.js';

describe('findPatternMatches', () => {
	it('reports matching entries in walk order, honouring case and times', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {home: {me: {'Notes.TXT': 'n', 'a.txt': 'a', 'b.bin': 'b', docs: {'c.txt': 'c'}}}});
		const found: string[] = [];
		await findPatternMatches(repo.load, root, {patterns: ['*.txt']}, new Set(), (p) => void found.push(p), () => undefined);
		expect(found).toEqual(['/home/me/a.txt', '/home/me/docs/c.txt']);
		found.length = 0;
		await findPatternMatches(repo.load, root, {patterns: ['*.TXT'], ignoreCase: true}, new Set(), (p) => void found.push(p), () => undefined);
		expect(found).toEqual(['/home/me/Notes.TXT', '/home/me/a.txt', '/home/me/docs/c.txt']);
		found.length = 0;
		await findPatternMatches(repo.load, root, {patterns: ['*'], newestNs: 0n}, new Set(), (p) => void found.push(p), () => undefined);
		expect(found).toEqual([]);
	});

	it('does not descend into directories an anchored pattern cannot reach', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {home: {me: {'x': 'x'}}, srv: {deep: {deeper: {'x': 'x'}}}});
		const found: string[] = [];
		repo.loads = 0;
		await findPatternMatches(repo.load, root, {patterns: ['/home/me/x']}, new Set(), (p) => void found.push(p), () => undefined);
		expect(found).toEqual(['/home/me/x']);
		// root, home, me, srv (loaded before it is skipped, as restic's walker does) — not deep or deeper.
		expect(repo.loads).toBe(4);
	});

	it('reports an unreadable tree and goes on', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {a: {'x.txt': 'x'}, b: {'y.txt': 'y'}});
		const broken = repo.trees.get(root)![0]!.subtree!;
		repo.trees.delete(broken);
		const found: string[] = [];
		const errors: string[] = [];
		await findPatternMatches(repo.load, root, {patterns: ['*.txt']}, new Set(), (p) => void found.push(p), (id) => void errors.push(id));
		expect(found).toEqual(['/b/y.txt']);
		expect(errors).toEqual([root]);
	});
});

describe('IdSearch', () => {
	it('finds trees and blobs by full and short ID', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {dir: {'f': 'abcdefgh'}});
		const dirTree = repo.trees.get(root)![0]!.subtree!;
		const blob = repo.trees.get(dirTree)![0]!.content![1]!;
		const found: FoundObject[] = [];
		await new IdSearch({treeIds: [dirTree.slice(0, 8)]}).searchSnapshot(repo.load, root, new Set(), (f) => void found.push(f), () => undefined);
		expect(found).toEqual([{kind: 'tree', id: dirTree, path: '/dir'}]);
		found.length = 0;
		const search = new IdSearch({blobIds: [blob.slice(0, 8)]});
		await search.searchSnapshot(repo.load, root, new Set(), (f) => void found.push(f), () => undefined);
		expect(found).toEqual([{kind: 'blob', id: blob, path: '/dir/f', parentTree: dirTree}]);
		expect([...search.blobIds!]).toEqual([blob]);
	});
});
