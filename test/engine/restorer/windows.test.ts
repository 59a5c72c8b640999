/**
 * Restores larger than one window: the restore walks the snapshot and writes it a window of
 * entries at a time, so these tests use windows of a few entries to cross many window boundaries
 * (directories opened in one window and closed in another, hard links whose first file is in an
 * earlier window) and compare the result with the source and with restic 0.14's restore.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {createLocalStorage} from '../../../adapters/local.js';
import {Repository} from '../../../engine/repository/repository.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {loadTree, walkTree} from '../../../engine/restorer/walk.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';
import type {ProgressEvent} from '../../../engine/progress.js';
import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runRestic, seededBytes} from '../../helpers/cli.js';

const PASSWORD = 'window secret';
let work: string;
let source: string;
let repoDir: string;
let snapshotId: string;
/** Regular files in the source (hard links counted once per name). */
let fileCount = 0;
let fileBytes = 0;

beforeAll(async () => {
	work = await makeTempDir('cairn-windows-');
	source = path.join(work, 'src');
	const info = await makeVariedTree(source, {seed: 'windows', bigFileSize: 3 * 1024 * 1024 + 5});
	fileCount = info.files.size;
	fileBytes = info.bytes;
	// Many small directories and files, so that a window of a few entries ends inside directories.
	for (let d = 0; d < 6; d++) {
		const dir = path.join(source, 'many', `d${d}`);
		await fs.mkdir(dir, {recursive: true});
		for (let f = 0; f < 7; f++) {
			const data = seededBytes(`windows:${d}:${f}`, 100 + d * 300 + f * 17);
			await fs.writeFile(path.join(dir, `f${f}.bin`), data);
			fileCount++;
			fileBytes += data.length;
		}
	}
	// Hard links: the first name early in the walk, the others windows later.
	await fs.mkdir(path.join(source, 'aaa'));
	await fs.mkdir(path.join(source, 'zzz', 'deeper'), {recursive: true});
	const linked = seededBytes('windows:linked', 40_000);
	await fs.writeFile(path.join(source, 'aaa', 'first'), linked);
	await fs.link(path.join(source, 'aaa', 'first'), path.join(source, 'zzz', 'second'));
	await fs.link(path.join(source, 'aaa', 'first'), path.join(source, 'zzz', 'deeper', 'third'));
	fileCount += 3;
	fileBytes += 3 * linked.length;
	// Directory times after their contents, as a backup finds them.
	const stamp = new Date(Date.UTC(2020, 5, 6, 7, 8, 9, 250));
	for (const dir of ['many/d0', 'many/d5', 'many', 'aaa', 'zzz/deeper', 'zzz']) await fs.utimes(path.join(source, dir), stamp, stamp);
	repoDir = path.join(work, 'repo');
	const repo = await Repository.init(createLocalStorage(repoDir), PASSWORD);
	snapshotId = (await runBackup(repo, {paths: [source]})).snapshot_id;
}, 120_000);

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

async function openRepo(): Promise<Repository> {
	return Repository.open(createLocalStorage(repoDir), PASSWORD);
}

