/**
 * The engine of tag, copy, rewrite and repair on in-memory repositories: restic's rules for tag
 * changes and for telling copies apart, file repair against the index, index grouping, and a copy
 * between a version 1 and a version 2 repository with its progress events.
 */
import {describe, expect, it} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {Snapshot} from '../../../engine/format/snapshot.js';
import {encodeTree, type TreeNode} from '../../../engine/format/tree.js';
import {copySnapshots, findExistingCopy, indexByOriginal, isSimilarSnapshot, type CopyProgress} from '../../../engine/maintenance/copy.js';
import {groupPacksForIndex} from '../../../engine/maintenance/repair-index.js';
import {repairFileNode} from '../../../engine/maintenance/repair-snapshots.js';
import {rewriteSnapshots} from '../../../engine/maintenance/rewrite.js';
import {resolveSnapshotRef} from '../../../engine/maintenance/select.js';
import {applyTagChange} from '../../../engine/maintenance/tags.js';
import {Repository} from '../../../engine/repository/repository.js';
import {listSnapshots, loadSnapshot, saveSnapshot} from '../../../engine/repository/snapshots.js';

const TIME = '2024-05-01T10:00:00.123456789+02:00';
const ID = (c: string): string => c.repeat(64);

function snapshot(fields: Partial<Snapshot> = {}): Snapshot {
	return {id: ID('a'), time: TIME, tree: ID('b'), paths: ['/home'], hostname: 'h', username: 'u', tags: [], ...fields};
}

function fileNode(name: string, content: string[], size: number): TreeNode {
	return {name, type: 'file', mode: 0o644, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, size, content};
}

describe('applyTagChange', () => {
	it('adds missing tags in order, removes every copy, records the original once', () => {
		const changed = applyTagChange(snapshot({tags: ['x', 'y']}), {add: ['y', 'z'], remove: ['x']})!;
		expect(changed.tags).toEqual(['y', 'z']);
		expect(changed.original).toBe(ID('a'));
		expect('id' in changed).toBe(false);
		expect(applyTagChange(snapshot({tags: ['x'], original: ID('c')}), {add: ['q']})!.original).toBe(ID('c'));
	});

	it('treats a change that changes nothing as none, but --set always as a change; --set "" clears', () => {
		expect(applyTagChange(snapshot({tags: ['x']}), {add: ['x'], remove: ['absent']})).toBeUndefined();
		expect(applyTagChange(snapshot({tags: ['x']}), {set: ['x']})!.tags).toEqual(['x']);
		expect(applyTagChange(snapshot({tags: ['x']}), {set: ['']})!.tags).toEqual([]);
	});
});

describe('telling copies apart (restic similarSnapshots)', () => {
	it('ignores parent, original, the order of paths and tags, and the time zone of the same instant', () => {
		const a = snapshot({paths: ['/a', '/b'], tags: ['t1', 't2'], parent: ID('1')});
		const b = snapshot({paths: ['/b', '/a'], tags: ['t2', 't1'], original: ID('9'), time: '2024-05-01T08:00:00.123456789Z'});
		expect(isSimilarSnapshot(a, b)).toBe(true);
	});

	it('sees a different tree, host, tag, path or exclude list', () => {
		const a = snapshot();
		expect(isSimilarSnapshot(a, snapshot({tree: ID('c')}))).toBe(false);
		expect(isSimilarSnapshot(a, snapshot({hostname: 'other'}))).toBe(false);
		expect(isSimilarSnapshot(a, snapshot({tags: ['t']}))).toBe(false);
		expect(isSimilarSnapshot(a, snapshot({paths: ['/etc']}))).toBe(false);
		expect(isSimilarSnapshot(a, snapshot({excludes: ['*.o']}))).toBe(false);
	});

	it('finds a destination copy by original or by identical ID, never a merely similar unrelated one', () => {
		const source = snapshot({id: ID('1')});
		const copy = snapshot({id: ID('2'), original: ID('1')});
		const unrelated = snapshot({id: ID('3')});
		expect(findExistingCopy(indexByOriginal([unrelated]), source)).toBeUndefined();
		expect(findExistingCopy(indexByOriginal([unrelated, copy]), source)?.id).toBe(ID('2'));
		expect(findExistingCopy(indexByOriginal([source]), source)?.id).toBe(ID('1'));
		// A copy of a copy is recognised through the persistent original.
		expect(findExistingCopy(indexByOriginal([copy]), snapshot({id: ID('4'), original: ID('1')}))?.id).toBe(ID('2'));
	});
});

describe('repairFileNode', () => {
	const sizes = new Map([[ID('1'), 10], [ID('2'), 5]]);
	const sizeOf = (id: string): number | undefined => sizes.get(id);

	it('drops missing blobs and sets the size to what is left; fixes a wrong size; leaves a sound file alone', () => {
		const damaged = repairFileNode(fileNode('f', [ID('1'), ID('9'), ID('2')], 99), sizeOf);
		expect(damaged).toMatchObject({missing: true, node: {content: [ID('1'), ID('2')], size: 15}});
		expect(repairFileNode(fileNode('f', [ID('1')], 3), sizeOf)).toMatchObject({missing: false, resized: true, node: {size: 10}});
		const sound = fileNode('f', [ID('1'), ID('2')], 15);
		expect(repairFileNode(sound, sizeOf).node).toBe(sound);
	});
});

