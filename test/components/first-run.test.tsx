import {readFile, stat} from 'node:fs/promises';
import {describe, expect, it} from 'vitest';
import {openProfileStore} from '../../components/profiles.js';
import {createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, quickStartPath, renderApp, waitForFrame} from './harness.js';

const resources = disposeAfterEach();

describe('first run', () => {
	it('offers the quick start, creates the repository with a password typed twice and saves the profile', async () => {
		resources.environment = await createTestEnvironment();
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		const welcome = await waitForFrame(app.lastFrame, 'Quick start: create a new repository at');
		expect(welcome).toContain(quickStartPath(resources.environment.env));
		expect(welcome).toContain('Add an existing repository');
		expect(welcome).toMatch(/Enter continue.*\? help.*q quit/);

		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'Repeat password');
		// Mismatched passwords are refused, and nothing typed is shown.
		await press(app.stdin, 'one', KEYS.enter, 'two', KEYS.enter);
		const mismatch = await waitForFrame(app.lastFrame, 'The two passwords differ');
		expect(mismatch).not.toContain('one');
		// Keys arriving in one read are taken one by one.
		app.stdin.write('s3cret\rs3cret');
		const typed = await waitForFrame(app.lastFrame, (frame) => frame.includes('Repeat password  ******'));
		expect(typed).toContain('Password         ******');
		expect(typed).not.toContain('s3cret');
		await press(app.stdin, KEYS.enter);

		const snapshots = await waitForFrame(app.lastFrame, 'No snapshots yet');
		expect(snapshots).toContain('default › Snapshots');
		expect(snapshots).toContain('Press b to back up');

		const store = openProfileStore(resources.environment.env);
		expect(store.listProfiles()).toEqual([{name: 'default', location: `local:${quickStartPath(resources.environment.env)}`}]);
		expect((await stat(store.path)).mode & 0o777).toBe(0o600);
		expect(await readFile(store.path, 'utf8')).not.toContain('s3cret');
		expect((await stat(quickStartPath(resources.environment.env) + '/config')).isFile()).toBe(true);
	});

	it('opens the repository already at the quick start place with one password', async () => {
		resources.environment = await createTestEnvironment();
		await createRepository(quickStartPath(resources.environment.env), 'pw');
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Open the repository found at');
		await press(app.stdin, KEYS.enter);
		const unlock = await waitForFrame(app.lastFrame, 'default › Password');
		expect(unlock).toContain('Local directory');
		expect(unlock).not.toContain('Repeat password');
		await press(app.stdin, 'pw', KEYS.enter);
		await waitForFrame(app.lastFrame, 'No snapshots yet');
		expect(openProfileStore(resources.environment.env).listProfiles().map((p) => p.name)).toEqual(['default']);
	});

	it('asks only the password on the next run, then Esc shows the repositories', async () => {
		resources.environment = await createTestEnvironment();
		await createRepository(quickStartPath(resources.environment.env), 'pw');
		openProfileStore(resources.environment.env).saveProfile({name: 'default', location: `local:${quickStartPath(resources.environment.env)}`});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		const unlock = await waitForFrame(app.lastFrame, 'default › Password');
		expect(unlock).toMatch(/Enter open.*Ctrl-G help/);
		// While typing, ? and q are characters of the password; Ctrl-G shows the keys.
		await press(app.stdin, '?', 'q');
		await waitForFrame(app.lastFrame, 'Password  **');
		await press(app.stdin, '\u0007');
		const help = await waitForFrame(app.lastFrame, 'Keys of default › Password');
		expect(help).toContain('clear the field');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'Password  **');
		await press(app.stdin, KEYS.escape);
		const list = await waitForFrame(app.lastFrame, 'Repositories');
		expect(list).toContain('default');
		expect(list).toContain('Local directory');
		expect(list).toContain('1 saved repository');
	});

	it('shows every key with ? and closes the help with Esc', async () => {
		resources.environment = await createTestEnvironment();
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Quick start');
		await press(app.stdin, '?');
		const help = await waitForFrame(app.lastFrame, 'Keys of Welcome');
		expect(help).toContain('Ctrl-C');
		expect(help).toContain('choose by number');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, (frame) => !frame.includes('Keys of') && frame.includes('Add an existing repository'));
		// The frame fits a 24-row terminal.
		expect((app.lastFrame() ?? '').split('\n').length).toBeLessThanOrEqual(23);
	});
});
