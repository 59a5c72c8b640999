/**
 * Several processes on one repository: concurrent cairn backups, a prune that meets a running
 * backup, and locks shared with restic 0.14 in both directions (restic refuses while cairn holds a
 * lock, cairn refuses while restic holds one, and each removes the other's stale locks).
 */
import {spawn, type ChildProcess} from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {
	cleanEnv, describeRun, listPacks, listRepoFiles, makeTempDir, RESTIC, startCairn, waitFor, writeSeededFile,
	type Running, type RunOptions,
} from '../helpers/cli.js';
import {cairnOk, expectRestores, hashTree, listSnapshotIds, resticOk, writeLockFile} from './lifecycle-helpers.js';

const PASSWORD = 'concurrency password';
const env: RunOptions = {env: {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD}};
const MiB = 1024 * 1024;

let base: string;
let counter = 0;
/** Processes started by a test, killed afterwards if still running. */
const started: ChildProcess[] = [];

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function makeSource(files: Record<string, number>, seed: string): Promise<string> {
	const dir = fresh('src');
	await fs.mkdir(dir, {recursive: true});
	for (const [name, size] of Object.entries(files)) await writeSeededFile(path.join(dir, name), name.startsWith('shared') ? name : `${seed}:${name}`, size);
	return dir;
}

async function newRepo(): Promise<string> {
	const repo = fresh('repo');
	await cairnOk(['init', '--repo', repo], env);
	return repo;
}

/**
 * Starts a cairn backup in its own process group (so it can be stopped safely) and waits until it holds its lock and has stored a pack.
 * Its source must be large (about 100 MiB) so that the backup is still running when the caller stops it.
 */
async function startStoppableBackup(repo: string, source: string): Promise<Running> {
	const packsBefore = (await listPacks(repo)).size;
	const running = startCairn(['backup', '--pack-size', '4', '--repo', repo, source], {...env, detached: true});
	started.push(running.child);
	await waitFor(async () => ((await listRepoFiles(repo, 'locks')).length > 0 && (await listPacks(repo)).size > packsBefore ? true : undefined), 60_000, 2);
	return running;
}

/** Starts restic with stdin kept open (so that it waits for input while it holds its lock). */
function startRestic(args: readonly string[]): {child: ChildProcess; done: Promise<{code: number | null; stdout: string; stderr: string}>} {
	const child = spawn(RESTIC, ['--no-cache', ...args], {env: cleanEnv({RESTIC_PASSWORD: PASSWORD}), stdio: ['pipe', 'pipe', 'pipe']});
	started.push(child);
	let stdout = '';
	let stderr = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	child.stdin!.on('error', () => undefined);
	const done = new Promise<{code: number | null; stdout: string; stderr: string}>((resolve) => {
		child.on('close', (code) => resolve({code, stdout, stderr}));
	});
	return {child, done};
}

beforeAll(async () => {
	base = await makeTempDir('cairn-concurrency-');
});

afterEach(() => {
	for (const child of started.splice(0)) {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGCONT');
			child.kill('SIGKILL');
		}
	}
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('concurrent backups', () => {
	it('four cairn backups at once into one repository all succeed, and restic check --read-data passes', async () => {
		const repo = await newRepo();
		const sources = await Promise.all([0, 1, 2, 3].map((i) => makeSource({'own.bin': 3 * MiB + i, 'shared.bin': 2 * MiB, 'note.txt': 200 + i}, `source-${i}`)));
		const runs = sources.map((source) => startCairn(['backup', '--json', '--pack-size', '4', '--repo', repo, source], env));
		const results = await Promise.all(runs.map((run) => run.done));
		for (const result of results) expect(result.code, describeRun(result)).toBe(0);
		const ids = await listRepoFiles(repo, 'snapshots');
		expect(ids).toHaveLength(4);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);

		const check = await resticOk(['-r', repo, 'check', '--read-data'], env);
		expect(check.stdout).toContain('no errors were found');
		await cairnOk(['check', '--read-data', '--repo', repo], env);
		const summaries = results.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {snapshot_id: string});
		for (const [i, source] of sources.entries()) {
			await expectRestores('cairn', repo, summaries[i]!.snapshot_id, source, await hashTree(source), env);
		}
		// A prune afterwards keeps everything: every blob is needed (a shared blob stored twice keeps one copy).
		await cairnOk(['prune', '--repo', repo], env);
		expect((await resticOk(['-r', repo, 'check', '--read-data'], env)).stdout).toContain('no errors were found');
	});
});

