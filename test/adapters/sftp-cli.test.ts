import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {CLI, compareTrees, describeRun, jsonLines, restoredPath, runCairn, runRestic, startCairn, waitFor, writeSeededFile} from '../helpers/cli.js';
import {isProcessAlive, listDescendants, readCommandName, runProgram, signalProcess} from '../helpers/servers/processes.js';
import {SSH, SSH_KEYGEN, startSshServer, type SshServer} from '../helpers/servers/sshd.js';
import {quoteShellWord} from '../../adapters/shared/shell-words.js';
import {buildRepositoryArguments, ROUND_TRIP_PASSWORD, runCliRoundTrip} from '../helpers/servers/round-trip.js';

let server: SshServer;

beforeAll(async () => {
	server = await startSshServer();
});

afterAll(async () => {
	await server?.stop();
});

/** `sftp://USER@127.0.0.1:PORT//ABSOLUTE/PATH` */
function makeUrlLocation(path: string): string {
	return `sftp://${server.user}@127.0.0.1:${server.port}/${path}`;
}

/** The -o options of the built-in client. */
function builtInOptions(): string[] {
	return [`sftp.key-file=${server.userKey}`, `sftp.known-hosts=${server.knownHosts}`];
}

/** The ssh command line that reaches the test server (for external mode and for restic). */
function sshCommand(): string {
	return [SSH, ...server.sshOptions(), `${server.user}@127.0.0.1`, '-s', 'sftp'].map(quoteShellWord).join(' ');
}

/** Runs restic against a repository on the test server through its sftp backend. */
function runResticOverSftp(path: string, args: readonly string[]) {
	return runRestic(['-r', `sftp:${server.user}@127.0.0.1:${path}`, '-o', `sftp.command=${sshCommand()}`, ...args], {env: {RESTIC_PASSWORD: ROUND_TRIP_PASSWORD}});
}

