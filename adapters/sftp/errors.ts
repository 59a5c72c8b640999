/**
 * The SFTP adapter's errors: host key problems (with the fingerprint and what to do), and the
 * translation of SFTP status codes, socket errors and ssh's own messages into the storage error
 * classes.
 */

import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';
import {SftpConnectionLostError, SftpProtocolError, SftpStatusError} from './client.js';
import {addKnownHostKey, describeKeyType, fingerprintKey, readKeyType} from './known-hosts.js';
import {StatusCode} from './packets.js';

/** What is wrong with a server's host key. */
export type HostKeyProblem = 'unknown' | 'changed' | 'revoked';

/** Details of a host key the server presented. */
export interface PresentedHostKey {
	/** The name looked up in known_hosts: `host` or `[host]:port`. */
	readonly hostName: string;
	/** The known_hosts file that was checked. */
	readonly knownHostsFile: string;
	/** Key type, e.g. `ssh-ed25519`; empty when ssh did not say (external mode). */
	readonly keyType: string;
	/** `SHA256:…`; empty when ssh did not say. */
	readonly fingerprint: string;
	/** The public key blob, when known (the built-in client always knows it). */
	readonly key?: Uint8Array;
	/** For a changed key: the line of the file that records the old one. */
	readonly recordedLine?: number;
}

/**
 * The server's host key is not in known_hosts, differs from the recorded one, or is revoked.
 *
 * An unknown key can be trusted with {@link HostKeyError.trust} (the TUI offers it after showing
 * the fingerprint); a changed or revoked key can not: the user has to check and edit the file.
 */
export class HostKeyError extends AuthError {
	constructor(readonly problem: HostKeyProblem, readonly presented: PresentedHostKey, message: string, options?: {cause?: unknown}) {
		super(message, options);
	}

	/** Tells whether {@link trust} may be called: only for an unknown key whose bytes are known. */
	get canTrust(): boolean {
		return this.problem === 'unknown' && this.presented.key !== undefined;
	}

	/** Records the presented key in the known_hosts file; refuses changed and revoked keys. */
	async trust(): Promise<void> {
		if (!this.canTrust) throw new PermanentError(`the host key of ${this.presented.hostName} cannot be trusted from here (${this.problem}); check it and edit ${this.presented.knownHostsFile} by hand`);
		await addKnownHostKey(this.presented.knownHostsFile, this.presented.hostName, this.presented.key!);
	}
}

/** Builds the error for a host key the built-in client found wrong. */
export function makeHostKeyError(problem: HostKeyProblem, hostName: string, knownHostsFile: string, key: Uint8Array, recordedLine?: number): HostKeyError {
	const keyType = readKeyType(key);
	const fingerprint = fingerprintKey(key);
	const presented: PresentedHostKey = {hostName, knownHostsFile, keyType, fingerprint, key, recordedLine};
	return new HostKeyError(problem, presented, describeHostKeyProblem(problem, presented));
}

/** The message of a {@link HostKeyError}. */
export function describeHostKeyProblem(problem: HostKeyProblem, presented: PresentedHostKey): string {
	const {hostName, knownHostsFile, keyType, fingerprint} = presented;
	const shown = fingerprint === '' ? 'its key' : `its ${describeKeyType(keyType)} key ${fingerprint}`;
	const removeOld = `ssh-keygen -R '${hostName}' -f ${knownHostsFile}`;
	switch (problem) {
		case 'unknown':
			return (
				`the host key of ${hostName} is not known: the server presented ${shown}, which is not in ${knownHostsFile}. ` +
				`If that is the server's fingerprint (ask its administrator, or run ssh-keygen -lf on its /etc/ssh/ssh_host_*_key.pub), ` +
				`trust it in the app, or connect once with ssh ${hostName.startsWith('[') ? '-p PORT ' : ''}and accept the key, or point -o sftp.known-hosts=FILE at a file that records it`
			);
		case 'changed':
			return (
				`WARNING: the host key of ${hostName} has CHANGED: the server presented ${shown}, ` +
				`but ${knownHostsFile}${presented.recordedLine === undefined ? '' : ` (line ${presented.recordedLine})`} records another key. ` +
				`Someone may be intercepting the connection, or the server was reinstalled. Nothing was sent. ` +
				`If you know why the key changed, remove the old entry with \`${removeOld}\` and connect again`
			);
		case 'revoked':
			return `the host key of ${hostName} (${shown}) is marked @revoked in ${knownHostsFile}: refusing to connect. Ask the server's administrator for its new key`;
	}
}

