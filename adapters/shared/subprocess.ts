/**
 * Helper processes that adapters run (the system `ssh` for SFTP's external mode, `rclone serve`):
 * started with pipes, stderr kept for error messages, and never left running after cairn.
 *
 * Each process gets a session of its own (`detached`), so a Ctrl-C typed in the terminal reaches
 * cairn alone: cairn then finishes cleanly (it removes its lock through the helper) before it
 * stops the helper. So that no helper outlives cairn, every running helper is killed when the
 * Node process exits, however it exits; and when cairn is killed outright, the helper sees its
 * stdin close (ssh and `rclone serve --stdio` both stop then).
 *
 * Processes are started with execa (the project's subprocess library). Its own lifecycle
 * helpers are not used, on purpose: execa's `cleanup` does nothing for `detached` processes
 * (which a helper must be, see above), its result promise settles only once every pipe has
 * ended (a grandchild such as a ProxyCommand can hold stderr open long after the helper died),
 * and its kill signals the helper alone, not its process group. So the process exit hook, the
 * group signals and the exit bookkeeping below stay, built on the child process execa returns
 * (a Node `ChildProcess`, whose events are used as they are).
 */

import type {ChildProcess} from 'node:child_process';
import type {Socket} from 'node:net';
import type {Readable, Writable} from 'node:stream';

import {execa} from 'execa';

/** How a helper process ended. */
export interface ProcessExit {
	/** Exit code, or null when a signal ended it or it never started. */
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	/** Why it could not be started (ENOENT, EACCES, ...), if that is what happened. */
	readonly error?: Error;
}

/** What {@link startManagedProcess} needs. */
export interface ManagedProcessOptions {
	readonly program: string;
	readonly args: readonly string[];
	/** The environment; default `process.env`. */
	readonly env?: NodeJS.ProcessEnv;
	/** How many bytes of stderr to keep for messages (the last ones). Default 16 KiB. */
	readonly stderrLimit?: number;
	/**
	 * A socket to give the process as both stdin and stdout (see socket-pair.ts) instead of two
	 * pipes; then {@link ManagedProcess.stdin} and {@link ManagedProcess.stdout} are null, and the
	 * caller talks over the other end of the pair.
	 */
	readonly socket?: Socket;
}

/**
 * A running helper process.
 *
 * Contract: `started` resolves once the program runs and rejects with the spawn error (e.g. a
 * missing program, `code: 'ENOENT'`); `exited` always resolves, once, when the process is gone
 * (also after a failed start); `stop` ends it (stdin closed first, then SIGTERM, then SIGKILL)
 * and resolves when it is gone; stderr is always drained, so a chatty helper never blocks.
 */