describe('sftp with the CLI', () => {
	it('backs up and restores with the built-in client, and restic opens and checks the same repository over SFTP', async () => {
		const repo = join(await mkdtemp(join(server.data, 'cli-')), 'repo');
		const trip = await runCliRoundTrip({repo: makeUrlLocation(repo), options: builtInOptions()});
		try {
			const snapshots = await runResticOverSftp(repo, ['snapshots', '--json']);
			expect(snapshots.code, describeRun(snapshots)).toBe(0);
			expect((JSON.parse(snapshots.stdout) as Array<{short_id: string}>).map((s) => s.short_id)).toEqual([trip.snapshot]);
			const check = await runResticOverSftp(repo, ['check', '--read-data']);
			expect(check.code, describeRun(check)).toBe(0);
		} finally {
			await trip.cleanup();
		}
	});

	it('backs up and restores with the system ssh (external mode), and with a whole command', async () => {
		const repo = join(await mkdtemp(join(server.data, 'cli-')), 'repo');
		const args = `-F /dev/null -i ${server.userKey} -o UserKnownHostsFile=${server.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes`;
		const trip = await runCliRoundTrip({
			repo: `sftp:${server.user}@127.0.0.1:${repo}`,
			options: ['sftp.external=true', `sftp.port=${server.port}`, `sftp.ssh-args=${args}`],
		});
		try {
			const viaCommand = await runCairn(['--repo', `sftp:${server.user}@127.0.0.1:${repo}`, '-o', `sftp.command=${sshCommand()}`, 'snapshots', '--json'], {
				env: {CAIRN_PASSWORD: ROUND_TRIP_PASSWORD},
			});
			expect(viaCommand.code, describeRun(viaCommand)).toBe(0);
			expect((JSON.parse(viaCommand.stdout) as Array<{short_id: string}>).map((s) => s.short_id)).toEqual([trip.snapshot]);
		} finally {
			await trip.cleanup();
		}
	});

	it('asks for the passphrase of an encrypted key when run in a terminal', async () => {
		const directory = await mkdtemp(join(server.data, 'passphrase-'));
		const key = join(directory, 'encrypted_key');
		await runProgram(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
		await writeFile(join(server.directory, 'authorized_keys'), `${await readFile(`${server.userKey}.pub`, 'utf8')}${await readFile(`${key}.pub`, 'utf8')}`);
		const base = buildRepositoryArguments(makeUrlLocation(join(directory, 'repo')), [`sftp.key-file=${key}`, `sftp.known-hosts=${server.knownHosts}`]);
		const init = await runCairn([...base, '-o', 'sftp.key-passphrase=open sesame', 'init'], {env: {CAIRN_PASSWORD: ROUND_TRIP_PASSWORD}});
		expect(init.code, describeRun(init)).toBe(0);

		// A tmux server of its own (its own socket), so no other test's tmux is touched.
		const socket = `cairn-sftp-${process.pid}`;
		const tmux = (...args: string[]) => runProgram('tmux', ['-L', socket, ...args]);
		const command = ['env', `CAIRN_PASSWORD=${ROUND_TRIP_PASSWORD}`, process.execPath, CLI, ...base, 'snapshots'].map(quoteShellWord).join(' ');
		await tmux('new-session', '-d', '-s', 'cli', '-x', '200', '-y', '40', `${command}; echo "exit=$?"; sleep 60`);
		try {
			const pane = () => tmux('capture-pane', '-p', '-t', 'cli');
			await waitFor(async () => ((await pane()).includes('enter the passphrase of the SSH key') ? true : undefined), 30_000, 50);
			await tmux('send-keys', '-t', 'cli', '-l', 'open sesame');
			await tmux('send-keys', '-t', 'cli', 'Enter');
			const screen = await waitFor(async () => {
				const text = await pane();
				return /exit=\d+/.test(text) ? text : undefined;
			}, 30_000, 50);
			expect(screen).toContain(`enter the passphrase of the SSH key ${key}:`);
			expect(screen).not.toContain('open sesame');
			expect(screen).toContain('0 snapshots');
			expect(screen).toContain('exit=0');
		} finally {
			await tmux('kill-server').catch(() => undefined);
			await rm(directory, {recursive: true, force: true});
		}
	});

	it('leaves no ssh running when cairn in external mode is interrupted or killed', async () => {
		const directory = await mkdtemp(join(server.data, 'external-stop-'));
		const source = join(directory, 'source');
		await mkdir(source);
		await writeSeededFile(join(source, 'big.bin'), 'external-stop', 48 * 1024 * 1024);
		const args = `-F /dev/null -i ${server.userKey} -o UserKnownHostsFile=${server.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes`;
		const env = {CAIRN_PASSWORD: ROUND_TRIP_PASSWORD};
		/** Starts a backup into a new repository and waits until packs are stored; returns cairn and its ssh. */
		const startBackup = async (name: string) => {
			const repo = join(directory, name);
			const base = buildRepositoryArguments(`sftp:${server.user}@127.0.0.1:${repo}`, ['sftp.external=true', `sftp.port=${server.port}`, `sftp.ssh-args=${args}`]);
			const init = await runCairn([...base, 'init'], {env});
			expect(init.code, describeRun(init)).toBe(0);
			const backup = startCairn([...base, '--pack-size', '4', 'backup', source], {env});
			const ssh = await waitFor(async () => {
				const names = await readdir(join(repo, 'data'), {recursive: true});
				if (!names.some((entry) => /[0-9a-f]{64}$/.test(entry))) return undefined;
				for (const pid of await listDescendants(backup.child.pid!)) if ((await readCommandName(pid)) === 'ssh') return pid;
				return undefined;
			}, 60_000, 10);
			return {backup, ssh};
		};
		try {
			const interrupted = await startBackup('interrupted');
			signalProcess(interrupted.backup.child.pid!, 'SIGINT');
			const result = await interrupted.backup.done;
			expect(result.code, describeRun(result)).toBe(130);
			expect(await isProcessAlive(interrupted.ssh)).toBe(false);

			const killed = await startBackup('killed');
			signalProcess(killed.backup.child.pid!, 'SIGKILL');
			await killed.backup.done;
			// ssh sees its stdin close and ends by itself.
			expect(await waitFor(async () => ((await isProcessAlive(killed.ssh)) ? undefined : true), 20_000)).toBe(true);
		} finally {
			await rm(directory, {recursive: true, force: true});
		}
	});

	it('stops with the host key\'s fingerprint when the key is unknown', async () => {
		const knownHosts = join(server.directory, 'known_hosts_cli_empty');
		await writeFile(knownHosts, '');
		const result = await runCairn(['--repo', makeUrlLocation('/tmp/none'), '-o', `sftp.key-file=${server.userKey}`, '-o', `sftp.known-hosts=${knownHosts}`, 'snapshots'], {
			env: {CAIRN_PASSWORD: 'x'},
		});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain('is not known');
		expect(result.stderr).toContain(server.hostFingerprint);
	});

	it('ends a backup clearly when sshd dies; the repository stays consistent and the next backup carries on', async () => {
		const directory = await mkdtemp(join(server.data, 'killed-'));
		const repo = join(directory, 'repo');
		const source = join(directory, 'source');
		await mkdir(source);
		await writeSeededFile(join(source, 'big.bin'), 'sshd-killed', 48 * 1024 * 1024);
		await writeFile(join(source, 'small.txt'), 'a small file\n');
		const base = buildRepositoryArguments(makeUrlLocation(repo), builtInOptions());
		const env = {CAIRN_PASSWORD: ROUND_TRIP_PASSWORD};
		try {
			const init = await runCairn([...base, 'init'], {env});
			expect(init.code, describeRun(init)).toBe(0);

			const backup = startCairn([...base, '--pack-size', '4', 'backup', source], {env});
			await waitFor(async () => {
				const names = await readdir(join(repo, 'data'), {recursive: true});
				return names.some((name) => /[0-9a-f]{64}$/.test(name)) ? true : undefined;
			}, 60_000, 10);
			await server.kill();
			const killed = await backup.done;
			expect(killed.code, describeRun(killed)).toBe(1);
			expect(killed.stderr).toMatch(/lost the connection to sftp:.* and could not reconnect: .*connection refused.*a backup carries on where this one stopped/s);

			await server.restart();
			const check = await runCairn([...base, 'check'], {env});
			expect(check.code, describeRun(check)).toBe(0);
			// The killed backup could not remove its lock; restic 0.14 wants stale locks removed before check.
			const unlock = await runResticOverSftp(repo, ['unlock']);
			expect(unlock.code, describeRun(unlock)).toBe(0);
			const resticCheck = await runResticOverSftp(repo, ['check']);
			expect(resticCheck.code, describeRun(resticCheck)).toBe(0);

			const again = await runCairn([...base, '--pack-size', '4', '--json', 'backup', source], {env});
			expect(again.code, describeRun(again)).toBe(0);
			const summary = jsonLines(again.stdout).find((line) => line.message_type === 'summary')!;
			// Packs stored before sshd died are reused, not uploaded again.
			expect(summary.data_added as number).toBeLessThan(48 * 1024 * 1024);
			const target = join(directory, 'restore');
			const restore = await runCairn([...base, 'restore', 'latest', '--target', target], {env});
			expect(restore.code, describeRun(restore)).toBe(0);
			expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
		} finally {
			await rm(directory, {recursive: true, force: true});
		}
	});
});