describe('prune while a backup runs', () => {
	it('fails with exit 11 naming the backup, deletes nothing, and the backup then completes', async () => {
		const repo = await newRepo();
		// Something for prune to remove: a snapshot that is forgotten.
		const old = await makeSource({'old.bin': 3 * MiB}, 'old');
		await cairnOk(['backup', '--pack-size', '4', '--repo', repo, old], env);
		const [oldId] = await listSnapshotIds(repo, env);
		await resticOk(['-r', repo, 'forget', oldId!], env);

		const source = await makeSource({'big-1.bin': 48 * MiB, 'big-2.bin': 48 * MiB}, 'running');
		const backup = await startStoppableBackup(repo, source);
		process.kill(backup.child.pid!, 'SIGSTOP');
		const packsBefore = await listPacks(repo);
		const prune = await cairnOk(['prune', '--repo', repo], env, 11);
		expect(prune.stderr).toMatch(new RegExp(`is locked: a shared lock [0-9a-f]{8} held by ${os.userInfo().username}@${os.hostname()} \\(PID ${backup.child.pid}\\) since `));
		expect(prune.stderr).toMatch(/Wait for that operation to finish/);
		const packsAfter = await listPacks(repo);
		for (const id of packsBefore.keys()) expect(packsAfter.has(id), `pack ${id} was deleted`).toBe(true);
		// unlock leaves a live lock alone and says so.
		const unlock = await cairnOk(['unlock', '--repo', repo], env);
		expect(unlock.stdout).toMatch(/no stale locks/);
		expect(unlock.stdout).toMatch(new RegExp(`kept a shared lock .*\\(PID ${backup.child.pid}\\).*it is live`));

		process.kill(backup.child.pid!, 'SIGCONT');
		const finished = await backup.done;
		expect(finished.code, describeRun(finished)).toBe(0);
		const pruned = await cairnOk(['prune', '--json', '--repo', repo], env);
		expect((JSON.parse(pruned.stdout) as {packfiles: {remove_total: number}}).packfiles.remove_total).toBeGreaterThan(0);
		expect((await resticOk(['-r', repo, 'check', '--read-data'], env)).stdout).toContain('no errors were found');
		const [id] = await listSnapshotIds(repo, env);
		await expectRestores('cairn', repo, id!, source, await hashTree(source), env);
	});
});

