/**
 * The unchanged path of a backup: times formatted from lstat exactly as formatGoTime formats
 * them, the comparison of a file's stat with its parent node (which must agree with building the
 * node and comparing it), a directory re-encoded when any field of an entry changed (here only an
 * access time), and no write to the repository before its lock is held (the walk starts while the
 * lock's recheck waits), nor at all when another process takes an exclusive lock meanwhile.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import {createMemoryStorage} from '../../../adapters/memory.js';
import type {Storage} from '../../../adapters/storage.js';
import {Repository} from '../../../engine/repository/repository.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';
import {decodeTree, type TreeNode} from '../../../engine/format/tree.js';
import {formatGoTime, nowNs} from '../../../engine/format/time.js';
import {formatStatTime, resetStatTimes} from '../../../engine/archiver/stat-time.js';
import {buildNode, matchesUnchangedFile} from '../../../engine/archiver/node-from-stat.js';
import {sameNode} from '../../../engine/archiver/same-nodes.js';
import {stringifyGoJson} from '../../../engine/format/json.js';
import {createRandom} from '../../../bench/file-tree.js';

let work: string;
beforeAll(async () => {
	work = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-unchanged-fast-'));
});
afterAll(async () => {
	await fsp.rm(work, {recursive: true, force: true});
	delete process.env.TZ;
	resetStatTimes();
});

describe('formatStatTime', () => {
	it('writes the text formatGoTime writes, in zones with odd offsets and changes of offset', () => {
		const random = createRandom(7);
		let compared = 0;
		for (const zone of ['UTC', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Pacific/Chatham']) {
			process.env.TZ = zone;
			resetStatTimes();
			for (let i = 0; i < 20_000; i++) {
				const seconds = BigInt(Math.floor(random() * 2 ** 34)) - 2n ** 30n;
				const kind = random();
				const fraction = kind < 0.3 ? 0n : kind < 0.6 ? BigInt(Math.floor(random() * 1000)) * 1_000_000n : BigInt(Math.floor(random() * 1e9));
				const ns = seconds * 1_000_000_000n + fraction;
				expect(formatStatTime(ns), `${zone} ${ns}`).toBe(formatGoTime(ns));
				compared++;
			}
			// Every second around a change of offset (Berlin: 2024-03-31 01:00 UTC) and an hour after.
			for (let s = 1_711_846_800 - 90; s < 1_711_846_800 + 90; s++) {
				const ns = BigInt(s) * 1_000_000_000n + 5n;
				expect(formatStatTime(ns), `${zone} ${ns}`).toBe(formatGoTime(ns));
			}
		}
		expect(compared).toBe(140_000);
	});
});

describe('matchesUnchangedFile', () => {
	it('agrees with building the node and comparing it, field by field', async () => {
		const file = path.join(work, 'plain.txt');
		await fsp.writeFile(file, 'some content\n');
		const stats = fs.lstatSync(file, {bigint: true});
		const built = {...buildNode('plain.txt', stats), content: ['ab'.repeat(32)]};
		// Round-tripped through JSON as a parent tree would give it.
		const previous = JSON.parse(stringifyGoJson(built)) as TreeNode;
		expect(matchesUnchangedFile(previous, 'plain.txt', stats, undefined)).toBe(true);
		expect(sameNode(built, previous)).toBe(true);
		const variants: Array<[string, Partial<TreeNode> & Record<string, unknown>]> = [
			['mtime', {mtime: formatGoTime(stats.mtimeNs + 1n)}],
			['atime', {atime: formatGoTime(stats.atimeNs + 1000n)}],
			['ctime', {ctime: formatGoTime(stats.ctimeNs - 1n)}],
			['size', {size: Number(stats.size) + 1}],
			['inode', {inode: Number(stats.ino) + 1}],
			['links', {links: 2}],
			['mode', {mode: Number(built.mode) ^ 0o004}],
			['user', {user: 'someone-else'}],
			['group', {group: undefined}],
			['device_id', {device_id: 1}],
			['an unknown field', {generic_attributes: {x: 1}}],
			['extended attributes', {extended_attributes: [{name: 'user.a', value: 'YQ=='}]}],
			['a subtree', {subtree: 'cd'.repeat(32)}],
			['no content', {content: null}],
		];
		for (const [label, change] of variants) {
			const changed = {...previous, ...change} as TreeNode;
			expect(matchesUnchangedFile(changed, 'plain.txt', stats, undefined), label).toBe(false);
			expect(sameNode(built, changed), label).toBe(false);
		}
		// Fields that are absent and null alike stay equal.
		expect(matchesUnchangedFile({...previous, linktarget: null} as unknown as TreeNode, 'plain.txt', stats, undefined)).toBe(true);
		// Attributes read now must equal the parent's.
		const attributes = [{name: 'user.a', value: 'YQ=='}];
		expect(matchesUnchangedFile({...previous, extended_attributes: attributes}, 'plain.txt', stats, [{...attributes[0]!}])).toBe(true);
		expect(matchesUnchangedFile(previous, 'plain.txt', stats, attributes)).toBe(false);
		expect(matchesUnchangedFile(previous, 'other.txt', stats, undefined)).toBe(false);
	});
});

async function collectTrees(repo: Repository, snapshotId: string): Promise<Map<string, {id: string; nodes: TreeNode[]}>> {
	const trees = new Map<string, {id: string; nodes: TreeNode[]}>();
	const walk = async (treeId: string, rel: string): Promise<void> => {
		const nodes = decodeTree(await repo.loadBlob('tree', treeId)).nodes;
		trees.set(rel, {id: treeId, nodes});
		for (const node of nodes) if (node.type === 'dir' && node.subtree) await walk(node.subtree, rel ? `${rel}/${node.name}` : node.name);
	};
	await walk((await loadSnapshot(repo, snapshotId)).tree, '');
	return trees;
}

describe('backing up an unchanged tree', () => {
	it('keeps the trees of unchanged directories, and encodes anew one whose file only has a new access time', async () => {
		const source = path.join(work, 'tree');
		await fsp.mkdir(path.join(source, 'a', 'deep'), {recursive: true});
		await fsp.mkdir(path.join(source, 'b'), {recursive: true});
		for (const dir of ['a', 'a/deep', 'b']) await fsp.writeFile(path.join(source, dir, 'f.txt'), `in ${dir}\n`);
		await fsp.writeFile(path.join(source, 'empty'), '');
		await fsp.symlink('a/f.txt', path.join(source, 'link'));
		// Access times after modification and change times (a minute ahead: the kernel's clock for
		// change times is coarse): reading does not change them (relatime)...
		const past = new Date(Date.now() - 3_600_000);
		const ahead = new Date(Date.now() + 60_000);
		for (const p of ['a/deep/f.txt', 'a/deep', 'a/f.txt', 'a', 'b', 'empty', '.']) await fsp.utimes(path.join(source, p), ahead, past);
		await fsp.lutimes(path.join(source, 'link'), ahead, past);
		// ...but for b/f.txt, whose access time the first backup's read moves on (and nothing else).
		await fsp.utimes(path.join(source, 'b', 'f.txt'), new Date(past.getTime() - 3_600_000), past);
		const before = fs.lstatSync(path.join(source, 'b', 'f.txt'), {bigint: true});
		const repo = await Repository.init(createMemoryStorage(), 'secret');
		const first = await runBackup(repo, {paths: [source]});
		const after = fs.lstatSync(path.join(source, 'b', 'f.txt'), {bigint: true});
		expect(after.atimeNs).not.toBe(before.atimeNs);
		expect(after.ctimeNs).toBe(before.ctimeNs);

		const second = await runBackup(repo, {paths: [source]});
		expect(second.files_unmodified).toBe(4);
		expect(second.files_new + second.files_changed).toBe(0);
		const rel = source.slice(1);
		const firstTrees = await collectTrees(repo, first.snapshot_id);
		const secondTrees = await collectTrees(repo, second.snapshot_id);
		// b/f.txt: its content is reused, its directory (and those above) get new trees holding the
		// new access time; the others keep theirs.
		for (const dir of ['a', 'a/deep']) expect(secondTrees.get(`${rel}/${dir}`)!.id, dir).toBe(firstTrees.get(`${rel}/${dir}`)!.id);
		expect(secondTrees.get(`${rel}/b`)!.id).not.toBe(firstTrees.get(`${rel}/b`)!.id);
		const node = secondTrees.get(`${rel}/b`)!.nodes.find((n) => n.name === 'f.txt')!;
		expect(node.atime).toBe(formatGoTime(after.atimeNs));
		expect(node.content).toEqual(firstTrees.get(`${rel}/b`)!.nodes.find((n) => n.name === 'f.txt')!.content);

		// Nothing changed since: every walked tree is the parent's.
		const third = await runBackup(repo, {paths: [source]});
		expect(third.files_unmodified).toBe(4);
		const walked = (trees: Map<string, {id: string}>) => [...trees].filter(([key]) => key.startsWith(rel)).map(([key, tree]) => [key, tree.id]);
		expect(walked(await collectTrees(repo, third.snapshot_id))).toEqual(walked(secondTrees));
	});
});

/** Records the storage calls of a memory storage, in order. */
function recordCalls(storage: Storage, events: string[]): void {
	const save = storage.save.bind(storage);
	const list = storage.list.bind(storage);
	storage.save = async (handle, data, options) => {
		events.push(`save:${handle.type}`);
		return save(handle, data, options);
	};
	storage.list = (type, options) => {
		events.push(`list:${type}`);
		return list(type, options);
	};
}