export interface ManagedProcess {
	readonly child: ChildProcess;
	readonly stdin: Writable | null;
	readonly stdout: Readable | null;
	readonly started: Promise<void>;
	readonly exited: Promise<ProcessExit>;
	/** How it ended, once it has. */
	readonly exit: ProcessExit | undefined;
	/** The last part of what it wrote to stderr, trimmed (at most `stderrLimit` bytes). */
	readStderr(): string;
	/** Calls `listener` with each piece of stderr text as it arrives. */
	onStderr(listener: (text: string) => void): void;
	/** Stops the process: closes stdin (when it is a pipe), waits `graceMs` (default 2 s), then SIGTERM, then SIGKILL after as long again. */
	stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every helper still running; runs synchronously from the process's `exit` event. */
function killRunningHelpers(): void {
	for (const child of running) signalGroup(child, 'SIGTERM');
	running.clear();
}

/**
 * Signals a helper's whole process group (it leads one, being started detached), so that what it
 * started in turn (a ProxyCommand, a shell's children) stops too; falls back to the helper alone.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined) return;
	try {
		process.kill(-child.pid, signal);
		return;
	} catch {
		// No such group (already gone, or not a group leader): try the process itself.
	}
	try {
		child.kill(signal);
	} catch {
		// Already gone.
	}
}

/** The number of helper processes started by this module that are still running (for tests). */
export function countRunningHelpers(): number {
	return running.size;
}

/** Starts a helper process (see {@link ManagedProcess}). */
export function startManagedProcess(options: ManagedProcessOptions): ManagedProcess {
	if (!exitHookInstalled) {
		process.on('exit', killRunningHelpers);
		exitHookInstalled = true;
	}
	const limit = options.stderrLimit ?? 16 * 1024;
	// A socket given as stdin and stdout is handed to child_process.spawn as it is (execa passes a
	// single Node stream with a file descriptor through), so the child gets the socket itself.
	const socket = options.socket;
	const subprocess = execa(options.program, [...options.args], {
		env: options.env ?? process.env,
		extendEnv: false,
		stdin: socket ?? 'pipe',
		stdout: socket ?? 'pipe',
		stderr: 'pipe',
		detached: true,
		windowsHide: true,
		// Output is read here, as it comes; execa keeps none of it and reports no failure (the exit is reported through `exited`).
		buffer: false,
		reject: false,
		// Killing is done below, by process group; execa must not send a SIGKILL of its own later.
		forceKillAfterDelay: false,
	});
	subprocess.catch(() => undefined);
	const child: ChildProcess = subprocess;
	let stderr = '';
	const listeners: Array<(text: string) => void> = [];
	child.stderr!.setEncoding('utf8');
	child.stderr!.on('data', (text: string) => {
		stderr = (stderr + text).slice(-limit);
		for (const listener of listeners) listener(text);
	});
	// Writes after the process died fail with EPIPE; the exit is reported through `exited`.
	child.stdin?.on('error', () => undefined);
	child.stdout?.on('error', () => undefined);

	let exit: ProcessExit | undefined;
	let spawnError: Error | undefined;
	const started = new Promise<void>((resolve, reject) => {
		child.once('spawn', () => {
			running.add(child);
			resolve();
		});
		child.once('error', (error) => {
			spawnError ??= error;
			reject(error);
		});
	});
	started.catch(() => undefined);
	const exited = new Promise<ProcessExit>((resolve) => {
		const finish = (code: number | null, signal: NodeJS.Signals | null) => {
			running.delete(child);
			exit ??= spawnError === undefined ? {code, signal} : {code, signal, error: spawnError};
			resolve(exit);
		};
		child.once('close', finish);
		// Normally 'close' follows once stderr is drained; a grandchild holding the pipe open must not delay it long.
		child.once('exit', (code, signal) => setTimeout(() => finish(code, signal), 250).unref());
		child.once('error', (error) => {
			// A failed spawn emits no 'close' on some Node versions.
			if (child.pid === undefined) {
				spawnError ??= error;
				finish(null, null);
			}
		});
	});

	const stop = async (graceMs = 2000): Promise<void> => {
		if (exit !== undefined || child.pid === undefined) {
			await exited;
			return;
		}
		child.stdin?.end();
		if (await waitForExit(exited, graceMs)) return;
		signalGroup(child, 'SIGTERM');
		if (await waitForExit(exited, graceMs)) return;
		signalGroup(child, 'SIGKILL');
		await exited;
	};

	return {
		child,
		stdin: child.stdin,
		stdout: child.stdout,
		started,
		exited,
		get exit() {
			return exit;
		},
		readStderr: () => stderr.trim(),
		onStderr: (listener) => {
			listeners.push(listener);
		},
		stop,
	};
}

/** Resolves true when `exited` settles within `ms`, false otherwise. */
async function waitForExit(exited: Promise<ProcessExit>, ms: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<false>((resolve) => {
		timer = setTimeout(() => resolve(false), ms);
	});
	try {
		return await Promise.race([exited.then(() => true as const), timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/** `exited with code 1`, `was killed by SIGKILL`, `could not be started (ENOENT)`. */
export function describeExit(exit: ProcessExit): string {
	if (exit.error !== undefined) return `could not be started (${(exit.error as NodeJS.ErrnoException).code ?? exit.error.message})`;
	if (exit.signal !== null) return `was killed by ${exit.signal}`;
	return `exited with code ${exit.code}`;
}

/** The last `lines` non-empty lines of a text, indented for an error message; empty when there are none. */
export function formatProcessOutput(text: string, lines = 12): string {
	const kept = text
		.split(/\r?\n/)
		.map((line) => line.trimEnd())
		.filter((line) => line !== '')
		.slice(-lines);
	return kept.length === 0 ? '' : kept.map((line) => `    ${line}`).join('\n');
}
