/**
 * runPrune through the engine on in-memory repositories: what it removes and keeps, what it refuses,
 * its locks, the order of its changes, and a crash at every single change it makes (each save and
 * each delete), after which the repository must check clean and every snapshot must restore.
 */
import {createHash} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {FILE_TYPES, type FileHandle, type Storage} from '../../../adapters/storage.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {runCheck} from '../../../engine/checker/checker.js';
import {LockError} from '../../../engine/errors.js';
import {decodeIndexFile, encodeIndexFile} from '../../../engine/format/index-file.js';
import {decodeTree} from '../../../engine/format/tree.js';
import {runPrune, PruneRefusedError, type PruneReport} from '../../../engine/prune/prune.js';
import {acquireLock, findHeldLocks, removeLocks} from '../../../engine/repository/lock.js';
import {addKey} from '../../../engine/repository/keys.js';
import {Repository} from '../../../engine/repository/repository.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {seededBytes} from '../../helpers/cli.js';

const PASSWORD = 'prune engine';
const PACK_SIZE = 400 * 1024;

let work: string;
let source: string;
/** The template repository: three snapshots, the first one forgotten. */
let template: Storage;
/** Expected file hashes (relative path → SHA-256) of the snapshots that remain. */
const expected = new Map<string, Map<string, string>>();
let forgotten = '';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function hashTree(root: string): Promise<Map<string, string>> {
	const out = new Map<string, string>();
	for (const entry of await fs.readdir(root, {recursive: true, withFileTypes: true})) {
		if (!entry.isFile()) continue;
		const abs = path.join(entry.parentPath, entry.name);
		out.set(path.relative(root, abs), sha256(await fs.readFile(abs)));
	}
	return out;
}

/** Copies every file of a store into a new in-memory store. */
async function cloneStorage(from: Storage): Promise<Storage> {
	const to = createMemoryStorage();
	for (const type of FILE_TYPES) {
		for await (const info of from.list(type)) {
			const handle = {type, name: info.name};
			await to.save(handle, await from.load(handle));
		}
	}
	return to;
}

async function listAll(storage: Storage): Promise<string[]> {
	const names: string[] = [];
	for (const type of FILE_TYPES) for await (const info of storage.list(type)) names.push(`${type}/${info.name}:${info.size}`);
	return names.sort();
}

/** A store that records its saves and removes and, from the `crashAt`-th one on, fails every one (a dead process). */
function recordMutations(storage: Storage, crashAt = Number.POSITIVE_INFINITY): {storage: Storage; log: string[]} {
	const log: string[] = [];
	const mutate = <T>(what: string, run: () => Promise<T>): Promise<T> => {
		if (log.length + 1 >= crashAt) return Promise.reject(new Error(`simulated crash before ${what}`));
		log.push(what);
		return run();
	};
	return {
		log,
		storage: {
			...storage,
			location: storage.location,
			capabilities: storage.capabilities,
			save: (handle: FileHandle, data, options) => mutate(`save ${handle.type}/${handle.name}`, () => storage.save(handle, data, options)),
			remove: (handle: FileHandle, options) => mutate(`remove ${handle.type}/${handle.name}`, () => storage.remove(handle, options)),
		},
	};
}

async function writeSource(files: Record<string, Buffer | undefined>): Promise<void> {
	for (const [name, content] of Object.entries(files)) {
		const file = path.join(source, name);
		if (content === undefined) await fs.rm(file, {force: true});
		else {
			await fs.mkdir(path.dirname(file), {recursive: true});
			await fs.writeFile(file, content);
		}
	}
}

async function backUp(repo: Repository): Promise<string> {
	const summary = await runBackup(repo, {paths: [source], noLock: true, workers: 2, host: 'prune-test'});
	expected.set(summary.snapshot_id, await hashTree(source));
	return summary.snapshot_id;
}

/** Restores a snapshot and compares every file with what was backed up. */
async function expectRestores(repo: Repository, snapshotId: string): Promise<void> {
	const target = await fs.mkdtemp(path.join(work, 'restore-'));
	await runRestore(repo, snapshotId, target, {noLock: true});
	expect(await hashTree(path.join(target, source)), `snapshot ${snapshotId.slice(0, 8)}`).toEqual(expected.get(snapshotId));
	await fs.rm(target, {recursive: true, force: true});
}

