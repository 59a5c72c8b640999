/**
 * The file operations the SFTP store (storage.ts) is built on, in two implementations:
 *
 * - {@link wrapLibraryClient}: the built-in mode, through ssh2-sftp-client (the project's SFTP
 *   library) over its own SSH connection.
 * - {@link wrapOwnClient}: external mode, through cairn's own small SFTP v3 client (client.ts)
 *   over the stdin and stdout of the system ssh (or a user's command). ssh2-sftp-client always
 *   opens its own SSH connection and cannot speak SFTP over another process's stdio, so external
 *   mode keeps the own client.
 *
 * Both report failures the same way, so that storage.ts and errors.ts treat them alike: a status
 * from the server as {@link SftpStatusError} (with the SFTP status code), a dropped connection as
 * {@link SftpConnectionLostError} (after which {@link SftpFileOperations.lost} is set).
 */

import {setMaxListeners} from 'node:events';
import {Readable, type Writable} from 'node:stream';
import {pipeline} from 'node:stream/promises';

import type SftpLibraryClient from 'ssh2-sftp-client';

import {PermanentError, throwIfAborted} from '../storage.js';
import {SftpConnectionLostError, SftpStatusError, type DirectoryEntry, type SftpClient} from './client.js';
import {OpenFlag, StatusCode, type FileAttributes} from './packets.js';

/** An open file being read. */
export interface SftpFileReader {
	/** The file's attributes when it was opened. */
	readonly attributes: FileAttributes;
	/** Reads exactly `length` bytes at `offset`; a file that ends early is an error. */
	read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
	close(): Promise<void>;
}

/**
 * The file operations of one SFTP session.
 *
 * Contract: paths are server paths; every method rejects with {@link SftpStatusError} for a
 * status the server answered, {@link SftpConnectionLostError} when the connection is gone (then
 * `lost` is set and stays set), an abort error when the signal fired, or another Error.
 */
export interface SftpFileOperations {
	/** Why the connection was lost, once it was. */
	readonly lost: Error | undefined;
	/** Entries of a directory (`.` and `..` may be among them). */
	readDirectory(path: string): Promise<DirectoryEntry[]>;
	stat(path: string): Promise<FileAttributes>;
	/** Creates one directory with `mode`; fails (with a status error) when it exists. */
	mkdir(path: string, mode: number): Promise<void>;
	/** Creates `path` exclusively with `mode` and writes all of `data`; stops early on abort. */
	writeNewFile(path: string, data: Uint8Array, mode: number, signal?: AbortSignal): Promise<void>;
	openForReading(path: string): Promise<SftpFileReader>;
	/** Moves `from` over `to`, replacing it (atomically where the server can). */
	replace(from: string, to: string): Promise<void>;
	remove(path: string): Promise<void>;
	/** Ends the session (the connection is closed by its owner). */
	end(): void;
}

/** Requests in flight per read or write of one file (own client). */
const PIPELINE_DEPTH = 16;

/** The operations over cairn's own SFTP client (external mode). */
export function wrapOwnClient(client: SftpClient): SftpFileOperations {
	return {
		get lost() {
			return client.lost;
		},
		readDirectory: (path) => client.readDirectory(path),
		stat: (path) => client.stat(path),
		mkdir: (path, mode) => client.mkdir(path, mode),
		writeNewFile: async (path, data, mode, signal) => {
			const file = await client.open(path, OpenFlag.WRITE | OpenFlag.CREATE | OpenFlag.EXCLUSIVE, mode);
			try {
				await writeAll(client, file, path, data, signal);
			} finally {
				await client.close(file, path);
			}
		},
		openForReading: async (path) => {
			const file = await client.open(path, OpenFlag.READ);
			let attributes: FileAttributes;
			try {
				attributes = await client.fstat(file, path);
			} catch (error) {
				await client.close(file, path).catch(() => undefined);
				throw error;
			}
			return {
				attributes,
				read: (offset, length, signal) => readAll(client, file, path, offset, length, signal),
				close: () => client.close(file, path),
			};
		},
		replace: async (from, to) => {
			if (client.hasExtension('posix-rename@openssh.com')) {
				await client.posixRename(from, to);
				return;
			}
			try {
				await client.rename(from, to);
			} catch (error) {
				// SFTP v3 refuses to rename over an existing file. The old content is the same (names are content hashes).
				if (!(error instanceof SftpStatusError && error.code === StatusCode.FAILURE)) throw error;
				await client.remove(to).catch(() => undefined);
				await client.rename(from, to);
			}
		},
		remove: (path) => client.remove(path),
		end: () => client.end(),
	};
}

