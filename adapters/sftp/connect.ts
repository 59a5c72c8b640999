/**
 * Opening an SFTP session, in one of two ways:
 *
 * - built in (default): ssh2-sftp-client connects (with ssh2 underneath), checks the host key
 *   strictly against known_hosts (our `hostVerifier`), logs in with a key file, a password, an
 *   ssh-agent or the default keys in ~/.ssh, and opens the `sftp` subsystem; the file operations
 *   are ssh2-sftp-client's;
 * - external: the system's `ssh … -s sftp` (or a whole command the user gives) runs as a child
 *   process, and SFTP is spoken over its stdin and stdout, so ~/.ssh/config, ProxyJump, agents
 *   and hardware keys all work. ssh2-sftp-client always makes its own SSH connection and cannot
 *   speak SFTP over another process's stdio, so this mode uses cairn's own SFTP v3 client
 *   (client.ts).
 *
 * Either way the result is the {@link SftpFileOperations} of files.ts and a way to close the
 * connection.
 */

import {readFile} from 'node:fs/promises';
import {homedir, userInfo} from 'node:os';
import {join} from 'node:path';
import {Duplex} from 'node:stream';

import ssh2, {type AuthMethod, type ParsedKey} from 'ssh2';
import SftpLibraryClient from 'ssh2-sftp-client';

import {AuthError, PermanentError} from '../storage.js';
import {describeExit, startManagedProcess, type ManagedProcess} from '../shared/subprocess.js';
import {SftpClient} from './client.js';
import {KeyPassphraseError} from './key-errors.js';
import {wrapLibraryClient, wrapOwnClient, type SftpFileOperations} from './files.js';
import {filterSshOutput, makeHostKeyError, mapConnectError, mapSshFailure, type HostKeyError} from './errors.js';
import {findKnownHostKeys, formatKnownHostName, readKeyType, readKnownHostsFile, type KnownHostKey} from './known-hosts.js';

/** Everything needed to connect; built by the adapter from its option values. */
export interface SftpConnectionSettings {
	readonly host: string;
	/** Undefined: 22 for the built-in client, ssh's own configuration in external mode. */
	readonly port?: number;
	/** Undefined: the local user for the built-in client, ssh's own configuration in external mode. */
	readonly username?: string;
	readonly keyFile?: string;
	readonly keyPassphrase?: string;
	readonly password?: string;
	/** Undefined: ~/.ssh/known_hosts for the built-in client, ssh's own configuration in external mode. */
	readonly knownHostsFile?: string;
	readonly external: boolean;
	/** The ssh program of external mode. */
	readonly sshCommand: string;
	/** Extra arguments for ssh in external mode. */
	readonly sshArgs: readonly string[];
	/** A whole command (program and arguments) that starts an SFTP server on its stdio; replaces ssh. */
	readonly command?: readonly string[];
	/** How long connecting and logging in may take. */
	readonly timeoutMs: number;
	/** The environment (HOME, SSH_AUTH_SOCK); default `process.env`. */
	readonly env?: NodeJS.ProcessEnv;
}

/**
 * An open SFTP session: through ssh2-sftp-client in the built-in mode, through cairn's own SFTP
 * client over the ssh process's stdio in external mode (see files.ts).
 */
export interface SftpConnection {
	readonly files: SftpFileOperations;
	/** Ends the session and its connection or process; resolves once they are gone. */
	close(): Promise<void>;
}

/** Opens a session in the mode the settings ask for. Rejects with a storage error. */
export function openSftpConnection(settings: SftpConnectionSettings): Promise<SftpConnection> {
	return settings.external || settings.command !== undefined ? connectExternal(settings) : connectBuiltIn(settings);
}

/** The user name shown in messages and used for the built-in login. */
export function describeTarget(settings: SftpConnectionSettings): string {
	const user = settings.username ?? (settings.external ? undefined : findLocalUser(settings.env));
	const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
	return `${user === undefined ? '' : `${user}@`}${host}${settings.port === undefined ? '' : `:${settings.port}`}`;
}

function findLocalUser(env: NodeJS.ProcessEnv = process.env): string {
	try {
		return userInfo().username;
	} catch {
		return env.USER ?? env.LOGNAME ?? 'root';
	}
}

function findHome(env: NodeJS.ProcessEnv = process.env): string {
	return env.HOME || homedir();
}

/** The system-wide known_hosts files OpenSSH reads besides the user's. */
const GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