/** Reads every file of a snapshot through the index (as a restore does) and hashes it; paths relative to the source. */
async function hashSnapshot(repo: Repository, snapshotId: string): Promise<Map<string, string>> {
	const out = new Map<string, string>();
	const walk = async (treeId: string, at: string): Promise<void> => {
		for (const node of decodeTree(await repo.loadBlob('tree', treeId), treeId).nodes) {
			const here = path.posix.join(at, node.name);
			if (node.type === 'dir') await walk(node.subtree!, here);
			else if (node.type === 'file') {
				const hash = createHash('sha256');
				for (const blob of node.content ?? []) hash.update(await repo.loadBlob('data', blob));
				out.set(path.relative(source, here), hash.digest('hex'));
			}
		}
	};
	await walk((await loadSnapshot(repo, snapshotId)).tree, '/');
	return new Map([...out].filter(([rel]) => !rel.startsWith('..')));
}

/**
 * Opens a store afresh, checks it with read-data (only warnings allowed) and reads every file of
 * every remaining snapshot, comparing it with what was backed up.
 */
async function expectSound(storage: Storage, options: {clean?: boolean} = {}): Promise<void> {
	const repo = await Repository.open(storage, PASSWORD);
	const report = await runCheck(repo, {readData: true, noLock: true});
	const errors = report.problems.filter((p) => p.severity === 'error');
	expect(errors, JSON.stringify(errors)).toEqual([]);
	if (options.clean) expect(report.problems).toEqual([]);
	const snapshots = await repo.listIds('snapshots');
	expect(snapshots.sort()).toEqual([...expected.keys()].sort());
	for (const id of snapshots) expect(await hashSnapshot(repo, id), `snapshot ${id.slice(0, 8)}`).toEqual(expected.get(id));
}

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-prune-engine-'));
	source = path.join(work, 'src');
	template = createMemoryStorage();
	const repo = await Repository.init(template, PASSWORD, {packSize: PACK_SIZE});
	// A key with cheap scrypt parameters, so that the many opens below take no time.
	await addKey(template, repo.key, PASSWORD, {params: {N: 1024, r: 8, p: 1}});
	await template.remove({type: 'keys', name: repo.keyId});
	await writeSource({'a.bin': seededBytes('a', 150_000), 'b.bin': seededBytes('b', 120_000), 'c.bin': seededBytes('c', 90_000), 'dir/small.txt': Buffer.from('small\n'), 'dir/d.bin': seededBytes('d', 70_000)});
	forgotten = await backUp(repo);
	await writeSource({'a.bin': undefined, 'c.bin': seededBytes('c2', 90_000), 'e.bin': seededBytes('e', 160_000)});
	await backUp(repo);
	await writeSource({'dir/d.bin': undefined, 'f.bin': seededBytes('f', 110_000)});
	await backUp(repo);
	await template.remove({type: 'snapshots', name: forgotten});
	expected.delete(forgotten);
});

afterAll(async () => {
	if (work) await fs.rm(work, {recursive: true, force: true});
});