/** Tells whether an error is an abort, which adapters pass on unchanged. */
export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}

/** Network error codes a retry may cure. */
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'ENETDOWN', 'EHOSTDOWN']);

/**
 * Maps an error from an SFTP request to a storage error. `action` is a phrase such as
 * `load data/ab/ab12…`, `where` the server and path for messages, e.g. `backup@nas:/srv/repo`.
 */
export function mapSftpError(error: unknown, action: string, where: string): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	if (error instanceof SftpStatusError) {
		const server = error.serverMessage === '' ? '' : ` (the server said: ${error.serverMessage})`;
		switch (error.code) {
			case StatusCode.NO_SUCH_FILE:
				return new NotFoundError(`cannot ${action}: ${error.path} does not exist on ${where}`, {cause: error});
			case StatusCode.PERMISSION_DENIED:
				return new AuthError(`permission denied on ${where}: cannot ${action} (${error.path}); check the owner and mode of the repository's files and directories on the server${server}`, {cause: error});
			case StatusCode.NO_CONNECTION:
			case StatusCode.CONNECTION_LOST:
				return new TransientError(`the SFTP connection to ${where} failed while trying to ${action}; a retry reconnects${server}`, {cause: error});
			case StatusCode.OP_UNSUPPORTED:
				return new PermanentError(`the SFTP server of ${where} does not support what is needed to ${action}${server}`, {cause: error});
			default: {
				const hint = /space|quota/i.test(error.serverMessage) ? '; free some space on the server' : '';
				return new PermanentError(`cannot ${action} on ${where}: ${error.message}${hint}`, {cause: error});
			}
		}
	}
	if (error instanceof SftpConnectionLostError) {
		return new TransientError(`lost the SFTP connection to ${where} while trying to ${action} (${error.message}); the next attempt reconnects`, {cause: error});
	}
	if (error instanceof SftpProtocolError) return new PermanentError(`cannot ${action} on ${where}: ${error.message}`, {cause: error});
	const message = error instanceof Error ? error.message : String(error);
	return new PermanentError(`cannot ${action} on ${where}: ${message}`, {cause: error});
}

/**
 * Maps a failure to connect with the built-in client (a socket error or an ssh2 error with its
 * `level`) to a storage error. `target` is `user@host:port`.
 */
export function mapConnectError(error: unknown, target: string): Error {
	if (error instanceof StorageError || isAbortError(error)) return error as Error;
	const code = (error as {code?: unknown}).code;
	const level = (error as {level?: unknown}).level;
	const message = error instanceof Error ? error.message : String(error);
	const options = {cause: error};
	if (level === 'client-authentication' || /authentication methods failed/i.test(message)) {
		return new AuthError(
			`the server refused the login of ${target}: no key or password was accepted. ` +
				`Check the user name, that the public key of -o sftp.key-file is in the server's ~/.ssh/authorized_keys, or the password`,
			options,
		);
	}
	if (code === 'ECONNREFUSED') return new TransientError(`cannot connect to ${target}: connection refused; check the host name and port, and that the SSH server is running`, options);
	if (code === 'ENOTFOUND' || code === 'EAI_NONAME') {
		return new PermanentError(`cannot connect to ${target}: the host name does not resolve; check its spelling (a Host alias from ~/.ssh/config works only with -o sftp.external=true)`, options);
	}
	if (level === 'client-timeout' || code === 'ETIMEDOUT' || /timed out/i.test(message)) {
		return new TransientError(`cannot connect to ${target}: the connection or the login timed out; check the network, or raise -o sftp.timeout`, options);
	}
	if (typeof code === 'string' && TRANSIENT_SOCKET_CODES.has(code)) return new TransientError(`cannot connect to ${target}: ${message} (${code}); a retry may succeed`, options);
	if (/subsystem/i.test(message)) return new PermanentError(`the server ${target} refused to start SFTP: enable its sftp subsystem (Subsystem sftp in sshd_config)`, options);
	if (/no matching/i.test(message)) return new PermanentError(`cannot agree on an encryption method with ${target}: ${message}; use -o sftp.external=true to connect with the system's ssh`, options);
	return new PermanentError(`cannot connect to ${target}: ${message}`, options);
}

