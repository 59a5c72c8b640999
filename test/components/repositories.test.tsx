import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {openProfileStore} from '../../components/profiles.js';
import {createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, saveProfile, waitForFrame} from './harness.js';

const resources = disposeAfterEach();

describe('repositories and passwords', () => {
	it('lists the profiles; a wrong password shows the engine message and allows another try', async () => {
		resources.environment = await createTestEnvironment();
		const first = join(resources.environment.root, 'repo-one');
		const second = join(resources.environment.root, 'repo-two');
		await createRepository(first, 'right');
		await createRepository(second, 'other');
		saveProfile(resources.environment.env, {name: 'laptop', location: `local:${first}`});
		saveProfile(resources.environment.env, {name: 'usb-disk', location: `local:${second}`});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		const list = await waitForFrame(app.lastFrame, 'usb-disk');
		expect(list).toContain('laptop');
		expect(list).toContain('Local directory');
		expect(list).toContain('repo-two');
		expect(list).toContain('2 saved repositories');

		await press(app.stdin, KEYS.down, KEYS.up, KEYS.enter);
		await waitForFrame(app.lastFrame, 'laptop › Password');
		await press(app.stdin, 'wrong', KEYS.enter);
		const refused = await waitForFrame(app.lastFrame, 'Wrong password: no key of this repository opens with it');
		expect(refused).toContain('Could not open the repository');
		expect(refused).toMatch(/Password\s*\n/);
		await press(app.stdin, 'right', KEYS.enter);
		await waitForFrame(app.lastFrame, 'laptop › Snapshots');
		// Esc closes the repository and goes back to the list.
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, '2 saved repositories');
	});

	it('removes a profile after asking, leaving the repository alone', async () => {
		resources.environment = await createTestEnvironment();
		saveProfile(resources.environment.env, {name: 'a', location: 'local:/nowhere/a'});
		saveProfile(resources.environment.env, {name: 'b', location: 'local:/nowhere/b'});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, '2 saved repositories');
		await press(app.stdin, 'd');
		await waitForFrame(app.lastFrame, 'Remove "a" from the list?');
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, '2 saved repositories');
		await press(app.stdin, 'd', 'y');
		await waitForFrame(app.lastFrame, 'Removed a from the list');
		expect(openProfileStore(resources.environment.env).listProfiles().map((p) => p.name)).toEqual(['b']);
	});

	it('adds an existing repository: the path completes with Tab, the password is checked, then the profile is saved', async () => {
		resources.environment = await createTestEnvironment();
		const path = join(resources.environment.cwd, 'backups', 'repo');
		await createRepository(path, 'pw');
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Add an existing repository');
		await press(app.stdin, KEYS.down, KEYS.enter);
		await waitForFrame(app.lastFrame, '› Local directory');
		await press(app.stdin, KEYS.enter);
		const form = await waitForFrame(app.lastFrame, 'Path');
		expect(form).toContain('Local directory: connect to an existing repository');
		// A relative path, completed with Tab.
		await press(app.stdin, 'back', KEYS.tab);
		await waitForFrame(app.lastFrame, 'backups/');
		await press(app.stdin, 'r', KEYS.tab);
		await waitForFrame(app.lastFrame, 'backups/repo/');
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'Password (step 4 of 5)');
		await press(app.stdin, KEYS.enter, 'pw', KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 5 of 5');
		expect(openProfileStore(resources.environment.env).listProfiles()).toEqual([]);
		await press(app.stdin, KEYS.ctrlU, 'archive', KEYS.enter);
		await waitForFrame(app.lastFrame, 'archive › Snapshots');
		expect(openProfileStore(resources.environment.env).listProfiles()).toEqual([{name: 'archive', location: `local:${path}`}]);
	});

	it('renames a profile, refusing a name already used', async () => {
		resources.environment = await createTestEnvironment();
		saveProfile(resources.environment.env, {name: 'a', location: 'local:/nowhere/a', lastBackup: new Date(Date.now() - 3 * 3_600_000).toISOString()});
		saveProfile(resources.environment.env, {name: 'b', location: 'local:/nowhere/b'});
		const app = renderApp(resources.environment);
		resources.cleanup = app.cleanup;
		const list = await waitForFrame(app.lastFrame, '2 saved repositories');
		expect(list).toMatch(/Last backup/);
		expect(list).toMatch(/› a\s+Local directory\s+\/nowhere\/a\s+3 h ago/);
		await press(app.stdin, 'r');
		await waitForFrame(app.lastFrame, 'New name: a');
		await press(app.stdin, KEYS.backspace, 'b', KEYS.enter);
		await waitForFrame(app.lastFrame, 'A repository named "b" is already saved');
		await press(app.stdin, KEYS.backspace, 'laptop', KEYS.enter);
		await waitForFrame(app.lastFrame, 'Renamed a to laptop');
		expect(openProfileStore(resources.environment.env).listProfiles().map((p) => p.name)).toEqual(['laptop', 'b']);
		// Esc keeps the name.
		await press(app.stdin, 'r', 'x', KEYS.escape);
		await waitForFrame(app.lastFrame, (frame) => !frame.includes('New name'));
		expect(openProfileStore(resources.environment.env).listProfiles().map((p) => p.name)).toEqual(['laptop', 'b']);
	});
});
