/**
 * Where a profile's password comes from: typed each time, saved in the profile, a file, or a
 * command. No React here.
 */
import {execFile} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import type {Profile} from './profiles.js';

/** How the password of a profile is kept. */
export type PasswordSourceKind = 'ask' | 'save' | 'file' | 'command';

/** The source of a profile's password. */
export function readPasswordSourceKind(profile: Pick<Profile, 'password' | 'passwordFile' | 'passwordCommand'>): PasswordSourceKind {
	if (profile.passwordFile !== undefined) return 'file';
	if (profile.passwordCommand !== undefined) return 'command';
	if (profile.password !== undefined) return 'save';
	return 'ask';
}

/** Reads a password file: its content without one final line break. */
export async function readPasswordFile(file: string): Promise<string> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new Error(`The password file ${file} cannot be read (${code ?? (error as Error).message}). Check the path and its permissions.`, {cause: error});
	}
	const password = text.replace(/\r?\n$/, '');
	if (password === '') throw new Error(`The password file ${file} is empty.`);
	return password;
}

/** Runs a password command with /bin/sh and returns what it prints, without one final line break. */
export function runPasswordCommand(command: string, timeoutMs = 60_000): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('/bin/sh', ['-c', command], {timeout: timeoutMs, maxBuffer: 1024 * 1024}, (error, stdout, stderr) => {
			if (error !== null) {
				const detail = String(stderr).trim().slice(0, 200) || 'it printed no error';
				reject(new Error(`The password command failed (exit ${String(error.code ?? error.signal ?? '?')}): ${detail}. Check the command.`, {cause: error}));
				return;
			}
			const password = String(stdout).replace(/\r?\n$/, '');
			if (password === '') reject(new Error('The password command printed nothing.'));
			else resolve(password);
		});
	});
}

/** The password a profile gives without asking (saved, file or command), or undefined when it must be typed. */
export async function findProfilePassword(profile: Pick<Profile, 'password' | 'passwordFile' | 'passwordCommand'>): Promise<string | undefined> {
	if (profile.passwordFile !== undefined) return readPasswordFile(profile.passwordFile);
	if (profile.passwordCommand !== undefined) return runPasswordCommand(profile.passwordCommand);
	return profile.password;
}
