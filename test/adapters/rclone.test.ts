import {chmod, mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {buildRcloneArguments, DEFAULT_RCLONE_ARGS, rcloneAdapter} from '../../adapters/rclone/adapter.js';
import {countRunningHelpers} from '../../adapters/shared/subprocess.js';
import {NotFoundError, PermanentError, TransientError, type Storage} from '../../adapters/storage.js';
import {withRetry} from '../../adapters/wrappers/retry.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {compareTrees, describeRun, restoredPath, runRestic, startCairn, waitFor, writeSeededFile} from '../helpers/cli.js';
import {isProcessAlive, listDescendants, readCommandName, requireBinary, signalProcess} from '../helpers/servers/processes.js';
import {RCLONE} from '../helpers/servers/rclone.js';
import {buildRepositoryArguments, ROUND_TRIP_PASSWORD, runCliRoundTrip} from '../helpers/servers/round-trip.js';

let directory: string;
let config: string;

beforeAll(async () => {
	await requireBinary(RCLONE, 'install rclone (apt install rclone)');
	directory = await mkdtemp(join(tmpdir(), 'cairn-rclone-'));
	config = join(directory, 'rclone.conf');
	await writeFile(config, '[myremote]\ntype = local\n');
	// The in-process stores read the remote's definition from here, as rclone does.
	process.env.RCLONE_CONFIG = config;
});

afterAll(async () => {
	await rm(directory, {recursive: true, force: true});
});

const values = (remote: string, extra: Record<string, string> = {}) => ({remote, program: RCLONE, timeout: '30', connections: '5', ...extra});

runStorageConformance('rclone (local path)', async () => {
	const root = await mkdtemp(join(directory, 'local-'));
	return {storage: await rcloneAdapter.open(values(join(root, 'repo'))), cleanup: () => rm(root, {recursive: true, force: true})};
});

runStorageConformance('rclone (remote from RCLONE_CONFIG)', async () => {
	const root = await mkdtemp(join(directory, 'remote-'));
	return {storage: await rcloneAdapter.open(values(`myremote:${join(root, 'repo')}`)), cleanup: () => rm(root, {recursive: true, force: true})};
});

/** The rclone processes this test process started that are running now. */
async function findRcloneChildren(parent = process.pid): Promise<number[]> {
	const found: number[] = [];
	for (const pid of await listDescendants(parent)) if ((await readCommandName(pid)) === 'rclone') found.push(pid);
	return found;
}

/** Writes an executable shell script that stands in for rclone. */
async function writeFakeRclone(name: string, script: string): Promise<string> {
	const path = join(directory, name);
	await writeFile(path, `#!/bin/sh\n${script}\n`);
	await chmod(path, 0o755);
	return path;
}

describe('rclone arguments', () => {
	it('adds extra arguments to restic\'s default, and lets "serve …" replace it as restic does', () => {
		expect(buildRcloneArguments(undefined)).toEqual(DEFAULT_RCLONE_ARGS);
		expect(buildRcloneArguments('--bwlimit 1M --transfers "4"')).toEqual([...DEFAULT_RCLONE_ARGS, '--bwlimit', '1M', '--transfers', '4']);
		expect(buildRcloneArguments('serve restic --stdio -v')).toEqual(['serve', 'restic', '--stdio', '-v']);
		expect(() => buildRcloneArguments('serve restic --addr :8080')).toThrow(/must keep --stdio/);
		expect(rcloneAdapter.parseLocation('b2prod:bucket/repo')).toEqual({remote: 'b2prod:bucket/repo'});
		expect(rcloneAdapter.formatLocation({remote: 'b2prod:bucket/repo'})).toBe('b2prod:bucket/repo');
	});
});

describe('starting rclone', () => {
	it('says how to install rclone when the program is missing', async () => {
		const error = await catchRejection(rcloneAdapter.open(values('/tmp/x', {program: join(directory, 'no-such-rclone')})));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/was not found; install rclone 1\.50 or later .*-o rclone\.program/);
	});

	it('refuses an rclone that is too old, and a program that is not rclone', async () => {
		const old = await writeFakeRclone('old-rclone', 'echo "rclone v1.45.2"');
		const tooOld = await catchRejection(rcloneAdapter.open(values('/tmp/x', {program: old})));
		expect(tooOld).toBeInstanceOf(PermanentError);
		expect((tooOld as Error).message).toMatch(/rclone v1\.45\.2 is too old: cairn needs rclone 1\.50 or later/);
		const other = await writeFakeRclone('not-rclone', 'echo "hello"');
		expect(((await catchRejection(rcloneAdapter.open(values('/tmp/x', {program: other})))) as Error).message).toMatch(/does not look like rclone/);
	});

	it('says when rclone does not know the remote, with what rclone said', async () => {
		const error = await catchRejection(rcloneAdapter.open(values('nosuchremote:repo')));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/rclone does not know the remote in "nosuchremote:repo".*RCLONE_CONFIG/s);
		expect((error as Error).message).toContain("didn't find section in config file");
		expect(await findRcloneChildren()).toEqual([]);
	});

	it('hides secrets of a connection-string remote, also in what rclone says', async () => {
		const remote = ':sftp,host=127.0.0.1,port=1,user=me,pass=TOPSECRET:repo';
		const error = await catchRejection(rcloneAdapter.open(values(remote)));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toContain('Failed to create file system for ":sftp,host=127.0.0.1,port=1,user=me,pass=***:repo"');
		expect((error as Error).message).not.toContain('TOPSECRET');
	});

	it('stops rclone on close', async () => {
		const storage = await rcloneAdapter.open(values(join(directory, 'close-repo')));
		const [pid] = await findRcloneChildren();
		expect(pid).toBeDefined();
		expect(countRunningHelpers()).toBe(1);
		await storage.close();
		expect(await isProcessAlive(pid!)).toBe(false);
		expect(countRunningHelpers()).toBe(0);
	});
});