describe('locks shared with restic', () => {
	let repo: string;
	let small: string;

	beforeAll(async () => {
		repo = await newRepo();
		small = await makeSource({'a.bin': 200_000}, 'small');
		await cairnOk(['backup', '--repo', repo, small], env);
	});

	it('cairn refuses to prune, back up or check while restic holds an exclusive lock, and removes it once restic is gone', async () => {
		// `key passwd` takes an exclusive lock, then waits for the new password on stdin.
		const restic = startRestic(['-r', repo, 'key', 'passwd']);
		await waitFor(async () => ((await listRepoFiles(repo, 'locks')).length > 0 ? true : undefined));
		const holder = new RegExp(`an exclusive lock [0-9a-f]{8} held by ${os.userInfo().username}@${os.hostname()} \\(PID ${restic.child.pid}\\)`);
		for (const args of [['prune'], ['backup', small], ['check']]) {
			const result = await cairnOk([...args, '--repo', repo], env, 11);
			expect(result.stderr).toMatch(holder);
		}
		restic.child.kill('SIGKILL');
		await restic.done;
		expect(await listRepoFiles(repo, 'locks')).toHaveLength(1);
		const unlock = await cairnOk(['unlock', '--repo', repo], env);
		expect(unlock.stdout).toMatch(new RegExp(`removed an exclusive lock .*\\(PID ${restic.child.pid}\\) since .*process ${restic.child.pid} on this host has exited`));
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
		await cairnOk(['prune', '--repo', repo], env);
	});

	it('cairn backs up beside a restic backup (both shared) but will not prune until it ends', async () => {
		const restic = startRestic(['-r', repo, 'backup', '--stdin', '--stdin-filename', 'from-restic.txt']);
		await waitFor(async () => ((await listRepoFiles(repo, 'locks')).length > 0 ? true : undefined));
		const prune = await cairnOk(['prune', '--repo', repo], env, 11);
		expect(prune.stderr).toMatch(new RegExp(`a shared lock [0-9a-f]{8} held by .*\\(PID ${restic.child.pid}\\)`));
		await cairnOk(['backup', '--repo', repo, small], env);
		restic.child.stdin!.end('written by restic while cairn ran\n');
		const finished = await restic.done;
		expect(finished.code, finished.stderr).toBe(0);
		await cairnOk(['prune', '--repo', repo], env);
		expect((await resticOk(['-r', repo, 'check', '--read-data'], env)).stdout).toContain('no errors were found');
	});

	it('restic refuses to prune while cairn holds a lock, and to back up while cairn holds an exclusive one', async () => {
		const exclusive = await writeLockFile(repo, PASSWORD, {exclusive: true, hostname: 'far-away', username: 'carol', pid: 31337});
		const backup = await resticOk(['-r', repo, 'backup', small], env, 1);
		expect(backup.stderr).toMatch(/repository is already locked exclusively by PID 31337 on far-away by carol/);
		expect((await resticOk(['-r', repo, 'prune'], env, 1)).stderr).toMatch(/already locked exclusively by PID 31337/);
		// A lock of another host looks live for 30 minutes: plain unlock keeps it, --remove-all removes it.
		expect((await cairnOk(['unlock', '--repo', repo], env)).stdout).toMatch(/no stale locks\nkept an exclusive lock [0-9a-f]{8} held by carol@far-away \(PID 31337\).*it is live/);
		const removed = await cairnOk(['unlock', '--remove-all', '--repo', repo], env);
		expect(removed.stdout).toMatch(new RegExp(`removed an exclusive lock ${exclusive.slice(0, 8)} held by carol@far-away \\(PID 31337\\) since .* \\(it was live\\)`));
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);

		const shared = await writeLockFile(repo, PASSWORD, {exclusive: false, hostname: 'far-away', username: 'carol', pid: 31338});
		expect((await resticOk(['-r', repo, 'prune'], env, 1)).stderr).toMatch(/repository is already locked by PID 31338 on far-away by carol/);
		await resticOk(['-r', repo, 'backup', small], env);
		await fs.rm(path.join(repo, 'locks', shared));
	});

	it('restic refuses to prune beside a running cairn backup, which survives restic\'s SIGHUP probe and completes', async () => {
		const source = await makeSource({'big.bin': 96 * MiB}, 'probe');
		const backup = await startStoppableBackup(repo, source);
		process.kill(backup.child.pid!, 'SIGSTOP');
		const prune = await resticOk(['-r', repo, 'prune'], env, 1);
		expect(prune.stderr).toMatch(new RegExp(`already locked by PID ${backup.child.pid} on ${os.hostname()}`));
		process.kill(backup.child.pid!, 'SIGCONT');
		const finished = await backup.done;
		expect(finished.code, describeRun(finished)).toBe(0);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
	});

	it('restic removes the stale lock of a killed cairn backup, then prunes; restic check passes', async () => {
		const source = await makeSource({'killed.bin': 96 * MiB}, 'killed');
		const backup = await startStoppableBackup(repo, source);
		backup.child.kill('SIGKILL');
		await backup.done;
		expect(await listRepoFiles(repo, 'locks')).toHaveLength(1);
		const unlock = await resticOk(['-r', repo, 'unlock'], env);
		expect(unlock.stdout).toMatch(/successfully removed locks/);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
		await resticOk(['-r', repo, 'prune'], env);
		expect((await resticOk(['-r', repo, 'check'], env)).stdout).toContain('no errors were found');
	});
});
