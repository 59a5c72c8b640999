/**
 * Small helpers for the test servers: free loopback ports, waiting for a port to accept
 * connections, finding and killing a process's descendants (by their IDs, never by name), and
 * checking that required binaries exist (a missing one fails the test when CI=true).
 */

import {spawn, type ChildProcess} from 'node:child_process';
import {access, constants, readdir, readFile} from 'node:fs/promises';
import {createConnection, createServer} from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function findFreePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address !== null ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** Tells whether something accepts TCP connections on 127.0.0.1:port. */
export function isPortOpen(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createConnection({host: '127.0.0.1', port});
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

/** Waits until the port accepts connections, or throws with `describe()` when `child` exits or time runs out. */
export async function waitForPort(port: number, child: ChildProcess, describe: () => Promise<string>, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited before listening on port ${port}:\n${await describe()}`);
		if (await isPortOpen(port)) return;
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	throw new Error(`the server did not listen on port ${port} within ${timeoutMs} ms:\n${await describe()}`);
}

/** The parent process ID of a process, from /proc; undefined when it is gone. */
async function readParentId(pid: number): Promise<number | undefined> {
	try {
		const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
		// The command name is in parentheses and may hold spaces; the fields after it are fixed.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return Number(fields[1]);
	} catch {
		return undefined;
	}
}

/** IDs of every living descendant of a process (children, grandchildren, …). */
export async function listDescendants(pid: number): Promise<number[]> {
	const parents = new Map<number, number>();
	for (const name of await readdir('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		const parent = await readParentId(Number(name));
		if (parent !== undefined) parents.set(Number(name), parent);
	}
	const found: number[] = [];
	const queue = [pid];
	while (queue.length > 0) {
		const current = queue.shift()!;
		for (const [child, parent] of parents) {
			if (parent === current) {
				found.push(child);
				queue.push(child);
			}
		}
	}
	return found;
}

/** The command name of a process (`/proc/PID/comm`), or undefined when it is gone. */
export async function readCommandName(pid: number): Promise<string | undefined> {
	try {
		return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
	} catch {
		return undefined;
	}
}

/** Tells whether a process is alive (and not a zombie). */
export async function isProcessAlive(pid: number): Promise<boolean> {
	try {
		const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

/** Sends a signal to a process by ID, ignoring one that is already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(pid, signal);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
	}
}

/** Waits until a child process has exited. */
export function waitForExit(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Throws when a binary is missing. Tests call this first, so that a missing server fails loudly
 * (CI installs every binary the tests need; a developer sees which one to install).
 */
export async function requireBinary(path: string, advice: string): Promise<void> {
	try {
		await access(path, constants.X_OK);
	} catch {
		throw new Error(`${path} is needed by this test but is not installed: ${advice}`);
	}
}

/** Runs a program and returns its stdout; throws with its stderr when it fails. */
export function runProgram(program: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn(program, [...args], {stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
		child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
		child.once('error', reject);
		child.stdin.on('error', () => undefined);
		child.once('close', (code) => {
			if (code === 0) resolve(stdout);
			else reject(new Error(`${program} ${args.join(' ')} exited with code ${code}:\n${stderr}`));
		});
		child.stdin.end(options.input ?? '');
	});
}