describe('rclone dying mid-operation', () => {
	/** Freezes the running rclone, starts `operation`, then kills rclone while the operation waits on it. */
	async function killDuring<T>(operation: () => Promise<T>): Promise<{pid: number; outcome: Promise<T>}> {
		const [pid] = await findRcloneChildren();
		expect(pid).toBeDefined();
		signalProcess(pid!, 'SIGSTOP');
		const outcome = operation();
		outcome.catch(() => undefined);
		await new Promise((resolve) => setTimeout(resolve, 20));
		signalProcess(pid!, 'SIGKILL');
		await waitFor(async () => ((await isProcessAlive(pid!)) ? undefined : true), 10_000);
		return {pid: pid!, outcome};
	}

	it('fails the operation in flight as transient, starts rclone again once, then fails clearly', async () => {
		const root = await mkdtemp(join(directory, 'dying-'));
		const storage: Storage = await rcloneAdapter.open(values(join(root, 'repo')));
		try {
			await storage.create();
			const handle = {type: 'data' as const, name: makeId()};
			const {pid, outcome} = await killDuring(() => storage.save(handle, makeRandomData(8 * 1024 * 1024)));
			const first = await catchRejection(outcome);
			expect(first).toBeInstanceOf(TransientError);
			expect((first as Error).message).toMatch(/rclone \(.*\) was killed by SIGKILL during POST data\/.*it is started again for the next attempt/s);

			// The next operation starts a new rclone; the broken upload left nothing behind.
			expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
			const [second] = await findRcloneChildren();
			expect(second).toBeDefined();
			expect(second).not.toBe(pid);

			// A second death is final, and says so.
			const {outcome: again} = await killDuring(() => collect(storage.list('data')));
			const final = await catchRejection(again);
			expect(final).toBeInstanceOf(PermanentError);
			expect((final as Error).message).toMatch(/again after it was restarted once.*giving up/s);
			const later = await catchRejection(storage.stat(handle));
			expect(later).toBe(final);
			expect(await findRcloneChildren()).toEqual([]);
		} finally {
			await storage.close();
			await rm(root, {recursive: true, force: true});
		}
	});

	it('with the retry wrapper, an operation cut off by rclone dying still succeeds', async () => {
		const root = await mkdtemp(join(directory, 'retried-'));
		const storage = withRetry(await rcloneAdapter.open(values(`myremote:${join(root, 'repo')}`)), {baseDelayMs: 10});
		try {
			await storage.create();
			const handle = {type: 'index' as const, name: makeId()};
			const data = makeRandomData(3 * 1024 * 1024);
			const {outcome} = await killDuring(() => storage.save(handle, data));
			await outcome;
			expect(isSameBytes(await storage.load(handle), data)).toBe(true);
		} finally {
			await storage.close();
			await rm(root, {recursive: true, force: true});
		}
	});
});

