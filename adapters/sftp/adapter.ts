/**
 * The declaration of the `sftp:` scheme: its location syntax, options and opener.
 */

import {homedir} from 'node:os';
import {join} from 'node:path';

import {readBooleanOption, readNumberOption, type AdapterDefinition, type OptionValues} from '../options.js';
import {PermanentError, type Storage} from '../storage.js';
import {splitShellWords} from '../shared/shell-words.js';
import type {SftpConnectionSettings} from './connect.js';
import {formatSftpLocation, parseSftpLocation} from './location.js';

const checkPort = (value: string) => (Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 65535 ? undefined : 'must be a port number from 1 to 65535');
const checkWords = (value: string) => {
	try {
		splitShellWords(value);
		return undefined;
	} catch (error) {
		return `cannot be split into words: ${(error as Error).message}`;
	}
};

/** The declaration of the `sftp:` scheme for the adapter registry. */
export const sftpAdapter: AdapterDefinition = {
	scheme: 'sftp',
	label: 'SFTP server',
	description: 'A directory on a computer reachable over SSH (a NAS, a server), in the same layout restic uses, so restic can open it too.',
	example: 'sftp:backup@nas.example:/srv/restic-repo',
	options: [
		{name: 'host', label: 'Host', description: 'Name or address of the SSH server.', required: true, inLocation: true, placeholder: 'nas.example'},
		{
			name: 'path',
			label: 'Path',
			description: 'Directory of the repository on the server; a relative path starts at the login directory.',
			required: true,
			inLocation: true,
			placeholder: '/srv/restic-repo',
		},
		{name: 'username', label: 'User', description: 'User to log in as (default: your local user name, or what ~/.ssh/config says in external mode).', required: false, inLocation: true, placeholder: 'backup'},
		{name: 'port', label: 'Port', description: 'SSH port (default 22).', required: false, kind: 'number', inLocation: true, placeholder: '22', validate: checkPort},
		{
			name: 'key-file',
			label: 'Key file',
			description: 'Private key to log in with (default: an ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa and id_rsa).',
			required: false,
			kind: 'path',
			env: ['CAIRN_SFTP_KEY_FILE'],
			placeholder: '~/.ssh/id_ed25519',
		},
		{name: 'key-passphrase', label: 'Key passphrase', description: 'Passphrase of an encrypted key file.', required: false, secret: true, env: ['CAIRN_SFTP_KEY_PASSPHRASE']},
		{name: 'password', label: 'Password', description: 'Password to log in with (a key is safer; not available in external mode).', required: false, secret: true, env: ['CAIRN_SFTP_PASSWORD']},
		{
			name: 'known-hosts',
			label: 'Known hosts file',
			description: 'File of trusted host keys, checked strictly (default ~/.ssh/known_hosts; in external mode, ssh\'s own setting).',
			required: false,
			kind: 'path',
			placeholder: '~/.ssh/known_hosts',
		},
		{
			name: 'external',
			label: 'Use the system ssh',
			description: 'Connect by running the system\'s ssh, so ~/.ssh/config, ProxyJump, agents and hardware keys work.',
			required: false,
			kind: 'boolean',
			default: 'false',
		},
		{name: 'ssh-command', label: 'ssh program', description: 'The ssh program of external mode.', required: false, kind: 'path', default: 'ssh'},
		{name: 'ssh-args', label: 'ssh arguments', description: 'Extra arguments for ssh in external mode, e.g. -F ~/.ssh/backup_config -J jumphost.', required: false, validate: checkWords, placeholder: '-J jumphost'},
		{
			name: 'command',
			label: 'Full command',
			description: 'A whole command that starts SFTP on its stdin and stdout (replaces ssh and implies external mode), e.g. ssh backup@nas -s sftp.',
			required: false,
			validate: checkWords,
			placeholder: 'ssh backup@nas -s sftp',
		},
		{
			name: 'timeout',
			label: 'Connect timeout',
			description: 'Seconds to wait for the connection and the login (default 30).',
			required: false,
			kind: 'number',
			default: '30',
			validate: (value) => (Number(value) > 0 && Number(value) <= 3600 ? undefined : 'must be from 1 to 3600 seconds'),
		},
		{
			name: 'connections',
			label: 'Operations at once',
			description: 'How many file operations to run at once over the connection (default 5).',
			required: false,
			kind: 'number',
			default: '5',
			validate: (value) => (Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 64 ? undefined : 'must be a whole number from 1 to 64'),
		},
	],
	parseLocation: parseSftpLocation,
	formatLocation: formatSftpLocation,
	// ssh2, ssh2-sftp-client and execa load only when an SFTP repository is opened.
	open: async (values): Promise<Storage> => (await import('./storage.js')).openSftpStorage({
		settings: buildSftpSettings(values),
		path: values['path'] ?? '',
		location: `sftp:${formatSftpLocation(values)}`,
		concurrency: readNumberOption(values, 'connections') ?? 5,
	}),
};

/** Turns resolved option values into connection settings; throws PermanentError for combinations that cannot work. */
export function buildSftpSettings(values: OptionValues, env: NodeJS.ProcessEnv = process.env): SftpConnectionSettings {
	const host = values['host'];
	if (host === undefined || host === '') throw new PermanentError(`the SFTP adapter needs a host, e.g. ${sftpAdapter.example}`);
	if (host.startsWith('-')) throw new PermanentError(`the host name "${host}" cannot start with a dash`);
	const command = values['command'] ? splitShellWords(values['command']) : undefined;
	const sshArgs = values['ssh-args'] ? splitShellWords(values['ssh-args']) : [];
	const external = (readBooleanOption(values, 'external') ?? false) || command !== undefined;
	if (command !== undefined && command.length === 0) throw new PermanentError('sftp.command is empty; give a command such as "ssh backup@nas -s sftp"');
	if (command !== undefined && sshArgs.length > 0) throw new PermanentError('give either sftp.command (a whole command) or sftp.ssh-args (extra ssh arguments), not both');
	if (external && values['password']) {
		throw new PermanentError('sftp.password works only with the built-in client: in external mode ssh cannot be given a password; use a key or an ssh-agent, or leave out sftp.external');
	}
	const port = readNumberOption(values, 'port');
	return {
		host,
		port,
		username: values['username'] || undefined,
		keyFile: expandHome(values['key-file'], env),
		keyPassphrase: values['key-passphrase'] || undefined,
		password: values['password'] || undefined,
		knownHostsFile: expandHome(values['known-hosts'], env),
		external,
		sshCommand: values['ssh-command'] || 'ssh',
		sshArgs,
		command,
		timeoutMs: (readNumberOption(values, 'timeout') ?? 30) * 1000,
		env,
	};
}

/** Replaces a leading `~` or `~/` with the home directory (profile values are not expanded by a shell). */
function expandHome(path: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
	if (path === undefined || path === '') return undefined;
	const home = env.HOME || homedir();
	if (path === '~') return home;
	if (path.startsWith('~/')) return join(home, path.slice(2));
	return path;
}