/** Host key algorithms ssh2 knows, most preferred first (its own default order). */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** The algorithms that verify a key of a known_hosts type. */
function algorithmsForKeyType(type: string): string[] {
	return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

async function connectBuiltIn(settings: SftpConnectionSettings): Promise<SftpConnection> {
	const env = settings.env ?? process.env;
	const port = settings.port ?? 22;
	const username = settings.username ?? findLocalUser(env);
	const target = describeTarget({...settings, username});
	const knownHostsFile = settings.knownHostsFile ?? join(findHome(env), '.ssh', 'known_hosts');
	const hostName = formatKnownHostName(settings.host, port);
	// Like ssh: the user's file, and the system-wide ones unless a file was named.
	const files = settings.knownHostsFile === undefined ? [knownHostsFile, ...GLOBAL_KNOWN_HOSTS] : [knownHostsFile];
	const recorded: Array<KnownHostKey & {file: string}> = [];
	for (const file of files) {
		let text: string;
		try {
			text = await readKnownHostsFile(file);
		} catch (error) {
			throw new PermanentError(`cannot read the known hosts file ${file}: ${(error as Error).message}; fix its permissions or pass -o sftp.known-hosts=FILE`, {cause: error});
		}
		recorded.push(...findKnownHostKeys(text, hostName).map((entry) => ({...entry, file})));
	}
	const authMethods = await buildAuthMethods(settings, username, env);

	// Prefer the key types known_hosts records for this host, as OpenSSH does.
	const knownTypes = [...new Set(recorded.filter((key) => !key.revoked).flatMap((key) => algorithmsForKeyType(key.type)))].filter((a) => HOST_KEY_ALGORITHMS.includes(a));
	const serverHostKey = [...knownTypes, ...HOST_KEY_ALGORITHMS.filter((a) => !knownTypes.includes(a))];

	let hostKeyError: HostKeyError | undefined;
	const verifyHostKey = (key: Buffer): boolean => {
		const matching = recorded.filter((entry) => entry.key.equals(key));
		if (matching.some((entry) => entry.revoked)) {
			hostKeyError = makeHostKeyError('revoked', hostName, matching[0]!.file, key, matching[0]!.line);
			return false;
		}
		if (matching.length > 0) return true;
		const live = recorded.filter((entry) => !entry.revoked);
		if (live.length === 0) {
			hostKeyError = makeHostKeyError('unknown', hostName, knownHostsFile, key);
			return false;
		}
		const sameType = live.find((entry) => entry.type === readKeyType(key)) ?? live[0]!;
		hostKeyError = makeHostKeyError('changed', hostName, sameType.file, key, sameType.line);
		return false;
	};

	// The library's default handlers of connection events print to the console (which would garble
	// the TUI); a lost connection is noticed by files.ts and reported by the next operation.
	const ignore = () => undefined;
	const library = new SftpLibraryClient('cairn', {error: ignore, end: ignore, close: ignore});
	try {
		await withTimeout(
			library.connect({
				host: settings.host,
				port,
				username,
				authHandler: authMethods,
				hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => verify(verifyHostKey(key)),
				algorithms: {serverHostKey},
				readyTimeout: settings.timeoutMs,
				keepaliveInterval: 15_000,
				keepaliveCountMax: 4,
			}),
			// The library's own timeout covers the handshake; this one also covers the start of the SFTP subsystem.
			settings.timeoutMs + 1000,
			`the SFTP subsystem of ${target} did not answer`,
		);
	} catch (error) {
		await library.end().catch(() => undefined);
		throw hostKeyError ?? mapConnectError(error, target);
	}
	const operations = wrapLibraryClient(library);
	return {
		files: operations,
		close: async () => {
			operations.end();
			await withTimeout(library.end(), 2000, '').catch(() => undefined);
		},
	};
}

/** Login methods in the order they are tried: password, the key file, else the agent and the default keys. */
async function buildAuthMethods(settings: SftpConnectionSettings, username: string, env: NodeJS.ProcessEnv): Promise<AuthMethod[]> {
	const methods: AuthMethod[] = [];
	if (settings.password !== undefined) methods.push({type: 'password', username, password: settings.password});
	if (settings.keyFile !== undefined) {
		methods.push({type: 'publickey', username, key: await loadPrivateKey(settings.keyFile, settings.keyPassphrase)});
		return methods;
	}
	if (settings.password !== undefined) return methods;
	if (env.SSH_AUTH_SOCK) methods.push({type: 'agent', username, agent: env.SSH_AUTH_SOCK});
	for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
		const key = await loadDefaultKey(join(findHome(env), '.ssh', name), settings.keyPassphrase);
		if (key !== undefined) methods.push({type: 'publickey', username, key});
	}
	if (methods.length === 0) {
		throw new AuthError(
			`no way to log in to ${settings.host}: no key file given, no ssh-agent running and no unencrypted key in ~/.ssh. ` +
				'Pass -o sftp.key-file=~/.ssh/id_ed25519 (and -o sftp.key-passphrase=… for an encrypted key), -o sftp.password=…, or use -o sftp.external=true to log in with the system ssh',
		);
	}
	return methods;
}

export {KeyPassphraseError};

