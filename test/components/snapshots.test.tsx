import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createRepository, createTestEnvironment, KEYS, press, renderApp, saveProfile, waitForFrame, writeTree, type TestEnvironment} from './harness.js';

let environment: TestEnvironment | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
	cleanup?.();
	cleanup = undefined;
	await environment?.dispose();
	environment = undefined;
});

async function openRepositoryWithSnapshots(): Promise<{app: ReturnType<typeof renderApp>; ids: string[]; source: string}> {
	environment = await createTestEnvironment();
	const source = join(environment.root, 'data');
	await writeTree(source, {'docs/a.txt': 'alpha', 'pics/b.txt': 'beta', 'music/c.txt': 'gamma'});
	const repo = join(environment.root, 'repo');
	const summaries = await createRepository(repo, 'pw', [
		{paths: [join(source, 'docs')], tags: ['daily']},
		{paths: [join(source, 'pics')]},
		{paths: [join(source, 'music')], tags: ['weekly']},
	]);
	saveProfile(environment.env, {name: 'main', location: `local:${repo}`});
	const app = renderApp(environment);
	cleanup = app.cleanup;
	await waitForFrame(app.lastFrame, 'main › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, '3 snapshots');
	return {app, ids: summaries.map((s) => s.snapshot_id), source};
}

describe('snapshots screen', () => {
	it('lists snapshots newest first with ID, relative and absolute time, host, paths and tags', async () => {
		const {app, ids} = await openRepositoryWithSnapshots();
		const frame = app.lastFrame() ?? '';
		const rows = frame.split('\n').filter((line) => /^(› | {2})[0-9a-f]{8} {2}/.test(line));
		expect(rows).toHaveLength(3);
		expect(rows[0]).toContain(ids[2]!.slice(0, 8));
		expect(rows[0]).toContain('music');
		expect(rows[0]).toContain('#weekly');
		expect(rows[0]).toContain('just now');
		expect(rows[0]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d/);
		expect(rows[2]).toContain(ids[0]!.slice(0, 8));
		expect(rows[2]).toContain('#daily');
		expect(frame).toContain(ids[2]!);
		expect(frame).toMatch(/Enter browse.*\/ filter.*b back up/);
	});

	it('filters with / and clears the filter with Esc', async () => {
		const {app, ids} = await openRepositoryWithSnapshots();
		await press(app.stdin, '/');
		await waitForFrame(app.lastFrame, 'Enter keeps the filter');
		// While typing, q and ? are text, not commands.
		await press(app.stdin, 'p', 'i', 'c', 's');
		const filtered = await waitForFrame(app.lastFrame, '1 of 3');
		expect(filtered).toContain(ids[1]!.slice(0, 8));
		expect(filtered).not.toContain(ids[0]!.slice(0, 8));
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'Filter "pics": 1 of 3 snapshots');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, '3 snapshots');
		await press(app.stdin, '/', 'q', '?', 'x');
		await waitForFrame(app.lastFrame, 'No snapshot matches "q?x"');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, '3 snapshots');
	});

	it('moves the cursor and opens the selected snapshot', async () => {
		const {app, ids} = await openRepositoryWithSnapshots();
		await press(app.stdin, KEYS.down, KEYS.down, KEYS.up);
		await waitForFrame(app.lastFrame, ids[1]!);
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, `${ids[1]!.slice(0, 8)} › Files`);
		const browser = await waitForFrame(app.lastFrame, 'pics/');
		expect(browser).toMatch(/\/data {2}· {2}1 entry/);
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'main › Snapshots');
		// The cursor stayed where it was.
		expect(app.lastFrame()).toContain(ids[1]!);
	});
});
