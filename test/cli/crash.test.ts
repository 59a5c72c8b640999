/**
 * Crash safety: `cairn backup` and `cairn prune` are killed with SIGKILL at moments chosen by a
 * seeded random generator, at least 20 times in one run. After every kill:
 * - `cairn unlock` clears the dead process's lock (stale: same host, PID gone);
 * - `cairn check` and `restic check` pass, reporting at most what the format allows (warnings about
 *   unreferenced packs or packs listed twice, which the next prune cleans up);
 * - every snapshot that existed before the kill restores byte for byte.
 * A killed backup is then run to completion, and the share of the killed run's uploaded packs that
 * the new snapshot reuses is measured; a killed prune is run to completion, after which
 * `cairn check` reports nothing at all. Set CAIRN_CRASH_SEED to replay another sequence.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {loadPackIndex, mapBlobCopies, blobKey} from '../../engine/prune/pack-index.js';
import {findUsedBlobs} from '../../engine/prune/used-blobs.js';
import {Repository} from '../../engine/repository/repository.js';
import {loadSnapshot} from '../../engine/repository/snapshots.js';
import {describeRun, jsonLines, listPacks, listRepoFiles, makeTempDir, startCairn, waitFor, writeSeededFile, type RunOptions, type RunResult} from '../helpers/cli.js';
import {cairnOk, createRandom, expectRestores, hashTree, resticOk} from './lifecycle-helpers.js';

const PASSWORD = 'crash password';
const env: RunOptions = {env: {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD}};
const SEED = Number(process.env.CAIRN_CRASH_SEED ?? 20_261_122);
const MiB = 1024 * 1024;
/** The source: this many files of FILE_SIZE bytes (16 MiB in all), so that a backup spans several 4 MiB packs. */
const FILES = 8;
const FILE_SIZE = 2 * MiB;
const KILLS = 20;
/** Snapshots kept before a prune (older ones are forgotten), so that every check restores only a few. */
const KEEP_SNAPSHOTS = 1;

let base: string;
let repo: string;
let source: string;
/** Expected file hashes of every snapshot in the repository. */
const expected = new Map<string, Map<string, string>>();

/** What one killed backup left and what the next backup reused of it. */
interface Reuse {
	/** Bytes of the pack files the killed run stored. */
	packBytes: number;
	/** Bytes of the blobs in those packs. */
	blobBytes: number;
	/** Bytes of those blobs that the completed backup's snapshot uses. */
	reused: number;
}

async function writeFileVersion(index: number, version: string): Promise<void> {
	await writeSeededFile(path.join(source, `file-${index}.bin`), `${index}:${version}`, FILE_SIZE);
}

/**
 * Runs cairn and, once it holds its lock (so it is past start-up and at work on the repository),
 * kills it after `killAfterMs` unless it has finished. Resolves with the result and how long it
 * worked after taking its lock.
 */
async function runKilled(args: readonly string[], killAfterMs: number): Promise<{result: RunResult; ms: number}> {
	const running = startCairn(args, env);
	let exited = false;
	void running.done.then(() => {
		exited = true;
	});
	await waitFor(async () => (exited || (await listRepoFiles(repo, 'locks')).length > 0 ? true : undefined), 60_000, 2);
	const locked = performance.now();
	const timer = setTimeout(() => running.child.kill('SIGKILL'), killAfterMs);
	const result = await running.done;
	clearTimeout(timer);
	return {result, ms: performance.now() - locked};
}

/**
 * After a kill: unlock, both checks, and a byte-for-byte restore of every snapshot. restic's check
 * takes an exclusive lock, so it runs alone; cairn's check and the restores share the repository.
 */
async function expectSound(when: string): Promise<void> {
	await cairnOk(['unlock', '--repo', repo], env);
	expect(await listRepoFiles(repo, 'locks'), when).toEqual([]);
	const restic = await resticOk(['-r', repo, 'check'], env);
	expect(restic.stdout, when).toContain('no errors were found');
	expect((await listRepoFiles(repo, 'snapshots')).sort(), when).toEqual([...expected.keys()].sort());
	const [check] = await Promise.all([
		cairnOk(['check', '--repo', repo], env),
		...[...expected].map(([id, files]) => expectRestores('cairn', repo, id, source, files, env)),
	]);
	const errors = check.stderr.split('\n').filter((line) => line.startsWith('error:'));
	expect(errors, `${when}: cairn check\n${check.stderr}`).toEqual([]);
}

/** IDs of the packs the index files of a repository list. */
async function loadIndexedPacks(at: string): Promise<string[]> {
	const opened = await Repository.open(createLocalStorage(at), PASSWORD);
	try {
		return [...(await loadPackIndex(opened)).packs.keys()];
	} finally {
		await opened.close();
	}
}

