/**
 * Where the repository password comes from: CAIRN_PASSWORD, then --password-file /
 * CAIRN_PASSWORD_FILE, then --password-command / CAIRN_PASSWORD_COMMAND, then the same three
 * RESTIC_* variables, and last a prompt without echo when stdin is a terminal.
 */
import {readFile} from 'node:fs/promises';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {CairnError} from '../../engine/errors.js';
import {promptHidden} from './prompt.js';

const execFileAsync = promisify(execFile);

/** Flags that can carry the password. */
export interface PasswordFlags {
	passwordFile?: string;
	passwordCommand?: string;
}

async function readPasswordFile(file: string): Promise<string> {
	try {
		return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
	} catch (error) {
		throw new CairnError(`cannot read the password file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Check the path given with --password-file or CAIRN_PASSWORD_FILE`);
	}
}

async function runPasswordCommand(command: string): Promise<string> {
	try {
		const {stdout} = await execFileAsync('/bin/sh', ['-c', command], {timeout: 60_000, maxBuffer: 1024 * 1024});
		return stdout.replace(/\r?\n$/, '');
	} catch (error) {
		const e = error as {code?: number | string; stderr?: string};
		throw new CairnError(`the password command failed (exit ${String(e.code)}): ${(e.stderr ?? '').trim().slice(0, 200) || 'no output'}. Check --password-command or CAIRN_PASSWORD_COMMAND`);
	}
}

/** Finds a password without prompting; undefined when no source is set. */
export async function findPassword(flags: PasswordFlags, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
	if (env.CAIRN_PASSWORD !== undefined && env.CAIRN_PASSWORD !== '') return env.CAIRN_PASSWORD;
	const file = flags.passwordFile ?? env.CAIRN_PASSWORD_FILE;
	if (file) return readPasswordFile(file);
	const command = flags.passwordCommand ?? env.CAIRN_PASSWORD_COMMAND;
	if (command) return runPasswordCommand(command);
	if (env.RESTIC_PASSWORD !== undefined && env.RESTIC_PASSWORD !== '') return env.RESTIC_PASSWORD;
	if (env.RESTIC_PASSWORD_FILE) return readPasswordFile(env.RESTIC_PASSWORD_FILE);
	if (env.RESTIC_PASSWORD_COMMAND) return runPasswordCommand(env.RESTIC_PASSWORD_COMMAND);
	return undefined;
}

/**
 * Resolves the password, prompting on a terminal when no source is set (twice when `confirm`).
 * Throws a CairnError saying how to provide one when there is no terminal.
 */
export async function resolvePassword(flags: PasswordFlags, options: {confirm?: boolean; prompt?: string} = {}, env: NodeJS.ProcessEnv = process.env): Promise<string> {
	const found = await findPassword(flags, env);
	if (found !== undefined) {
		if (found === '') throw new CairnError('the password is empty: an empty password is not allowed');
		return found;
	}
	if (!process.stdin.isTTY) {
		throw new CairnError('no password given: set CAIRN_PASSWORD, or use --password-file / --password-command (CAIRN_PASSWORD_FILE / CAIRN_PASSWORD_COMMAND), or run in a terminal to be asked');
	}
	const first = await promptHidden(options.prompt ?? 'enter password for repository: ');
	if (!first) throw new CairnError('the password is empty: an empty password is not allowed');
	if (options.confirm) {
		const second = await promptHidden('enter password again: ');
		if (first !== second) throw new CairnError('the passwords do not match: nothing was changed, try again');
	}
	return first;
}
