import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {openProfileStore} from '../../components/profiles.js';
import {checkFrameFits, createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, saveProfile, SMALL, waitForFrame, writeTree} from './harness.js';

const resources = disposeAfterEach();

async function openEmptyRepository(files: Record<string, string | Buffer>): Promise<ReturnType<typeof renderApp>> {
	resources.environment = await createTestEnvironment();
	await writeTree(join(resources.environment.cwd, 'photos'), files);
	const repo = join(resources.environment.root, 'repo');
	await createRepository(repo, 'pw');
	saveProfile(resources.environment.env, {name: 'main', location: `local:${repo}`});
	const app = renderApp(resources.environment);
	resources.cleanup = app.cleanup;
	await waitForFrame(app.lastFrame, 'main › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, 'No snapshots yet');
	return app;
}

describe('backup screen', () => {
	it('backs up several paths with excludes and tags, shows the summary, then the new snapshot', async () => {
		const app = await openEmptyRepository({'a.jpg': 'one', 'trip/b.jpg': 'two', 'cache/c.tmp': 'skip me'});
		await writeTree(join(resources.environment!.cwd, 'notes'), {'todo.txt': 'milk'});
		await press(app.stdin, 'b');
		const form = await waitForFrame(app.lastFrame, 'main › Back up');
		checkFrameFits(form, SMALL);
		expect(form).toContain('Paths');
		expect(form).toContain('Excludes');
		expect(form).toMatch(/Tab complete path/);
		await press(app.stdin, 'pho', KEYS.tab);
		await waitForFrame(app.lastFrame, 'photos/');
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, join(resources.environment!.cwd, 'photos'));
		// A path that does not exist is refused when it is added.
		await press(app.stdin, 'nowhere', KEYS.enter);
		await waitForFrame(app.lastFrame, 'does not exist or cannot be read');
		await press(app.stdin, KEYS.ctrlU, 'notes', KEYS.enter);
		await waitForFrame(app.lastFrame, join(resources.environment!.cwd, 'notes'));
		await press(app.stdin, KEYS.down, '*.tmp', KEYS.enter, KEYS.down, 'holiday, 2024', KEYS.enter);
		const filled = await waitForFrame(app.lastFrame, '#holiday #2024');
		checkFrameFits(filled, SMALL);
		expect(filled).toContain(join(resources.environment!.cwd, 'notes'));
		expect(filled).toContain('*.tmp');
		expect(filled).toContain('#holiday');
		expect(filled).toContain('Enter on an empty line starts the backup of 2 paths');
		await press(app.stdin, KEYS.enter);
		const summary = await waitForFrame(app.lastFrame, 'Backup finished.');
		checkFrameFits(summary, SMALL);
		expect(summary).toMatch(/Files\s+3 new, 0 changed, 0 unchanged/);
		expect(summary).toMatch(/Snapshot\s+[0-9a-f]{8} saved/);
		expect(summary).toMatch(/Added\s+\d/);
		expect(summary).toMatch(/Took\s+\d/);
		expect(summary).toMatch(/Errors\s+0/);
		await press(app.stdin, KEYS.enter);
		const list = await waitForFrame(app.lastFrame, '1 snapshot');
		expect(list).toContain('#holiday');
		// The settings are remembered for the next backup, with the time of this one.
		const [saved] = openProfileStore(resources.environment!.env).listProfiles();
		expect(saved).toMatchObject({backupPaths: [join(resources.environment!.cwd, 'photos'), join(resources.environment!.cwd, 'notes')], excludes: ['*.tmp'], tags: ['holiday', '2024']});
		expect(Date.now() - Date.parse(saved!.lastBackup!)).toBeLessThan(600_000);
		await press(app.stdin, 'b');
		const again = await waitForFrame(app.lastFrame, 'main › Back up');
		expect(again).toContain(join(resources.environment!.cwd, 'notes'));
		// Backspace on an empty line removes the last item.
		await press(app.stdin, KEYS.backspace);
		await waitForFrame(app.lastFrame, (frame) => !frame.includes(join(resources.environment!.cwd, 'notes')));
	});

	it('wants a path before starting', async () => {
		const app = await openEmptyRepository({'a.jpg': 'one'});
		await press(app.stdin, 'b', KEYS.enter);
		await waitForFrame(app.lastFrame, 'Add the path of a folder or file to back up first');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'No snapshots yet');
	});

	it('asks before cancelling a running backup; n keeps going, y cancels', async () => {
		const files: Record<string, Buffer> = {};
		for (let i = 0; i < 48; i++) files[`big-${i}.bin`] = randomBytes(2 * 1024 * 1024);
		const app = await openEmptyRepository(files);
		await press(app.stdin, 'b', 'photos', KEYS.enter, KEYS.enter);
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
