/**
 * The service as processes of the built CLI, on a local repository: two runs never overlap (the
 * second exits at once with code 75 naming the holder); a run killed with SIGKILL in the middle of
 * a backup is shown as interrupted and the next run takes its lock over and succeeds; SIGTERM stops
 * a run cleanly; the foreground `service run` with `@every 2s` backs up several times and stops on
 * SIGTERM; a failing before_backup stops the run and runs on_failure; `service install` writes
 * units that `systemd-analyze verify` accepts, and a crontab line.
 */
import {existsSync} from 'node:fs';
import {mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {ServiceState} from '../../service/state.js';
import {CLI, describeRun, makeTempDir, makeVariedTree, runCairn, runRestic, startCairn, waitFor, writeSeededFile, type Running} from '../helpers/cli.js';
import {isProcessAlive, requireBinary, runProgram} from '../helpers/servers/processes.js';

const PASSWORD = 'process test password';
let base: string;
const running: Running[] = [];

beforeAll(async () => {
	base = await makeTempDir('cairn-service-process-');
});
afterAll(async () => {
	for (const run of running) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
	await Promise.all(running.map((run) => run.done));
	if (base) await rm(base, {recursive: true, force: true});
});

interface Setup {
	dir: string;
	config: string;
	source: string;
	state: string;
}

/** A config for a fresh local repository and source in `base/name`. */
async function setUp(name: string, extra: string, options: {bigFile?: number} = {}): Promise<Setup> {
	const dir = join(base, name);
	await mkdir(dir);
	const source = join(dir, 'data');
	await makeVariedTree(source, {seed: name, bigFileSize: 0});
	if (options.bigFile) await writeSeededFile(join(source, 'big.bin'), name, options.bigFile);
	const config = join(dir, `${name}.yaml`);
	const state = join(dir, 'state', `${name}.state.json`);
	await writeFile(config, `repository_password: "${PASSWORD}"
backend: {type: local, location: ${dir}/repo}
paths: [${source}]
state_file: ${state}
${extra}`, {mode: 0o600});
	return {dir, config, source, state};
}

function env(setup: Setup): Record<string, string> {
	return {XDG_CACHE_HOME: join(setup.dir, 'cache')};
}

function start(setup: Setup, args: string[]): Running {
	const run = startCairn(['service', ...args, '--config', setup.config], {env: env(setup)});
	running.push(run);
	return run;
}

async function readState(setup: Setup): Promise<ServiceState | undefined> {
	try {
		return JSON.parse(await readFile(setup.state, 'utf8')) as ServiceState;
	} catch {
		return undefined;
	}
}

async function countSnapshots(setup: Setup): Promise<number> {
	const result = await runRestic(['-r', join(setup.dir, 'repo'), 'snapshots', '--json'], {env: {RESTIC_PASSWORD: PASSWORD}});
	expect(result.code, describeRun(result)).toBe(0);
	return (JSON.parse(result.stdout) as unknown[]).length;
}

describe('cairn service as a process', () => {
	it('never runs twice at once: the second run says who holds the lock and exits 75', async () => {
		const setup = await setUp('overlap', `hooks: {before_backup: "sleep 8"}\n`);
		const first = start(setup, ['run', '--once']);
		await waitFor(async () => ((await readState(setup))?.current?.operation === 'hook' ? true : undefined), 30_000);
		const startedAt = Date.now();
		const second = await runCairn(['service', 'run', '--once', '--force', '--config', setup.config], {env: env(setup)});
		expect(second.code, describeRun(second)).toBe(75);
		// It did not wait for the first run, which is still in its hook.
		expect(first.child.exitCode).toBeNull();
		expect(Date.now() - startedAt).toBeLessThan(8000);
		expect(second.stderr).toContain(`another cairn service run holds the lock ${setup.state}.lock: process ${first.child.pid}`);
		const done = await first.done;
		expect(done.code, describeRun(done)).toBe(0);
		expect((await readState(setup))?.last_run?.result).toBe('success');
		expect(await countSnapshots(setup)).toBe(1);
		expect(existsSync(`${setup.state}.lock`)).toBe(false);
	});

	it('recovers from a SIGKILL in the middle of a backup', async () => {
		const setup = await setUp('killed', '', {bigFile: 96 * 1024 * 1024});
		const run = start(setup, ['run', '--once']);
		await waitFor(async () => {
			const state = await readState(setup);
			return state?.current?.operation === 'backup' ? state : undefined;
		}, 60_000, 5);
		run.child.kill('SIGKILL');
		const killed = await run.done;
		expect(killed.signal, describeRun(killed)).toBe('SIGKILL');
		expect(await isProcessAlive(run.child.pid!)).toBe(false);
		const raw = (await readState(setup))!;
		expect(raw.in_progress, JSON.stringify(raw)).toBe(true);
		expect(existsSync(`${setup.state}.lock`)).toBe(true);
		// status shows (and records) the run as interrupted.
		const status = await runCairn(['service', 'status', '--json', '--config', setup.config], {env: env(setup)});
		expect(status.code, describeRun(status)).toBe(0);
		const shown = JSON.parse(status.stdout) as ServiceState;
		expect(shown.in_progress, status.stdout).toBe(false);
		expect(shown.current).toBeNull();
		expect(shown.last_run?.result).toBe('failure');
		expect(shown.last_status, status.stdout).toMatch(new RegExp(`^interrupted: the backup started .* by process ${run.child.pid} ended without finishing`));
		expect((await readState(setup))?.in_progress).toBe(false);
		// status took the dead run's lock over to record that, and released it.
		expect(existsSync(`${setup.state}.lock`)).toBe(false);
		// The next run backs up.
		const next = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(next.code, describeRun(next)).toBe(0);
		const state = (await readState(setup))!;
		expect(state, describeRun(next)).toMatchObject({in_progress: false, current: null, last_error: null});
		expect(state.last_run?.result).toBe('success');
		expect(state.available_snapshots).toHaveLength(1);
		const check = await runRestic(['-r', join(setup.dir, 'repo'), 'check'], {env: {RESTIC_PASSWORD: PASSWORD}});
		expect(check.code, describeRun(check)).toBe(0);
	});

	it('stops a run --once cleanly on SIGTERM: no snapshot, lock released, state says so', async () => {
		const setup = await setUp('terminated', '', {bigFile: 96 * 1024 * 1024});
		const run = start(setup, ['run', '--once']);
		await waitFor(async () => ((await readState(setup))?.current?.operation === 'backup' ? true : undefined), 60_000, 5);
		run.child.kill('SIGTERM');
		const done = await run.done;
		expect(done.code, describeRun(done)).toBe(143);
		const state = (await readState(setup))!;
		expect(state).toMatchObject({in_progress: false, current: null});
		expect(state.last_run?.result).toBe('failure');
		expect(state.last_status).toMatch(/stopped during the backup: the service was asked to stop/);
		expect(existsSync(`${setup.state}.lock`)).toBe(false);
		expect(await countSnapshots(setup)).toBe(0);
		const locks = await runRestic(['-r', join(setup.dir, 'repo'), 'list', 'locks'], {env: {RESTIC_PASSWORD: PASSWORD}});
		expect(locks.stdout.trim()).toBe('');
	});

	it('runs in the foreground every 2 s until SIGTERM', async () => {
		const setup = await setUp('foreground', `schedule: "@every 2s"\nhooks: {after_backup: "echo $CAIRN_SNAPSHOT_ID >> ${base}/foreground-ids"}\n`);
		const run = start(setup, ['run']);
		const ids = await waitFor(async () => {
			const text = await readFile(join(base, 'foreground-ids'), 'utf8').catch(() => '');
			const lines = text.trim().split('\n').filter(Boolean);
			return lines.length >= 3 ? lines : undefined;
		}, 60_000, 50);
		run.child.kill('SIGTERM');
		const done = await run.done;
		expect(done.code, describeRun(done)).toBe(0);
		expect(done.stderr).toContain('SIGTERM: stopping cleanly');
		expect(done.stderr).toContain('service stopped');
		expect(new Set(ids).size).toBe(ids.length);
		const state = (await readState(setup))!;
		expect(state).toMatchObject({in_progress: false, current: null});
		expect(state.available_snapshots.length).toBeGreaterThanOrEqual(3);
		expect(existsSync(`${setup.state}.lock`)).toBe(false);
		// The runs started 2 s apart (a snapshot's time is its end, so allow for differing durations).
		const times = state.available_snapshots.map((s) => new Date(s.time).getTime()).sort();
		expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((times.length - 1) * 2000 - 1000);
	});

	it('stops at a failing before_backup, runs on_failure with CAIRN_ERROR and records the error', async () => {
		const setup = await setUp('hookfail', `log_file: ${base}/hookfail.log
hooks:
  before_backup: "echo cannot snapshot >&2; exit 3"
  on_failure: "echo \\"$CAIRN_ERROR\\" > ${base}/failure-message"
`);
		const result = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain('hook before_backup stderr: cannot snapshot');
		const state = (await readState(setup))!;
		expect(state.last_error).toBe('the before_backup hook failed: the before_backup hook exited with code 3: cannot snapshot');
		expect(state.last_run?.result).toBe('failure');
		expect((await readFile(join(base, 'failure-message'), 'utf8')).trim()).toBe(state.last_error);
		// The log file keeps the hooks' output too, and only its owner can read it.
		expect(await readFile(join(base, 'hookfail.log'), 'utf8')).toMatch(/error \[hookfail\] the before_backup hook exited with code 3: cannot snapshot/);
		expect((await stat(join(base, 'hookfail.log'))).mode & 0o777).toBe(0o600);
		expect(await readFile(join(base, 'hookfail.log'), 'utf8')).not.toContain(PASSWORD);
		expect(await countSnapshots(setup)).toBe(0);
	});

	it('writes systemd units that systemd-analyze verify accepts, and a crontab line', async () => {
		await requireBinary('/usr/bin/systemd-analyze', 'install Debian\'s systemd package');
		const setup = await setUp('units', 'schedule: "30 2 * * *"\n');
		const unitDir = join(setup.dir, 'units');
		const install = await runCairn(['service', 'install', '--systemd', '--unit-dir', unitDir, '--config', setup.config], {env: env(setup)});
		expect(install.code, describeRun(install)).toBe(0);
		const service = await readFile(join(unitDir, 'cairn-units.service'), 'utf8');
		const timer = await readFile(join(unitDir, 'cairn-units.timer'), 'utf8');
		expect(service).toContain(`ExecStart=${process.execPath} ${CLI} service run --once --config ${setup.config}`);
		expect(timer).toContain('Persistent=true');
		expect(timer).toContain('OnCalendar=*:0/5');
		expect((await stat(join(unitDir, 'cairn-units.timer'))).mode & 0o777).toBe(0o644);
		const verified = await runProgram('systemd-analyze', ['verify', join(unitDir, 'cairn-units.service'), join(unitDir, 'cairn-units.timer')]);
		expect(verified).not.toMatch(/error|refusing|failed/i);
		// A broken copy fails, so the check above means something.
		await writeFile(join(unitDir, 'broken.timer'), timer.replace('OnCalendar=*:0/5', 'OnCalendar=sometimes').replace('Unit=cairn-units.service', 'Unit=cairn-units.service'));
		await expect(runProgram('systemd-analyze', ['verify', join(unitDir, 'broken.timer')])).rejects.toThrow();
		const dry = await runCairn(['service', 'install', '--dry-run', '--config', setup.config], {env: env(setup)});
		expect(dry.stdout).toContain('# cairn-units.service');
		expect(dry.stdout).toContain('# cairn-units.timer');
		const cron = await runCairn(['service', 'install', '--cron', '--dry-run', '--config', setup.config], {env: env(setup)});
		expect(cron.code, describeRun(cron)).toBe(0);
		expect(cron.stdout.trim()).toBe(`30 2 * * * ${process.execPath} ${CLI} service run --once --config ${setup.config} # cairn service units`);
	});
});

describe('a second run against a dead run\'s lock', () => {
	it('takes the lock over and says whose it was', async () => {
		const setup = await setUp('takeover', '');
		await mkdir(join(setup.dir, 'state'), {recursive: true});
		// A process that has certainly exited.
		const gone = startCairn(['--version']);
		running.push(gone);
		await gone.done;
		await writeFile(`${setup.state}.lock`, JSON.stringify({pid: gone.child.pid, hostname: (await import('node:os')).hostname(), started: new Date().toISOString(), command: 'cairn service run --once', token: 'dead'}));
		const result = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(result.code, describeRun(result)).toBe(0);
		expect(result.stderr).toContain(`took over the service lock of process ${gone.child.pid}, which no longer runs`);
		expect(existsSync(`${setup.state}.lock`)).toBe(false);
		expect(await countSnapshots(setup)).toBe(1);
	});
});

describe('prune, check and saved profiles', () => {
	it('prunes and checks when due (and all of it with --force)', async () => {
		const setup = await setUp('maintenance', 'retention: {keep_latest: 1}\nprune: weekly\ncheck: {every: monthly, read_data_subset: 50%}\n');
		const first = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(first.code, describeRun(first)).toBe(0);
		expect(first.stderr).toMatch(/prune done: \d+ packs removed/);
		expect(first.stderr).toMatch(/check done: no errors/);
		const afterFirst = (await readState(setup))!;
		expect(afterFirst.last_prune).not.toBeNull();
		expect(afterFirst.last_check).not.toBeNull();
		// Not due again: the next run only backs up (and forgets the older snapshot).
		await writeSeededFile(join(setup.source, 'new.bin'), 'new', 200_000);
		const second = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(second.code, describeRun(second)).toBe(0);
		expect(second.stderr).not.toMatch(/prune done|check done/);
		const afterSecond = (await readState(setup))!;
		expect(afterSecond.last_prune).toBe(afterFirst.last_prune);
		expect(afterSecond.available_snapshots).toHaveLength(1);
		const forced = await runCairn(['service', 'run', '--once', '--force', '--config', setup.config], {env: env(setup)});
		expect(forced.code, describeRun(forced)).toBe(0);
		expect(forced.stderr).toMatch(/prune done: [1-9]\d* packs removed/);
		expect((await readState(setup))!.last_prune).not.toBe(afterFirst.last_prune);
		const check = await runRestic(['-r', join(setup.dir, 'repo'), 'check', '--read-data'], {env: {RESTIC_PASSWORD: PASSWORD}});
		expect(check.code, describeRun(check)).toBe(0);
	});

	it('opens the repository of a profile saved by the app, with its password file', async () => {
		const setup = await setUp('profiled', '');
		const configHome = join(setup.dir, 'xdg-config');
		const passwordFile = join(setup.dir, 'password');
		await writeFile(passwordFile, `${PASSWORD}\n`, {mode: 0o600});
		const {openProfileStore} = await import('../../components/profiles.js');
		openProfileStore({XDG_CONFIG_HOME: configHome, HOME: setup.dir}).saveProfile({name: 'nas', location: `local:${setup.dir}/profile-repo`, passwordFile});
		await writeFile(setup.config, `backend: {profile: nas}\npaths: [${setup.source}]\nstate_file: ${setup.state}\n`, {mode: 0o644});
		const result = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: {...env(setup), XDG_CONFIG_HOME: configHome}});
		expect(result.code, describeRun(result)).toBe(0);
		expect((await readState(setup))!.repository).toBe(`local:${setup.dir}/profile-repo`);
		const snapshots = await runRestic(['-r', join(setup.dir, 'profile-repo'), 'snapshots', '--json'], {env: {RESTIC_PASSWORD: PASSWORD}});
		expect(JSON.parse(snapshots.stdout)).toHaveLength(1);
		const missing = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: {...env(setup), XDG_CONFIG_HOME: join(setup.dir, 'elsewhere')}});
		expect(missing.code, describeRun(missing)).toBe(2);
		expect(missing.stderr).toMatch(/:1: backend\.profile: no saved profile named "nas"/);
	});
});

