import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import {afterEach, describe, expect, it} from 'vitest';
import {openProfileStore} from '../../components/profiles.js';
import {createRepository, createTestEnvironment, KEYS, press, renderApp, saveProfile, waitForFrame, writeTree, type TestEnvironment} from './harness.js';

let environment: TestEnvironment | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
	cleanup?.();
	cleanup = undefined;
	await environment?.dispose();
	environment = undefined;
});

async function openEmptyRepository(files: Record<string, string | Buffer>): Promise<ReturnType<typeof renderApp>> {
	environment = await createTestEnvironment();
	await writeTree(join(environment.cwd, 'photos'), files);
	const repo = join(environment.root, 'repo');
	await createRepository(repo, 'pw');
	saveProfile(environment.env, {name: 'main', location: `local:${repo}`});
	const app = renderApp(environment);
	cleanup = app.cleanup;
	await waitForFrame(app.lastFrame, 'main › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, 'No snapshots yet');
	return app;
}

describe('backup screen', () => {
	it('completes the path with Tab, backs it up with tags and shows the summary, then the new snapshot', async () => {
		const app = await openEmptyRepository({'a.jpg': 'one', 'trip/b.jpg': 'two'});
		await press(app.stdin, 'b');
		const form = await waitForFrame(app.lastFrame, 'main › Back up');
		expect(form).toContain('Path');
		expect(form).toMatch(/Tab complete path/);
		await press(app.stdin, 'pho', KEYS.tab);
		await waitForFrame(app.lastFrame, 'photos/');
		await press(app.stdin, KEYS.down, 'holiday, 2024', KEYS.enter);
		const summary = await waitForFrame(app.lastFrame, 'Backup finished.');
		expect(summary).toMatch(/Files\s+2 new, 0 changed, 0 unchanged/);
		expect(summary).toMatch(/Snapshot\s+[0-9a-f]{8} saved/);
		expect(summary).toMatch(/Errors\s+0/);
		await press(app.stdin, KEYS.enter);
		const list = await waitForFrame(app.lastFrame, '1 snapshot');
		expect(list).toContain('#holiday');
		expect(list).toContain('photos');
		// The path is remembered for the next backup.
		expect(openProfileStore(environment!.env).listProfiles()[0]!.backupPaths).toEqual([join(environment!.cwd, 'photos')]);
		await press(app.stdin, 'b');
		await waitForFrame(app.lastFrame, `Path  ${join(environment!.cwd, 'photos')}`);
	});

	it('refuses a path that does not exist', async () => {
		const app = await openEmptyRepository({'a.jpg': 'one'});
		await press(app.stdin, 'b', 'nowhere', KEYS.enter);
		await waitForFrame(app.lastFrame, 'does not exist or cannot be read');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'No snapshots yet');
	});

	it('asks before cancelling a running backup; n keeps going, y cancels', async () => {
		const files: Record<string, Buffer> = {};
		for (let i = 0; i < 48; i++) files[`big-${i}.bin`] = randomBytes(2 * 1024 * 1024);
		const app = await openEmptyRepository(files);
		await press(app.stdin, 'b', 'photos', KEYS.enter);
		await waitForFrame(app.lastFrame, 'Backing up');
		const running = await waitForFrame(app.lastFrame, /Speed\s+\S+/);
		expect(running).toMatch(/Files\s+\d+/);
		expect(running).toContain('Esc cancel (asks first)');
		// q while an operation runs asks first.
		await press(app.stdin, 'q');
		await waitForFrame(app.lastFrame, 'An operation is running. Cancel it and quit?');
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, (frame) => !frame.includes('An operation is running'));
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'Cancel the backup?');
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, (frame) => !frame.includes('Cancel the backup?'));
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'Cancel the backup?');
		await press(app.stdin, 'y');
		const cancelled = await waitForFrame(app.lastFrame, 'The backup was cancelled.');
		expect(cancelled).toContain('No snapshot was saved');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'No snapshots yet');
	});
});