/** Writes all of `data` with up to {@link PIPELINE_DEPTH} requests in flight; stops early on abort. */
async function writeAll(client: SftpClient, file: Buffer, path: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
	const chunk = client.limits.maxWrite;
	const inFlight = new Set<Promise<void>>();
	let failure: unknown;
	for (let offset = 0; offset < data.byteLength && failure === undefined && !signal?.aborted; offset += chunk) {
		const request = client.write(file, offset, data.subarray(offset, Math.min(offset + chunk, data.byteLength)), path).then(
			() => undefined,
			(error: unknown) => {
				failure ??= error;
			},
		);
		const tracked = request.finally(() => inFlight.delete(tracked));
		inFlight.add(tracked);
		if (inFlight.size >= PIPELINE_DEPTH) await Promise.race(inFlight);
	}
	await Promise.all(inFlight);
	if (failure !== undefined) throw failure;
	throwIfAborted(signal);
}

/** Reads `length` bytes at `offset`, in pieces with up to {@link PIPELINE_DEPTH} requests in flight. */
async function readAll(client: SftpClient, file: Buffer, path: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
	const result = Buffer.allocUnsafe(length);
	const chunk = client.limits.maxRead;
	let next = 0;
	let failed = false;
	const work = async () => {
		while (next < length && !failed) {
			throwIfAborted(signal);
			const start = next;
			const end = Math.min(start + chunk, length);
			next = end;
			// A server may return fewer bytes than asked; ask again for the rest.
			for (let position = start; position < end; ) {
				const piece = await client.read(file, offset + position, end - position, path);
				if (piece === null || piece.length === 0) throw makeShrankError(path, offset + position);
				piece.copy(result, position);
				position += piece.length;
			}
		}
	};
	const worker = () =>
		work().catch((error: unknown) => {
			failed = true;
			throw error;
		});
	await Promise.all(Array.from({length: Math.min(PIPELINE_DEPTH, Math.ceil(length / chunk))}, worker));
	return result;
}

function makeShrankError(path: string, at: number): PermanentError {
	return new PermanentError(`${path} ended at byte ${at} while reading it: the file shrank meanwhile`);
}

/** File type bits of st_mode, for the attributes of listing entries. */
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** Bytes handed to the write stream at a time. */
const WRITE_PIECE = 256 * 1024;

/**
 * The operations over an ssh2-sftp-client session (built-in mode). `library` must be connected;
 * the returned object watches its connection and reports a drop through `lost`.
 */
export function wrapLibraryClient(library: SftpLibraryClient): SftpFileOperations {
	let lost: Error | undefined;
	// Every call of the library adds listeners to the connection for its duration; many run at once.
	library.client.setMaxListeners(0);
	// Fires when the connection is lost. ssh2 answers the requests in flight at that moment with an
	// error, but a request sent later (the next piece of a write stream) would wait forever; so
	// every call is cut off here, and its streams are destroyed.
	const lostController = new AbortController();
	const lostSignal = lostController.signal;
	// Each read or write in flight listens to it.
	setMaxListeners(0, lostSignal);
	const whenLost = new Promise<never>((_, reject) => {
		lostSignal.addEventListener('abort', () => reject(lostSignal.reason), {once: true});
	});
	whenLost.catch(() => undefined);
	const markLost = (reason: string) => {
		if (lost !== undefined) return;
		lost = new SftpConnectionLostError(reason);
		lostController.abort(lost);
	};
	library.on('close', () => markLost('the SSH connection was closed'));
	library.on('end', () => markLost('the SSH connection ended'));
	library.on('error', (error: Error) => markLost(`the SSH connection failed: ${error.message}`));

	/** Runs one library call, turning its errors into the errors of the contract. */
	const call = async <T>(request: string, path: string, operation: () => Promise<T>): Promise<T> => {
		if (lost !== undefined) throw lost;
		try {
			return await Promise.race([operation(), whenLost]);
		} catch (error) {
			throw normalizeLibraryError(error, request, path, lost, markLost);
		}
	};

	const stat = (path: string) => call('stat', path, async () => toAttributes(await library.stat(path)));

	return {
		get lost() {
			return lost;
		},
		readDirectory: (path) =>
			call('readdir', path, async () => (await library.list(path)).map((entry) => ({filename: entry.name, attributes: {size: entry.size, permissions: typeBits(entry.type)}}))),
		stat,
		mkdir: (path, mode) =>
			call('mkdir', path, async () => {
				// The library rewrites a path that starts with "." by cutting two characters after the
				// login directory (meant for "./x"), which would turn ".restic/repo" into "estic/repo";
				// written as "./…", every relative path comes out right.
				const outcome = await library.mkdir(path.startsWith('/') ? path : `./${path}`, false);
				// The library creates directories with the server's default mode and reports one that exists as done.
				if (/already exists/.test(outcome)) throw new SftpStatusError(StatusCode.FAILURE, 'it exists already', 'mkdir', path);
				await library.chmod(path, mode);
			}),
		writeNewFile: (path, data, mode, signal) =>
			call('write', path, async () => {
				throwIfAborted(signal);
				const stream = library.createWriteStream(path, {flags: 'wx', mode});
				// Closing the handle can fail after the pipeline settled (the connection dropped); that is not news.
				stream.on('error', () => undefined);
				const onLost = () => stream.destroy();
				lostSignal.addEventListener('abort', onLost, {once: true});
				try {
					const closed = waitForClose(stream);
					try {
						// The signal is checked between pieces (no listener on it: it is shared by many operations).
						await pipeline(Readable.from(splitIntoPieces(data, signal)), stream);
					} catch (error) {
						throwIfAborted(signal);
						throw error;
					}
					// The handle is closed once the stream says so; only then is the file complete on the server.
					await closed;
				} finally {
					lostSignal.removeEventListener('abort', onLost);
				}
			}),
		openForReading: async (path) => {
			const attributes = await stat(path);
			return {
				attributes,
				read: (offset, length, signal) => call('read', path, () => readRange(library, path, offset, length, signal, lostSignal)),
				close: async () => undefined,
			};
		},
		replace: (from, to) =>
			call('rename', from, async () => {
				try {
					await library.posixRename(from, to);
				} catch (error) {
					if (!/not support/i.test((error as Error).message)) throw error;
					try {
						await library.rename(from, to);
					} catch {
						// SFTP v3 refuses to rename over an existing file. The old content is the same (names are content hashes).
						await library.delete(to, true).catch(() => undefined);
						await library.rename(from, to);
					}
				}
			}),
		remove: (path) =>
			call('remove', path, async () => {
				await library.delete(path);
			}),
		end: () => {
			markLost('the session was ended');
		},
	};
}