describe('runPrune', () => {
	it('removes what no snapshot needs, keeps what they need, and a second prune finds nothing to do', async () => {
		const storage = await cloneStorage(template);
		const repo = await Repository.open(storage, PASSWORD, {packSize: PACK_SIZE});
		const report = await runPrune(repo, {maxUnused: 0});
		expect(report.dryRun).toBe(false);
		expect(report.snapshots).toBe(2);
		expect(report.blobs.unused).toBeGreaterThan(0);
		expect(report.bytes.removeTotal).toBeGreaterThan(0);
		expect(report.packs.removeTotal).toBe(report.removedPacks.length);
		expect(report.indexFilesWritten).toBeGreaterThan(0);
		for (const id of report.removedPacks) await expect(storage.stat({type: 'data', name: id})).rejects.toThrow();
		expect(await repo.listIds('locks')).toEqual([]);
		await expectSound(storage, {clean: true});
		// A real restore too.
		const restored = await Repository.open(storage, PASSWORD);
		await restored.loadIndex();
		for (const id of expected.keys()) await expectRestores(restored, id);

		const again = await runPrune(await Repository.open(storage, PASSWORD), {maxUnused: 0});
		expect(again.blobs.unused + again.blobs.duplicate).toBe(0);
		expect(again.packs.removeTotal).toBe(0);
		expect(again.indexFilesWritten).toBe(0);
		expect(again.blobs.used).toBe(report.blobs.remaining);
	});

	it('with dryRun changes nothing and promises what the real run then frees', async () => {
		const storage = await cloneStorage(template);
		const before = await listAll(storage);
		const dry = await runPrune(await Repository.open(storage, PASSWORD), {dryRun: true});
		expect(dry.dryRun).toBe(true);
		expect(await listAll(storage)).toEqual(before);
		expect(dry.packsWritten + dry.indexFilesWritten + dry.indexFilesDeleted).toBe(0);
		const real: PruneReport = await runPrune(await Repository.open(storage, PASSWORD));
		expect({...real, dryRun: true, packsWritten: 0, bytesWritten: 0, indexFilesWritten: 0, indexFilesDeleted: 0}).toEqual(dry);
		// What it promised to free is what the blobs of the deleted packs held, less what the repack wrote back.
		const sizes = new Map(before.filter((n) => n.startsWith('data/')).map((n) => [n.slice(5, 69), Number(n.split(':')[1])]));
		const deleted = dry.removedPacks.reduce((sum, id) => sum + sizes.get(id)!, 0);
		expect(deleted - real.bytesWritten).toBeLessThanOrEqual(dry.bytes.removeTotal + 4096 * dry.packs.removeTotal);
		expect(deleted - real.bytesWritten).toBeGreaterThan(0);
	});

	it('makes its changes in the safe order: new packs, new index, old index files, old packs', async () => {
		const base = await cloneStorage(template);
		// An unreferenced pack (as a killed backup leaves) is deleted first.
		const stray = createHash('sha256').update('stray').digest('hex');
		await base.save({type: 'data', name: stray}, Buffer.from('not a pack'));
		const oldIndex = new Set<string>();
		for await (const info of base.list('index')) oldIndex.add(info.name);
		const {storage, log} = recordMutations(base);
		const report = await runPrune(await Repository.open(storage, PASSWORD, {packSize: PACK_SIZE}), {maxUnused: 0});
		expect(report.packs.unreferenced).toBe(1);
		expect(report.packsWritten).toBeGreaterThan(0);
		const steps = log.filter((line) => !line.includes('locks/'));
		const kind = (line: string): string => {
			if (line === `remove data/${stray}`) return '1 unreferenced';
			if (line.startsWith('save data/')) return '2 new packs';
			if (line.startsWith('save index/')) return '3 new index';
			if (line.startsWith('remove index/')) return oldIndex.has(line.slice(13)) ? '4 old index' : 'new index removed!';
			if (line.startsWith('remove data/')) return '5 old packs';
			return `unexpected: ${line}`;
		};
		const kinds = steps.map(kind);
		expect(kinds).toEqual([...kinds].sort());
		expect(new Set(kinds)).toEqual(new Set(['1 unreferenced', '2 new packs', '3 new index', '4 old index', '5 old packs']));
		expect(kinds.filter((k) => k === '4 old index')).toHaveLength(oldIndex.size);
		// The new index files supersede every old one.
		const repo = await Repository.open(base, PASSWORD);
		for await (const info of base.list('index')) {
			expect(decodeIndexFile(await repo.loadJson('index', info.name), info.name).supersedes.sort()).toEqual([...oldIndex].sort());
		}
	});

	it('leaves a sound repository when it dies before any one of its changes', async () => {
		const {log} = recordMutations(await cloneStorage(template));
		const counting = recordMutations(await cloneStorage(template));
		await runPrune(await Repository.open(counting.storage, PASSWORD, {packSize: PACK_SIZE}), {maxUnused: 0});
		const total = counting.log.length;
		expect(log).toEqual([]);
		expect(total).toBeGreaterThan(8);
		for (let crashAt = 1; crashAt <= total; crashAt++) {
			const base = await cloneStorage(template);
			const {storage} = recordMutations(base, crashAt);
			const what = `crash before change ${crashAt} of ${total}: ${counting.log[crashAt - 1]}`;
			// Failing to delete old packs is not fatal (they are unreferenced by then): that run ends with deleteFailures.
			const outcome = await runPrune(await Repository.open(storage, PASSWORD, {packSize: PACK_SIZE}), {maxUnused: 0}).then((report) => report.deleteFailures, (error: Error) => error);
			if (Array.isArray(outcome)) expect(outcome.length > 0 || what.includes('locks/'), what).toBe(true);
			else expect((outcome as Error).message, what).toMatch(/simulated crash|could not delete/);
			await removeLocks(await Repository.open(base, PASSWORD), {all: true});
			await expectSound(base);
			// The next prune finishes the job and leaves no warning behind.
			await runPrune(await Repository.open(base, PASSWORD, {packSize: PACK_SIZE}), {maxUnused: 0});
			await expectSound(base, {clean: true});
		}
	});

	it('refuses, changing nothing, when a needed blob is missing from the index', async () => {
		const storage = await cloneStorage(template);
		const repo = await Repository.open(storage, PASSWORD);
		// Rewrite the index without one data blob that the last snapshot needs.
		const ids = await repo.listIds('index');
		const packs = (await Promise.all(ids.map(async (id) => decodeIndexFile(await repo.loadJson('index', id), id).packs))).flat();
		await repo.loadIndex();
		// f.bin is smaller than the chunker's minimum: its one blob's ID is the hash of its content.
		const victimId = sha256(seededBytes('f', 110_000));
		const victim = packs.flatMap((p) => p.blobs).find((b) => b.type === 'data' && b.id === victimId)!;
		expect(victim).toBeDefined();
		const trimmed = packs.map((p) => ({packId: p.packId, blobs: p.blobs.filter((b) => b.id !== victim.id)}));
		for (const id of ids) await storage.remove({type: 'index', name: id});
		await repo.saveUnpacked('index', encodeIndexFile(trimmed));
		const before = await listAll(storage);
		const attempt = runPrune(await Repository.open(storage, PASSWORD));
		await expect(attempt).rejects.toThrow(PruneRefusedError);
		await expect(attempt).rejects.toThrow(new RegExp(`data blob ${victim.id}.*cairn check`));
		expect(await listAll(storage)).toEqual(before);
	});

	it('refuses, changing nothing, when an index file cannot be read', async () => {
		const storage = await cloneStorage(template);
		const [first] = await (await Repository.open(storage, PASSWORD)).listIds('index');
		const bytes = Buffer.from(await storage.load({type: 'index', name: first!}));
		bytes[bytes.length - 1]! ^= 1;
		await storage.save({type: 'index', name: first!}, bytes);
		const before = await listAll(storage);
		await expect(runPrune(await Repository.open(storage, PASSWORD))).rejects.toThrow(new RegExp(`index/${first}.*cannot be read.*cairn check`));
		expect(await listAll(storage)).toEqual(before);
	});

	it('stops without deleting when a needed blob to repack is damaged', async () => {
		const storage = await cloneStorage(template);
		const repo = await Repository.open(storage, PASSWORD);
		const plan = await runPrune(repo, {dryRun: true, maxUnused: 0});
		expect(plan.packs.repack).toBeGreaterThan(0);
		// Damage every blob of every pack that would be repacked.
		const doomed = new Set(plan.removedPacks);
		const ids = await repo.listIds('index');
		const packs = (await Promise.all(ids.map(async (id) => decodeIndexFile(await repo.loadJson('index', id), id).packs))).flat();
		for (const pack of packs.filter((p) => doomed.has(p.packId))) {
			const bytes = Buffer.from(await storage.load({type: 'data', name: pack.packId}));
			for (const blob of pack.blobs) bytes[blob.offset + 20]! ^= 1;
			await storage.save({type: 'data', name: pack.packId}, bytes);
		}
		const packsBefore = (await listAll(storage)).filter((n) => n.startsWith('data/') || n.startsWith('index/'));
		await expect(runPrune(await Repository.open(storage, PASSWORD), {maxUnused: 0})).rejects.toThrow(/could not be copied.*Nothing was deleted.*cairn check --read-data/);
		const packsAfter = (await listAll(storage)).filter((n) => n.startsWith('data/') || n.startsWith('index/'));
		for (const name of packsBefore) expect(packsAfter).toContain(name);
	});

	it('fails with a LockError naming the holder while another process holds a lock', async () => {
		const storage = await cloneStorage(template);
		const repo = await Repository.open(storage, PASSWORD);
		await repo.saveUnpacked('locks', Buffer.from(JSON.stringify({time: new Date().toISOString(), exclusive: false, hostname: 'elsewhere', username: 'alice', pid: 4242})));
		const attempt = runPrune(await Repository.open(storage, PASSWORD));
		await expect(attempt).rejects.toThrow(LockError);
		await expect(attempt).rejects.toThrow(/alice@elsewhere \(PID 4242\)/);
	});

	it('reuses an exclusive lock this process holds on the same repository (forget --prune)', async () => {
		const storage = await cloneStorage(template);
		const repo = await Repository.open(storage, PASSWORD);
		const lock = await acquireLock(repo, {exclusive: true, recheckDelayMs: 0});
		expect(findHeldLocks(repo).map((l) => l.id)).toEqual([lock.id]);
		const report = await runPrune(repo);
		expect(report.packs.removeTotal).toBeGreaterThan(0);
		expect(await repo.listIds('locks')).toEqual([lock.id]);
		await lock.release();
		expect(findHeldLocks(repo)).toEqual([]);
		expect(await repo.listIds('locks')).toEqual([]);
	});
});
