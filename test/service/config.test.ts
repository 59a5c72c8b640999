/**
 * The service's config: validation before anything runs (file, line, field and what is
 * expected), the permission check on secrets, the atomic edit of restore_snapshot_id that keeps
 * comments, the state file, the service lock and the hooks' helpers. Bad configs are also run
 * through the built CLI, which must refuse them with exit code 2 before doing anything.
 */
import {chmod, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {loadServiceConfig, ServiceConfigError} from '../../service/config.js';
import {setRestoreSnapshotId} from '../../service/config-edit.js';
import {createServiceState, readServiceState, repairInterruptedState, writeServiceState} from '../../service/state.js';
import {acquireServiceLock, findLockPath, ServiceLockedError} from '../../service/lock.js';
import {buildHookEnvironment, readSnapshotPaths} from '../../service/hooks.js';
import {scrubSecrets} from '../../service/log.js';
import {CLI, describeRun, makeTempDir, runCairn} from '../helpers/cli.js';
import {buildServiceCommand} from '../../service/spawn.js';
import {applyMemoryLimit} from '../../service/runner.js';
import {findMemoryLimit, MEMORY_LIMIT_ENV} from '../../engine/util/memory-budget.js';

let base: string;
beforeAll(async () => {
	base = await makeTempDir('cairn-service-config-');
	await mkdir(join(base, 'data'));
});
afterAll(async () => {
	await rm(base, {recursive: true, force: true});
});

let counter = 0;
async function writeConfig(text: string, mode = 0o600): Promise<string> {
	const file = join(base, `config-${++counter}.yaml`);
	await writeFile(file, text);
	await chmod(file, mode);
	return file;
}

const GOOD = (extra = '') => `# a comment
repository_password: correct horse
backend:
  type: local
  location: ${'$'}{BASE}/repo
paths:
  - ${'$'}{BASE}/data
${extra}`;

function good(extra = ''): string {
	return GOOD(extra).replaceAll('${BASE}', base);
}

async function loadError(text: string, mode = 0o600): Promise<ServiceConfigError> {
	const file = await writeConfig(text, mode);
	const error = await loadServiceConfig(file, {isRoot: false}).then(() => undefined, (e: unknown) => e);
	expect(error, text).toBeInstanceOf(ServiceConfigError);
	const configError = error as ServiceConfigError;
	expect(configError.file).toBe(file);
	expect(configError.message.startsWith(file)).toBe(true);
	return configError;
}

describe('loading a config', () => {
	it('reads the Incus field names and cairn\'s, with defaults', async () => {
		const file = await writeConfig(good(`schedule: "@every 6h"
retention: {keep_latest: 3, keep_daily: 7, keep_within_weekly: 2m, keep_tag: [safety]}
maintenance_windows:
  - {start_day_of_week: saturday, start_hour: 22, start_minute: 0, end_day_of_week: monday, end_hour: 2, end_minute: 0}
prune: weekly
check: {every: monthly, read_data_subset: 5%}
limit_upload: 1024
limit_download: "2048"
hooks: {before_backup: "true", timeout: 90s, after_backup: {command: "true", timeout: 10}}
notify: {url: "https://hc-ping.com/abc", on: [failure, success]}
state_file: ${base}/state.json
`));
		const config = await loadServiceConfig(file, {isRoot: false});
		expect(config.name).toBe(file.split('/').pop()!.replace('.yaml', ''));
		expect(config.enabled).toBe(true);
		expect(config.backend).toMatchObject({type: 'local', location: `local:${base}/repo`});
		expect(config.retention).toMatchObject({latest: 3, daily: 7, withinWeekly: {months: 2}, tags: [['safety']]});
		expect(config.maintenance_windows).toEqual([{start_day_of_week: 6, start_hour: 22, start_minute: 0, end_day_of_week: 1, end_hour: 2, end_minute: 0}]);
		expect(config.prune?.schedule.kind).toBe('cron');
		expect(config.check?.read_data_subset).toEqual({percent: 5});
		expect([config.limit_upload, config.limit_download]).toEqual([1024, 2048]);
		expect(config.hooks.before_backup).toEqual({command: 'true', timeout_ms: 90_000});
		expect(config.hooks.after_backup).toEqual({command: 'true', timeout_ms: 10_000});
		expect(config.state_file).toBe(join(base, 'state.json'));
		expect(config.secrets).toEqual(expect.arrayContaining(['correct horse', 'https://hc-ping.com/abc']));
		// healthchecks.io takes failures at <ping URL>/fail.
		expect(config.notify).toMatchObject({url: 'https://hc-ping.com/abc', failure_url: 'https://hc-ping.com/abc/fail', on: ['failure', 'success']});
	});

	it('maps type: s3 with an s3 mapping to the S3 adapter', async () => {
		const config = await loadServiceConfig(await writeConfig(`repository_password_command: echo pw
backend:
  type: s3
  s3: {endpoint: "minio.example.com:9000", bucket: backups, access_key: AKID, secret_key: SECRETKEY, region: eu-west-1}
paths: [${base}/data]
`), {isRoot: false});
		expect(config.backend.location).toBe('s3:https://minio.example.com:9000/backups');
		expect(config.backend.options).toEqual({'s3.access-key-id': 'AKID', 's3.secret-access-key': 'SECRETKEY', 's3.region': 'eu-west-1'});
		expect(config.repository).not.toContain('SECRETKEY');
		expect(config.secrets).toContain('SECRETKEY');
		expect(config.password).toEqual({kind: 'command', command: 'echo pw'});
	});

	it('puts the state under XDG_STATE_HOME, or /var/lib/cairn for root, unless state_file is set', async () => {
		const file = await writeConfig(good());
		const name = file.split('/').pop()!.replace('.yaml', '');
		expect((await loadServiceConfig(file, {isRoot: false, env: {XDG_STATE_HOME: '/xdg/state', HOME: '/home/x'}})).state_file).toBe(`/xdg/state/cairn/${name}.state.json`);
		expect((await loadServiceConfig(file, {isRoot: false, env: {HOME: '/home/x'}})).state_file).toBe(`/home/x/.local/state/cairn/${name}.state.json`);
		expect((await loadServiceConfig(file, {isRoot: true, env: {}})).state_file).toBe(`/var/lib/cairn/${name}.state.json`);
	});

	it('refuses an unknown backend type, naming the line and the known types', async () => {
		const error = await loadError(good().replace('type: local', 'type: floppy'));
		expect(error.line).toBe(4);
		expect(error.field).toBe('backend.type');
		expect(error.message).toMatch(/unknown backend type "floppy"; expected one of .*local.*s3/);
	});

	it('refuses a bad window, naming the field inside the list', async () => {
		const error = await loadError(good(`maintenance_windows:
  - start_hour: 22
    start_minute: 0
    end_hour: 6
    end_minute: 0
  - start_hour: 25
    end_hour: 3
`));
		expect(error.field).toBe('maintenance_windows[1].start_hour');
		expect(error.line).toBe(13);
		expect(error.message).toMatch(/a whole hour from 0 to 23/);
		const oneDay = await loadError(good('maintenance_windows: [{start_day_of_week: monday, start_hour: 1, start_minute: 0, end_hour: 2, end_minute: 0}]\n'));
		expect(oneDay.field).toBe('maintenance_windows[0].end_day_of_week');
		const badDay = await loadError(good('maintenance_windows: [{start_day_of_week: funday, start_hour: 1, start_minute: 0, end_day_of_week: monday, end_hour: 2, end_minute: 0}]\n'));
		expect(badDay.message).toMatch(/start_day_of_week: expected a day of the week/);
	});

	it('refuses a bad schedule, prune or check', async () => {
		const error = await loadError(good('schedule: "@every six hours"\n'));
		expect(error.field).toBe('schedule');
		expect(error.line).toBe(8);
		expect(error.message).toMatch(/not a duration/);
		expect((await loadError(good('schedule: "61 * * * *"\n'))).message).toMatch(/not a valid cron expression/);
		expect((await loadError(good('prune: fortnightly\n'))).field).toBe('prune');
		expect((await loadError(good('check: {every: monthly, read_data_subset: 150%}\n'))).field).toBe('check.read_data_subset');
	});

	it('refuses a missing password and a password given twice', async () => {
		const missing = await loadError(good().replace('repository_password: correct horse\n', ''));
		expect(missing.field).toBe('repository_password');
		expect(missing.message).toMatch(/missing: give the repository password with repository_password_file/);
		const twice = await loadError(good().replace('repository_password: correct horse\n', 'repository_password: a\nrepository_password_command: echo a\n'));
		expect(twice.field).toBe('repository_password_command');
		expect(twice.line).toBe(3);
		expect(twice.message).toMatch(/the password is given twice/);
		expect(twice.message).not.toContain(': a\n');
	});

	it('refuses a config holding a secret that group or others can read, with the chmod to run', async () => {
		const error = await loadError(good(), 0o644);
		expect(error.message).toContain(`chmod 600 ${error.file}`);
		expect(error.message).not.toContain('correct horse');
		// Without a secret in it, a readable config is fine.
		const passwordFile = join(base, 'password');
		await writeFile(passwordFile, 'from a file\n', {mode: 0o600});
		const readable = await writeConfig(good().replace('repository_password: correct horse', `repository_password_file: ${passwordFile}`), 0o644);
		await expect(loadServiceConfig(readable, {isRoot: false})).resolves.toMatchObject({password: {kind: 'file', path: passwordFile}});
		// A password file others can read is refused the same way.
		await chmod(passwordFile, 0o640);
		const fileError = await loadServiceConfig(readable, {isRoot: false}).catch((e: unknown) => e as ServiceConfigError);
		expect(fileError).toBeInstanceOf(ServiceConfigError);
		expect((fileError as ServiceConfigError).message).toContain(`chmod 600 ${passwordFile}`);
	});

	it('refuses unknown fields, unknown adapter options, bad limits and relative paths, all at once', async () => {
		const error = await loadError(good('retension: {keep_daily: 3}\nlimit_upload: -5\n').replace('location: ', 'options: {color: blue}\n  location: ').replace(`- ${base}/data`, '- data'));
		const fields = error.issues.map((issue) => issue.field);
		expect(fields).toEqual(expect.arrayContaining(['retension', 'backend.options.color', 'limit_upload', 'paths[0]']));
		expect(error.message).toMatch(/: \d+ problems:\n/);
	});

	it('reads max_memory as --max-memory reads a size, and refuses what it cannot use', async () => {
		for (const [text, bytes] of [['512M', 512 * 1024 ** 2], ['"1.5GiB"', 1.5 * 1024 ** 3], ['268435456', 256 * 1024 ** 2]] as const) {
			const config = await loadServiceConfig(await writeConfig(good(`max_memory: ${text}\n`)), {isRoot: false});
			expect(config.max_memory, text).toBe(bytes);
		}
		expect((await loadServiceConfig(await writeConfig(good()), {isRoot: false})).max_memory).toBeNull();
		const tooSmall = await loadError(good('max_memory: 64M\n'));
		expect(tooSmall.field).toBe('max_memory');
		expect(tooSmall.line).toBe(8);
		expect(tooSmall.message).toMatch(/max_memory: 64M is too little; cairn needs at least 128M/);
		const noUnit = await loadError(good('max_memory: lots\n'));
		expect(noUnit.message).toMatch(/max_memory: "lots" is not a memory size; give a number with a unit, e.g. 512M or 2G/);
		const wrongType = await loadError(good('max_memory: [1, 2]\n'));
		expect(wrongType.message).toMatch(/max_memory: expected a memory size with a unit, e\.g\. 512M or 2G, found/);
	});

	it('puts max_memory in the environment for a run, over CAIRN_MAX_MEMORY, and puts it back after', () => {
		const env: NodeJS.ProcessEnv = {[MEMORY_LIMIT_ENV]: '2G'};
		const restore = applyMemoryLimit({max_memory: 512 * 1024 ** 2}, env);
		expect(findMemoryLimit(env, 16 * 1024 ** 3)).toBe(512 * 1024 ** 2);
		restore();
		expect(env[MEMORY_LIMIT_ENV]).toBe('2G');
		const empty: NodeJS.ProcessEnv = {};
		const undo = applyMemoryLimit({max_memory: 300 * 1024 ** 2}, empty);
		expect(findMemoryLimit(empty, 16 * 1024 ** 3)).toBe(300 * 1024 ** 2);
		undo();
		expect(MEMORY_LIMIT_ENV in empty).toBe(false);
		applyMemoryLimit({max_memory: null}, empty)();
		expect(empty).toEqual({});
	});

	it('says which line YAML cannot parse', async () => {
		const error = await loadError('paths: [/a\nbackend: {type: local\n');
		expect(error.line).not.toBeNull();
		expect(error.message).toMatch(/not valid YAML/);
	});
});

describe('restore_snapshot_id edits', () => {
	it('sets and clears the field atomically, keeping comments, order and mode', async () => {
		const text = `# service config for the NAS
repository_password: pw   # never shown
backend:
  type: local   # a directory
  location: ${base}/repo
# the one-time restore:
restore_snapshot_id: ""   # set by the app
paths:
  - ${base}/data
`;
		const file = await writeConfig(text);
		expect(await setRestoreSnapshotId(file, 'abcdef12')).toBe(true);
		const set = await readFile(file, 'utf8');
		expect(set).toBe(text.replace('restore_snapshot_id: ""', 'restore_snapshot_id: "abcdef12"'));
		expect(set).toContain('# service config for the NAS');
		expect(set).toContain('# never shown');
		expect((await loadServiceConfig(file, {isRoot: false})).restore_snapshot_id).toBe('abcdef12');
		await expect(setRestoreSnapshotId(file, undefined, {expected: '99999999'})).rejects.toThrow(/left as it is/);
		expect(await setRestoreSnapshotId(file, undefined, {expected: 'abcdef12'})).toBe(true);
		const cleared = await readFile(file, 'utf8');
		expect(cleared).toBe(text);
		expect((await stat(file)).mode & 0o777).toBe(0o600);
		await expect(setRestoreSnapshotId(file, 'not an id')).rejects.toThrow(/not a snapshot ID/);
	});

	it('adds the field to a file without it, and clears a plain value', async () => {
		const text = `repository_password: pw\nbackend: {type: local, location: ${base}/repo}   # flow style stays\npaths: [${base}/data]`;
		const file = await writeConfig(text);
		await setRestoreSnapshotId(file, 'latest');
		expect(await readFile(file, 'utf8')).toBe(`${text}\nrestore_snapshot_id: "latest"\n`);
		const plain = await writeConfig(`restore_snapshot_id: 0123abcd   # plain\n${text}`);
		await setRestoreSnapshotId(plain, undefined);
		expect(await readFile(plain, 'utf8')).toBe(`restore_snapshot_id: ""   # plain\n${text}`);
	});
});

describe('state, lock and hook helpers', () => {
	it('writes the state atomically with mode 0600 and repairs a run whose process is gone', async () => {
		const path = join(base, 'state', 'x.state.json');
		expect(await readServiceState(path)).toBeUndefined();
		const state = createServiceState({name: 'x', config_path: '/c', repository: 'local:/r'});
		state.in_progress = true;
		state.current = {operation: 'backup', started: '2026-01-01T00:00:00.000Z', pid: 999_999_999};
		state.last_run = {started: '2026-01-01T00:00:00.000Z', finished: null, result: 'running', snapshot_id: null, duration_ms: null};
		await writeServiceState(path, state);
		expect((await stat(path)).mode & 0o777).toBe(0o600);
		const read = (await readServiceState(path))!;
		expect(read.in_progress).toBe(true);
		const repaired = repairInterruptedState(read);
		expect(repaired.in_progress).toBe(false);
		expect(repaired.current).toBeNull();
		expect(repaired.last_run?.result).toBe('failure');
		expect(repaired.last_status).toMatch(/interrupted: the backup started .* by process 999999999/);
		// A live process is left alone.
		expect(repairInterruptedState({...read, current: {...read.current!, pid: process.pid}}).in_progress).toBe(true);
	});

	it('takes the service lock once, tells who holds it, and takes over a dead holder\'s lock', async () => {
		const stateFile = join(base, 'lock', 'y.state.json');
		const first = await acquireServiceLock(stateFile, 'test one');
		const second = await acquireServiceLock(stateFile, 'test two').catch((e: unknown) => e);
		expect(second).toBeInstanceOf(ServiceLockedError);
		expect((second as Error).message).toContain(`process ${process.pid}`);
		expect((second as Error).message).toContain('test one');
		await first.release();
		await writeFile(findLockPath(stateFile), JSON.stringify({pid: 999_999_999, hostname: (await import('node:os')).hostname(), started: 'then', command: 'killed', token: 'dead'}));
		const third = await acquireServiceLock(stateFile, 'test three');
		expect(third.tookOver?.pid).toBe(999_999_999);
		await third.release();
		await expect(stat(findLockPath(stateFile))).rejects.toThrow();
	});

	it('reads CAIRN_SNAPSHOT_PATH lines and keeps secrets out of hooks and logs', () => {
		expect(readSnapshotPaths('noise\nCAIRN_SNAPSHOT_PATH=/mnt/snap\n', ['/srv/data'])).toEqual({readFrom: {'/srv/data': '/mnt/snap'}, problems: []});
		expect(readSnapshotPaths('CAIRN_SNAPSHOT_PATH=/a=/snap/a\nCAIRN_SNAPSHOT_PATH=/c=/x', ['/a', '/b']).problems).toHaveLength(1);
		const env = buildHookEnvironment({CAIRN_SOURCE_PATH: '/srv'}, {PATH: '/bin', CAIRN_PASSWORD: 'x', RESTIC_PASSWORD_FILE: '/p', AWS_SECRET_ACCESS_KEY: 'k'});
		expect(env).toEqual({PATH: '/bin', CAIRN_SOURCE_PATH: '/srv'});
		expect(scrubSecrets('url https://hc/p?k=s3cr%2Ft and s3cr/t', ['s3cr/t'])).toBe('url https://hc/p?k=*** and ***');
	});
});

describe('bad configs through the built CLI', () => {
	it('exits 2 before doing anything, naming the file and the field', async () => {
		const repo = join(base, 'never-created');
		const cases: Array<[string, RegExp]> = [
			[good().replace('type: local', 'type: floppy'), /:4: backend\.type: unknown backend type "floppy"/],
			[good('maintenance_windows: [{start_hour: 22, start_minute: 0, end_hour: 99, end_minute: 0}]\n'), /:8: maintenance_windows\[0\]\.end_hour: expected a whole hour/],
			[good('schedule: "@every soon"\n'), /:8: schedule: "soon" is not a duration/],
			[good().replace('repository_password: correct horse\n', ''), /repository_password: missing/],
			[good().replace('repository_password: correct horse', 'repository_password: a\nrepository_password_file: /etc/hostname'), /password is given twice/],
		];
		for (const [text, expected] of cases) {
			const file = await writeConfig(text.replace(`${base}/repo`, repo));
			const result = await runCairn(['service', 'run', '--once', '--config', file]);
			expect(result.code, describeRun(result)).toBe(2);
			expect(result.stderr).toContain(file);
			expect(result.stderr).toMatch(expected);
		}
		const readable = await writeConfig(good().replace(`${base}/repo`, repo), 0o604);
		const result = await runCairn(['service', 'run', '--once', '--config', readable]);
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toContain(`chmod 600 ${readable}`);
		expect(result.stderr).not.toContain('correct horse');
		await expect(stat(repo)).rejects.toThrow();
	});
});

describe('a JSON config', () => {
	it('loads (YAML reads JSON) and its restore_snapshot_id is edited in place', async () => {
		const text = JSON.stringify({repository_password: 'pw', backend: {type: 'local', location: `${base}/repo`}, paths: [`${base}/data`], restore_snapshot_id: '', maintenance_windows: [{start_hour: 1, start_minute: 0, end_hour: 5, end_minute: 0}]}, null, 2);
		const file = await writeConfig(text);
		const config = await loadServiceConfig(file, {isRoot: false});
		expect(config.maintenance_windows).toHaveLength(1);
		await setRestoreSnapshotId(file, 'abcd1234');
		const edited = await readFile(file, 'utf8');
		expect(JSON.parse(edited)).toMatchObject({restore_snapshot_id: 'abcd1234'});
		expect(edited).toBe(text.replace('"restore_snapshot_id": ""', '"restore_snapshot_id": "abcd1234"'));
	});
});

describe('the example in docs/service.md', () => {
	it('is a valid config', async () => {
		const doc = await readFile(join(__dirname, '../../docs/service.md'), 'utf8');
		const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
		const file = await writeConfig(yaml);
		const config = await loadServiceConfig(file, {isRoot: true, skipPermissionCheck: true});
		expect(config.backend.location).toBe('s3:https://s3.example.com:9000/nas-backups/tank');
		expect(config.maintenance_windows).toHaveLength(2);
		expect(config.hooks.before_backup?.command).toContain('CAIRN_SNAPSHOT_PATH=');
		expect(config.state_file).toBe('/var/lib/cairn/nas.state.json');
		expect(config.retention).toMatchObject({latest: 3, daily: 7, weekly: 4, monthly: 12});
	});
});

describe('the command that runs cairn itself', () => {
	it('is node with the built CLI (not a single executable here)', () => {
		expect(buildServiceCommand(['service', 'run', '--once'])).toEqual({command: process.execPath, args: [CLI, 'service', 'run', '--once']});
	});
});
