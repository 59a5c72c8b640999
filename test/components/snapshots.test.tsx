import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {buildSnapshotRows, INITIAL_SNAPSHOT_LIST, reduceSnapshotList} from '../../components/state/snapshot-list.js';
import {prepareSnapshotEntries} from '../../components/screens/snapshots.js';
import {readRecordedStats} from '../../components/snapshot-stats.js';
import {openProfileStore} from '../../components/profiles.js';
import {checkFrameFits, createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, type RenderedApp, saveProfile, SMALL, waitForFrame, WIDE, writeTree} from './harness.js';

const resources = disposeAfterEach();

/** Four snapshots of three sources: docs twice (the second with one more file), pics, music. */
async function openRepositoryWithSnapshots(size = SMALL): Promise<{app: RenderedApp; ids: string[]; source: string}> {
	resources.environment = await createTestEnvironment();
	const source = join(resources.environment.root, 'data');
	await writeTree(source, {'docs/a.txt': 'alpha', 'pics/b.txt': 'beta', 'music/c.txt': 'gamma'});
	const repo = join(resources.environment.root, 'repo');
	const summaries = await createRepository(repo, 'pw', [
		{paths: [join(source, 'docs')], tags: ['daily']},
		{paths: [join(source, 'pics')]},
		{paths: [join(source, 'music')], tags: ['weekly']},
	]);
	await writeTree(source, {'docs/more.txt': '0123456789'});
	const {Repository} = await import('../../engine/repository/repository.js');
	const {createLocalStorage} = await import('../../adapters/local.js');
	const {runBackup} = await import('../../engine/archiver/archiver.js');
	const opened = await Repository.open(createLocalStorage(repo), 'pw');
	summaries.push(await runBackup(opened, {paths: [join(source, 'docs')], tags: ['daily', 'late'], noLock: true}));
	await opened.close();
	saveProfile(resources.environment.env, {name: 'main', location: `local:${repo}`});
	const app = renderApp(resources.environment, size);
	resources.cleanup = app.cleanup;
	await waitForFrame(app.lastFrame, 'main › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, '4 snapshots from 3 sources');
	return {app, ids: summaries.map((s) => s.snapshot_id), source};
}

const snapshotRows = (frame: string): string[] => frame.split('\n').filter((line) => /^ {2}(› | {2})[0-9a-f]{8} {2}/.test(line));
const groupRows = (frame: string): string[] => frame.split('\n').filter((line) => /^[› ] [▾▸] /.test(line));

describe('snapshots screen', () => {
	it('groups snapshots by source, newest first, with time, ID, files, size and tags', async () => {
		const {app, ids, source} = await openRepositoryWithSnapshots();
		const frame = app.lastFrame() ?? '';
		checkFrameFits(frame, SMALL);
		const groups = groupRows(frame);
		expect(groups).toHaveLength(3);
		// The docs source has the newest snapshot, so it comes first, with its two snapshots.
		expect(groups[0]).toContain(`${join(source, 'docs')}  (2)`);
		const rows = snapshotRows(frame);
		expect(rows).toHaveLength(4);
		expect(rows[0]).toContain(ids[3]!.slice(0, 8));
		expect(rows[0]).toContain('#daily #late');
		expect(rows[0]).toContain('just now');
		expect(rows[0]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d/);
		expect(rows[1]).toContain(ids[0]!.slice(0, 8));
		expect(frame).toMatch(/Enter browse.*\/ filter.*s sort/);
		// The cursor starts on the newest snapshot; its files and size are counted in the background.
		const counted = await waitForFrame(app.lastFrame, '2 files, 15 B');
		expect(snapshotRows(counted)[0]).toMatch(/\s2\s+15 B\s/);
		// On a heading: its count and what Enter does.
		await press(app.stdin, KEYS.up);
		await waitForFrame(app.lastFrame, '2 snapshots of');
		// The repository list learns when the last backup was.
		expect(openProfileStore(resources.environment!.env).listProfiles()[0]!.lastBackup).toBeDefined();
	});

	it('filters with /, sorts with s, and folds a source with Enter on its heading', async () => {
		const {app, ids} = await openRepositoryWithSnapshots(WIDE);
		await press(app.stdin, '/');
		await waitForFrame(app.lastFrame, 'Enter keeps the filter');
		// While typing, q and ? are text, not commands.
		await press(app.stdin, 'p', 'i', 'c', 's');
		const filtered = await waitForFrame(app.lastFrame, '1 of 4');
		checkFrameFits(filtered, WIDE);
		expect(filtered).toContain(ids[1]!.slice(0, 8));
		expect(filtered).not.toContain(ids[0]!.slice(0, 8));
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'Filter "pics": 1 of 4 snapshots');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, '4 snapshots from 3 sources · newest first');
		await press(app.stdin, '/', 'q', '?', 'x');
		await waitForFrame(app.lastFrame, 'No snapshot matches "q?x"');
		await press(app.stdin, KEYS.escape);
		await press(app.stdin, 's');
		const oldest = await waitForFrame(app.lastFrame, 'oldest first');
		expect(snapshotRows(oldest)[0]).toContain(ids[0]!.slice(0, 8));
		await press(app.stdin, KEYS.home, KEYS.enter);
		const folded = await waitForFrame(app.lastFrame, '▸');
		expect(snapshotRows(folded)).toHaveLength(2);
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, (frame) => snapshotRows(frame).length === 4);
		// R reads the list again: a snapshot made meanwhile by another program appears.
		const {Repository} = await import('../../engine/repository/repository.js');
		const {createLocalStorage} = await import('../../adapters/local.js');
		const {runBackup} = await import('../../engine/archiver/archiver.js');
		const other = await Repository.open(createLocalStorage(join(resources.environment!.root, 'repo')), 'pw');
		await runBackup(other, {paths: [join(resources.environment!.root, 'data', 'pics')], noLock: true});
		await other.close();
		await press(app.stdin, 'R');
		await waitForFrame(app.lastFrame, '5 snapshots from 3 sources');
	});

	it('moves the cursor and opens the selected snapshot, keeping the place', async () => {
		const {app, ids} = await openRepositoryWithSnapshots();
		// Sources: docs (newest), music, pics; End is the pics snapshot, two up the music one.
		await press(app.stdin, KEYS.end);
		await waitForFrame(app.lastFrame, `› ${ids[1]!.slice(0, 8)}`);
		await press(app.stdin, KEYS.up, KEYS.up);
		await waitForFrame(app.lastFrame, `› ${ids[2]!.slice(0, 8)}`);
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, `${ids[2]!.slice(0, 8)} › Files`);
		const browser = await waitForFrame(app.lastFrame, 'music/');
		expect(browser).toMatch(/\/data {2}· {2}1 entry/);
		await press(app.stdin, KEYS.escape);
		const back = await waitForFrame(app.lastFrame, 'main › Snapshots');
		expect(back).toContain(`› ${ids[2]!.slice(0, 8)}`);
	});
});

