/**
 * The declaration of the `rclone:` scheme: any remote rclone reaches, at `rclone:REMOTE:PATH`
 * (as restic writes it), served by an `rclone serve restic --stdio` process that cairn starts
 * and stops itself (see process.ts).
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError, type Storage} from '../storage.js';
import {createRestStorage} from '../rest/storage.js';
import {splitShellWords} from '../shared/shell-words.js';
import {redactRcloneSecrets} from './redact.js';

/** The arguments rclone runs with unless `rclone.args` starts with `serve` (restic's default). */
export const DEFAULT_RCLONE_ARGS = ['serve', 'restic', '--stdio', '--b2-hard-delete'];

/**
 * The arguments before the remote: `rclone.args` replaces the default when it starts with
 * `serve` (restic's meaning of the option), and is added to the default otherwise.
 */
export function buildRcloneArguments(args: string | undefined): string[] {
	const words = args ? splitShellWords(args) : [];
	if (words[0] === 'serve') {
		if (!words.includes('--stdio')) throw new PermanentError(`rclone.args "${args}" must keep --stdio: cairn speaks to rclone over its stdin and stdout`);
		return words;
	}
	return [...DEFAULT_RCLONE_ARGS, ...words];
}

const checkWords = (value: string) => {
	try {
		splitShellWords(value);
		return undefined;
	} catch (error) {
		return `cannot be split into words: ${(error as Error).message}`;
	}
};

/** The declaration of the `rclone:` scheme for the adapter registry. */
export const rcloneAdapter: AdapterDefinition = {
	scheme: 'rclone',
	label: 'rclone remote',
	description: 'Any of the storage services rclone reaches (set up with `rclone config`), served to cairn by an rclone process it runs itself.',
	example: 'rclone:mydrive:backups/laptop',
	options: [
		{
			name: 'remote',
			label: 'Remote and path',
			description: 'An rclone remote and the path in it, as rclone writes them, e.g. mydrive:backups/laptop (a local path works too).',
			required: true,
			inLocation: true,
			placeholder: 'mydrive:backups/laptop',
		},
		{name: 'program', label: 'rclone program', description: 'The rclone program to run (default rclone, found on PATH).', required: false, kind: 'path', default: 'rclone'},
		{
			name: 'args',
			label: 'rclone arguments',
			description: 'Extra rclone arguments such as --bwlimit 1M; arguments starting with "serve" replace the default "serve restic --stdio --b2-hard-delete".',
			required: false,
			validate: checkWords,
			placeholder: '--bwlimit 1M',
		},
		{
			name: 'timeout',
			label: 'Start timeout',
			description: 'Seconds to wait for rclone to start and answer (default 60).',
			required: false,
			kind: 'number',
			default: '60',
			validate: (value) => (Number(value) > 0 && Number(value) <= 3600 ? undefined : 'must be from 1 to 3600 seconds'),
		},
		{
			name: 'connections',
			label: 'Connections',
			description: 'How many requests to run at once (default 5).',
			required: false,
			kind: 'number',
			default: '5',
			validate: (value) => (Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 64 ? undefined : 'must be a whole number from 1 to 64'),
		},
	],
	parseLocation: (rest): Record<string, string> => (rest === '' ? {} : {remote: rest}),
	formatLocation: (values) => values['remote'] ?? '',
	open: async (values): Promise<Storage> => {
		const remote = values['remote'];
		if (remote === undefined || remote === '') throw new PermanentError(`the rclone adapter needs a remote, e.g. ${rcloneAdapter.example}`);
		const connections = readNumberOption(values, 'connections') ?? 5;
		// execa loads only when an rclone repository is opened.
		const {startRcloneTransport} = await import('./process.js');
		const transport = await startRcloneTransport({
			program: values['program'] || 'rclone',
			args: buildRcloneArguments(values['args']),
			remote,
			timeoutMs: (readNumberOption(values, 'timeout') ?? 60) * 1000,
		});
		return createRestStorage({
			transport,
			location: `rclone:${redactRcloneSecrets(remote)}`,
			server: `rclone (${redactRcloneSecrets(remote)})`,
			authHint: 'check the remote\'s credentials with `rclone config reconnect` or `rclone lsd REMOTE:`',
			concurrency: connections,
			mayRefuseDelete: false,
		});
	},
};
