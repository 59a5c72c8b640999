/**
 * The Service screen: reached from the repository list, it shows a service config's state file
 * and follows it live while the service writes it; "run now" starts a child process and reports
 * its exit.
 */
import {chmod, mkdir, rename, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../components/app.js';
import type {ServiceState} from '../../components/service-files.js';
import {checkFrameFits, createTestEnvironment, KEYS, press, renderSized, saveProfile, SMALL, waitForFrame, WIDE, type TestEnvironment} from './harness.js';

let environment: TestEnvironment | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
	cleanup?.();
	cleanup = undefined;
	await environment?.dispose();
	environment = undefined;
});

/** A test environment with two saved profiles, a service config named `nas` and its state path. */
async function createServiceEnvironment(): Promise<{environment: TestEnvironment; configPath: string; statePath: string; dataPath: string}> {
	const created = await createTestEnvironment();
	// The config directory is named explicitly: as root the default one is /etc/cairn.
	const configDir = join(created.root, 'service-configs');
	created.env.CAIRN_SERVICE_CONFIG = configDir;
	saveProfile(created.env, {name: 'laptop', location: `local:${join(created.root, 'repo-one')}`});
	saveProfile(created.env, {name: 'usb-disk', location: `local:${join(created.root, 'repo-two')}`});
	await mkdir(configDir, {recursive: true});
	// Files there that are not service configs are not listed.
	await writeFile(join(configDir, 'notes.yaml'), '- just a list\n');
	const dataPath = join(created.root, 'data');
	await mkdir(dataPath, {recursive: true});
	const configPath = join(configDir, 'nas.yaml');
	const statePath = join(created.root, 'state', 'nas.state.json');
	await writeFile(configPath, serviceConfigText(join(created.root, 'service-repo'), dataPath, statePath), {mode: 0o600});
	await chmod(configPath, 0o600);
	return {environment: created, configPath, statePath, dataPath};
}

/** A service config backing up `dataPath` to a local repository at `repoPath`. */
function serviceConfigText(repoPath: string, dataPath: string, statePath: string): string {
	return JSON.stringify({enabled: true, repository_password: 'not-shown-anywhere', backend: {type: 'local', location: repoPath}, paths: [dataPath], state_file: statePath}, null, 2) + '\n';
}

/** A state as the service writes it, with `changes` applied. */
function makeState(configPath: string, changes: Partial<ServiceState>): ServiceState {
	return {
		version: 1,
		name: 'nas',
		config_path: configPath,
		repository: 'local:/srv/backup',
		repository_connected: true,
		last_backup: null,
		last_status: 'never run',
		in_progress: false,
		progress: 0,
		current: null,
		available_snapshots: [],
		next_run: null,
		window: null,
		last_error: null,
		last_prune: null,
		last_check: null,
		last_run: null,
		restore: null,
		updated: new Date().toISOString(),
		...changes,
	};
}

/** Writes the state file as the service does: a temporary file renamed over it. */
async function writeState(path: string, state: ServiceState): Promise<void> {
	await mkdir(join(path, '..'), {recursive: true});
	await writeFile(`${path}.tmp`, JSON.stringify(state), {mode: 0o600});
	await rename(`${path}.tmp`, path);
}

