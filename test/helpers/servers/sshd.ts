/**
 * A real OpenSSH server for the SFTP tests: `/usr/sbin/sshd -D` on a free port of 127.0.0.1, with
 * its own host key, a generated user key in its authorized_keys and a known_hosts file that
 * records the host key, all in a temporary directory. The server logs in the user the tests run
 * as (root in CI) and serves SFTP with OpenSSH's internal-sftp.
 */

import {spawn, type ChildProcess} from 'node:child_process';
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir, userInfo} from 'node:os';
import {join} from 'node:path';

import {findFreePort, listDescendants, requireBinary, runProgram, signalProcess, waitForExit, waitForPort} from './processes.js';

export const SSHD = '/usr/sbin/sshd';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';
export const SSH = '/usr/bin/ssh';

/** A running test SSH server and the files a client needs. */
export interface SshServer {
	readonly host: '127.0.0.1';
	readonly port: number;
	/** The user the server logs in (the one running the tests). */
	readonly user: string;
	/** Temporary directory holding keys, config and logs; removed by {@link SshServer.stop}. */
	readonly directory: string;
	/** A directory for repositories (the server sees the same file system). */
	readonly data: string;
	/** Private key accepted by the server. */
	readonly userKey: string;
	/** known_hosts recording the server's host key for `[127.0.0.1]:port`. */
	readonly knownHosts: string;
	/** `ssh-ed25519 AAAA…` of the host key. */
	readonly hostPublicKey: string;
	/** `SHA256:…` of the host key, as ssh-keygen -l prints it. */
	readonly hostFingerprint: string;
	/** The sshd process (the listener). */
	readonly process: () => ChildProcess;
	/** What sshd logged so far. */
	readLog(): Promise<string>;
	/** Makes a new key pair in the server's directory (not authorized) and returns the private key's path. */
	makeKey(name: string): Promise<string>;
	/** Kills the listener and every session process it started (SIGKILL, by process ID). */
	kill(): Promise<void>;
	/** Starts the listener again on the same port with the same keys. */
	restart(): Promise<void>;
	/** Kills everything and removes the temporary directory. */
	stop(): Promise<void>;
	/** The arguments for `ssh` that reach this server non-interactively (without the host). */
	sshOptions(): string[];
}

/** Starts an SSH server (fails when OpenSSH's server or client is not installed). */
export async function startSshServer(): Promise<SshServer> {
	await requireBinary(SSHD, 'install openssh-server (apt install openssh-server)');
	await requireBinary(SSH_KEYGEN, 'install openssh-client (apt install openssh-client)');
	const directory = await mkdtemp(join(tmpdir(), 'cairn-sshd-'));
	const data = join(directory, 'data');
	await mkdir(data);
	// sshd's privilege separation directory must exist.
	await mkdir('/run/sshd', {recursive: true, mode: 0o755});
	const hostKey = join(directory, 'host_ed25519');
	const userKey = join(directory, 'user_ed25519');
	await runProgram(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'cairn-test-host', '-f', hostKey]);
	await runProgram(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'cairn-test-user', '-f', userKey]);
	await writeFile(join(directory, 'authorized_keys'), await readFile(`${userKey}.pub`), {mode: 0o600});
	const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
	const hostFingerprint = (await runProgram(SSH_KEYGEN, ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`])).split(/\s+/)[1]!;
	const port = await findFreePort();
	const knownHosts = join(directory, 'known_hosts');
	await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPublicKey}\n`, {mode: 0o600});
	const config = join(directory, 'sshd_config');
	const log = join(directory, 'sshd.log');
	await writeFile(
		config,
		[
			'ListenAddress 127.0.0.1',
			`Port ${port}`,
			`HostKey ${hostKey}`,
			`AuthorizedKeysFile ${join(directory, 'authorized_keys')}`,
			`PidFile ${join(directory, 'sshd.pid')}`,
			'StrictModes no',
			'UsePAM no',
			'PermitRootLogin yes',
			'PasswordAuthentication no',
			'KbdInteractiveAuthentication no',
			'Subsystem sftp internal-sftp',
			'LogLevel VERBOSE',
			'',
		].join('\n'),
	);

	let child: ChildProcess;
	const readLog = async () => readFile(log, 'utf8').catch(() => '(no log)');
	const launch = async () => {
		child = spawn(SSHD, ['-D', '-f', config, '-E', log], {stdio: 'ignore'});
		await waitForPort(port, child, readLog);
	};
	await launch();

	const kill = async () => {
		const pid = child.pid!;
		const sessions = await listDescendants(pid);
		signalProcess(pid, 'SIGKILL');
		for (const session of sessions) signalProcess(session, 'SIGKILL');
		await waitForExit(child);
		// Sessions forked before the listener died are its descendants too; catch late ones.
		for (const session of await listDescendants(pid)) signalProcess(session, 'SIGKILL');
	};

	return {
		host: '127.0.0.1',
		port,
		user: userInfo().username,
		directory,
		data,
		userKey,
		knownHosts,
		hostPublicKey,
		hostFingerprint,
		process: () => child,
		readLog,
		makeKey: async (name) => {
			const path = join(directory, name);
			await runProgram(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
			return path;
		},
		kill,
		restart: launch,
		stop: async () => {
			await kill();
			await rm(directory, {recursive: true, force: true});
		},
		sshOptions: () => [
			'-F',
			'/dev/null',
			'-p',
			String(port),
			'-i',
			userKey,
			'-o',
			`UserKnownHostsFile=${knownHosts}`,
			'-o',
			'StrictHostKeyChecking=yes',
			'-o',
			'BatchMode=yes',
			'-o',
			'IdentitiesOnly=yes',
		],
	};
}