describe('snapshot list state', () => {
	const make = (id: string, time: string, hostname: string, paths: string[], tags?: string[], summary?: Record<string, unknown>): Snapshot => ({id, time, tree: '0'.repeat(64), paths, hostname, tags, summary});
	const snapshots = [
		make('a'.repeat(64), '2024-01-01T00:00:00Z', 'nas', ['/srv']),
		make('b'.repeat(64), '2024-03-01T00:00:00Z', 'laptop', ['/home/me'], ['daily']),
		make('c'.repeat(64), '2024-02-01T00:00:00Z', 'nas', ['/srv'], undefined, {total_files_processed: 7, total_bytes_processed: 700}),
		make('d'.repeat(64), '2024-02-15T00:00:00Z', 'laptop', ['/home/me'], ['weekly']),
	];
	const entries = prepareSnapshotEntries(snapshots);

	it('groups by host and paths, orders groups by their first snapshot, and filters', () => {
		const rows = buildSnapshotRows(entries, INITIAL_SNAPSHOT_LIST);
		expect(rows.map((row) => (row.type === 'group' ? `[${row.label}]` : row.entry.snapshot.id[0]))).toEqual(['[laptop  /home/me]', 'b', 'd', '[nas  /srv]', 'c', 'a']);
		const oldest = buildSnapshotRows(entries, {...INITIAL_SNAPSHOT_LIST, sort: 'oldest'});
		expect(oldest.map((row) => (row.type === 'group' ? '|' : row.entry.snapshot.id[0]))).toEqual(['|', 'a', 'c', '|', 'd', 'b']);
		const sizes: Record<string, number> = {a: 10, b: 5, d: 50};
		const largest = buildSnapshotRows(entries, {...INITIAL_SNAPSHOT_LIST, sort: 'largest'}, (entry) => readRecordedStats(entry.snapshot)?.bytes ?? sizes[entry.snapshot.id[0]!]);
		expect(largest.map((row) => (row.type === 'group' ? '|' : row.entry.snapshot.id[0]))).toEqual(['|', 'c', 'a', '|', 'd', 'b']);
		const filtered = buildSnapshotRows(entries, {...INITIAL_SNAPSHOT_LIST, filter: '#weekly'});
		expect(filtered).toMatchObject([{type: 'group', count: 1, total: 2}, {type: 'snapshot'}]);
		const folded = buildSnapshotRows(entries, {...INITIAL_SNAPSHOT_LIST, collapsed: [entries[0]!.groupKey]});
		expect(folded.filter((row) => row.type === 'snapshot')).toHaveLength(2);
	});

	it('cycles the sort order, folds groups and resets the cursor on a new filter', () => {
		let state = reduceSnapshotList(INITIAL_SNAPSHOT_LIST, {type: 'list', move: {type: 'move', delta: 3}, view: {count: 6, height: 10}});
		expect(state.list.cursor).toBe(4);
		state = reduceSnapshotList(state, {type: 'cycle-sort'});
		expect(state).toMatchObject({sort: 'oldest', list: {cursor: 1}});
		state = reduceSnapshotList(reduceSnapshotList(state, {type: 'cycle-sort'}), {type: 'cycle-sort'});
		expect(state.sort).toBe('newest');
		state = reduceSnapshotList(state, {type: 'toggle-group', key: 'k'});
		expect(state.collapsed).toEqual(['k']);
		expect(reduceSnapshotList(state, {type: 'toggle-group', key: 'k'}).collapsed).toEqual([]);
		expect(readRecordedStats(snapshots[2]!)).toEqual({files: 7, bytes: 700});
	});
});