describe('Service screen', () => {
	it('is reached from the repository list, says plainly when there is no state yet, and follows the state file live (80×24)', async () => {
		const setup = await createServiceEnvironment();
		environment = setup.environment;
		const app = renderSized(<App env={environment.env} cwd={environment.cwd} stopTimeoutMs={2000} statePollMs={200} />, SMALL);
		cleanup = app.cleanup;
		const list = await waitForFrame(app.lastFrame, '1 service config');
		expect(list).toContain('2 saved repositories, 1 service config');
		expect(list).toMatch(/nas\s+Service config/);
		checkFrameFits(list, SMALL);

		await press(app.stdin, KEYS.down, KEYS.down, KEYS.enter);
		const empty = await waitForFrame(app.lastFrame, 'no state file yet');
		expect(empty).toContain('cairn › Service: nas');
		expect(empty).toContain('Press r to run it now');
		expect(empty).toContain(setup.configPath.slice(-20));
		expect(empty).not.toContain('not-shown-anywhere');
		checkFrameFits(empty, SMALL);

		// A backup starts: the state file says so, the screen shows it without a key pressed.
		const started = new Date(Date.now() - 65_000).toISOString();
		await writeState(setup.statePath, makeState(setup.configPath, {
			in_progress: true, progress: 40, last_status: 'backup running',
			current: {operation: 'backup', started, pid: process.pid, files_done: 12, bytes_done: 3 * 1024 * 1024, bytes_total: 10 * 1024 * 1024},
		}));
		const running = await waitForFrame(app.lastFrame, '40%');
		expect(running).toContain('backup, 12 files, 3.00 MiB of 10.0 MiB');
		expect(running).toContain(`pid ${process.pid}`);
		expect(running).toContain('█');
		expect(running).toContain('No snapshots yet.');
		checkFrameFits(running, SMALL);

		// Further on, then done.
		await writeState(setup.statePath, makeState(setup.configPath, {
			in_progress: true, progress: 85, last_status: 'backup running',
			current: {operation: 'backup', started, pid: process.pid, files_done: 30, bytes_done: 8.5 * 1024 * 1024, bytes_total: 10 * 1024 * 1024},
		}));
		await waitForFrame(app.lastFrame, '85%');
		const finished = new Date(Date.now() - 2000).toISOString();
		const next = new Date(Date.now() + 3 * 3600_000 + 60_000).toISOString();
		await writeState(setup.statePath, makeState(setup.configPath, {
			last_backup: finished, last_status: 'backup done: 30 files new, 10.0 MiB added', next_run: next,
			window: {open: false, opens_at: next, closes_at: null}, last_error: 'after_backup hook failed: exit 2',
			available_snapshots: [
				{id: 'a1b2c3d4'.repeat(8), time: finished, size: 10 * 1024 * 1024, source: setup.dataPath, description: 'host nas'},
				{id: 'f0e1d2c3'.repeat(8), time: new Date(Date.now() - 86_400_000 * 3).toISOString(), size: 9 * 1024 * 1024, source: setup.dataPath, description: 'host nas'},
			],
		}));
		const done = await waitForFrame(app.lastFrame, 'backup done: 30 files new');
		expect(done).toMatch(/In progress\s+no/);
		expect(done).toMatch(/Next run\s+\d{4}-\d\d-\d\d \d\d:\d\d \(in 3 h\)/);
		expect(done).toMatch(/Window\s+closed, opens/);
		expect(done).toContain('after_backup hook failed: exit 2');
		expect(done).toContain('Snapshots (2), newest first');
		// Newest first.
		expect(done.indexOf('a1b2c3d4')).toBeLessThan(done.indexOf('f0e1d2c3'));
		expect(done).toMatch(/r run now\s+s restore a snapshot\s+Esc back/);
		checkFrameFits(done, SMALL);

		// The snapshot picker and the two confirmations; cancelling changes nothing.
		await press(app.stdin, 's');
		const pick = await waitForFrame(app.lastFrame, 'Restore in place');
		expect(pick).toContain('Pick the snapshot to restore in place over');
		await press(app.stdin, KEYS.down, KEYS.enter);
		const first = await waitForFrame(app.lastFrame, 'Restore snapshot f0e1d2c3');
		expect(first).toContain('safety snapshot');
		await press(app.stdin, 'y');
		const second = await waitForFrame(app.lastFrame, 'Second confirmation');
		expect(second).toContain(setup.dataPath);
		expect(second).toContain('Files that are not in the snapshot are removed.');
		expect(second).toContain('They are kept in the safety snapshot');
		checkFrameFits(second, SMALL);
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, 'Restore cancelled: nothing was changed.');

		await press(app.stdin, KEYS.escape, KEYS.escape);
		await waitForFrame(app.lastFrame, '2 saved repositories, 1 service config');
	});

	it('uses the width of a wide terminal: the snapshots beside the state', async () => {
		const setup = await createServiceEnvironment();
		environment = setup.environment;
		const when = new Date(Date.now() - 3600_000).toISOString();
		await writeState(setup.statePath, makeState(setup.configPath, {
			last_backup: when, last_status: 'backup done: 3 files new, 1.00 KiB added',
			available_snapshots: [{id: '0123abcd'.repeat(8), time: when, size: 1024, source: setup.dataPath, description: ''}],
		}));
		const app = renderSized(<App env={{...environment.env, CAIRN_SERVICE_CONFIG: setup.configPath}} cwd={environment.cwd} stopTimeoutMs={2000} />, WIDE);
		cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, '1 service config');
		await press(app.stdin, KEYS.end, KEYS.enter);
		const frame = await waitForFrame(app.lastFrame, 'Snapshots (1)');
		const lines = checkFrameFits(frame, WIDE);
		const row = lines.find((line) => line.includes('Last status'));
		expect(row).toBeDefined();
		// The snapshot list starts on the first line of the body, to the right of the fields.
		const configLine = lines.find((line) => line.includes('Config'))!;
		expect(configLine).toContain('Snapshots (1), newest first');
		expect(frame).toContain('0123abcd');
	});
});
