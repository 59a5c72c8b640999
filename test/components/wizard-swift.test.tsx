/**
 * The wizard's Swift form at 80×24 against the real Swift of the test helper: the form built from
 * the declaration, a connection test that explains a wrong key beside its field, then a new
 * repository whose profile keeps the key out unless asked.
 */
import {randomBytes} from 'node:crypto';

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
// The app registers the adapters only once its screens have loaded; this test checks for Swift first.
import '../../adapters/index.js';
import {findAdapter} from '../../adapters/registry.js';
import {openProfileStore} from '../../components/profiles.js';
import {SWIFT_USERS, startSwift, type RunningSwift} from '../helpers/servers/swift.js';
import {checkFrameFits, createTestEnvironment, KEYS, press, renderApp, SMALL, waitForFrame, type RenderedApp, type TestEnvironment} from './harness.js';

let swift: RunningSwift | undefined;
let environment: TestEnvironment | undefined;
let app: RenderedApp | undefined;
beforeAll(async () => {
	swift = await startSwift();
}, 180_000);
afterEach(async () => {
	app?.cleanup();
	app = undefined;
	await environment?.dispose();
	environment = undefined;
});
afterAll(async () => {
	await swift?.stop();
});

function stripAnsi(text: string): string {
	return text.replace(/\u001B\[[0-9;]*m/g, '');
}

describe('add-repository wizard on OpenStack Swift', () => {
	it('fits 80×24, explains a wrong key, then creates the repository and its container', async () => {
		expect(findAdapter('swift')).toBeDefined();
		environment = await createTestEnvironment();
		const container = `wizard-${randomBytes(4).toString('hex')}`;
		app = renderApp(environment);
		await waitForFrame(app.lastFrame, 'Create a repository elsewhere');
		await press(app.stdin, '3', KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 1 of 5');
		for (let i = 0; i < 30 && !/^ › OpenStack Swift/m.test(stripAnsi(app.lastFrame() ?? '')); i++) {
			const before = app.lastFrame();
			await press(app.stdin, KEYS.down);
			await waitForFrame(app.lastFrame, (frame) => frame !== before);
		}
		await press(app.stdin, KEYS.enter);
		const form = await waitForFrame(app.lastFrame, 'step 2 of 5');
		checkFrameFits(form, SMALL);
		for (const label of ['Container', 'Folder', 'Authentication URL', 'User name', 'Password or key']) expect(form).toContain(label);
		await press(app.stdin, container, KEYS.down, 'laptop', KEYS.down, swift!.authUrl, KEYS.down, 'test:tester', KEYS.down, 'not-the-key');
		const typed = await waitForFrame(app.lastFrame, '*'.repeat('not-the-key'.length));
		checkFrameFits(typed, SMALL);
		expect(typed).not.toContain('not-the-key');
		await press(app.stdin, KEYS.enter);
		const denied = await waitForFrame(app.lastFrame, 'Access denied', 60_000);
		checkFrameFits(denied, SMALL);
		expect(denied.replace(/\s+/g, ' ')).toMatch(/refused the credentials/);
		expect(denied).not.toContain('not-the-key');
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 2 of 5');
		await press(app.stdin, ...Array.from({length: 'not-the-key'.length}, () => KEYS.backspace), SWIFT_USERS['test:tester'], KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 4 of 5', 60_000);
		await press(app.stdin, KEYS.enter, 'pw', KEYS.enter, 'pw', KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 5 of 5');
		await press(app.stdin, KEYS.ctrlU, 'cloud', KEYS.enter);
		await waitForFrame(app.lastFrame, 'cloud › Snapshots', 60_000);
		const [profile] = openProfileStore(environment.env).listProfiles();
		expect(profile!.location).toBe(`swift:${container}:/laptop`);
		expect(profile!.options).toMatchObject({'auth-url': swift!.authUrl, user: 'test:tester'});
		expect(JSON.stringify(profile)).not.toContain(SWIFT_USERS['test:tester']);
		const {storageUrl, token} = await swift!.authenticate();
		const listing = await fetch(`${storageUrl}/${container}?prefix=laptop/&format=json`, {headers: {'x-auth-token': token}});
		expect(((await listing.json()) as Array<{name: string}>).map((item) => item.name)).toContain('laptop/config');
	}, 180_000);
});