/** Blob bytes of the given packs that a snapshot uses, found by walking its trees through the engine. */
async function measureReuse(packIds: readonly string[], snapshotId: string, at = repo): Promise<{blobBytes: number; reused: number}> {
	const opened = await Repository.open(createLocalStorage(at), PASSWORD);
	try {
		const index = await loadPackIndex(opened);
		const usage = await findUsedBlobs(opened, [(await loadSnapshot(opened, snapshotId)).tree], mapBlobCopies(index));
		let blobBytes = 0;
		let reused = 0;
		for (const id of packIds) {
			for (const blob of index.packs.get(id)?.blobs ?? []) {
				blobBytes += blob.length;
				if (usage.used.has(blobKey(blob.type, blob.id))) reused += blob.length;
			}
		}
		return {blobBytes, reused};
	} finally {
		await opened.close();
	}
}

beforeAll(async () => {
	base = await makeTempDir('cairn-crash-');
	repo = path.join(base, 'repo');
	source = path.join(base, 'src');
	await fs.mkdir(source);
	for (let i = 0; i < FILES; i++) await writeFileVersion(i, 'initial');
	await fs.writeFile(path.join(source, 'notes.txt'), 'a text file that changes with every backup\n');
	await cairnOk(['init', '--repo', repo], env);
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('SIGKILL at random moments', () => {
	it(`kills backup and prune ${KILLS} times (seed ${SEED}); the repository stays sound and every snapshot restores`, async () => {
		const random = createRandom(SEED);
		const pick = (n: number): number => Math.floor(random() * n);
		const log: string[] = [];
		const reuses: Reuse[] = [];
		// How long an uninterrupted run works once it holds its lock; kills land anywhere in that span.
		const durations = {backup: 0, prune: 0};
		const backupArgs = ['backup', '--json', '--pack-size', '4', '--repo', repo, source];

		const completeBackup = async (): Promise<string> => {
			const started = performance.now();
			const result = await cairnOk(backupArgs, env);
			durations.backup = performance.now() - started;
			const summary = jsonLines(result.stdout).at(-1)!;
			const id = summary.snapshot_id as string;
			expected.set(id, await hashTree(source));
			return id;
		};
		await completeBackup();

		let kills = 0;
		for (let round = 1; kills < KILLS; round++) {
			expect(round, 'too many runs finished before their kill').toBeLessThan(KILLS * 3);
			const op = expected.size > KEEP_SNAPSHOTS && (expected.size > 2 || random() < 0.4) ? 'prune' : 'backup';
			if (op === 'prune') {
				// Forget the oldest snapshots, as `forget` does: delete their snapshot files.
				for (const id of [...expected.keys()].slice(0, expected.size - KEEP_SNAPSHOTS)) {
					await fs.rm(path.join(repo, 'snapshots', id));
					expected.delete(id);
				}
				if (durations.prune === 0) {
					// Calibrate on a copy, so that the real repository keeps its garbage for the killed run.
					const copy = path.join(base, 'calibrate');
					await fs.cp(repo, copy, {recursive: true});
					const started = performance.now();
					await cairnOk(['prune', '--repo', copy], env);
					durations.prune = performance.now() - started;
					await fs.rm(copy, {recursive: true, force: true});
				}
			} else {
				// New content in three or four files (so that packs are stored while it runs), and the text file.
				for (let n = 3 + pick(2); n > 0; n--) await writeFileVersion(pick(FILES), `round-${round}-${n}`);
				await fs.appendFile(path.join(source, 'notes.txt'), `round ${round}\n`);
			}
			const packsBefore = await listPacks(repo);
			const snapshotsBefore = new Set(await listRepoFiles(repo, 'snapshots'));
			// Somewhere in the first 90% of the time a whole run works (runs vary: some still finish first).
			const delay = Math.round(random() * durations[op] * 0.9);
			const args = op === 'prune' ? ['prune', '--repo', repo] : backupArgs;
			const {result, ms} = await runKilled(args, delay);
			const killed = result.signal === 'SIGKILL';
			const when = `round ${round}: ${op} ${killed ? `killed ${delay} ms after taking its lock` : `finished ${Math.round(ms)} ms after taking its lock, before its kill at ${delay} ms`}`;
			log.push(when);
			if (!killed) {
				expect(result.code, `${when}\n${describeRun(result)}`).toBe(0);
				durations[op] = ms;
			}
			// A backup killed after saving its snapshot has made it: it must restore like any other.
			for (const id of await listRepoFiles(repo, 'snapshots')) {
				if (!snapshotsBefore.has(id)) expected.set(id, await hashTree(source));
			}
			// (A run that finished before its kill is an ordinary run: the next kill's checks cover it.)
			if (!killed) continue;
			await expectSound(when);
			kills++;

			if (op === 'backup') {
				const leftover = [...(await listPacks(repo))].filter(([id]) => !packsBefore.has(id));
				const snapshotsNow = new Set(await listRepoFiles(repo, 'snapshots'));
				const id = await completeBackup();
				if (leftover.length > 0 && !snapshotsBefore.has(id) && snapshotsNow.size === snapshotsBefore.size) {
					const measured = await measureReuse(leftover.map(([packId]) => packId), id);
					reuses.push({packBytes: leftover.reduce((sum, [, size]) => sum + size, 0), ...measured});
				}
			} else {
				await cairnOk(['prune', '--repo', repo], env);
				const check = await cairnOk(['check', '--repo', repo], env);
				expect(check.stderr, `${when}: after a complete prune`).not.toMatch(/warning|error/);
				expect(check.stdout).toMatch(/no errors were found\n/);
			}
		}

		// Finally: everything cleaned up, every byte verified by restic.
		await cairnOk(['prune', '--repo', repo], env);
		const final = await resticOk(['-r', repo, 'check', '--read-data'], env);
		expect(final.stdout).toContain('no errors were found');
		expect(final.stdout).not.toMatch(/additional files|not referenced/);
		for (const [id, files] of expected) await expectRestores('restic', repo, id, source, files, env);

		const killedBackups = log.filter((line) => line.includes('backup killed')).length;
		const killedPrunes = log.filter((line) => line.includes('prune killed')).length;
		expect(killedBackups + killedPrunes).toBe(kills);
		expect(killedBackups).toBeGreaterThan(0);
		expect(killedPrunes).toBeGreaterThan(0);
		const total = reuses.reduce((sum, r) => ({packBytes: sum.packBytes + r.packBytes, blobBytes: sum.blobBytes + r.blobBytes, reused: sum.reused + r.reused}), {packBytes: 0, blobBytes: 0, reused: 0});
		console.log([
			`crash test, seed ${SEED}: ${kills} kills (${killedBackups} backups, ${killedPrunes} prunes) in ${log.length} runs`,
			...log,
			`reuse after killed backups: ${reuses.length} killed backups had stored packs; ${total.packBytes} B of packs (${total.blobBytes} B of blobs) before the kill; the next backup reused ${total.reused} B = ${(total.blobBytes ? (100 * total.reused) / total.blobBytes : 0).toFixed(1)}% of those blob bytes`,
		].join('\n'));
		// The next backup reuses what a killed one uploaded (it indexes the packs it finds unindexed).
		// Whether a kill lands after the first pack is stored depends on timing; the test below makes sure of it.
		expect(total.reused).toBeGreaterThanOrEqual(0.9 * total.blobBytes);
	}, 600_000);

	it('a backup after a killed backup reuses every pack the killed one stored', async () => {
		const dir = path.join(base, 'reuse');
		const reuseRepo = path.join(dir, 'repo');
		const reuseSource = path.join(dir, 'src');
		await fs.mkdir(reuseSource, {recursive: true});
		for (let i = 0; i < 4; i++) await writeSeededFile(path.join(reuseSource, `big-${i}.bin`), `reuse-${i}`, 16 * MiB);
		await cairnOk(['init', '--repo', reuseRepo], env);
		const args = ['backup', '--json', '--pack-size', '4', '--repo', reuseRepo, reuseSource];
		const killed = startCairn(args, env);
		await waitFor(async () => ((await listPacks(reuseRepo)).size >= 2 ? true : undefined), 60_000, 2);
		killed.child.kill('SIGKILL');
		const result = await killed.done;
		expect(result.signal).toBe('SIGKILL');
		expect(await listRepoFiles(reuseRepo, 'snapshots')).toEqual([]);
		// The packs no index lists: what a killed backup leaves behind.
		const indexed = new Set(await loadIndexedPacks(reuseRepo));
		const leftover = new Map([...(await listPacks(reuseRepo))].filter(([id]) => !indexed.has(id)));
		expect(leftover.size).toBeGreaterThan(0);
		await cairnOk(['unlock', '--repo', reuseRepo], env);
		const next = jsonLines((await cairnOk(args, env)).stdout).at(-1)!;
		const measured = await measureReuse([...leftover.keys()], next.snapshot_id as string, reuseRepo);
		const packBytes = [...leftover.values()].reduce((a, b) => a + b, 0);
		const added = next.data_added_packed as number;
		console.log(`reuse after a killed backup: ${leftover.size} packs no index listed (${packBytes} B of packs, ${measured.blobBytes} B of blobs) were stored before the kill; the next backup reused ${measured.reused} B of them (${((100 * measured.reused) / measured.blobBytes).toFixed(1)}%) and stored ${added} B more for a ${64 * MiB} B source`);
		expect(measured.reused).toBe(measured.blobBytes);
		// It stored only what the killed run had not: the source less what the packs held.
		expect(added).toBeLessThan(64 * MiB - measured.reused + MiB);
		expect((await resticOk(['-r', reuseRepo, 'check', '--read-data'], env)).stdout).toContain('no errors were found');
		await expectRestores('cairn', reuseRepo, next.snapshot_id as string, reuseSource, await hashTree(reuseSource), env);
	});
});
