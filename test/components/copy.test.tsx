/**
 * The copy screen at 80×24: `c` on a snapshot copies it to another saved repository (its password
 * asked when the profile keeps none), with progress and a summary; the copy is a real snapshot of
 * the destination with `original` set, and copying it again skips it. Pure helpers of the view.
 */
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {listSnapshots} from '../../engine/repository/snapshots.js';
import {describeCopyProgress, summarizeCopy} from '../../components/screens/copy.js';
import {checkFrameFits, createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, saveProfile, SMALL, waitForFrame, writeTree} from './harness.js';

const resources = disposeAfterEach();

async function listWithPassword(path: string, password: string) {
	const repo = await Repository.open(createLocalStorage(path), password);
	try {
		return await listSnapshots(repo);
	} finally {
		await repo.close();
	}
}

describe('copy screen', () => {
	it('copies the selected snapshot to another saved repository with progress, and skips it the second time', async () => {
		resources.environment = await createTestEnvironment();
		const source = join(resources.environment.root, 'data');
		await writeTree(source, {'docs/a.txt': 'alpha', 'docs/big.bin': Buffer.alloc(300_000, 7), 'pics/b.txt': 'beta'});
		const main = join(resources.environment.root, 'main-repo');
		const offsite = join(resources.environment.root, 'offsite-repo');
		await createRepository(main, 'pw', [{paths: [join(source, 'docs')], tags: ['daily']}, {paths: [join(source, 'pics')]}]);
		await createRepository(offsite, 'offsite pw');
		const passwordFile = join(resources.environment.root, 'offsite.pass');
		await writeFile(passwordFile, 'offsite pw\n', {mode: 0o600});
		saveProfile(resources.environment.env, {name: 'main', location: `local:${main}`});
		saveProfile(resources.environment.env, {name: 'offsite', location: `local:${offsite}`, passwordFile});
		saveProfile(resources.environment.env, {name: 'cold', location: `local:${join(resources.environment.root, 'cold-repo')}`});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Repositories');
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'main › Password');
		await press(app.stdin, 'pw', KEYS.enter);
		await waitForFrame(app.lastFrame, '2 snapshots from 2 sources');
		// The newest snapshot (pics) is first under its heading: move onto the docs snapshot.
		await press(app.stdin, '?');
		const help = await waitForFrame(app.lastFrame, 'copy the selected snapshot');
		checkFrameFits(help, SMALL);
		await press(app.stdin, '?');
		const list = await waitForFrame(app.lastFrame, '#daily');
		const rows = list.split('\n');
		const docsRow = rows.findIndex((line) => line.includes('#daily'));
		const cursorRow = rows.findIndex((line) => line.includes('›'));
		for (let i = cursorRow; i < docsRow; i++) await press(app.stdin, KEYS.down);
		await waitForFrame(app.lastFrame, (frame) => frame.split('\n').some((line) => line.includes('›') && line.includes('#daily')));
		await press(app.stdin, 'c');
		const choose = await waitForFrame(app.lastFrame, 'to which repository?');
		checkFrameFits(choose, SMALL);
		expect(choose).toContain('offsite');
		expect(choose).toContain('cold');
		expect(choose).not.toMatch(/^\s*(›\s*)?main\s/m);
		await press(app.stdin, KEYS.enter);
		const done = await waitForFrame(app.lastFrame, 'Done: 1 snapshot copied');
		checkFrameFits(done, SMALL);
		expect(done).toContain('1 of 1');
		// The final figures are the totals of the copy, and the bar is full.
		expect(done).toMatch(/Data\s+(\d+) of \1 blobs/);
		expect(done).not.toContain('░');
		expect(done).toMatch(/copied as [0-9a-f]{8}/);

		const sourceSnapshots = await listWithPassword(main, 'pw');
		const docs = sourceSnapshots.find((s) => s.tags?.includes('daily'))!;
		const copied = await listWithPassword(offsite, 'offsite pw');
		expect(copied).toHaveLength(1);
		expect(copied[0]).toMatchObject({original: docs.id, tree: docs.tree, tags: ['daily']});

		// Again: the destination already holds it.
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, '2 snapshots from 2 sources');
		await press(app.stdin, 'c');
		await waitForFrame(app.lastFrame, 'to which repository?');
		await press(app.stdin, KEYS.enter);
		const again = await waitForFrame(app.lastFrame, 'Done: 0 snapshots copied');
		expect(again).toContain('1 already there');
		expect(await listWithPassword(offsite, 'offsite pw')).toHaveLength(1);
	});

	it('asks the password of a destination that keeps none, and says when it is wrong', async () => {
		resources.environment = await createTestEnvironment();
		const source = join(resources.environment.root, 'data');
		await writeTree(source, {'a.txt': 'alpha'});
		const main = join(resources.environment.root, 'main-repo');
		const second = join(resources.environment.root, 'second-repo');
		await createRepository(main, 'pw', [{paths: [source]}]);
		await createRepository(second, 'second');
		saveProfile(resources.environment.env, {name: 'main', location: `local:${main}`, password: 'pw'});
		saveProfile(resources.environment.env, {name: 'second', location: `local:${second}`});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Repositories');
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, '1 snapshot from 1 source');
		await press(app.stdin, 'c');
		await waitForFrame(app.lastFrame, 'to which repository?');
		await press(app.stdin, KEYS.enter);
		const ask = await waitForFrame(app.lastFrame, 'The password of second');
		checkFrameFits(ask, SMALL);
		await press(app.stdin, 'wrong', KEYS.enter);
		await waitForFrame(app.lastFrame, 'Wrong password');
		await press(app.stdin, KEYS.ctrlU, 'second', KEYS.enter);
		await waitForFrame(app.lastFrame, 'Done: 1 snapshot copied');
		expect(await listWithPassword(second, 'second')).toHaveLength(1);
	});
});

describe('copy view helpers', () => {
	it('describes progress and the summary in words', () => {
		expect(describeCopyProgress(undefined)[0]![1]).toMatch(/opening/);
		const lines = describeCopyProgress({phase: 'copy', snapshot: 2, snapshots: 3, snapshotId: 'ab'.repeat(32), blobsDone: 4, blobsTotal: 8, bytesDone: 2048, bytesTotal: 4096, copied: 1, skipped: 0});
		expect(lines.map(([, value]) => value)).toEqual(['2 of 3  abababab  (copying data)', '4 of 8 blobs, 2.00 KiB of 4.00 KiB', '1 copied, 0 skipped']);
		expect(summarizeCopy([])).toBe('0 snapshots copied (0 B read), 0 already there');
	});
});
