import {describe, expect, it} from 'vitest';
import {StatsCounter} from '../../../engine/stats/stats.js';
import {addTree, makeFakeRepo} from '../fake-trees.js';

function counter(repo: ReturnType<typeof makeFakeRepo>, mode: ConstructorParameters<typeof StatsCounter>[0]): StatsCounter {
	return new StatsCounter(mode, repo.load, {
		plaintextSize: (_type, id) => repo.blobs.get(id)?.length,
		storedSize: (type, id) => (type === 'data' ? (repo.blobs.get(id)?.length ?? 0) + 32 : 1000),
	});
}

describe('StatsCounter', () => {
	it('restore-size counts every entry and the sizes of files', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {d: {'a': '12345678', 'b': '12345678'}, 'c': 'xyz'});
		const stats = counter(repo, 'restore-size');
		await stats.addSnapshot(root);
		await stats.addSnapshot(root);
		expect(stats.result()).toEqual({total_size: 2 * 19, total_file_count: 2 * 4, snapshots_count: 2});
	});

	it('files-by-contents counts each content once (the first empty content too)', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {d: {'a': '12345678', 'b': '12345678'}, 'c': 'xyz'});
		const stats = counter(repo, 'files-by-contents');
		await stats.addSnapshot(root);
		// The directory d (no content), a (b has the same content), and c.
		expect(stats.result()).toEqual({total_size: 11, total_file_count: 3, snapshots_count: 1});
	});

	it('blobs-per-file and raw-data count blobs once, with plaintext and stored sizes', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {d: {'a': '1234abcd', 'b': '1234efgh'}});
		const perFile = counter(repo, 'blobs-per-file');
		await perFile.addSnapshot(root);
		expect(perFile.result()).toEqual({total_size: 16, total_file_count: 2, total_blob_count: 4, snapshots_count: 1});
		const raw = counter(repo, 'raw-data');
		await raw.addSnapshot(root);
		await raw.addSnapshot(root);
		// 3 distinct data blobs (1234 shared) of 4+32 bytes, and 2 trees.
		expect(raw.result()).toEqual({total_size: 3 * 36 + 2 * 1000, total_file_count: 0, total_blob_count: 5, snapshots_count: 2});
	});

	it('fails naming a blob the index lacks', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {'a': 'abcd'});
		repo.blobs.clear();
		const stats = counter(repo, 'blobs-per-file');
		await expect(stats.addSnapshot(root)).rejects.toThrow(/not found/);
	});
});
