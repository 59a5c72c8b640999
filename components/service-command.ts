/**
 * Runs `cairn service ...` as a child process for the app's Service screen ("run now", the
 * one-time restore). The app never imports the service's entry point: it starts the CLI, which
 * takes the service's lock and writes the state file the screen reads (SERVICE-CONTRACT.md).
 */
import {spawn} from 'node:child_process';

/** A program and its arguments. */
export interface ServiceCommand {
	readonly command: string;
	readonly args: readonly string[];
}

/** Builds the command line of `cairn <args>` (e.g. `service run --once --config FILE`). */
export type ServiceCommandBuilder = (args: readonly string[]) => ServiceCommand;

/** The command line of `cairn <args>` (the service's own builder: Node with dist/source/cli.js, or the single executable). */
export {buildServiceCommand} from '../service/spawn.js';

/**
 * The arguments of "run now": every job, now, whatever the schedule says (`--force`); with
 * `ignoreWindow`, also outside the maintenance windows (asked first on the screen).
 */
export function buildRunNowArgs(configPath: string, ignoreWindow = false): string[] {
	return ['service', 'run', '--once', '--force', ...(ignoreWindow ? ['--ignore-window'] : []), '--config', configPath];
}

/**
 * The arguments of the run that does the one-time restore set in the config. A person asked for
 * it (and confirmed twice), so it runs now even outside the maintenance windows.
 */
export function buildRestoreArgs(configPath: string): string[] {
	return ['service', 'run', '--once', '--ignore-window', '--config', configPath];
}

/** How a child run ended. */
export interface ServiceExit {
	/** Exit code, or null when a signal ended it. */
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	/** The last lines the child wrote to stderr (at most {@link STDERR_TAIL_BYTES}). */
	readonly stderrTail: string;
}

/** A started child run. */
export interface ServiceChild {
	readonly pid: number | undefined;
	/** Settles when the child has ended (never rejects; a failure to start is an exit with code null). */
	readonly exited: Promise<ServiceExit>;
	/** Asks the child to stop (SIGTERM: the service stops its work cleanly). */
	stop(): void;
}

/** How much of the child's stderr is kept. */
export const STDERR_TAIL_BYTES = 4096;

/** Keeps the last `limit` characters of what is appended. */
function createTail(limit: number): {append(text: string): void; read(): string} {
	let text = '';
	return {
		append(chunk) {
			text = (text + chunk).slice(-limit);
		},
		read: () => text,
	};
}

/**
 * Starts `command` with its stdout ignored and its stderr kept (the tail), in `env`.
 * Errors starting it (e.g. the program is missing) are reported as an exit with the reason.
 */
export function startServiceChild(command: ServiceCommand, env: Readonly<Record<string, string | undefined>>, cwd: string): ServiceChild {
	const child = spawn(command.command, command.args, {env: {...process.env, ...env}, cwd, stdio: ['ignore', 'ignore', 'pipe']});
	const tail = createTail(STDERR_TAIL_BYTES);
	child.stderr?.setEncoding('utf8');
	child.stderr?.on('data', (chunk: string) => tail.append(chunk));
	const exited = new Promise<ServiceExit>((resolve) => {
		child.once('error', (error) => resolve({code: null, signal: null, stderrTail: `${tail.read()}${error.message}`}));
		child.once('close', (code, signal) => resolve({code, signal, stderrTail: tail.read()}));
	});
	return {
		pid: child.pid,
		exited,
		stop: () => {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
		},
	};
}

/** The last `count` non-empty lines of a text (for showing a child's stderr). */
export function readLastLines(text: string, count: number): string[] {
	return text.split(/\r?\n/).map((line) => line.trimEnd()).filter((line) => line !== '').slice(-count);
}
