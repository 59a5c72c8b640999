/**
 * The Service screen: reached from the repository list, it shows a service config's state file
 * and follows it live while the service writes it; "run now" starts a child process and reports
 * its exit.
 */
import {chmod, mkdir, readFile, rename, writeFile} from 'node:fs/promises';
import {existsSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {useState} from 'react';
import {Text} from 'ink';
import {describe, expect, it} from 'vitest';
import {useServiceStateFile} from '../../components/ui/use-service-state.js';
import {App} from '../../components/app.js';
import type {ServiceState} from '../../components/service-files.js';
import {checkFrameFits, createTestEnvironment, disposeAfterEach, KEYS, press, renderSized, saveProfile, SMALL, waitForFrame, WIDE, type TestEnvironment} from './harness.js';

const resources = disposeAfterEach();

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

/**
 * A service config backing up `dataPath` to a local repository at `repoPath`, with a daily
 * maintenance window that opens two hours from now (so it is closed while the test runs).
 */
export function serviceConfigText(repoPath: string, dataPath: string, statePath: string, now = new Date()): string {
	const opens = new Date(now.getTime() + 2 * 3600_000);
	const closes = new Date(now.getTime() + 3 * 3600_000);
	return [
		'# The NAS, backed up every night.',
		'enabled: true',
		'repository_password: not-shown-anywhere',
		'backend:',
		'  type: local',
		`  location: ${repoPath}`,
		'paths:',
		`  - ${dataPath}`,
		'schedule: "@daily"',
		'maintenance_windows:',
		`  - {start_hour: ${opens.getHours()}, start_minute: ${opens.getMinutes()}, end_hour: ${closes.getHours()}, end_minute: ${closes.getMinutes()}}`,
		`state_file: ${statePath}`,
		'restore_snapshot_id: ""  # set by the app for a one-time restore',
		'',
	].join('\n');
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
		resources.environment = setup.environment;
		const app = renderSized(<App env={resources.environment.env} cwd={resources.environment.cwd} stopTimeoutMs={2000} statePollMs={200} />, SMALL);
		resources.cleanup = app.cleanup;
		const list = await waitForFrame(app.lastFrame, '1 service config');
		expect(list).toContain('2 saved repositories, 1 service config');
		expect(list).toMatch(/nas\s+Service config/);
		expect(list).not.toContain('notes');
		checkFrameFits(list, SMALL);

		await press(app.stdin, KEYS.down, KEYS.down, KEYS.enter);
		const empty = await waitForFrame(app.lastFrame, 'no state file yet');
		expect(empty).toContain('cairn › Service: nas');
		expect(empty).toContain('Press r to run it now');
		expect(empty).toMatch(/Next run\s+\d{4}-\d\d-\d\d \d\d:\d\d \(due now\), @daily/);
		expect(empty).toMatch(/Window\s+closed, opens \d{4}-\d\d-\d\d \d\d:\d\d \(in [12] h( \d+ min)?\)/);
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
		const next = new Date(Date.now() + 3 * 3600_000 + 5 * 60_000).toISOString();
		await writeState(setup.statePath, makeState(setup.configPath, {
			last_backup: finished, last_status: 'backup done: 30 files new, 10.0 MiB added', next_run: next,
			last_error: 'after_backup hook failed: exit 2',
			available_snapshots: [
				{id: 'a1b2c3d4'.repeat(8), time: finished, size: 10 * 1024 * 1024, source: setup.dataPath, description: 'host nas'},
				{id: 'f0e1d2c3'.repeat(8), time: new Date(Date.now() - 86_400_000 * 3).toISOString(), size: 9 * 1024 * 1024, source: setup.dataPath, description: 'host nas'},
			],
		}));
		const done = await waitForFrame(app.lastFrame, 'backup done: 30 files new');
		expect(done).toMatch(/In progress\s+no/);
		expect(done).toMatch(/Next run\s+\d{4}-\d\d-\d\d \d\d:\d\d \(in 3 h [45] min\)/);
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
		expect(second).toContain('The maintenance window is closed: the restore runs now all the same.');
		checkFrameFits(second, SMALL);
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, 'Restore cancelled: nothing was changed.');

		await press(app.stdin, KEYS.escape, KEYS.escape);
		await waitForFrame(app.lastFrame, '2 saved repositories, 1 service config');
	});

	it('uses the width of a wide terminal: the snapshots beside the state', async () => {
		const setup = await createServiceEnvironment();
		resources.environment = setup.environment;
		const when = new Date(Date.now() - 3600_000).toISOString();
		await writeState(setup.statePath, makeState(setup.configPath, {
			last_backup: when, last_status: 'backup done: 3 files new, 1.00 KiB added',
			available_snapshots: [{id: '0123abcd'.repeat(8), time: when, size: 1024, source: setup.dataPath, description: ''}],
		}));
		const app = renderSized(<App env={{...resources.environment.env, CAIRN_SERVICE_CONFIG: setup.configPath}} cwd={resources.environment.cwd} stopTimeoutMs={2000} />, WIDE);
		resources.cleanup = app.cleanup;
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

/**
 * A stand-in for `cairn service run` (the command builder of the app points at it): it records its
 * arguments, writes the state file as the service does, and exits as FAKE_MODE says.
 */
const FAKE_SERVICE = `
import {appendFileSync, existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
const args = process.argv.slice(2);
appendFileSync(process.env.FAKE_LOG, JSON.stringify(args) + '\\n');
const state = JSON.parse(process.env.FAKE_STATE_TEMPLATE);
const write = (changes) => {
	writeFileSync(process.env.FAKE_STATE + '.tmp', JSON.stringify({...state, ...changes, updated: new Date().toISOString()}));
	renameSync(process.env.FAKE_STATE + '.tmp', process.env.FAKE_STATE);
};
const mode = process.env.FAKE_MODE;
if (mode === 'fail') {
	process.stderr.write('opening the repository\\nerror: cannot back up: the repository is locked by pid 4242 on nas\\n');
	process.exit(3);
}
const config = readFileSync(args[args.indexOf('--config') + 1], 'utf8');
const restoring = /restore_snapshot_id: "?([0-9a-f]+)/.exec(config)?.[1];
write({in_progress: true, progress: 50, last_status: 'backup running', current: {operation: restoring ? 'restore' : 'backup', started: new Date().toISOString(), pid: process.pid, files_done: 7}});
while (!existsSync(process.env.FAKE_GO)) await new Promise((r) => setTimeout(r, 20));
write({in_progress: false, progress: 100, current: null, last_backup: new Date().toISOString(), last_status: restoring ? 'restore of ' + restoring.slice(0, 8) + ' done' : 'backup done: 7 files new'});
`;

describe('Service screen runs', () => {
	it('runs the service now as a child process, shows its progress from the state file, and reports a failure with the end of its stderr', async () => {
		const setup = await createServiceEnvironment();
		resources.environment = setup.environment;
		const script = join(resources.environment.root, 'fake-service.mjs');
		await writeFile(script, FAKE_SERVICE);
		const log = join(resources.environment.root, 'args.log');
		const go = join(resources.environment.root, 'go');
		const when = new Date(Date.now() - 86_400_000).toISOString();
		const template = makeState(setup.configPath, {available_snapshots: [{id: 'abcdef01'.repeat(8), time: when, size: 2048, source: setup.dataPath, description: ''}], last_backup: when, last_status: 'backup done: 1 file new'});
		await writeState(setup.statePath, template);
		Object.assign(resources.environment.env, {FAKE_LOG: log, FAKE_GO: go, FAKE_STATE: setup.statePath, FAKE_STATE_TEMPLATE: JSON.stringify(template), FAKE_MODE: 'ok'});
		const serviceCommand = (args: readonly string[]) => ({command: process.execPath, args: [script, ...args]});
		const app = renderSized(<App env={{...resources.environment.env, CAIRN_SERVICE_CONFIG: setup.configPath}} cwd={resources.environment.cwd} stopTimeoutMs={2000} statePollMs={100} serviceCommand={serviceCommand} />, SMALL);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, '1 service config');
		await press(app.stdin, KEYS.end, KEYS.enter);
		await waitForFrame(app.lastFrame, 'backup done: 1 file new');

		// The config's window is closed: run now asks first.
		await press(app.stdin, 'r');
		const question = await waitForFrame(app.lastFrame, 'back up anyway? y = yes, other keys = no');
		expect(question).toMatch(/Window closed until \d{4}-\d\d-\d\d \d\d:\d\d/);
		await press(app.stdin, 'n');
		await waitForFrame(app.lastFrame, 'Not run: the service backs up when the window opens.');
		expect(existsSync(log)).toBe(false);
		await press(app.stdin, 'r', 'y');
		const running = await waitForFrame(app.lastFrame, '50%');
		expect(running).toMatch(/This run\s+Run now: running \(pid \d+/);
		expect(running).toContain('backup, 7 files');
		checkFrameFits(running, SMALL);
		// A second run is refused while the first goes on.
		await press(app.stdin, 'r');
		await waitForFrame(app.lastFrame, 'A run started here is still going');
		await writeFile(go, '');
		const done = await waitForFrame(app.lastFrame, 'Run now: finished after');
		expect(done).toContain('(exit 0)');
		expect(done).toContain('backup done: 7 files new');
		const calls = (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as string[]);
		expect(calls).toEqual([['service', 'run', '--once', '--force', '--ignore-window', '--config', setup.configPath]]);

		// A failing run: the exit code and the end of its stderr.
		resources.environment.env.FAKE_MODE = 'fail';
		resources.cleanup();
		const again = renderSized(<App env={{...resources.environment.env, CAIRN_SERVICE_CONFIG: setup.configPath}} cwd={resources.environment.cwd} stopTimeoutMs={2000} statePollMs={100} serviceCommand={serviceCommand} />, SMALL);
		resources.cleanup = again.cleanup;
		await waitForFrame(again.lastFrame, '1 service config');
		await press(again.stdin, KEYS.end, KEYS.enter);
		await waitForFrame(again.lastFrame, 'Snapshots (1)');
		await press(again.stdin, 'r', 'y');
		const failed = await waitForFrame(again.lastFrame, 'failed with exit code 3');
		expect(failed).toContain('error: cannot back up: the repository is locked by pid 4242');
		expect(failed).toContain('opening the repository');
		checkFrameFits(failed, SMALL);
	});

	it('restores a snapshot in place after two confirmations: sets restore_snapshot_id (comments kept) and runs the service without --force', async () => {
		const setup = await createServiceEnvironment();
		resources.environment = setup.environment;
		const script = join(resources.environment.root, 'fake-service.mjs');
		await writeFile(script, FAKE_SERVICE);
		const log = join(resources.environment.root, 'args.log');
		const go = join(resources.environment.root, 'go');
		await writeFile(go, '');
		const id = '5eed5eed'.repeat(8);
		const when = new Date(Date.now() - 86_400_000).toISOString();
		const template = makeState(setup.configPath, {available_snapshots: [{id, time: when, size: 2048, source: setup.dataPath, description: ''}], last_backup: when, last_status: 'backup done: 1 file new'});
		await writeState(setup.statePath, template);
		Object.assign(resources.environment.env, {FAKE_LOG: log, FAKE_GO: go, FAKE_STATE: setup.statePath, FAKE_STATE_TEMPLATE: JSON.stringify(template), FAKE_MODE: 'ok'});
		const serviceCommand = (args: readonly string[]) => ({command: process.execPath, args: [script, ...args]});
		const app = renderSized(<App env={{...resources.environment.env, CAIRN_SERVICE_CONFIG: setup.configPath}} cwd={resources.environment.cwd} stopTimeoutMs={2000} statePollMs={100} serviceCommand={serviceCommand} />, SMALL);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, '1 service config');
		await press(app.stdin, KEYS.end, KEYS.enter);
		await waitForFrame(app.lastFrame, 'Snapshots (1)');
		await press(app.stdin, 's', KEYS.enter);
		await waitForFrame(app.lastFrame, 'Restore snapshot 5eed5eed');
		await press(app.stdin, 'y');
		await waitForFrame(app.lastFrame, 'Second confirmation');
		expect(await readFile(setup.configPath, 'utf8')).toContain('restore_snapshot_id: ""');
		await press(app.stdin, 'y');
		const done = await waitForFrame(app.lastFrame, 'Restore of 5eed5eed: finished after');
		expect(done).toContain('restore of 5eed5eed done');
		const config = await readFile(setup.configPath, 'utf8');
		expect(config).toMatch(new RegExp(`^restore_snapshot_id: "?${id}"?\\s+# set by the app for a one-time restore$`, 'm'));
		expect(config).toContain('# The NAS, backed up every night.');
		const calls = (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as string[]);
		expect(calls).toEqual([['service', 'run', '--once', '--ignore-window', '--config', setup.configPath]]);
		// The field stays set (the stand-in does not clear it, as a failed restore would not): shown, and run now refuses.
		const pending = await waitForFrame(app.lastFrame, 'the next run restores it in place');
		expect(pending).toContain('Restore set');
		await press(app.stdin, 'r');
		await waitForFrame(app.lastFrame, 'restore_snapshot_id 5eed5eed is set: a run would restore it');
	});
});

describe('Service screen with the real service', () => {
	const ROOT = resolve(import.meta.dirname, '..', '..');
	const CLI = join(ROOT, 'dist', 'source', 'cli.js');
	// The built CLI (npm run build), as the app starts it: this Node with dist/source/cli.js.
	const builtCli = (args: readonly string[]) => ({command: process.execPath, args: [CLI, ...args]});

	it('runs the built CLI now against a local repository, twice, then restores the older snapshot in place through the service', async () => {
		expect(existsSync(CLI), 'npm run build first').toBe(true);
		const setup = await createServiceEnvironment();
		resources.environment = setup.environment;
		await writeFile(join(setup.dataPath, 'a.txt'), 'first version\n');
		await writeFile(join(setup.dataPath, 'b.txt'), 'kept\n');
		const app = renderSized(<App env={{...resources.environment.env, CAIRN_SERVICE_CONFIG: setup.configPath}} cwd={resources.environment.cwd} stopTimeoutMs={5000} statePollMs={100} serviceCommand={builtCli} />, SMALL);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, '1 service config');
		await press(app.stdin, KEYS.end, KEYS.enter);
		await waitForFrame(app.lastFrame, 'no state file yet');

		// Run now (the window is closed: y runs anyway): the service creates the repository and backs up.
		await press(app.stdin, 'r', 'y');
		const first = await waitForFrame(app.lastFrame, /Run now: finished after .* \(exit 0\)/, 60_000);
		await waitForFrame(app.lastFrame, 'Snapshots (1)');
		expect(first).not.toContain('not-shown-anywhere');
		const firstState = JSON.parse(await readFile(setup.statePath, 'utf8')) as ServiceState;
		const older = firstState.available_snapshots[0]!.id;

		await writeFile(join(setup.dataPath, 'a.txt'), 'second version\n');
		await writeFile(join(setup.dataPath, 'c.txt'), 'added later\n');
		await press(app.stdin, 'r', 'y');
		const second = await waitForFrame(app.lastFrame, 'Snapshots (2)', 60_000);
		await waitForFrame(app.lastFrame, /Run now: finished after .* \(exit 0\)/, 60_000);
		expect(second).toMatch(/Last status\s+backup done/);
		checkFrameFits(second, SMALL);

		// Restore the older one (second row, newest first) in place.
		await press(app.stdin, 's', KEYS.down, KEYS.enter);
		await waitForFrame(app.lastFrame, `Restore snapshot ${older.slice(0, 8)}`);
		await press(app.stdin, 'y');
		await waitForFrame(app.lastFrame, 'Second confirmation');
		await press(app.stdin, 'y');
		const restored = await waitForFrame(app.lastFrame, new RegExp(`Restore of ${older.slice(0, 8)}: finished after .* \\(exit 0\\)`), 60_000);
		const state = JSON.parse(await readFile(setup.statePath, 'utf8')) as ServiceState;
		expect(state.restore?.result).toBe('success');
		expect(state.restore?.safety_snapshot_id).toMatch(/^[0-9a-f]{64}$/);
		// The paths are as the snapshot has them: the later file is gone (it is in the safety snapshot).
		expect(await readFile(join(setup.dataPath, 'a.txt'), 'utf8')).toBe('first version\n');
		expect(await readFile(join(setup.dataPath, 'b.txt'), 'utf8')).toBe('kept\n');
		expect(existsSync(join(setup.dataPath, 'c.txt'))).toBe(false);
		// The service cleared the field, keeping the comments; the screen read the config again.
		const config = await readFile(setup.configPath, 'utf8');
		expect(config).toMatch(/^restore_snapshot_id: ""\s+# set by the app for a one-time restore$/m);
		expect(config).toContain('# The NAS, backed up every night.');
		const after = await waitForFrame(app.lastFrame, /Restore\s+\w{8}: success/);
		expect(after).not.toContain('Restore set');
		expect(restored).not.toContain('not-shown-anywhere');
	}, 120_000);
});

describe('following the state file', () => {
	/** Shows the state's last_status and counts the reads reported. */
	function Follower({path, reads}: {path: string; reads: string[]}) {
		const [status, setStatus] = useState('none');
		useServiceStateFile(path, {
			onState: (state) => {
				reads.push(state?.last_status ?? 'no file');
				setStatus(state?.last_status ?? 'no file');
			},
			onError: (message) => setStatus(`error: ${message}`),
		}, 100);
		return <Text>{`status=${status}`}</Text>;
	}

	it('reports a directory created later (polling), each change once, a broken file as an error, and nothing after unmount', async () => {
		resources.environment = await createTestEnvironment();
		const statePath = join(resources.environment.root, 'later', 'deeper', 'x.state.json');
		const reads: string[] = [];
		const app = renderSized(<Follower path={statePath} reads={reads} />, SMALL);
		resources.cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'status=no file');
		// The directory does not exist yet: found by polling, then watched.
		await writeState(statePath, makeState('/c', {last_status: 'first'}));
		await waitForFrame(app.lastFrame, 'status=first');
		await writeState(statePath, makeState('/c', {last_status: 'second'}));
		await waitForFrame(app.lastFrame, 'status=second');
		await writeFile(statePath, '{"version": 1, "name": ');
		await waitForFrame(app.lastFrame, /status=error: The state file [^]*cannot be read: /);
		await writeState(statePath, makeState('/c', {last_status: 'third'}));
		await waitForFrame(app.lastFrame, 'status=third');
		// Polls that find the same content report nothing.
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(reads).toEqual(['no file', 'first', 'second', 'third']);
		app.unmount();
		resources.cleanup = undefined;
		await writeState(statePath, makeState('/c', {last_status: 'after unmount'}));
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(reads).toEqual(['no file', 'first', 'second', 'third']);
	});
});
