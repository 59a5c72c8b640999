/**
 * End to end: the built program in a real terminal (tmux, 80×24) reaches the Service screen of a
 * service config when no repository is saved yet (a NAS set up for the unattended service only),
 * shows its state, follows a change of the state file, runs the service now (the real CLI, found
 * by the app's bundle), and goes back and quits cleanly.
 */
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, rename, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ensureBuilt} from '../helpers/build.js';
import {attachPane, connectTmux} from '../helpers/tmux.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'source', 'cli.js');
const SOCKET = `cairn-e2e-service-${process.pid}`;
const SESSION = 'service';
const PROMPT = 'E2E-SHELL$ ';

let dir = '';

const tmux = connectTmux(SOCKET);
const {waitForPane, keys} = attachPane(tmux, SESSION);

/** Writes a state file as the service does (temporary file, rename). */
async function writeState(path: string, state: Record<string, unknown>): Promise<void> {
	await writeFile(`${path}.tmp`, JSON.stringify(state), {mode: 0o600});
	await rename(`${path}.tmp`, path);
}

beforeAll(async () => {
	await ensureBuilt();
	expect(existsSync(CLI)).toBe(true);
	dir = await mkdtemp(join(tmpdir(), 'cairn-e2e-service-'));
}, 180_000);

afterAll(async () => {
	await tmux('kill-server').catch(() => undefined);
	await new Promise((r) => setTimeout(r, 300));
	if (dir !== '') await rm(dir, {recursive: true, force: true, maxRetries: 10, retryDelay: 200});
});

describe('the Service screen in a terminal', () => {
	it('is reached from the welcome screen through the service configs, shows the state and follows it live', async () => {
		const home = join(dir, 'home');
		const work = join(dir, 'work');
		const configs = join(dir, 'configs');
		const data = join(dir, 'data');
		const statePath = join(dir, 'state', 'nas.state.json');
		for (const path of [home, work, configs, data, join(dir, 'state')]) await mkdir(path, {recursive: true});
		const configPath = join(configs, 'nas.yaml');
		await writeFile(configPath, [
			'# Backed up by cairn service.',
			'repository_password: e2e-secret-value',
			'backend:',
			'  type: local',
			`  location: ${join(dir, 'repo')}`,
			'paths:',
			`  - ${data}`,
			'schedule: "@every 6h"',
			`state_file: ${statePath}`,
			'',
		].join('\n'), {mode: 0o600});
		const now = Date.now();
		const state = {
			version: 1, name: 'nas', config_path: configPath, repository: `local:${join(dir, 'repo')}`, repository_connected: true,
			last_backup: new Date(now - 2 * 3600_000).toISOString(), last_status: 'backup done: 4 files new, 12.0 KiB added', in_progress: false, progress: 100, current: null,
			available_snapshots: [{id: 'c0ffee00'.repeat(8), time: new Date(now - 2 * 3600_000).toISOString(), size: 12_288, source: data, description: 'host nas'}],
			next_run: new Date(now + 4 * 3600_000).toISOString(), window: null, last_error: null, last_prune: null, last_check: null, last_run: null, restore: null,
			updated: new Date(now).toISOString(),
		};
		await writeState(statePath, state);

		const env = [
			`HOME=${home}`,
			`XDG_CONFIG_HOME=${join(home, '.config')}`,
			`XDG_DATA_HOME=${join(home, '.local', 'share')}`,
			`CAIRN_SERVICE_CONFIG=${configPath}`,
			`PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
			'TERM=xterm-256color',
			`PS1=${PROMPT}`,
		];
		await tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', '-c', work, 'env', '-i', ...env, 'bash', '--norc', '--noprofile');
		await waitForPane(PROMPT.trimEnd());
		await tmux('send-keys', '-t', SESSION, '-l', `node ${CLI}; echo "CAIRN-EXIT=$?"`);
		await keys('Enter');

		const welcome = await waitForPane('Service configs (1 found)');
		expect(welcome).toContain('Welcome to cairn.');
		await keys('4', 'Enter');
		const list = await waitForPane('0 saved repositories, 1 service config');
		expect(list).toMatch(/nas\s+Service config/);
		await keys('Enter');
		const screen = await waitForPane('backup done: 4 files new, 12.0 KiB added');
		expect(screen).toContain('cairn › Service: nas');
		expect(screen).toMatch(/Last backup\s+\d{4}-\d\d-\d\d \d\d:\d\d \(2 h ago\)/);
		expect(screen).toMatch(/Next run\s+\d{4}-\d\d-\d\d \d\d:\d\d \(in (3 h 59 min|4 h)\)/);
		expect(screen).toContain('Snapshots (1), newest first');
		expect(screen).toContain('c0ffee00');
		expect(screen).toMatch(/r run now\s+s restore a snapshot\s+Esc back/);
		expect(screen).not.toContain('e2e-secret-value');

		// The service starts a backup: the screen follows.
		await writeState(statePath, {...state, in_progress: true, progress: 62, last_status: 'backup running', current: {operation: 'backup', started: new Date().toISOString(), pid: process.pid, files_done: 3, bytes_done: 9000, bytes_total: 12_288}});
		const running = await waitForPane('62%');
		expect(running).toContain('backup, 3 files, 8.79 KiB of 12.0 KiB');

		// While the service runs (the state names a live process), run now is refused.
		await keys('r');
		await waitForPane(`The service is running already (pid ${process.pid})`);

		// The backup ended; run now starts the real service (the CLI found next to the app's bundle),
		// which creates the repository and backs up the data.
		await writeFile(join(data, 'file.txt'), 'backed up from the Service screen\n');
		await writeState(statePath, {...state, last_status: 'backup done: 4 files new, 12.0 KiB added'});
		await waitForPane(/In progress\s+no/);
		await keys('r');
		const ran = await waitForPane(/Run now: finished after \d+:\d\d \(exit 0\)/, 60_000);
		expect(ran).toMatch(/Last status\s+backup done: snapshot [0-9a-f]{8}, 1 files? new/);
		expect(ran).toContain('Snapshots (1), newest first');
		expect(ran).not.toContain('c0ffee00');
		expect(existsSync(join(dir, 'repo', 'config'))).toBe(true);

		await keys('Escape');
		await waitForPane('0 saved repositories, 1 service config');
		await keys('Escape');
		await waitForPane('Service configs (1 found)');
		await keys('q');
		const after = await waitForPane('CAIRN-EXIT=0');
		expect(after).not.toContain('cairn ›');
	}, 120_000);
});
