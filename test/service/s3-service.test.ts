/**
 * The service end to end on S3 (s3rver), with a config written in the Incus OS field names:
 * several `service run --once` runs of the built CLI with changes between them, the retention,
 * the hooks (the snapshot ID reaches after_backup; a before_backup hook's CAIRN_SNAPSHOT_PATH is
 * read while the configured path is recorded), notifications and the Prometheus file; then
 * restic 0.14 checks the repository and restores the snapshots, compared byte for byte. A closed
 * maintenance window runs nothing. The one-time restore takes a safety snapshot, leaves the path
 * exactly as the snapshot has it and clears restore_snapshot_id, keeping the comments.
 */
import {createServer, type Server} from 'node:http';
import {cp, readFile, rm, unlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {setRestoreSnapshotId} from '../../service/config-edit.js';
import type {ServiceState} from '../../service/state.js';
import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, runRestic, writeSeededFile, type RunResult} from '../helpers/cli.js';
import {S3RVER_CREDENTIALS, startS3rver, type RunningS3rver} from '../helpers/servers/s3rver.js';

const PASSWORD = 'service s3 password 7f3a';
let base: string;
let source: string;
let frozen: string;
let config: string;
let server: RunningS3rver;
let pings: Server;
let pingUrl: string;
const bodies: Array<Record<string, unknown>> = [];
const pingPaths: string[] = [];
const logs: string[] = [];

function configText(extra = ''): string {
	return `# cairn service on S3, written with the Incus OS field names
enabled: true
repository_password: "${PASSWORD}"   # the repository key
backend:
  type: s3
  s3:
    endpoint: ${server.endpoint}
    bucket: svc
    access_key: ${S3RVER_CREDENTIALS.accessKeyId}
    secret_key: ${S3RVER_CREDENTIALS.secretAccessKey}
    region: us-east-1
retention:
  keep_latest: 3   # the three newest
# set to a snapshot ID for a one-time restore in place
restore_snapshot_id: ""
paths:
  - ${source}
tags: [service]
hooks:
  before_backup: "sh ${base}/before.sh"
  after_backup: "echo $CAIRN_SNAPSHOT_ID >> ${base}/after-ids; env > ${base}/after-env"
  before_restore: "echo $CAIRN_SNAPSHOT_ID > ${base}/before-restore"
  after_restore: "ls $CAIRN_SOURCE_PATH > ${base}/after-restore"
notify:
  url: ${pingUrl}
  failure_url: ${pingUrl}/fail
  on: [success, failure]
  prometheus_textfile: ${base}/metrics/cairn.prom
state_file: ${base}/state/svc.state.json
${extra}`;
}

/** Runs `cairn service ...` with no credentials in the environment: they come from the config. */
async function service(args: string[]): Promise<RunResult> {
	const result = await runCairn(['service', ...args, '--config', config], {env: {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, XDG_CACHE_HOME: join(base, 'cache')}});
	logs.push(result.stderr, result.stdout);
	return result;
}

async function readState(): Promise<ServiceState> {
	return JSON.parse(await readFile(join(base, 'state', 'svc.state.json'), 'utf8')) as ServiceState;
}

const RESTIC_ENV = {RESTIC_PASSWORD: PASSWORD, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey};
function restic(args: string[]): Promise<RunResult> {
	return runRestic(['-r', `s3:${server.endpoint}/svc`, ...args], {env: RESTIC_ENV});
}

async function resticSnapshots(): Promise<Array<{id: string; paths: string[]; tags?: string[]}>> {
	const result = await restic(['snapshots', '--json']);
	expect(result.code, describeRun(result)).toBe(0);
	return JSON.parse(result.stdout) as Array<{id: string; paths: string[]; tags?: string[]}>;
}