/** Reads exactly `length` bytes at `offset` through a ranged read stream. */
async function readRange(library: SftpLibraryClient, path: string, offset: number, length: number, signal: AbortSignal | undefined, lostSignal: AbortSignal): Promise<Uint8Array> {
	throwIfAborted(signal);
	if (length === 0) return new Uint8Array(0);
	const result = Buffer.allocUnsafe(length);
	let position = 0;
	const stream = library.createReadStream(path, {start: offset, end: offset + length - 1, highWaterMark: 256 * 1024});
	// Closing the handle can fail after the last byte arrived (the connection dropped); that is not news.
	stream.on('error', () => undefined);
	const onLost = () => stream.destroy(lostSignal.reason as Error);
	lostSignal.addEventListener('abort', onLost, {once: true});
	try {
		for await (const piece of stream as AsyncIterable<Buffer>) {
			// Checked per piece (no listener on the signal: it is shared by many operations).
			throwIfAborted(signal);
			const take = Math.min(piece.length, length - position);
			piece.copy(result, position, 0, take);
			position += take;
		}
	} catch (error) {
		throwIfAborted(signal);
		throw error;
	} finally {
		lostSignal.removeEventListener('abort', onLost);
		stream.destroy();
	}
	if (position < length) throw makeShrankError(path, offset + position);
	return result;
}

/** The pieces of `data`; throws (ending the upload) once `signal` fired. */
function* splitIntoPieces(data: Uint8Array, signal: AbortSignal | undefined): Generator<Buffer> {
	const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	for (let offset = 0; offset < buffer.length; offset += WRITE_PIECE) {
		throwIfAborted(signal);
		yield buffer.subarray(offset, offset + WRITE_PIECE);
	}
}

function waitForClose(stream: Writable): Promise<void> {
	return new Promise((resolve) => {
		stream.once('close', () => resolve());
	});
}

function typeBits(type: string): number | undefined {
	if (type === 'd') return S_IFDIR;
	if (type === '-') return S_IFREG;
	if (type === 'l') return S_IFLNK;
	return undefined;
}

function toAttributes(stats: {mode: number; size: number}): FileAttributes {
	return {size: stats.size, permissions: stats.mode};
}

/** Error codes of ssh2-sftp-client (and of the socket) that mean the connection is gone. */
const CONNECTION_CODES = new Set(['ERR_NOT_CONNECTED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/** Maps an error of ssh2-sftp-client to the errors of the {@link SftpFileOperations} contract. */
function normalizeLibraryError(error: unknown, request: string, path: string, lost: Error | undefined, markLost: (reason: string) => void): unknown {
	if (error instanceof SftpStatusError || error instanceof SftpConnectionLostError || error instanceof PermanentError) return error;
	if (!(error instanceof Error)) return error;
	if (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR') return error;
	const code = (error as {code?: unknown}).code;
	// The library prefixes messages with the name of its method ("list: ", "_xstat: ").
	const message = error.message.replace(/^[\w>-]+: /, '');
	if (typeof code === 'number') return new SftpStatusError(code, message.replace(` ${path}`, ''), request, path);
	if (code === 'ENOENT') return new SftpStatusError(StatusCode.NO_SUCH_FILE, '', request, path);
	if (code === 'EACCES') return new SftpStatusError(StatusCode.PERMISSION_DENIED, '', request, path);
	if (code === 'ERR_BAD_PATH') return new SftpStatusError(StatusCode.FAILURE, message, request, path);
	if (lost !== undefined || (typeof code === 'string' && CONNECTION_CODES.has(code)) || /no response from server|no sftp connection|lost connection|not connected|connection (closed|ended)/i.test(error.message)) {
		markLost(message);
		return new SftpConnectionLostError(`${message}`, {cause: error});
	}
	return error;
}
