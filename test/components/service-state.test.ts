/**
 * The Service screen's pure parts and the discovery of service configs: the picker and its two
 * confirmations, and which files of the config directory are listed.
 */
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createServiceScreenState, reduceServiceScreen, type ServiceScreenState} from '../../components/state/service.js';
import {discoverServiceConfigs} from '../../components/service-files.js';
import {formatTimeUntil} from '../../components/screens/service.js';
import type {ServiceState} from '../../components/service-files.js';

let dir: string | undefined;
afterEach(async () => {
	if (dir !== undefined) await rm(dir, {recursive: true, force: true});
	dir = undefined;
});

function stateWith(times: string[]): ServiceState {
	return {
		version: 1, name: 'n', config_path: '/c', repository: 'local:/r', repository_connected: true, last_backup: null, last_status: '', in_progress: false, progress: 0, current: null,
		available_snapshots: times.map((time, index) => ({id: String(index).repeat(64), time, size: 1, source: '/d', description: ''})),
		next_run: null, window: null, last_error: null, last_prune: null, last_check: null, last_run: null, restore: null, updated: times[0] ?? '',
	};
}

describe('Service screen state', () => {
	it('picks among the snapshots newest first and needs two confirmations; Esc steps back one level', () => {
		let state: ServiceScreenState = createServiceScreenState();
		state = reduceServiceScreen(state, {type: 'open-picker'});
		expect(state.mode.name).toBe('view');
		expect(state.notice).toContain('No snapshot to restore');
		state = reduceServiceScreen(state, {type: 'state-read', state: stateWith(['2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z'])});
		state = reduceServiceScreen(state, {type: 'open-picker'});
		state = reduceServiceScreen(state, {type: 'move', cursor: 1, rows: 10});
		state = reduceServiceScreen(state, {type: 'choose'});
		// Newest first: index 1 is February's, which is the third in the file.
		expect(state.mode).toMatchObject({name: 'confirm', step: 1, snapshotId: '2'.repeat(64)});
		state = reduceServiceScreen(state, {type: 'confirm'});
		expect(state.mode).toMatchObject({name: 'confirm', step: 2});
		state = reduceServiceScreen(state, {type: 'back'});
		expect(state.mode).toMatchObject({name: 'pick', cursor: 1});
		state = reduceServiceScreen(state, {type: 'move', cursor: 99, rows: 2});
		expect(state.mode).toMatchObject({name: 'pick', cursor: 2, offset: 1});
		state = reduceServiceScreen(state, {type: 'back'});
		expect(state.mode.name).toBe('view');
	});

	it('records one child run and its exit once', () => {
		let state = reduceServiceScreen(createServiceScreenState(), {type: 'run-started', kind: 'run', pid: 10, started: 1000});
		state = reduceServiceScreen(state, {type: 'run-exited', code: 1, signal: null, stderrTail: 'boom', finished: 2000});
		state = reduceServiceScreen(state, {type: 'run-exited', code: 0, signal: null, stderrTail: '', finished: 3000});
		expect(state.run?.exit).toEqual({code: 1, signal: null, stderrTail: 'boom', finished: 2000});
	});

	it('says how long until a time', () => {
		const now = Date.UTC(2026, 0, 1);
		expect(formatTimeUntil(new Date(now - 1000), now)).toBe('due now');
		expect(formatTimeUntil(new Date(now + 5 * 60_000), now)).toBe('in 5 min');
		expect(formatTimeUntil(new Date(now + 125 * 60_000), now)).toBe('in 2 h 5 min');
		expect(formatTimeUntil(new Date(now + 30 * 3600_000), now)).toBe('in 30 h');
		expect(formatTimeUntil(new Date(now + 5 * 86_400_000), now)).toBe('in 5 days');
	});
});

describe('service config discovery', () => {
	it('lists the configs of a directory that load, an explicit file with its problem, and nothing else', async () => {
		dir = await mkdtemp(join(tmpdir(), 'cairn-service-configs-'));
		const configs = join(dir, 'configs');
		await mkdir(configs);
		const good = ['backend:', '  type: local', `  location: ${join(dir, 'repo')}`, 'repository_password: pw', 'paths: [/srv/data]', ''].join('\n');
		await writeFile(join(configs, 'b-nas.yaml'), good, {mode: 0o600});
		await writeFile(join(configs, 'a-box.json'), JSON.stringify({backend: {type: 'local', location: join(dir, 'repo2')}, repository_password_file: '/nonexistent/pw', paths: ['/srv']}), {mode: 0o600});
		await writeFile(join(configs, 'notes.yml'), 'just: notes\n');
		await writeFile(join(configs, 'readme.txt'), 'not a config\n');
		const broken = join(dir, 'broken.yaml');
		await writeFile(broken, 'backend:\n  type: nosuchbackend\npaths: [/x]\nrepository_password: pw\n', {mode: 0o600});
		await chmod(broken, 0o600);
		const env = {HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home', '.config')};

		// (As root the default directory is /etc/cairn: only what is in the test's directory counts.)
		const fromDirectory = (await discoverServiceConfigs({...env, CAIRN_SERVICE_CONFIG: configs}, dir)).filter((entry) => entry.path.startsWith(dir!));
		expect(fromDirectory.map((entry) => [entry.name, entry.error === undefined])).toEqual([['a-box', true], ['b-nas', true]]);

		const explicit = (await discoverServiceConfigs({...env, CAIRN_SERVICE_CONFIG: 'broken.yaml'}, dir)).filter((entry) => entry.path.startsWith(dir!));
		expect(explicit).toHaveLength(1);
		expect(explicit[0]!.path).toBe(broken);
		expect(explicit[0]!.error).toContain(`${broken}:2`);
		expect(explicit[0]!.error).toContain('backend.type');
	});
});