describe('the lock of a backup', () => {
	it('is held before anything is written, though the walk starts while its recheck waits', async () => {
		const source = path.join(work, 'locked');
		await fsp.mkdir(source, {recursive: true});
		await fsp.writeFile(path.join(source, 'one.txt'), 'one\n');
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		await runBackup(repo, {paths: [source]});
		await fsp.writeFile(path.join(source, 'two.txt'), 'two\n'.repeat(10_000));
		const events: string[] = [];
		recordCalls(storage, events);
		const summary = await runBackup(repo, {paths: [source]});
		expect(summary.files_new).toBe(1);
		const lockSaved = events.indexOf('save:locks');
		expect(lockSaved).toBeGreaterThanOrEqual(0);
		const writes = events.map((event, i) => [event, i] as const).filter(([event]) => /^save:(data|index|snapshots)$/.test(event));
		expect(writes.map(([event]) => event)).toEqual(expect.arrayContaining(['save:data', 'save:index', 'save:snapshots']));
		// The recheck lists the locks again after the lock was written (the listing for unindexed packs does too).
		const listingsAfterLock = (before: number) => events.slice(lockSaved, before).filter((event) => event === 'list:locks').length;
		for (const [event, i] of writes) expect(listingsAfterLock(i), event).toBeGreaterThanOrEqual(2);
	});

	it('gives timers their turn during a long unchanged walk, so the recheck runs beside the walk, not after it', async () => {
		const source = path.join(work, 'many');
		for (let dir = 0; dir < 120; dir++) {
			await fsp.mkdir(path.join(source, `d${dir}`), {recursive: true});
			await Promise.all(Array.from({length: 100}, (_, file) => fsp.writeFile(path.join(source, `d${dir}`, `f${file}`), `${dir}/${file}\n`)));
		}
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		await runBackup(repo, {paths: [source]});
		const delay = monitorEventLoopDelay({resolution: 5});
		const started = performance.now();
		delay.enable();
		const summary = await runBackup(repo, {paths: [source]});
		delay.disable();
		const took = performance.now() - started;
		expect(summary.files_unmodified).toBe(12_000);
		// Without turns, the walk held the event loop for nearly the whole backup (the recheck's timer
		// fired when it ended); with them no timer waits more than a small part of it.
		expect(delay.max / 1e6, `longest wait ${(delay.max / 1e6).toFixed(0)} ms of ${took.toFixed(0)} ms`).toBeLessThan(took / 2);
	});

	it('writes nothing when another process takes an exclusive lock meanwhile, and says so', async () => {
		const source = path.join(work, 'conflict');
		await fsp.mkdir(source, {recursive: true});
		await fsp.writeFile(path.join(source, 'one.txt'), 'one\n');
		const storage = createMemoryStorage();
		const repo = await Repository.init(storage, 'secret');
		await runBackup(repo, {paths: [source]});
		await fsp.writeFile(path.join(source, 'two.txt'), 'changed data\n'.repeat(10_000));
		const events: string[] = [];
		recordCalls(storage, events);
		const save = storage.save.bind(storage);
		let intruded = false;
		storage.save = async (handle, data, options) => {
			await save(handle, data, options);
			if (handle.type === 'locks' && !intruded) {
				intruded = true;
				await repo.saveUnpacked('locks', Buffer.from(stringifyGoJson({time: formatGoTime(nowNs()), exclusive: true, hostname: 'elsewhere', username: 'prune', pid: 4242})));
			}
		};
		await expect(runBackup(repo, {paths: [source]})).rejects.toThrow(/exclusive lock .* held by prune@elsewhere/);
		expect(events.filter((event) => /^save:(data|index|snapshots)$/.test(event))).toEqual([]);
	});
});