describe('rclone with the CLI', () => {
	it('backs up and restores through a remote defined in RCLONE_CONFIG, and restic reads the repository', async () => {
		const root = await mkdtemp(join(directory, 'cli-'));
		const repo = `rclone:myremote:${join(root, 'repo')}`;
		const trip = await runCliRoundTrip({repo, options: [`rclone.program=${RCLONE}`], env: {RCLONE_CONFIG: config}});
		try {
			const snapshots = await runRestic(['-r', repo, 'snapshots', '--json'], {env: {RESTIC_PASSWORD: ROUND_TRIP_PASSWORD, RCLONE_CONFIG: config}});
			expect(snapshots.code, describeRun(snapshots)).toBe(0);
			expect((JSON.parse(snapshots.stdout) as Array<{short_id: string}>).map((s) => s.short_id)).toEqual([trip.snapshot]);
		} finally {
			await trip.cleanup();
			await rm(root, {recursive: true, force: true});
		}
	});

	/** Starts a backup of a 48 MiB file into a new repository and waits until cairn's rclone runs. */
	async function startBackup(root: string) {
		const repo = join(root, 'repo');
		const source = join(root, 'source');
		await mkdir(source);
		await writeSeededFile(join(source, 'big.bin'), 'rclone-cli', 48 * 1024 * 1024);
		const base = buildRepositoryArguments(`rclone:${repo}`, [`rclone.program=${RCLONE}`]);
		const env = {CAIRN_PASSWORD: ROUND_TRIP_PASSWORD, RCLONE_CONFIG: config};
		const init = await startCairn([...base, 'init'], {env}).done;
		expect(init.code, describeRun(init)).toBe(0);
		const backup = startCairn([...base, '--pack-size', '4', 'backup', source], {env});
		const rclone = await waitFor(async () => {
			// Wait until packs are being written, so the backup is well under way.
			const packs = await readdir(join(repo, 'data'), {recursive: true}).catch(() => [] as string[]);
			if (packs.filter((name) => /[0-9a-f]{64}$/.test(name)).length === 0) return undefined;
			const pids = [];
			for (const pid of await listDescendants(backup.child.pid!)) if ((await readCommandName(pid)) === 'rclone') pids.push(pid);
			return pids.length === 1 ? pids[0] : undefined;
		}, 60_000, 10);
		return {repo, source, base, env, backup, rclone};
	}

	it('leaves no rclone running when cairn is interrupted or killed', async () => {
		const root = await mkdtemp(join(directory, 'ctrl-c-'));
		try {
			const interrupted = await startBackup(root);
			signalProcess(interrupted.backup.child.pid!, 'SIGINT');
			const result = await interrupted.backup.done;
			expect(result.code, describeRun(result)).toBe(130);
			expect(await isProcessAlive(interrupted.rclone)).toBe(false);

			await rm(root, {recursive: true, force: true});
			await mkdir(root);
			const killed = await startBackup(root);
			signalProcess(killed.backup.child.pid!, 'SIGKILL');
			await killed.backup.done;
			// rclone sees its stdin close and stops by itself.
			expect(await waitFor(async () => ((await isProcessAlive(killed.rclone)) ? undefined : true), 20_000)).toBe(true);
		} finally {
			await rm(root, {recursive: true, force: true});
		}
	});

	it('finishes a backup when rclone is killed in the middle of it (rclone is started again)', async () => {
		const root = await mkdtemp(join(directory, 'kill-rclone-'));
		try {
			const running = await startBackup(root);
			signalProcess(running.rclone, 'SIGKILL');
			// cairn starts a new rclone and carries on.
			let finished = false;
			void running.backup.done.then(() => (finished = true));
			const restarted = await waitFor(async () => {
				for (const pid of await listDescendants(running.backup.child.pid!)) {
					if (pid !== running.rclone && (await readCommandName(pid)) === 'rclone') return pid;
				}
				return finished ? 0 : undefined;
			}, 60_000, 10);
			expect(restarted).toBeGreaterThan(0);
			const result = await running.backup.done;
			expect(result.code, describeRun(result)).toBe(0);
			const check = await startCairn([...running.base, 'check', '--read-data'], {env: running.env}).done;
			expect(check.code, describeRun(check)).toBe(0);
			const target = join(root, 'restore');
			const restore = await startCairn([...running.base, 'restore', 'latest', '--target', target], {env: running.env}).done;
			expect(restore.code, describeRun(restore)).toBe(0);
			expect(await compareTrees(running.source, restoredPath(target, running.source))).toEqual([]);
		} finally {
			await rm(root, {recursive: true, force: true});
		}
	});
});
