/**
 * The cold-storage pre-pass of `restore --thaw` (engine/restorer/thaw.ts) against a memory store
 * whose packs are all "in a cold class": trees are thawed before file contents, only the packs the
 * restore needs are asked for, nothing is requested before the plan is announced, and a copy
 * that expires while waiting is asked for again.
 */
import {randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {createMemoryStorage} from '../../../adapters/memory.js';
import {ColdStorageError} from '../../../adapters/shared/storage-errors.js';
import {TransientError, type FileHandle, type Storage, type ThawOptions, type ThawState} from '../../../adapters/storage.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {Repository} from '../../../engine/repository/repository.js';
import {listSnapshots} from '../../../engine/repository/snapshots.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {thawSnapshotPacks, type ThawEvent} from '../../../engine/restorer/thaw.js';

let work: string;
let source: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-thaw-'));
	source = path.join(work, 'src');
	for (const dir of ['a', 'b']) {
		await fs.mkdir(path.join(source, dir, 'deep'), {recursive: true});
		for (let i = 0; i < 3; i++) await fs.writeFile(path.join(source, dir, 'deep', `file-${i}.bin`), randomBytes(700 * 1024));
	}
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

/** A store where every pack is cold until thawed; `finish()` completes the running thaws. */
function makeColdStorage(inner: Storage) {
	const state = new Map<string, 'frozen' | 'thawing' | 'ready'>();
	const requests: string[] = [];
	const checks: string[] = [];
	let frozenByDefault = false;
	const stateOf = (name: string) => state.get(name) ?? (frozenByDefault ? 'frozen' : 'ready');
	const storage: Storage = {
		...inner,
		location: inner.location,
		capabilities: {...inner.capabilities, coldStorage: true},
		create: (o) => inner.create(o),
		save: (h, d, o) => inner.save(h, d, o),
		stat: (h, o) => inner.stat(h, o),
		list: (t, o) => inner.list(t, o),
		remove: (h, o) => inner.remove(h, o),
		close: () => inner.close(),
		load: async (handle, options) => {
			if (handle.type === 'data' && stateOf(handle.name) !== 'ready') throw new ColdStorageError(handle, 'GLACIER', `${handle.name} is cold`);
			return inner.load(handle, options);
		},
		thaw: async (handle: FileHandle, options: ThawOptions = {}): Promise<ThawState> => {
			await inner.stat(handle);
			checks.push(handle.name);
			const current = stateOf(handle.name);
			if (current === 'ready') return 'ready';
			if (current === 'thawing') return 'pending';
			if (options.checkOnly === true) return 'frozen';
			requests.push(handle.name);
			state.set(handle.name, 'thawing');
			return 'started';
		},
	};
	return {
		storage,
		requests,
		checks,
		freeze: () => {
			frozenByDefault = true;
			state.clear();
		},
		finish: () => {
			for (const [name, value] of state) if (value === 'thawing') state.set(name, 'ready');
		},
		expire: (name: string) => state.set(name, 'frozen'),
		state,
	};
}

async function makeRepository() {
	const cold = makeColdStorage(createMemoryStorage());
	const repo = await Repository.init(cold.storage, 'pw', {packSize: 512 * 1024});
	await runBackup(repo, {paths: [source], workers: 1});
	await repo.flush();
	const [snapshot] = await listSnapshots(repo);
	cold.freeze();
	await repo.loadIndex();
	return {cold, repo, snapshotId: snapshot!.id!};
}

/** Pack IDs holding trees, and holding the contents of files under `dir`. */
function findPacks(repo: Repository): {trees: Set<string>; all: Set<string>} {
	const trees = new Set<string>();
	const all = new Set<string>();
	for (const entry of repo.index.entries()) {
		all.add(entry.location.packId);
		if (entry.type === 'tree') trees.add(entry.location.packId);
	}
	return {trees, all};
}

describe('thawSnapshotPacks', () => {
	it('thaws tree packs first, then the contents of the included files only, announcing the plan before any request', async () => {
		const {cold, repo, snapshotId} = await makeRepository();
		const events: ThawEvent[] = [];
		let sleeps = 0;
		const includeA = `${source.slice(1)}/a`;
		const result = await thawSnapshotPacks(repo, snapshotId, {
			includes: [includeA],
			onEvent: (event) => {
				// When a stage is planned, nothing of that stage has been requested yet.
				if (event.type === 'plan') expect(cold.requests.filter((id) => event.thawing.includes(id))).toEqual([]);
				events.push(event);
			},
			sleep: async () => {
				sleeps++;
				cold.finish();
			},
		});
		expect(result).toMatchObject({ready: true, supported: true, thawing: []});
		const {trees, all} = findPacks(repo);
		const treeRequests = cold.requests.filter((id) => trees.has(id));
		expect(new Set(treeRequests)).toEqual(trees);
		const dataRequests = cold.requests.filter((id) => !trees.has(id));
		// Only the packs of a/ were asked for: fewer than all data packs, and each once.
		expect(dataRequests.length).toBeGreaterThan(0);
		expect(dataRequests.length).toBeLessThan(all.size - trees.size);
		expect(new Set(cold.requests).size).toBe(cold.requests.length);
		expect(events.map((event) => `${event.stage}:${event.type}`)).toEqual(['trees:plan', 'trees:requested', 'trees:ready', 'data:plan', 'data:requested', 'data:ready']);
		expect(events[0]).toMatchObject({packs: trees.size, frozen: trees.size, ready: 0});
		expect(events[0]!.bytes).toBeGreaterThan(0);
		expect(sleeps).toBe(2);

		// The restore of a/ now reads everything it needs.
		const target = path.join(work, 'restored-a');
		const summary = await runRestore(repo, snapshotId, target, {includes: [includeA]});
		expect(summary.errors).toEqual([]);
		expect(summary.filesRestored).toBe(3);
	});

	it('with wait: false, requests and returns the packs still thawing', async () => {
		const {cold, repo, snapshotId} = await makeRepository();
		const result = await thawSnapshotPacks(repo, snapshotId, {wait: false, sleep: async () => expect.fail('must not wait')});
		const {trees} = findPacks(repo);
		expect(result).toMatchObject({ready: false, stage: 'trees', requested: trees.size});
		expect(new Set(result.thawing)).toEqual(trees);
		// Asking again while they thaw requests nothing more.
		const again = await thawSnapshotPacks(repo, snapshotId, {wait: false});
		expect(again).toMatchObject({ready: false, stage: 'trees', requested: 0});
		expect(cold.requests).toHaveLength(trees.size);
	});

	it('asks again for a copy that expired while waiting', async () => {
		const {cold, repo, snapshotId} = await makeRepository();
		const {trees} = findPacks(repo);
		const expiring = [...trees][0]!;
		let round = 0;
		const events: ThawEvent[] = [];
		const result = await thawSnapshotPacks(repo, snapshotId, {
			onEvent: (event) => events.push(event),
			sleep: async () => {
				round++;
				if (round === 1) {
					cold.finish();
					cold.expire(expiring);
				} else cold.finish();
			},
		});
		expect(result.ready).toBe(true);
		expect(cold.requests.filter((id) => id === expiring)).toHaveLength(2);
		expect(events.some((event) => event.type === 'waiting' && event.stage === 'trees' && event.started === 1)).toBe(true);
	});

	it('keeps waiting through a passing fault while polling', async () => {
		const {cold, repo, snapshotId} = await makeRepository();
		const thaw = cold.storage.thaw!;
		let polls = 0;
		let faults = 0;
		cold.storage.thaw = async (handle, options) => {
			if (polls === 1 && faults === 0) {
				faults++;
				throw new TransientError('connection reset');
			}
			return thaw(handle, options);
		};
		const result = await thawSnapshotPacks(repo, snapshotId, {
			sleep: async () => {
				polls++;
				if (polls > 1) cold.finish();
			},
		});
		expect(result.ready).toBe(true);
		expect(faults).toBe(1);
		expect(polls).toBeGreaterThan(2);
	});

	it('does nothing on a store without cold storage', async () => {
		const repo = await Repository.init(createMemoryStorage(), 'pw');
		const result = await thawSnapshotPacks(repo, 'f'.repeat(64));
		expect(result).toEqual({ready: true, thawing: [], requested: 0, supported: false});
	});
});
