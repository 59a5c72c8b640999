/**
 * Runs `cairn service ...` as a child process for the app's Service screen ("run now", the
 * one-time restore). The app never imports the service's entry point: it starts the CLI, which
 * takes the service's lock and writes the state file the screen reads (SERVICE-CONTRACT.md).
 */
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';

/** A program and its arguments. */
export interface ServiceCommand {
	readonly command: string;
	readonly args: readonly string[];
}

/** Builds the command line of `cairn <args>` (e.g. `service run --once --config FILE`). */
export type ServiceCommandBuilder = (args: readonly string[]) => ServiceCommand;

/** Whether this process is a Node single executable application (then it is the CLI itself). */
async function checkSingleExecutable(): Promise<boolean> {
	try {
		const sea = await import('node:sea');
		return sea.isSea();
	} catch {
		return false;
	}
}

let singleExecutable: boolean | undefined;

/**
 * The command that runs the CLI with `args`: Node with dist/source/cli.js, or this executable
 * alone when cairn runs as a Node single executable. This module sits directly in
 * dist/components both as a module and inside the app's bundle, so the CLI is found next to it.
 */
export function buildServiceCommand(args: readonly string[]): ServiceCommand {
	if (singleExecutable === true) return {command: process.execPath, args: [...args]};
	return {command: process.execPath, args: [fileURLToPath(new URL('../source/cli.js', import.meta.url)), ...args]};
}

/** Finds out once whether this is a single executable (call before {@link buildServiceCommand}). */
export async function prepareServiceCommand(): Promise<void> {
	singleExecutable ??= await checkSingleExecutable();
}

/** The arguments of "run now": everything, now, whatever the schedule and the window say. */
export function buildRunNowArgs(configPath: string): string[] {
	return ['service', 'run', '--once', '--force', '--config', configPath];
}

/** The arguments of the run that does the one-time restore set in the config. */
export function buildRestoreArgs(configPath: string): string[] {
	return ['service', 'run', '--once', '--config', configPath];
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
