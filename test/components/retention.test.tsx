import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {runBackup} from '../../engine/archiver/archiver.js';
import {listSnapshots} from '../../engine/repository/snapshots.js';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {openProfileStore} from '../../components/profiles.js';
import {buildPolicy, checkRetentionValue, previewRetention} from '../../components/retention-plan.js';
import {checkFrameFits, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, saveProfile, SMALL, waitForFrame, writeTree} from './harness.js';

const resources = disposeAfterEach();

const DAY = 86_400_000;

describe('retention screen', () => {
	it('edits a policy, previews keep and remove with reasons, then applies it with a prune', async () => {
		resources.environment = await createTestEnvironment();
		const source = join(resources.environment.root, 'docs');
		const repoPath = join(resources.environment.root, 'repo');
		const repo = await Repository.init(createLocalStorage(repoPath), 'pw');
		// Six daily snapshots, each with a file of its own, ending two days ago.
		const start = Date.now() - 8 * DAY;
		for (let day = 0; day < 6; day++) {
			await writeTree(source, {[`day-${day}.bin`]: randomBytes(50_000)});
			await runBackup(repo, {paths: [source], time: BigInt(start + day * DAY) * 1_000_000n, noLock: true});
		}
		await repo.close();
		saveProfile(resources.environment.env, {name: 'main', location: `local:${repoPath}`});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'main › Password');
		await press(app.stdin, 'pw', KEYS.enter);
		await waitForFrame(app.lastFrame, '6 snapshots from 1 source');
		await press(app.stdin, 'p');
		const edit = await waitForFrame(app.lastFrame, 'main › Retention');
		checkFrameFits(edit, SMALL);
		expect(edit).toContain('Keep daily');
		expect(edit).toContain('No rule yet: all 6 snapshots are kept');
		// A bad value is explained when the field is left.
		await press(app.stdin, KEYS.down, KEYS.down, 'many', KEYS.down);
		await waitForFrame(app.lastFrame, 'give a whole number of snapshots');
		await press(app.stdin, KEYS.up, KEYS.ctrlU, '3');
		await waitForFrame(app.lastFrame, 'This policy keeps 3 and removes 3 of 6 snapshots');
		await press(app.stdin, KEYS.enter);
		const preview = await waitForFrame(app.lastFrame, 'main › Retention › Preview');
		checkFrameFits(preview, SMALL);
		expect(preview).toContain('keeps 3, removes 3');
		const keeps = preview.split('\n').filter((line) => line.startsWith('  keep  '));
		const removes = preview.split('\n').filter((line) => line.startsWith('  remove'));
		expect(keeps).toHaveLength(3);
		expect(removes).toHaveLength(3);
		expect(keeps[0]).toContain('daily snapshot');
		expect(openProfileStore(resources.environment.env).listProfiles()[0]!.retention).toEqual({'keep-daily': '3'});
		await press(app.stdin, 'a');
		await waitForFrame(app.lastFrame, 'Remove 3 snapshots and prune the data only they use? y = apply');
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, 'a applies');
		await press(app.stdin, 'a', 'y');
		const done = await waitForFrame(app.lastFrame, 'Retention policy applied.', 60_000);
		expect(done).toContain('Removed 3 snapshots.');
		expect(done).toMatch(/Prune freed \d/);
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, '3 snapshots from 1 source');
		// The repository holds the three newest snapshots, and their files still open.
		const check = await Repository.open(createLocalStorage(repoPath), 'pw');
		const left = await listSnapshots(check);
		await check.close();
		expect(left).toHaveLength(3);
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'docs/');
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'day-5.bin');
	}, 90_000);
});

describe('retention helpers', () => {
	const make = (id: string, ms: number, tags?: string[]): Snapshot => ({id: id.repeat(64).slice(0, 64), time: new Date(ms).toISOString(), tree: '0'.repeat(64), paths: ['/srv'], hostname: 'nas', tags});

	it('builds policies from fields and explains bad values', () => {
		expect(buildPolicy({'keep-daily': '7', 'keep-within': '30d', 'keep-tag': 'a,b; c', 'keep-weekly': ''})).toEqual({daily: 7, within: {years: 0, months: 0, days: 30, hours: 0}, tags: [['a', 'b'], ['c']]});
		expect(checkRetentionValue('keep-daily', 'seven')).toMatch(/whole number/);
		expect(checkRetentionValue('keep-daily', 'unlimited')).toBeUndefined();
		expect(checkRetentionValue('keep-within', '3x')).toMatch(/keep-within/);
	});

	it('previews decisions per group, newest first, and flags a policy that would empty a group', () => {
		const now = Date.UTC(2024, 5, 10);
		const snapshots = [make('a', now - 3 * DAY), make('b', now - 2 * DAY, ['important']), make('c', now - DAY)];
		const preview = previewRetention(snapshots, buildPolicy({'keep-latest': '1', 'keep-tag': 'important'}), now);
		expect(preview).toMatchObject({keep: 2, remove: 1, emptied: []});
		expect(preview.rows.map((row) => (row.type === 'group' ? row.label : `${row.keep ? 'keep' : 'remove'} ${row.snapshot.id[0]}`))).toEqual(['nas  /srv', 'keep c', 'keep b', 'remove a']);
		const keptByTag = preview.rows.find((row) => row.type === 'decision' && row.snapshot.id.startsWith('b'));
		expect(keptByTag).toMatchObject({reasons: ['has tags [important]']});
		const none = previewRetention(snapshots, buildPolicy({'keep-tag': 'missing'}), now);
		expect(none.emptied).toEqual(['nas  /srv']);
		expect(previewRetention(snapshots, buildPolicy({}), now)).toMatchObject({keep: 3, remove: 0, rows: []});
	});
});
