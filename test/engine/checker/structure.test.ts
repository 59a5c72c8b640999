import {describe, expect, it} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {runCheck} from '../../../engine/checker/checker.js';
import type {NodeType} from '../../../engine/format/mode.js';
import {formatGoTime, nowNs} from '../../../engine/format/time.js';
import {encodeTree, type TreeNode} from '../../../engine/format/tree.js';
import {Repository} from '../../../engine/repository/repository.js';
import {saveSnapshot} from '../../../engine/repository/snapshots.js';
import {hashHex} from '../../../engine/util/hash.js';

const TIME = '2024-01-02T03:04:05Z';

function makeNode(name: string, type: string, extra: Partial<TreeNode> = {}): TreeNode {
	return {name, type: type as NodeType, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, content: null, ...extra};
}

describe('runCheck on trees with bad nodes', () => {
	it('reports each bad node against its tree, naming the path and the snapshot', async () => {
		const repo = await Repository.init(createMemoryStorage(), 'pw');
		const good = await repo.saveBlob('data', Buffer.from('good content'));
		const garbage = await repo.saveBlob('tree', Buffer.from('this is not JSON'));
		const unknownTree = hashHex(Buffer.from('never stored'));
		const missingBlob = hashHex(Buffer.from('never stored either'));
		const root = await repo.saveBlob('tree', encodeTree([
			makeNode('fine', 'file', {content: [good.id], size: 12}),
			makeNode('link', 'symlink', {linktarget: 'fine'}),
			makeNode('null-content', 'file'),
			makeNode('lost-blob', 'file', {content: [good.id, missingBlob]}),
			makeNode('zero-blob', 'file', {content: ['0'.repeat(64)]}),
			makeNode('no-subtree', 'dir'),
			makeNode('gone', 'dir', {subtree: unknownTree}),
			makeNode('garbled', 'dir', {subtree: garbage.id}),
			makeNode('odd', 'weird'),
		]));
		await repo.flush();
		const snapshotId = await saveSnapshot(repo, {time: formatGoTime(nowNs()), tree: root.id, paths: ['/x']});
		const snap = snapshotId.slice(0, 8);

		const report = await runCheck(repo, {noLock: true});
		const rootFile = `tree ${root.id}`;
		expect(report.ok).toBe(false);
		expect(report.snapshots).toBe(1);
		expect(report.trees).toBe(1);
		expect(report.dataBlobsReferenced).toBe(2);
		expect(report.problems.map((p) => [p.file, p.message])).toEqual(expect.arrayContaining([
			[rootFile, `file "/null-content" (snapshot ${snap}) has no content list (null)`],
			[rootFile, `file "/lost-blob" (snapshot ${snap}): data blob ${missingBlob} is not in the index`],
			[rootFile, `file "/zero-blob" (snapshot ${snap}): blob 0 has the invalid ID "${'0'.repeat(64)}"`],
			[rootFile, `directory "/no-subtree" (snapshot ${snap}) has no subtree`],
			[rootFile, `node "/odd" (snapshot ${snap}) has the invalid type "weird"`],
			[`tree ${unknownTree}`, `referenced by snapshot ${snap} (path /gone) is missing from the index`],
		]));
		const garbled = report.problems.find((p) => p.file === `tree ${garbage.id}`);
		expect(garbled?.message).toMatch(/^referenced by snapshot [0-9a-f]{8} \(path \/garbled\) cannot be decoded: /);
		expect(report.problems).toHaveLength(7);
		expect(report.problems.every((p) => p.severity === 'error')).toBe(true);
	});

	it('checks a tree shared by two snapshots once', async () => {
		const repo = await Repository.init(createMemoryStorage(), 'pw');
		const leaf = await repo.saveBlob('tree', encodeTree([]));
		const root = await repo.saveBlob('tree', encodeTree([makeNode('a', 'dir', {subtree: leaf.id}), makeNode('b', 'dir', {subtree: leaf.id})]));
		await repo.flush();
		for (const time of [1n, 2n]) await saveSnapshot(repo, {time: formatGoTime(time * 1_000_000_000n), tree: root.id, paths: ['/x']});
		const report = await runCheck(repo, {noLock: true, readData: true});
		expect(report.problems).toEqual([]);
		expect(report.snapshots).toBe(2);
		expect(report.trees).toBe(2);
		// two trees in the walk, two tree blobs in the one pack
		expect(report.blobsChecked).toBe(4);
	});
});