/** Reads and decrypts the key file the user named; every failure says what to do. */
async function loadPrivateKey(path: string, passphrase: string | undefined): Promise<ParsedKey> {
	let data: Buffer;
	try {
		data = await readFile(path);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') throw new PermanentError(`the key file ${path} (sftp.key-file) does not exist; check the path`, {cause: error});
		if (code === 'EACCES' || code === 'EPERM') throw new AuthError(`cannot read the key file ${path} (sftp.key-file): permission denied`, {cause: error});
		throw new PermanentError(`cannot read the key file ${path}: ${(error as Error).message}`, {cause: error});
	}
	const parsed = ssh2.utils.parseKey(data, passphrase);
	if (parsed instanceof Error) {
		if (/no passphrase/i.test(parsed.message)) {
			throw new KeyPassphraseError(path, `the key file ${path} is encrypted: give its passphrase with -o sftp.key-passphrase=… or CAIRN_SFTP_KEY_PASSPHRASE, or load it into ssh-agent and use -o sftp.external=true`, {cause: parsed});
		}
		if (passphrase !== undefined && /decrypt|bad passphrase|integrity check/i.test(parsed.message)) {
			throw new AuthError(`cannot decrypt the key file ${path}: the passphrase is wrong`, {cause: parsed});
		}
		throw new PermanentError(`the key file ${path} is not a private key cairn can read (${parsed.message}); give an OpenSSH, PEM or PuTTY private key`, {cause: parsed});
	}
	const key = Array.isArray(parsed) ? parsed[0] : parsed;
	if (key === undefined || !key.isPrivateKey()) throw new PermanentError(`the key file ${path} holds no private key (is it the .pub file?); give the private key`);
	return key;
}

/** A default key that exists and can be used without asking; undefined otherwise. */
async function loadDefaultKey(path: string, passphrase: string | undefined): Promise<ParsedKey | undefined> {
	let data: Buffer;
	try {
		data = await readFile(path);
	} catch {
		return undefined;
	}
	const parsed = ssh2.utils.parseKey(data, passphrase);
	if (parsed instanceof Error) return undefined;
	const key = Array.isArray(parsed) ? parsed[0] : parsed;
	return key !== undefined && key.isPrivateKey() ? key : undefined;
}

/** The arguments of `ssh` in external mode (without the program). */
export function buildSshArguments(settings: SftpConnectionSettings): string[] {
	// Verbose output tells the host key's fingerprint when verification fails; it is filtered out of messages.
	const args = ['-o', 'LogLevel=DEBUG1', ...settings.sshArgs];
	if (settings.port !== undefined) args.push('-p', String(settings.port));
	if (settings.username !== undefined) args.push('-l', settings.username);
	if (settings.keyFile !== undefined) args.push('-i', settings.keyFile);
	if (settings.knownHostsFile !== undefined) args.push('-o', `UserKnownHostsFile=${settings.knownHostsFile}`);
	args.push('-s', '--', settings.host, 'sftp');
	return args;
}

async function connectExternal(settings: SftpConnectionSettings): Promise<SftpConnection> {
	const [program, ...args] = settings.command ?? [settings.sshCommand, ...buildSshArguments(settings)];
	const target = describeTarget(settings);
	const knownHosts = {
		hostName: formatKnownHostName(settings.host, settings.port ?? 22),
		file: settings.knownHostsFile ?? join(findHome(settings.env), '.ssh', 'known_hosts'),
	};
	const child = startManagedProcess({program: program!, args, env: settings.env});
	let presented: {keyType: string; fingerprint: string} | undefined;
	child.onStderr((text) => {
		const match = /Server host key: (\S+) (SHA256:\S+)/.exec(text);
		if (match !== null) presented = {keyType: match[1]!, fingerprint: match[2]!};
	});
	try {
		await child.started;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const what = settings.command === undefined ? `the ssh program "${program}" (sftp.ssh-command)` : `the command "${program}" (sftp.command)`;
		if (code === 'ENOENT') throw new PermanentError(`cannot run ${what}: it was not found; install the OpenSSH client (e.g. apt install openssh-client) or give its full path`, {cause: error});
		throw new PermanentError(`cannot run ${what}: ${(error as Error).message}`, {cause: error});
	}
	const describeLoss = () => describeChild(child);
	let stdoutEnded = false;
	child.stdout!.once('end', () => (stdoutEnded = true));
	const stream = Duplex.from({readable: child.stdout!, writable: child.stdin!});
	let client: SftpClient;
	try {
		client = await withTimeout(SftpClient.start(stream, describeLoss), settings.timeoutMs, `ssh did not start an SFTP session with ${target} within ${Math.round(settings.timeoutMs / 1000)} s`);
	} catch (error) {
		if (child.exit === undefined && stdoutEnded) {
			// ssh closed its stdout; give it a moment to finish writing stderr and exit.
			await withTimeout(child.exited, 2000, '').catch(() => undefined);
		}
		await child.stop(500);
		const exit = child.exit === undefined ? 'stopped' : describeExit(child.exit);
		throw mapSshFailure(child.readStderr(), exit, target, knownHosts, presented, error);
	}
	return {
		files: wrapOwnClient(client),
		close: async () => {
			client.end();
			await child.stop();
		},
	};
}

/** How an ssh process ended and what it said, for messages. */
function describeChild(child: ManagedProcess): string {
	const said = filterSshOutput(child.readStderr()).split('\n').slice(-6).join(' / ');
	const exit = child.exit === undefined ? 'ssh is still running' : `ssh ${describeExit(child.exit)}`;
	return said === '' ? exit : `${exit}; it said: ${said}`;
}

/** Rejects with `message` when `promise` takes longer than `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(Object.assign(new Error(message), {level: 'client-timeout'})), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