describe('groupPacksForIndex and resolveSnapshotRef', () => {
	it('splits packs so that no index file exceeds the blob limit (a bigger pack gets a file of its own)', () => {
		const pack = (id: string, n: number) => ({packId: id, blobs: Array.from({length: n}, (_, i) => ({type: 'data' as const, id: ID(String(i % 10)), offset: i, length: 1, uncompressedLength: 0}))});
		const groups = groupPacksForIndex([pack('a', 3), pack('b', 3), pack('c', 5), pack('d', 1)], 6);
		expect(groups.map((g) => g.map((p) => p.packId))).toEqual([['a', 'b'], ['c', 'd']]);
		expect(groupPacksForIndex([], 6)).toEqual([]);
	});

	it('resolves latest within the filter, unique prefixes, and names an ambiguous prefix', () => {
		const all = [snapshot({id: 'ab' + '0'.repeat(62), hostname: 'x'}), snapshot({id: 'ac' + '0'.repeat(62), hostname: 'y'})];
		expect(resolveSnapshotRef(all, 'latest', {hosts: ['x']}).id.slice(0, 2)).toBe('ab');
		expect(resolveSnapshotRef(all, 'ac').hostname).toBe('y');
		expect(() => resolveSnapshotRef(all, 'a')).toThrow(/ambiguous/);
		expect(() => resolveSnapshotRef(all, 'ff')).toThrow(/no snapshot/);
	});
});

/** A repository with one snapshot: /a (two blobs), /dir/b.log (one blob). */
async function makeRepository(version: 1 | 2): Promise<{repo: Repository; snapshot: Snapshot}> {
	const repo = await Repository.init(createMemoryStorage(), 'pw', {version});
	const blobs = [Buffer.alloc(50_000, 1), Buffer.alloc(30_000, 2), Buffer.from('log line\n')];
	const ids: string[] = [];
	for (const blob of blobs) ids.push((await repo.saveBlob('data', blob)).id);
	const sub = (await repo.saveBlob('tree', encodeTree([fileNode('b.log', [ids[2]!], blobs[2]!.length)]))).id;
	const root = (await repo.saveBlob('tree', encodeTree([
		fileNode('a', [ids[0]!, ids[1]!], 80_000),
		{name: 'dir', type: 'dir', mode: 0o755 | 0x80000000, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, content: null, subtree: sub},
	]))).id;
	await repo.flush();
	const id = await saveSnapshot(repo, {time: TIME, tree: root, paths: ['/src'], hostname: 'h', tags: ['t'], parent: ID('f')});
	return {repo, snapshot: await loadSnapshot(repo, id)};
}

describe('copySnapshots between a version 1 and a version 2 repository', () => {
	it('copies every blob once, drops parent, records original, reports progress, and skips the snapshot the second time', async () => {
		const {repo: src, snapshot: original} = await makeRepository(1);
		const dst = await Repository.init(createMemoryStorage(), 'other', {version: 2});
		const events: CopyProgress[] = [];
		const outcomes = await copySnapshots(src, dst, [original], {onProgress: (p) => events.push(p)});
		expect(outcomes).toHaveLength(1);
		expect(outcomes[0]).toMatchObject({kind: 'copied', blobs: 5});
		const [copy] = await listSnapshots(dst);
		expect(copy).toMatchObject({tree: original.tree, original: original.id, tags: ['t'], paths: ['/src']});
		expect(copy!.parent).toBeUndefined();
		const copyEvents = events.filter((e) => e.phase === 'copy');
		expect(copyEvents.at(-1)).toMatchObject({blobsDone: 5, blobsTotal: 5});
		expect(copyEvents.at(-1)!.bytesDone).toBe(copyEvents.at(-1)!.bytesTotal);
		expect(events.at(-1)).toMatchObject({phase: 'done', copied: 1, skipped: 0});
		// Every blob reads back through the destination's key.
		const copiedRoot = JSON.parse((await dst.loadBlob('tree', original.tree)).toString()) as {nodes: TreeNode[]};
		expect((await dst.loadBlob('data', copiedRoot.nodes[0]!.content![0]!)).equals(Buffer.alloc(50_000, 1))).toBe(true);

		const uploaded = dst.uploadedBytes;
		const second = await copySnapshots(src, dst, [original]);
		expect(second).toEqual([{kind: 'skipped', snapshot: original, existing: copy!.id}]);
		expect(dst.uploadedBytes).toBe(uploaded);
	});
});

describe('rewriteSnapshots', () => {
	it('saves new trees only along the changed path and keeps the untouched subtree IDs', async () => {
		const {repo, snapshot: original} = await makeRepository(2);
		const excluded: string[] = [];
		const changed = await rewriteSnapshots(repo, [original], {excludes: ['*.log'], onExcluded: (p) => excluded.push(p)});
		expect(changed).toBe(1);
		expect(excluded).toEqual(['/dir/b.log']);
		const rewritten = (await listSnapshots(repo)).find((s) => s.original === original.id)!;
		expect(rewritten.tags).toEqual(['t', 'rewrite']);
		const root = JSON.parse((await repo.loadBlob('tree', rewritten.tree)).toString()) as {nodes: TreeNode[]};
		const before = JSON.parse((await repo.loadBlob('tree', original.tree)).toString()) as {nodes: TreeNode[]};
		expect(root.nodes[0]).toEqual(before.nodes[0]);
		const dir = JSON.parse((await repo.loadBlob('tree', root.nodes[1]!.subtree!)).toString()) as {nodes: TreeNode[]};
		expect(dir.nodes).toEqual([]);
		// Nothing matches: nothing changes.
		expect(await rewriteSnapshots(repo, [rewritten], {excludes: ['*.none']})).toBe(0);
		// --iexclude ignores case; --exclude does not.
		expect(await rewriteSnapshots(repo, [original], {excludes: ['/A'], dryRun: true})).toBe(0);
		const folded: string[] = [];
		expect(await rewriteSnapshots(repo, [original], {excludes: [], iexcludes: ['/A'], dryRun: true, onExcluded: (p) => folded.push(p)})).toBe(1);
		expect(folded).toEqual(['/a']);
	});
});
