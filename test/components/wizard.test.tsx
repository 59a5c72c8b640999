import {readFile, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it, onTestFinished} from 'vitest';
import {registerAdapter, unregisterAdapter} from '../../adapters/registry.js';
import {openProfileStore} from '../../components/profiles.js';
import {PLANNED_BACKENDS} from '../../components/backends.js';
import {createFakeAdapter, type FakeAdapter} from './fake-adapter.js';
import {checkFrameFits, createRepository, createTestEnvironment, KEYS, press, renderApp, saveProfile, SMALL, waitForFrame, WIDE, type RenderedApp, type TestEnvironment} from './harness.js';

let environment: TestEnvironment | undefined;
let app: RenderedApp | undefined;
let fake: FakeAdapter | undefined;
beforeEach(() => {
	fake = createFakeAdapter();
	registerAdapter(fake.definition);
});
afterEach(async () => {
	app?.cleanup();
	app = undefined;
	unregisterAdapter('fake');
	await environment?.dispose();
	environment = undefined;
});

/** Opens the wizard from the welcome screen: choice 2 connects, 3 creates. */
async function openWizard(choice: '2' | '3', size = SMALL): Promise<RenderedApp> {
	environment ??= await createTestEnvironment();
	app = renderApp(environment, size);
	await waitForFrame(app.lastFrame, 'Add an existing repository');
	await press(app.stdin, choice, KEYS.enter);
	await waitForFrame(app.lastFrame, 'step 1 of 5');
	return app;
}