describe('windows in the system time zone', () => {
	it('reports the window edges in local time with the zone offset', async () => {
		const setup = await setUp('zones', 'maintenance_windows: [{start_hour: 3, start_minute: 0, end_hour: 4, end_minute: 15}]\n');
		for (const [zone, offset] of [['Asia/Kathmandu', '\\+05:45'], ['America/New_York', '-0[45]:00'], ['UTC', '\\+00:00']] as const) {
			const result = await runCairn(['service', 'status', '--json', '--config', setup.config], {env: {...env(setup), TZ: zone}});
			expect(result.code, describeRun(result)).toBe(0);
			const state = JSON.parse(result.stdout) as ServiceState;
			const edge = state.window!.open ? state.window!.closes_at! : state.window!.opens_at!;
			expect(edge, zone).toMatch(new RegExp(`T0${state.window!.open ? '4:15' : '3:00'}:00${offset}$`));
			// The edge is the same instant however it is written.
			const inWindow = state.window!.open;
			const hourThere = Number(new Intl.DateTimeFormat('en-GB', {timeZone: zone, hour: '2-digit', hourCycle: 'h23'}).format(new Date(edge)));
			expect(hourThere).toBe(inWindow ? 4 : 3);
		}
	});
});

describe('the one-time restore of a file and of a removed directory', () => {
	it('puts back a single file and recreates a directory that is gone', async () => {
		const setup = await setUp('inplace', '');
		const file = join(setup.dir, 'settings.conf');
		await writeFile(file, 'version one\n');
		await writeFile(setup.config, `repository_password: "${PASSWORD}"
backend: {type: local, location: ${setup.dir}/repo}
paths: [${file}, ${setup.source}]
state_file: ${setup.state}
restore_snapshot_id: ""   # one-time restore
`, {mode: 0o600});
		const first = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(first.code, describeRun(first)).toBe(0);
		const snapshotId = (await readState(setup))!.last_run!.snapshot_id!;
		await writeFile(file, 'version two, longer\n');
		await rm(setup.source, {recursive: true});
		const {setRestoreSnapshotId} = await import('../../service/config-edit.js');
		await setRestoreSnapshotId(setup.config, snapshotId);
		const restore = await runCairn(['service', 'run', '--once', '--config', setup.config], {env: env(setup)});
		expect(restore.code, describeRun(restore)).toBe(0);
		expect(await readFile(file, 'utf8')).toBe('version one\n');
		const expected = join(setup.dir, 'restic-restore');
		const restic = await runRestic(['-r', join(setup.dir, 'repo'), 'restore', snapshotId, '--target', expected], {env: {RESTIC_PASSWORD: PASSWORD}});
		expect(restic.code, describeRun(restic)).toBe(0);
		const {compareTrees, restoredPath} = await import('../helpers/cli.js');
		expect(await compareTrees(restoredPath(expected, setup.source), setup.source)).toEqual([]);
		expect(await compareTrees(restoredPath(expected, file), file)).toEqual([]);
		const state = (await readState(setup))!;
		expect(state.restore).toMatchObject({snapshot_id: snapshotId, result: 'success'});
		expect(await readFile(setup.config, 'utf8')).toContain('restore_snapshot_id: ""   # one-time restore');
		// Nothing of the staging is left beside or inside the paths.
		const {readdir} = await import('node:fs/promises');
		expect([...await readdir(setup.dir), ...await readdir(setup.source)].filter((name) => name.startsWith('.cairn-'))).toEqual([]);
	});
});
