/**
 * rclone servers for the REST and WebDAV tests: `rclone serve restic` or `rclone serve webdav`
 * on a free port of 127.0.0.1, serving a temporary directory, optionally with a user and a
 * password. Also where the tests find rclone, and an empty rclone config for them.
 */

import {spawn, type ChildProcess} from 'node:child_process';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {findFreePort, requireBinary, signalProcess, waitForExit, waitForPort} from './processes.js';

/** The rclone binary the tests use. */
export const RCLONE = process.env.CAIRN_TEST_RCLONE ?? '/usr/bin/rclone';

/** A running rclone server. */
export interface RcloneServer {
	/** `http://127.0.0.1:PORT/` (no credentials). */
	readonly url: string;
	readonly port: number;
	/** The directory it serves. */
	readonly root: string;
	readonly process: ChildProcess;
	/** What rclone wrote to stderr so far. */
	readOutput(): string;
	/** Stops the server and removes its temporary directory. */
	stop(): Promise<void>;
}

/** Options of {@link startRcloneServer}. */
export interface RcloneServerOptions {
	/** Basic authentication the server requires. */
	readonly user?: string;
	readonly pass?: string;
	/** Extra arguments for `rclone serve …`. */
	readonly args?: readonly string[];
}

/** Writes an empty rclone config into `directory` and returns its path (keeps rclone from reading ~/.config). */
export async function writeEmptyRcloneConfig(directory: string, text = ''): Promise<string> {
	const path = join(directory, 'rclone.conf');
	await writeFile(path, text, {mode: 0o600});
	return path;
}

/** Starts `rclone serve <kind>` on a free loopback port, serving a new temporary directory. */
export async function startRcloneServer(kind: 'restic' | 'webdav', options: RcloneServerOptions = {}): Promise<RcloneServer> {
	await requireBinary(RCLONE, 'install rclone (apt install rclone)');
	const directory = await mkdtemp(join(tmpdir(), `cairn-rclone-${kind}-`));
	const root = join(directory, 'served');
	await mkdir(root);
	const config = await writeEmptyRcloneConfig(directory);
	const port = await findFreePort();
	const args = ['serve', kind, '--addr', `127.0.0.1:${port}`, '--config', config, ...(options.args ?? [])];
	if (options.user !== undefined) args.push('--user', options.user);
	if (options.pass !== undefined) args.push('--pass', options.pass);
	args.push(root);
	const child = spawn(RCLONE, args, {stdio: ['ignore', 'ignore', 'pipe']});
	let output = '';
	child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
	await waitForPort(port, child, async () => output);
	return {
		url: `http://127.0.0.1:${port}/`,
		port,
		root,
		process: child,
		readOutput: () => output,
		stop: async () => {
			signalProcess(child.pid!, 'SIGTERM');
			await waitForExit(child);
			await rm(directory, {recursive: true, force: true});
		},
	};
}
