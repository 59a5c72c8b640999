/**
 * A connected pair of local stream sockets, for giving a helper process one full-duplex socket as
 * its stdin and stdout. Protocols such as HTTP/2 then run over a real socket on cairn's side
 * (Node's HTTP/2 over a pair of separate pipes wrapped into a Duplex is fragile when streams are
 * cancelled while writes are pending).
 *
 * The pair is made through a Unix domain socket in a fresh private temporary directory (mode
 * 0700), which is removed as soon as the one expected connection has been accepted.
 */

import {mkdtemp, rm} from 'node:fs/promises';
import {createConnection, createServer, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** Two connected sockets: `ours` stays in cairn, `theirs` is handed to a child process. */
export interface SocketPair {
	readonly ours: Socket;
	readonly theirs: Socket;
}

/** Makes a connected pair of Unix domain sockets. */
export async function createSocketPair(): Promise<SocketPair> {
	const directory = await mkdtemp(join(tmpdir(), 'cairn-sock-'));
	const path = join(directory, 's');
	const server = createServer();
	try {
		const accepted = new Promise<Socket>((resolve, reject) => {
			server.once('connection', resolve);
			server.once('error', reject);
		});
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(path, () => resolve());
		});
		const ours = createConnection(path);
		await new Promise<void>((resolve, reject) => {
			ours.once('connect', () => resolve());
			ours.once('error', reject);
		});
		const theirs = await accepted;
		return {ours, theirs};
	} finally {
		server.close();
		await rm(directory, {recursive: true, force: true});
	}
}
