/**
 * Start-up: the first frame needs only the welcome screen; the other screens load after it, and
 * keys typed meanwhile wait for them. The bundle of the app is used only while it is fresh.
 */
import {mkdir, mkdtemp, rm, utimes, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {afterEach, describe, expect, it} from 'vitest';
import {App, type Screens} from '../../components/app.js';
import {findAppBundle} from '../../source/app.js';
import {createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, renderSized, saveProfile, SMALL, waitForFrame} from './harness.js';

const resources = disposeAfterEach();

/** A loader of the screens that waits until `release` is called. */
function holdScreens(): {load: () => Promise<Screens>; release: () => void; calls: () => number} {
	let release = (): void => undefined;
	const gate = new Promise<void>((resolve) => {
		release = resolve;
	});
	let calls = 0;
	return {
		load: async () => {
			calls++;
			await gate;
			return import('../../components/screens/index.js');
		},
		release: () => release(),
		calls: () => calls,
	};
}

describe('start-up', () => {
	it('draws the welcome screen of a first run without the other screens', async () => {
		resources.environment = await createTestEnvironment();
		const screens = holdScreens();
		const app = renderSized(<App env={resources.environment.env} cwd={resources.environment.cwd} stopTimeoutMs={2000} loadScreens={screens.load} />, SMALL);
		resources.cleanup = app.cleanup;
		// The lookup of the default repository finishes while the screens are still held back.
		const welcome = await waitForFrame(app.lastFrame, 'Quick start: create a new repository at');
		expect(welcome).toContain('Welcome to cairn.');
		expect(welcome).toContain('cairn › Welcome');
		expect(screens.calls()).toBe(1);
		screens.release();
	});

	it('shows a loading frame until the screens are there, and gives them the keys typed meanwhile', async () => {
		resources.environment = await createTestEnvironment();
		const repo = join(resources.environment.root, 'repo');
		await createRepository(repo, 'early');
		saveProfile(resources.environment.env, {name: 'laptop', location: `local:${repo}`});
		const screens = holdScreens();
		const app = renderSized(<App env={resources.environment.env} cwd={resources.environment.cwd} stopTimeoutMs={2000} loadScreens={screens.load} />, SMALL);
		resources.cleanup = app.cleanup;
		const loading = await waitForFrame(app.lastFrame, 'Loading…');
		expect(loading).toContain('cairn › Starting');
		// The password and Enter, typed before the password screen exists.
		await press(app.stdin, 'early', KEYS.enter);
		expect(app.lastFrame()).toContain('Loading…');
		screens.release();
		const opened = await waitForFrame(app.lastFrame, 'No snapshots yet');
		expect(opened).toContain('laptop › Snapshots');
	});
});

describe('the bundle of the app', () => {
	let dir = '';
	afterEach(async () => {
		if (dir !== '') await rm(dir, {recursive: true, force: true});
		dir = '';
	});

	async function makeBuild(bundleAge?: number): Promise<string> {
		dir = await mkdtemp(join(tmpdir(), 'cairn-bundle-'));
		await mkdir(join(dir, 'components'));
		await mkdir(join(dir, 'source'));
		const modules = join(dir, 'components', 'run-app.js');
		await writeFile(modules, '');
		const now = Date.now() / 1000;
		await utimes(modules, now, now);
		if (bundleAge !== undefined) {
			const bundle = join(dir, 'components', 'run-app.bundle.js');
			await writeFile(bundle, '');
			await utimes(bundle, now + bundleAge, now + bundleAge);
		}
		return pathToFileURL(join(dir, 'source', 'app.js')).href;
	}

	it('is used when it is as new as the compiled modules or newer', async () => {
		const base = await makeBuild(5);
		expect(findAppBundle(base)).toBe(pathToFileURL(join(dir, 'components', 'run-app.bundle.js')).href);
	});

	it('is not used when the modules were compiled after it, or when there is none', async () => {
		expect(findAppBundle(await makeBuild(-60))).toBeUndefined();
		await rm(dir, {recursive: true, force: true});
		expect(findAppBundle(await makeBuild())).toBeUndefined();
	});
});