/** The text of a frame without its style codes. */
function stripAnsi(text: string): string {
	return text.replace(/\u001B\[[0-9;]*m/g, '');
}

/** Moves the backend cursor to a label and opens its form. */
async function chooseBackend(label: string): Promise<string> {
	for (let i = 0; ; i++) {
		if (i > 30) throw new Error(`no backend ${label} in the list:\n${app!.lastFrame() ?? ""}`);
		const frame = stripAnsi(app!.lastFrame() ?? '');
		if (new RegExp(`^ › ${label}`, 'm').test(frame)) break;
		const cursor = /^ › .*$/m.exec(frame)?.[0];
		await press(app!.stdin, KEYS.down);
		// Wait for the cursor to move, so that a slow frame never makes the loop overshoot.
		await waitForFrame(app!.lastFrame, (next) => /^ › .*$/m.exec(stripAnsi(next))?.[0] !== cursor);
	}
	await press(app!.stdin, KEYS.enter);
	return waitForFrame(app!.lastFrame, 'step 2 of 5');
}

describe('add-repository wizard', () => {
	it('lists every registered backend and the planned ones, which show their form but say they are not available', async () => {
		// Every planned backend has an adapter by now: take one away so that one stays planned.
		const {driveAdapter} = await import('../../adapters/gdrive/adapter.js');
		unregisterAdapter('gdrive');
		onTestFinished(() => registerAdapter(driveAdapter));
		await openWizard('2');
		const list = await waitForFrame(app!.lastFrame, 'Fake cloud');
		checkFrameFits(list, SMALL);
		expect(list).toMatch(/^ › Local directory/m);
		expect(list).toContain('Connect to an existing repository');
		// A planned backend without an adapter: its form, and a plain sentence instead of a late failure.
		const missing = PLANNED_BACKENDS.find((plan) => new RegExp(`${plan.label.replace(/[()]/g, '.')}\\s+not available yet in this build`).test(list));
		expect(missing).toBeDefined();
		const form = await chooseBackend(missing!.label.replace(/[()]/g, '.'));
		await waitForFrame(app!.lastFrame, 'Not available yet');
		checkFrameFits(form, SMALL);
		expect(form).toContain('Not available yet in this build');
		expect(form).toContain(`${missing!.label} is not available yet in this build`);
		for (const option of missing!.options.slice(0, 4)) expect(form).toContain(option.label);
		// Enter never starts a test that could only fail late.
		await press(app!.stdin, 'x', KEYS.enter, KEYS.enter, KEYS.enter);
		const after = await waitForFrame(app!.lastFrame, `${missing!.label} is not available yet in this build`);
		expect(after).toContain('step 2 of 5');
	});

	it('connects to a local repository: a wrong path is explained, the typed value is kept, then the right one works', async () => {
		environment = await createTestEnvironment();
		const path = join(environment.cwd, 'backups', 'repo');
		await createRepository(path, 'pw');
		await openWizard('2');
		const form = await chooseBackend('Local directory');
		checkFrameFits(form, SMALL);
		expect(form).toContain('Path');
		await press(app!.stdin, 'backups/rep0', KEYS.enter);
		const problem = await waitForFrame(app!.lastFrame, 'does not exist');
		checkFrameFits(problem, SMALL);
		expect(problem.replace(/\s+/g, ' ')).toContain(`The directory ${join(environment.cwd, 'backups', 'rep0')} does not exist`);
		expect(problem).toContain('c: create a new repository there');
		// Back to the form: what was typed is still there, with the problem beside the field.
		await press(app!.stdin, KEYS.enter);
		const kept = await waitForFrame(app!.lastFrame, 'step 2 of 5');
		expect(kept).toContain('backups/rep0');
		expect(kept).toMatch(/✗ Path/);
		await press(app!.stdin, KEYS.backspace, 'o', KEYS.enter);
		const password = await waitForFrame(app!.lastFrame, 'step 4 of 5');
		expect(password).toContain(`local:${path} answered`);
		await press(app!.stdin, KEYS.enter, 'wrong', KEYS.enter);
		await waitForFrame(app!.lastFrame, 'step 5 of 5');
		await press(app!.stdin, KEYS.ctrlU, 'nas', KEYS.enter);
		const refused = await waitForFrame(app!.lastFrame, (frame) => frame.replace(/\s+/g, ' ').includes('Type the password again'));
		expect(refused).toContain('Wrong password');
		expect(refused).toContain('step 4 of 5');
		expect(openProfileStore(environment.env).listProfiles()).toEqual([]);
		await press(app!.stdin, KEYS.enter, 'pw', KEYS.enter);
		await waitForFrame(app!.lastFrame, 'step 5 of 5');
		await press(app!.stdin, KEYS.enter);
		await waitForFrame(app!.lastFrame, 'nas › Snapshots');
		expect(openProfileStore(environment.env).listProfiles()).toEqual([{name: 'nas', location: `local:${path}`}]);
	});

	it('creates a local repository with the password twice, advanced settings and a password file', async () => {
		environment = await createTestEnvironment();
		const passwordFile = join(environment.root, 'secret.txt');
		await writeFile(passwordFile, 'from-a-file\n');
		await openWizard('3');
		await chooseBackend('Local directory');
		await press(app!.stdin, 'new-repo', KEYS.enter);
		const password = await waitForFrame(app!.lastFrame, 'step 4 of 5');
		expect(password).toContain('Choose the password of the new repository');
		// Typed twice, and refused when the two differ.
		await press(app!.stdin, KEYS.enter, 'one', KEYS.enter, 'two', KEYS.enter);
		const differ = await waitForFrame(app!.lastFrame, 'The two passwords differ');
		expect(differ).not.toContain('one');
		// A password file instead.
		await press(app!.stdin, KEYS.up, KEYS.up, ' ', ' ');
		await waitForFrame(app!.lastFrame, '‹ read it from a file ›');
		await press(app!.stdin, KEYS.down, join(environment.root, 'nothing.txt'), KEYS.up);
		await waitForFrame(app!.lastFrame, 'nothing.txt does not exist');
		await press(app!.stdin, KEYS.down, KEYS.ctrlU, passwordFile, KEYS.enter);
		const finish = await waitForFrame(app!.lastFrame, 'step 5 of 5');
		checkFrameFits(finish, SMALL);
		expect(finish).toContain('Create a new repository at local:');
		expect(finish).toContain('Advanced');
		await press(app!.stdin, KEYS.ctrlU, 'photos', KEYS.down, ' ', ' ');
		await waitForFrame(app!.lastFrame, '‹ max (slower, smaller) ›');
		await press(app!.stdin, KEYS.down, '8');
		await waitForFrame(app!.lastFrame, /Pack size \(MiB\)\s+8/);
		await press(app!.stdin, KEYS.enter);
		await waitForFrame(app!.lastFrame, 'photos › Snapshots');
		const store = openProfileStore(environment.env);
		const saved = store.listProfiles();
		expect(saved).toEqual([{name: 'photos', location: `local:${join(environment.cwd, 'new-repo')}`, passwordFile, compression: 'max', packSizeMiB: 8}]);
		expect((await stat(join(environment.cwd, 'new-repo', 'config'))).isFile()).toBe(true);
		expect((await stat(store.path)).mode & 0o777).toBe(0o600);
		expect(await readFile(store.path, 'utf8')).not.toContain('from-a-file');
	});

	it('builds the form from the declaration: checks fields as they are left, masks secrets, explains failures and trusts a host key', async () => {
		await openWizard('3');
		const form = await chooseBackend('Fake cloud');
		for (const label of ['URL', 'User', 'Token', 'Key file', 'Mode', 'Verbose']) expect(form).toContain(label);
		expect(form).toContain('e.g. https://cloud.test/bucket');
		// Checked when left: a URL, then a key file that must exist.
		await press(app!.stdin, 'not a url', KEYS.down);
		await waitForFrame(app!.lastFrame, 'URL must be a URL');
		await press(app!.stdin, KEYS.up, KEYS.ctrlU, 'https://unknown.invalid/b', KEYS.down, 'me', KEYS.down, 'wrong', KEYS.down, '/no/such/key', KEYS.down);
		const checked = await waitForFrame(app!.lastFrame, '/no/such/key does not exist');
		expect(checked).toContain('*****');
		expect(checked).not.toContain('wrong');
		await press(app!.stdin, KEYS.up, KEYS.ctrlU, KEYS.down, ' ');
		await waitForFrame(app!.lastFrame, '‹ fast ›');
		await press(app!.stdin, ' ');
		await waitForFrame(app!.lastFrame, '‹ slow ›');
		// The host name cannot be looked up.
		await press(app!.stdin, KEYS.enter);
		const unknownHost = await waitForFrame(app!.lastFrame, 'The host is unknown');
		expect(unknownHost).toContain('ENOTFOUND');
		await press(app!.stdin, KEYS.enter);
		await waitForFrame(app!.lastFrame, (frame) => frame.includes('step 2 of 5') && /✗ URL/.test(frame));
		// Access denied, with the permission the backend names; the focus goes to the secret.
		await press(app!.stdin, KEYS.ctrlU, 'https://cloud.test/b1', KEYS.enter);
		const denied = await waitForFrame(app!.lastFrame, 'Access denied');
		expect(denied.replace(/\s+/g, ' ')).toContain('lacks the objects.write permission');
		await press(app!.stdin, KEYS.enter);
		await waitForFrame(app!.lastFrame, /✗ Token/);
		// An unknown host key: its fingerprint, and t trusts it.
		await press(app!.stdin, KEYS.ctrlU, 'right', KEYS.up, KEYS.up, KEYS.ctrlU, 'https://newhost.test/b', KEYS.enter);
		const hostKey = await waitForFrame(app!.lastFrame, 'SHA256:fakeFingerprint');
		expect(hostKey).toContain('t: trust this host key');
		await press(app!.stdin, 't');
		await waitForFrame(app!.lastFrame, 'step 4 of 5');
		expect([...fake!.trusted]).toEqual(['newhost.test']);
		expect(fake!.opened.at(-1)).toMatchObject({url: 'https://newhost.test/b', user: 'me', token: 'right', mode: 'slow'});
		await press(app!.stdin, KEYS.enter, 'pw', KEYS.enter, 'pw', KEYS.enter);
		const finish = await waitForFrame(app!.lastFrame, 'Save secrets');
		expect(finish).toContain('no: ask for them when opening');
		await press(app!.stdin, KEYS.ctrlU, 'cloud', KEYS.enter);
		await waitForFrame(app!.lastFrame, 'cloud › Snapshots');
		// The token was not saved: it is asked when the repository is opened again.
		const [profile] = openProfileStore(environment!.env).listProfiles();
		expect(profile).toEqual({name: 'cloud', location: 'fake:https://newhost.test/b', options: {user: 'me', mode: 'slow'}, askSecrets: ['token']});
		await press(app!.stdin, KEYS.escape);
		await waitForFrame(app!.lastFrame, '1 saved repository');
		await press(app!.stdin, KEYS.enter);
		const unlock = await waitForFrame(app!.lastFrame, 'cloud › Password');
		expect(unlock).toContain('Token');
		expect(unlock).toContain('Fake cloud');
		await press(app!.stdin, 'right', KEYS.enter, 'pw', KEYS.enter);
		await waitForFrame(app!.lastFrame, 'cloud › Snapshots');
		expect(fake!.opened.at(-1)).toMatchObject({token: 'right', user: 'me'});
	});

	it('offers to connect instead when a repository exists where one is to be created', async () => {
		environment = await createTestEnvironment();
		await createRepository(join(environment.cwd, 'old'), 'pw');
		await openWizard('3');
		await chooseBackend('Local directory');
		await press(app!.stdin, 'old', KEYS.enter);
		const exists = await waitForFrame(app!.lastFrame, 'A repository already exists');
		expect(exists).toContain('c: connect to it');
		await press(app!.stdin, 'c');
		const password = await waitForFrame(app!.lastFrame, 'step 4 of 5');
		expect(password).toContain('Add a repository');
		expect(password).not.toContain('Repeat');
	});

	it('edits a saved profile from the repositories list, keeping what the wizard does not show', async () => {
		environment = await createTestEnvironment();
		const first = join(environment.root, 'first');
		const second = join(environment.root, 'second');
		await createRepository(first, 'pw');
		await createRepository(second, 'pw2');
		saveProfile(environment.env, {name: 'work', location: `local:${first}`, backupPaths: ['/srv/data'], lastBackup: '2024-01-01T00:00:00Z'});
		saveProfile(environment.env, {name: 'other', location: `local:${second}`});
		app = renderApp(environment, WIDE);
		await waitForFrame(app.lastFrame, '2 saved repositories');
		await press(app.stdin, 'e');
		const form = await waitForFrame(app.lastFrame, 'Edit work › Settings');
		checkFrameFits(form, WIDE);
		expect(form).toContain(first);
		await press(app.stdin, KEYS.ctrlU, second, KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 4 of 5');
		await press(app.stdin, KEYS.enter, 'pw2', KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 5 of 5');
		// The name must stay unique.
		await press(app.stdin, KEYS.ctrlU, 'other', KEYS.enter);
		await waitForFrame(app.lastFrame, 'A repository named "other" is already saved');
		await press(app.stdin, KEYS.ctrlU, 'work-2', KEYS.enter);
		await waitForFrame(app.lastFrame, 'work-2 › Snapshots');
		expect(openProfileStore(environment.env).listProfiles()).toEqual([
			{name: 'work-2', location: `local:${second}`, backupPaths: ['/srv/data'], lastBackup: '2024-01-01T00:00:00Z'},
			{name: 'other', location: `local:${second}`},
		]);
	});
});
