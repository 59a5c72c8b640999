/**
 * Reads the repository password from where the config says: inline, a file, or a command.
 * Messages name the source, never the password.
 */
import {readFile} from 'node:fs/promises';
import {execFile} from 'node:child_process';
import type {PasswordSource} from './config.js';

/** The password cannot be had; the message says which source failed and what to check. */
export class ServicePasswordError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'ServicePasswordError', enumerable: false});
	}
}

/** The password of a source, without one final line break. Throws ServicePasswordError. */
export async function readServicePassword(source: PasswordSource | undefined): Promise<string> {
	if (source === undefined) throw new ServicePasswordError('no repository password: set repository_password_file, repository_password_command or repository_password in the config');
	let password: string;
	if (source.kind === 'inline') password = source.value;
	else if (source.kind === 'file') {
		try {
			password = (await readFile(source.path, 'utf8')).replace(/\r?\n$/, '');
		} catch (error) {
			throw new ServicePasswordError(`cannot read repository_password_file ${source.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {cause: error});
		}
	} else {
		password = await new Promise<string>((resolve, reject) => {
			execFile('/bin/sh', ['-c', source.command], {timeout: 60_000, maxBuffer: 1024 * 1024}, (error, stdout, stderr) => {
				if (error !== null) reject(new ServicePasswordError(`repository_password_command failed (exit ${String(error.code ?? error.signal ?? '?')}): ${String(stderr).trim().slice(0, 200) || 'it printed no error'}`, {cause: error}));
				else resolve(String(stdout).replace(/\r?\n$/, ''));
			});
		});
	}
	if (password === '') throw new ServicePasswordError(`the repository password from ${source.kind === 'inline' ? 'repository_password' : source.kind === 'file' ? `repository_password_file ${source.path}` : 'repository_password_command'} is empty`);
	return password;
}