/** What ssh said on stderr, with its debug lines left out. */
export function filterSshOutput(stderr: string): string {
	return stderr
		.split(/\r?\n/)
		.filter((line) => !/^debug\d:/.test(line) && !/^(OpenSSH_|Authenticated to|Transferred: sent|Bytes per second)/.test(line))
		.join('\n')
		.trim();
}

/**
 * Maps the end of an external ssh process that never spoke SFTP to a storage error, from what it
 * wrote to stderr. `presented` is what its debug output said about the host key, if anything.
 */
export function mapSshFailure(stderr: string, exit: string, target: string, knownHosts: {hostName: string; file: string}, presented?: {keyType: string; fingerprint: string}, cause?: unknown): Error {
	const shown = filterSshOutput(stderr);
	const said = shown === '' ? ` (ssh ${exit} without saying why)` : `; ssh ${exit} and said:\n${indent(shown)}`;
	const options = {cause};
	if (/Host key verification failed|host key .* has changed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known for/i.test(shown)) {
		const changed = /REMOTE HOST IDENTIFICATION HAS CHANGED|has changed/i.test(shown);
		const revoked = /REVOKED/i.test(shown);
		const problem: HostKeyProblem = revoked ? 'revoked' : changed ? 'changed' : 'unknown';
		const fingerprint = presented?.fingerprint ?? /(SHA256:[A-Za-z0-9+/]{20,})/.exec(shown)?.[1] ?? '';
		const lineMatch = /known_hosts:(\d+)/.exec(shown) ?? /Offending \S+ key in \S+:(\d+)/.exec(shown);
		const details: PresentedHostKey = {
			hostName: knownHosts.hostName,
			knownHostsFile: knownHosts.file,
			keyType: presented?.keyType ?? '',
			fingerprint,
			recordedLine: lineMatch === null ? undefined : Number(lineMatch[1]),
		};
		return new HostKeyError(problem, details, `${describeHostKeyProblem(problem, details)}${said}`, options);
	}
	if (/Permission denied|Too many authentication failures/i.test(shown)) {
		return new AuthError(`the server refused the login of ${target}: check the user name, your keys (ssh-add -l) and the server's authorized_keys${said}`, options);
	}
	if (/Connection refused/i.test(shown)) return new TransientError(`cannot connect to ${target}: connection refused; check the host name and port, and that the SSH server is running${said}`, options);
	if (/Could not resolve hostname|Name or service not known/i.test(shown)) return new PermanentError(`cannot connect to ${target}: the host name does not resolve${said}`, options);
	if (/timed out|No route to host|Network is unreachable|Connection reset|Connection closed/i.test(shown)) {
		return new TransientError(`cannot connect to ${target}: a network failure; a retry may succeed${said}`, options);
	}
	if (/subsystem request failed/i.test(shown)) return new PermanentError(`the server ${target} refused to start SFTP: enable its sftp subsystem${said}`, options);
	const reason = cause instanceof Error ? ` (${cause.message})` : '';
	return new PermanentError(`could not start an SFTP session with ${target}${reason}${said}`, options);
}

function indent(text: string): string {
	return text
		.split('\n')
		.slice(-12)
		.map((line) => `    ${line}`)
		.join('\n');
}