describe('restoring in windows', () => {
	it('restores a tree of many windows byte for byte, with hard links across windows, as restic does', async () => {
		const target = path.join(work, 'windowed');
		const events: ProgressEvent[] = [];
		const summary = await runRestore(await openRepo(), snapshotId, target, {windowEntries: 3, verify: true, onProgress: (event) => events.push(event)});
		expect(summary.errors).toEqual([]);
		expect(summary.filesRestored).toBe(fileCount);
		expect(summary.bytesRestored).toBe(fileBytes);
		expect(summary.filesVerified).toBe(fileCount);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);

		const restored = restoredPath(target, source);
		const [first, second, third] = await Promise.all(['aaa/first', 'zzz/second', 'zzz/deeper/third'].map((rel) => fs.stat(path.join(restored, rel))));
		expect(second!.ino).toBe(first!.ino);
		expect(third!.ino).toBe(first!.ino);
		expect(first!.nlink).toBe(3);

		// Totals come from the counting walk beside the restore.
		const last = events.at(-1)!;
		expect(last.filesTotal).toBe(fileCount);
		expect(last.bytesTotal).toBe(fileBytes);
		expect(last.filesDone).toBe(fileCount);

		// restic 0.14 restores the same snapshot to the same tree, and finds the repository sound.
		const theirs = path.join(work, 'restic-restore');
		const env = {RESTIC_PASSWORD: PASSWORD};
		const restored2 = await runRestic(['-r', repoDir, 'restore', snapshotId, '--target', theirs], {env});
		expect(restored2.code, describeRun(restored2)).toBe(0);
		expect(await compareTrees(restoredPath(theirs, source), restored)).toEqual([]);
		const check = await runRestic(['-r', repoDir, 'check', '--read-data'], {env});
		expect(check.code, describeRun(check)).toBe(0);
	}, 120_000);

	it('gives the same tree with windows of one entry and with the default window', async () => {
		const small = path.join(work, 'one-entry');
		const whole = path.join(work, 'default-window');
		const a = await runRestore(await openRepo(), snapshotId, small, {windowEntries: 1});
		const b = await runRestore(await openRepo(), snapshotId, whole);
		expect(a.errors).toEqual([]);
		expect(b.errors).toEqual([]);
		expect(a.filesRestored).toBe(b.filesRestored);
		expect(a.dirsRestored).toBe(b.dirsRestored);
		expect(await compareTrees(restoredPath(whole, source), restoredPath(small, source))).toEqual([]);
	}, 120_000);

	it('restores an included directory across windows, with the directories leading to it and their times', async () => {
		const target = path.join(work, 'included');
		const summary = await runRestore(await openRepo(), snapshotId, target, {windowEntries: 2, includes: [path.join(source, 'zzz')]});
		expect(summary.errors).toEqual([]);
		// zzz, zzz/deeper, second and third (a link whose first name is not restored gets the content).
		expect(summary.matched).toBe(4);
		expect(summary.filesRestored).toBe(2);
		const restored = restoredPath(target, source);
		expect(await compareTrees(path.join(source, 'zzz'), path.join(restored, 'zzz'))).toEqual([]);
		expect((await fs.readdir(restored)).sort()).toEqual(['zzz']);
		const [second, third] = await Promise.all([fs.stat(path.join(restored, 'zzz/second')), fs.stat(path.join(restored, 'zzz/deeper/third'))]);
		expect(third.ino).toBe(second.ino);
	}, 120_000);

	it('keeps existing files by default and reports them as skipped, window after window', async () => {
		const target = path.join(work, 'existing');
		await runRestore(await openRepo(), snapshotId, target, {windowEntries: 4});
		const again = await runRestore(await openRepo(), snapshotId, target, {windowEntries: 4});
		expect(again.errors).toEqual([]);
		expect(again.filesRestored).toBe(0);
		// Every file, link and other non-directory entry was there already.
		expect(again.skipped.length).toBeGreaterThanOrEqual(fileCount);
		expect(new Set(again.skipped).size).toBe(again.skipped.length);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	}, 120_000);

	it('stops when cancelled mid-way, leaving only complete files and no temporary files', async () => {
		const target = path.join(work, 'cancelled');
		const controller = new AbortController();
		const repo = await openRepo();
		await repo.loadIndex();
		// The restore reads every tree once to plan, then again as it writes: cancel a few trees into the writing.
		let trees = 1;
		await walkTree(repo, (await loadSnapshot(repo, snapshotId)).tree, ({node}) => {
			if (node.type === 'dir') trees++;
		});
		let loads = 0;
		const outcome = runRestore(repo, snapshotId, target, {
			windowEntries: 2,
			signal: controller.signal,
			loadTree: (id, signal) => {
				if (++loads === trees + 8) controller.abort();
				return loadTree(repo, id, signal);
			},
		});
		await expect(outcome).rejects.toThrow(/cancelled/);
		const leftovers: string[] = [];
		let complete = 0;
		const visit = async (dir: string): Promise<void> => {
			for (const entry of await fs.readdir(dir, {withFileTypes: true})) {
				const abs = path.join(dir, entry.name);
				if (entry.name.startsWith('.cairn-restore-')) leftovers.push(abs);
				if (entry.isDirectory()) await visit(abs);
				else if (entry.isFile()) {
					// A file under its final name is complete: same size as in the source.
					const rel = path.relative(restoredPath(target, source), abs);
					expect((await fs.stat(abs)).size, rel).toBe((await fs.stat(path.join(source, rel))).size);
					complete++;
				}
			}
		};
		await visit(target);
		expect(leftovers).toEqual([]);
		// The later windows were never written.
		expect(complete).toBeLessThan(fileCount);
	}, 120_000);
});