beforeAll(async () => {
	base = await makeTempDir('cairn-service-s3-');
	source = join(base, 'data');
	frozen = join(base, 'frozen');
	await makeVariedTree(source, {seed: 'service-s3', bigFileSize: 3 * 1024 * 1024});
	server = await startS3rver(['svc']);
	pings = createServer((request, response) => {
		let body = '';
		request.on('data', (chunk: Buffer) => (body += chunk.toString()));
		request.on('end', () => {
			bodies.push(JSON.parse(body) as Record<string, unknown>);
			pingPaths.push(`${request.method} ${request.url}`);
			response.end('OK');
		});
	});
	await new Promise<void>((resolve) => pings.listen(0, '127.0.0.1', resolve));
	const address = pings.address();
	pingUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/ping/check-1`;
	// The hook prints CAIRN_SNAPSHOT_PATH while the file `redirect` exists (as a ZFS snapshot hook would).
	await writeFile(join(base, 'before.sh'), `if [ -e ${base}/redirect ]; then echo "mounting a snapshot"; echo "CAIRN_SNAPSHOT_PATH=${frozen}"; fi\n`);
	config = join(base, 'svc.yaml');
	await writeFile(config, configText(), {mode: 0o600});
});

afterAll(async () => {
	await new Promise((resolve) => pings?.close(resolve));
	await server?.close();
	if (base) await rm(base, {recursive: true, force: true});
});

describe('cairn service on S3 with the Incus field names', () => {
	const snapshotOfRun: string[] = [];

	it('backs up on each run --once, runs the hooks, applies the retention and notifies', async () => {
		const changes: Array<() => Promise<void>> = [
			async () => undefined,
			async () => {
				await writeSeededFile(join(source, 'added.bin'), 'added', 300_000);
				await writeFile(join(source, 'nested', 'changed.txt'), 'changed content\n');
			},
			async () => {
				// Run 3 reads a frozen copy with one more file, as a filesystem snapshot would be.
				await cp(source, frozen, {recursive: true, preserveTimestamps: true});
				await writeFile(join(frozen, 'only-in-frozen.txt'), 'from the snapshot path\n');
				await writeFile(join(base, 'redirect'), '');
			},
			async () => {
				await unlink(join(base, 'redirect'));
				await unlink(join(source, 'added.bin'));
			},
			async () => {
				await writeSeededFile(join(source, 'fifth.bin'), 'fifth', 100_000);
			},
		];
		for (const [i, change] of changes.entries()) {
			await change();
			const result = await service(['run', '--once']);
			expect(result.code, describeRun(result)).toBe(0);
			const state = await readState();
			expect(state.last_run?.result).toBe('success');
			expect(state.in_progress).toBe(false);
			expect(state.repository_connected).toBe(true);
			expect(state.last_status).toMatch(/^backup done: snapshot [0-9a-f]{8}/);
			snapshotOfRun.push(state.last_run!.snapshot_id!);
			const ids = (await readFile(join(base, 'after-ids'), 'utf8')).trim().split('\n');
			expect(ids).toHaveLength(i + 1);
			expect(ids[i]).toBe(state.last_run!.snapshot_id);
			expect(state.available_snapshots.length).toBe(Math.min(i + 1, 3));
			expect(state.available_snapshots[0]!.id).toBe(ids[i]);
			expect(state.available_snapshots[0]!.source).toBe(source);
		}
		expect(new Set(snapshotOfRun).size).toBe(5);
		// The retention kept the three newest.
		const remaining = await resticSnapshots();
		expect(remaining.map((s) => s.id).sort()).toEqual(snapshotOfRun.slice(2).sort());
		for (const snapshot of remaining) {
			expect(snapshot.paths).toEqual([source]);
			expect(snapshot.tags).toEqual(['service']);
		}
		// The hook's environment, the state, the log and the notifications hold no secret.
		const hookEnv = await readFile(join(base, 'after-env'), 'utf8');
		expect(hookEnv).toContain(`CAIRN_SOURCE_PATH=${source}`);
		expect(hookEnv).toContain(`CAIRN_REPOSITORY=s3:${server.endpoint}/svc`);
		const everything = [hookEnv, await readFile(join(base, 'state', 'svc.state.json'), 'utf8'), ...logs, JSON.stringify(bodies)].join('\n');
		expect(everything).not.toContain(PASSWORD);
		expect(everything).not.toContain(`secret_key`);
		expect(bodies.filter((b) => b['event'] === 'success')).toHaveLength(5);
		expect(bodies.at(-1)).toMatchObject({service: 'svc', snapshot_id: snapshotOfRun[4], repository: `s3:${server.endpoint}/svc`, error: null});
		const metrics = await readFile(join(base, 'metrics', 'cairn.prom'), 'utf8');
		expect(metrics).toContain('cairn_backup_success{service="svc"} 1');
		expect(metrics).toMatch(/cairn_backup_last_success_timestamp_seconds\{service="svc"\} \d{10}/);
		expect(metrics).toContain('cairn_backup_snapshots{service="svc"} 3');
		const status = await service(['status', '--json']);
		expect(status.code, describeRun(status)).toBe(0);
		const shown = JSON.parse(status.stdout) as ServiceState;
		for (const field of ['repository_connected', 'last_backup', 'last_status', 'in_progress', 'progress', 'available_snapshots', 'next_run', 'last_error', 'last_prune', 'last_check']) expect(shown).toHaveProperty(field);
		expect(shown.last_error).toBeNull();
	});

	it('restic 0.14 checks the repository and restores every snapshot byte for byte', async () => {
		const check = await restic(['check', '--read-data']);
		expect(check.code, describeRun(check)).toBe(0);
		// The newest snapshot is the source as it is now.
		const latest = join(base, 'restic-latest');
		const restore = await restic(['restore', snapshotOfRun[4]!, '--target', latest]);
		expect(restore.code, describeRun(restore)).toBe(0);
		expect(await compareTrees(source, restoredPath(latest, source))).toEqual([]);
		// The redirected snapshot holds the frozen copy, under the configured path.
		const ls = await restic(['ls', snapshotOfRun[2]!]);
		expect(ls.code, describeRun(ls)).toBe(0);
		expect(ls.stdout).toContain(`${source}/only-in-frozen.txt`);
		expect(ls.stdout).not.toContain(frozen);
		const redirected = join(base, 'restic-redirected');
		const restored = await restic(['restore', snapshotOfRun[2]!, '--target', redirected]);
		expect(restored.code, describeRun(restored)).toBe(0);
		expect(await compareTrees(frozen, restoredPath(redirected, source), {})).toEqual([]);
	});

	it('does nothing outside the maintenance window and says when it opens', async () => {
		const now = new Date();
		const start = (now.getHours() + 2) % 24;
		await writeFile(config, configText(`maintenance_windows:\n  - {start_hour: ${start}, start_minute: 0, end_hour: ${(start + 1) % 24}, end_minute: 0}\n`), {mode: 0o600});
		const before = await resticSnapshots();
		const result = await service(['run', '--once', '--force']);
		expect(result.code, describeRun(result)).toBe(0);
		const state = await readState();
		expect(state.last_status).toMatch(/^window closed: opens \d{4}-\d\d-\d\dT\d\d:00:00[+-]\d\d:\d\d; no backup started$/);
		expect(new Date(state.last_status.slice('window closed: opens '.length, 'window closed: opens '.length + 25)).getHours()).toBe(start);
		expect(state.window).toMatchObject({open: false, closes_at: null});
		expect(state.last_run?.result).toBe('skipped');
		expect((await resticSnapshots()).map((s) => s.id)).toEqual(before.map((s) => s.id));
		expect((await readFile(join(base, 'after-ids'), 'utf8')).trim().split('\n')).toHaveLength(5);
		await writeFile(config, configText(), {mode: 0o600});
	});

	it('restores a snapshot in place once: safety snapshot, exact result, field cleared with comments kept', async () => {
		const target = snapshotOfRun[3]!;
		// Changes the restore must undo: a new file, a changed file, a removed file.
		await writeFile(join(source, 'created-after.txt'), 'not in the snapshot\n');
		await writeFile(join(source, 'nested', 'changed.txt'), 'changed again\n');
		await rm(join(source, 'fifth.bin'));
		await setRestoreSnapshotId(config, target.slice(0, 12));
		const result = await service(['run', '--once']);
		expect(result.code, describeRun(result)).toBe(0);
		const state = await readState();
		expect(state.restore).toMatchObject({snapshot_id: target, result: 'success', error: null});
		expect(state.last_status).toMatch(/^restore done: snapshot [0-9a-f]{8} restored in place/);
		const safetyId = state.restore!.safety_snapshot_id!;
		expect(safetyId).toMatch(/^[0-9a-f]{64}$/);
		// The path is exactly the snapshot, as restic restores it.
		const expected = join(base, 'restic-target');
		const restored = await restic(['restore', target, '--target', expected]);
		expect(restored.code, describeRun(restored)).toBe(0);
		expect(await compareTrees(restoredPath(expected, source), source)).toEqual([]);
		// The safety snapshot holds what the restore replaced, tagged safety.
		const snapshots = await resticSnapshots();
		expect(snapshots.find((s) => s.id === safetyId)?.tags).toEqual(['safety']);
		const ls = await restic(['ls', safetyId]);
		expect(ls.stdout).toContain(`${source}/created-after.txt`);
		// Hooks ran around it; no backup ran.
		expect((await readFile(join(base, 'before-restore'), 'utf8')).trim()).toBe(target);
		expect(await readFile(join(base, 'after-restore'), 'utf8')).not.toContain('created-after.txt');
		expect((await readFile(join(base, 'after-ids'), 'utf8')).trim().split('\n')).toHaveLength(5);
		// The field is cleared and everything else, comments included, stays.
		expect(await readFile(config, 'utf8')).toBe(configText());
		// The next run backs up again.
		const next = await service(['run', '--once']);
		expect(next.code, describeRun(next)).toBe(0);
		expect((await readState()).last_status).toMatch(/^backup done/);
		const check = await restic(['check']);
		expect(check.code, describeRun(check)).toBe(0);
	});

	it('keeps the field, records the failure and deletes nothing when the restore fails', async () => {
		await writeFile(join(source, 'precious.txt'), 'must survive\n');
		await setRestoreSnapshotId(config, 'deadbeef');
		const result = await service(['run', '--once']);
		expect(result.code, describeRun(result)).toBe(1);
		const state = await readState();
		expect(state.restore).toMatchObject({snapshot_id: 'deadbeef', result: 'failure'});
		expect(state.last_error).toMatch(/no snapshot with ID deadbeef/);
		expect(await readFile(join(source, 'precious.txt'), 'utf8')).toBe('must survive\n');
		expect(await readFile(config, 'utf8')).toContain('restore_snapshot_id: "deadbeef"');
		expect(bodies.at(-1)).toMatchObject({event: 'failure'});
		expect(pingPaths.at(-1)).toBe('POST /ping/check-1/fail');
		expect(pingPaths.filter((p) => p === 'POST /ping/check-1')).toHaveLength(bodies.filter((b) => b['event'] === 'success').length);
		await setRestoreSnapshotId(config, undefined);
	});
});

