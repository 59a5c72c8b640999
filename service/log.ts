/**
 * The service's log: timestamped lines on stderr (journald or cron mail keep them) and, when
 * `log_file` is set, appended to that file. Every line is scrubbed of the config's secrets first.
 */
import {appendFileSync, mkdirSync} from 'node:fs';
import {dirname} from 'node:path';

/** Where the service writes what it does. */
export interface ServiceLog {
	info(message: string): void;
	error(message: string): void;
	/** Removes every secret value from a text (for messages stored in the state or sent out). */
	scrub(text: string): string;
}

/** Replaces each secret (and its URL-encoded form) with `***`. Longer secrets first, so a secret inside another is not left half-shown. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
	let result = text;
	for (const secret of [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)) {
		for (const form of new Set([secret, encodeURIComponent(secret)])) result = result.split(form).join('***');
	}
	return result;
}

/** A log writing to `stream` (default stderr) and `file`, scrubbing `secrets`. */
export function createServiceLog(options: {secrets: readonly string[]; file?: string | null; stream?: NodeJS.WritableStream; name?: string}): ServiceLog {
	const stream = options.stream ?? process.stderr;
	const write = (level: string, message: string): void => {
		const text = scrubSecrets(message, options.secrets);
		const lines = text.split('\n').map((line) => `${new Date().toISOString()} ${level}${options.name ? ` [${options.name}]` : ''} ${line}`).join('\n') + '\n';
		stream.write(lines);
		if (options.file) {
			try {
				mkdirSync(dirname(options.file), {recursive: true, mode: 0o700});
				appendFileSync(options.file, lines, {mode: 0o600});
			} catch (error) {
				stream.write(`${new Date().toISOString()} warning cannot write the log file ${options.file}: ${(error as Error).message}\n`);
			}
		}
	};
	return {
		info: (message) => write('info', message),
		error: (message) => write('error', message),
		scrub: (text) => scrubSecrets(text, options.secrets),
	};
}
