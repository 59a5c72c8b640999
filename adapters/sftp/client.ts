/**
 * A small SFTP version 3 client over any byte stream: an SSH channel opened by ssh2 (the default
 * mode) or the stdin and stdout of the system's `ssh -s sftp` (external mode). Both modes share
 * this one implementation of the protocol.
 *
 * Requests are pipelined: each gets an ID and its reply is matched by ID, so many reads and
 * writes can be in flight at once. The client implements only what a repository needs: open,
 * read, write, close, stat, fstat, opendir, readdir, mkdir, remove, rename, realpath, and the
 * OpenSSH extensions `posix-rename@openssh.com` and `limits@openssh.com` when the server has them.
 */

import type {Duplex} from 'node:stream';

import {MalformedPacketError, PacketReader, PacketSplitter, PacketType, PacketWriter, STATUS_NAMES, StatusCode, type FileAttributes} from './packets.js';

/** The server answered a request with an error status. */
export class SftpStatusError extends Error {
	constructor(
		readonly code: number,
		readonly serverMessage: string,
		readonly request: string,
		readonly path: string,
	) {
		const detail = serverMessage !== '' && serverMessage.toLowerCase() !== (STATUS_NAMES[code] ?? '').toLowerCase() ? ` (${serverMessage})` : '';
		super(`${request} ${path}: ${STATUS_NAMES[code] ?? `status ${code}`}${detail}`);
		Object.defineProperty(this, 'name', {value: 'SftpStatusError', enumerable: false});
	}
}

/** The stream to the server ended or broke; no request can be answered any more. */
export class SftpConnectionLostError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'SftpConnectionLostError', enumerable: false});
	}
}

/** The server spoke, but not SFTP version 3 as expected. */
export class SftpProtocolError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'SftpProtocolError', enumerable: false});
	}
}

/** One entry of a directory listing. */
export interface DirectoryEntry {
	readonly filename: string;
	readonly attributes: FileAttributes;
}

/** Limits the server announced (limits@openssh.com), or safe defaults. */
export interface ServerLimits {
	/** Largest read a single request may ask for. */
	readonly maxRead: number;
	/** Largest write a single request may carry. */
	readonly maxWrite: number;
}

interface Pending {
	readonly resolve: (reply: {type: number; reader: PacketReader}) => void;
	readonly reject: (error: Error) => void;
}

/** Read and write sizes when the server does not announce limits: the size every server must accept. */
const DEFAULT_CHUNK = 32 * 1024;
/** Never ask for more than this in one request, whatever the server announces. */
const MAX_CHUNK = 255 * 1024;

/**
 * An SFTP session over a stream.
 *
 * Contract: {@link SftpClient.start} sends INIT and resolves after the server's VERSION; every
 * request method rejects with {@link SftpStatusError} for an error status, and with
 * {@link SftpConnectionLostError} when the stream ends or breaks (then and for every later call).
 * `onLost` listeners hear once why the stream ended unless {@link SftpClient.end} ended it.
 */
export class SftpClient {
	private nextId = 1;
	private readonly pending = new Map<number, Pending>();
	private lostError: SftpConnectionLostError | undefined;
	private ended = false;
	private readonly lostListeners: Array<(error: SftpConnectionLostError) => void> = [];
	private versionWaiter: Pending | undefined;
	private extensions = new Map<string, string>();
	private serverLimits: ServerLimits = {maxRead: DEFAULT_CHUNK, maxWrite: DEFAULT_CHUNK};

	private constructor(
		private readonly stream: Duplex,
		private readonly describeLoss: () => string,
	) {
		const splitter = new PacketSplitter((type, payload) => this.dispatch(type, payload));
		stream.on('data', (chunk: Buffer) => {
			try {
				splitter.push(chunk);
			} catch (error) {
				const message = error instanceof MalformedPacketError ? error.message : String(error);
				this.fail(new SftpConnectionLostError(`the SFTP stream broke: ${message}`, {cause: error}));
				stream.destroy();
			}
		});
		stream.on('error', (error: Error) => this.fail(new SftpConnectionLostError(`the SFTP stream failed: ${error.message}${this.suffix()}`, {cause: error})));
		stream.on('close', () => this.fail(new SftpConnectionLostError(`the SFTP stream closed${this.suffix()}`)));
		stream.on('end', () => this.fail(new SftpConnectionLostError(`the server ended the SFTP session${this.suffix()}`)));
	}

	/**
	 * Starts a session: sends INIT (version 3) and waits for VERSION, then asks for the server's
	 * limits when it offers `limits@openssh.com`. `describeLoss` adds detail (such as the stderr
	 * of an ssh process) to the message when the stream ends.
	 */
	static async start(stream: Duplex, describeLoss: () => string = () => ''): Promise<SftpClient> {
		const client = new SftpClient(stream, describeLoss);
		const reply = await new Promise<{type: number; reader: PacketReader}>((resolve, reject) => {
			client.versionWaiter = {resolve, reject};
			client.send(new PacketWriter(PacketType.INIT).uint32(3).finish());
		});
		const version = reply.reader.uint32();
		if (version < 3) throw new SftpProtocolError(`the server speaks SFTP version ${version}; version 3 or later is needed`);
		while (reply.reader.hasMore()) client.extensions.set(reply.reader.text(), reply.reader.text());
		if (client.extensions.has('limits@openssh.com')) await client.readLimits();
		return client;
	}

	/** Read and write sizes to use. */
	get limits(): ServerLimits {
		return this.serverLimits;
	}

	/** Tells whether the server announced an extension, e.g. `posix-rename@openssh.com`. */
	hasExtension(name: string): boolean {
		return this.extensions.has(name);
	}

	/** Why the session ended, if it has. */
	get lost(): SftpConnectionLostError | undefined {
		return this.lostError;
	}

	/** Calls `listener` once when the stream is lost (not after {@link end}). */
	onLost(listener: (error: SftpConnectionLostError) => void): void {
		this.lostListeners.push(listener);
	}

	/** Ends the session on purpose: pending requests reject, the stream is ended. */
	end(): void {
		this.ended = true;
		this.fail(new SftpConnectionLostError('the SFTP session was closed'));
		this.stream.end();
	}

	async realpath(path: string): Promise<string> {
		const reply = await this.request(PacketType.REALPATH, 'resolve', path, (packet) => packet.string(path));
		const reader = this.expect(reply, PacketType.NAME, 'resolve', path);
		if (reader.uint32() < 1) throw new SftpProtocolError(`the server resolved ${path} to no name`);
		return reader.text();
	}

	async stat(path: string): Promise<FileAttributes> {
		const reply = await this.request(PacketType.STAT, 'stat', path, (packet) => packet.string(path));
		return this.expect(reply, PacketType.ATTRS, 'stat', path).attributes();
	}

	async fstat(handle: Buffer, path: string): Promise<FileAttributes> {
		const reply = await this.request(PacketType.FSTAT, 'stat', path, (packet) => packet.string(handle));
		return this.expect(reply, PacketType.ATTRS, 'stat', path).attributes();
	}

	/** Opens a file; `flags` are {@link OpenFlag} bits; `permissions` apply to a created file. */
	async open(path: string, flags: number, permissions?: number): Promise<Buffer> {
		const reply = await this.request(PacketType.OPEN, 'open', path, (packet) => packet.string(path).uint32(flags).attributes(permissions));
		return Buffer.from(this.expect(reply, PacketType.HANDLE, 'open', path).bytes());
	}

	async close(handle: Buffer, path: string): Promise<void> {
		this.expectOk(await this.request(PacketType.CLOSE, 'close', path, (packet) => packet.string(handle)), 'close', path);
	}

	/** Reads up to `length` bytes at `offset`; fewer may come back; null at end of file. */
	async read(handle: Buffer, offset: number, length: number, path: string): Promise<Buffer | null> {
		const reply = await this.request(PacketType.READ, 'read', path, (packet) => packet.string(handle).uint64(offset).uint32(length));
		if (reply.type === PacketType.STATUS) {
			const code = reply.reader.uint32();
			if (code === StatusCode.EOF) return null;
			throw new SftpStatusError(code, readMessage(reply.reader), 'read', path);
		}
		return this.expect(reply, PacketType.DATA, 'read', path).bytes();
	}

	async write(handle: Buffer, offset: number, data: Uint8Array, path: string): Promise<void> {
		const reply = await this.request(PacketType.WRITE, 'write', path, (packet) => packet.string(handle).uint64(offset).string(data), data.byteLength + 64);
		this.expectOk(reply, 'write', path);
	}

	/** Every entry of a directory, `.` and `..` included as the server sends them. */
	async readDirectory(path: string): Promise<DirectoryEntry[]> {
		const opened = await this.request(PacketType.OPENDIR, 'open directory', path, (packet) => packet.string(path));
		const handle = Buffer.from(this.expect(opened, PacketType.HANDLE, 'open directory', path).bytes());
		const entries: DirectoryEntry[] = [];
		try {
			for (;;) {
				const reply = await this.request(PacketType.READDIR, 'read directory', path, (packet) => packet.string(handle));
				if (reply.type === PacketType.STATUS) {
					const code = reply.reader.uint32();
					if (code === StatusCode.EOF) break;
					throw new SftpStatusError(code, readMessage(reply.reader), 'read directory', path);
				}
				const reader = this.expect(reply, PacketType.NAME, 'read directory', path);
				const count = reader.uint32();
				for (let index = 0; index < count; index++) {
					const filename = reader.text();
					reader.bytes(); // longname
					entries.push({filename, attributes: reader.attributes()});
				}
			}
		} finally {
			await this.close(handle, path).catch(() => undefined);
		}
		return entries;
	}

	async mkdir(path: string, permissions?: number): Promise<void> {
		this.expectOk(await this.request(PacketType.MKDIR, 'create directory', path, (packet) => packet.string(path).attributes(permissions)), 'create directory', path);
	}

	async remove(path: string): Promise<void> {
		this.expectOk(await this.request(PacketType.REMOVE, 'remove', path, (packet) => packet.string(path)), 'remove', path);
	}

	async rmdir(path: string): Promise<void> {
		this.expectOk(await this.request(PacketType.RMDIR, 'remove directory', path, (packet) => packet.string(path)), 'remove directory', path);
	}

	/** Renames; plain SFTP v3 refuses to replace an existing target. */
	async rename(from: string, to: string): Promise<void> {
		this.expectOk(await this.request(PacketType.RENAME, 'rename', from, (packet) => packet.string(from).string(to)), 'rename', from);
	}

	/** Renames, atomically replacing an existing target (needs `posix-rename@openssh.com`). */
	async posixRename(from: string, to: string): Promise<void> {
		const reply = await this.request(PacketType.EXTENDED, 'rename', from, (packet) => packet.uint32(0).string('posix-rename@openssh.com').string(from).string(to), undefined, true);
		this.expectOk(reply, 'rename', from);
	}

	private async readLimits(): Promise<void> {
		const reply = await this.request(PacketType.EXTENDED, 'read limits', '', (packet) => packet.uint32(0).string('limits@openssh.com'), undefined, true);
		if (reply.type !== PacketType.EXTENDED_REPLY) return;
		reply.reader.uint64(); // max packet length
		const maxRead = reply.reader.uint64();
		const maxWrite = reply.reader.uint64();
		const pick = (value: number) => (value > 0 ? Math.min(value, MAX_CHUNK) : DEFAULT_CHUNK);
		this.serverLimits = {maxRead: pick(maxRead), maxWrite: pick(maxWrite)};
	}

	/**
	 * Sends one request and waits for its reply. `build` writes the fields after the request ID;
	 * for EXTENDED requests (`extended`), the ID placeholder written by `build` is replaced.
	 */
	private request(
		type: number,
		what: string,
		path: string,
		build: (packet: PacketWriter) => PacketWriter,
		capacity?: number,
		extended = false,
	): Promise<{type: number; reader: PacketReader}> {
		if (this.lostError !== undefined) return Promise.reject(this.lostError);
		const id = this.nextId;
		this.nextId = (this.nextId + 1) >>> 0 || 1;
		const packet = new PacketWriter(type, capacity);
		if (!extended) packet.uint32(id);
		const bytes = build(packet).finish();
		if (extended) bytes.writeUInt32BE(id, 5);
		return new Promise((resolve, reject) => {
			this.pending.set(id, {resolve, reject});
			this.send(bytes);
		}).then(
			(reply) => reply as {type: number; reader: PacketReader},
			(error: unknown) => {
				if (error instanceof SftpConnectionLostError) throw new SftpConnectionLostError(`${error.message} (during ${what}${path === '' ? '' : ` ${path}`})`, {cause: error});
				throw error;
			},
		);
	}

	private send(bytes: Buffer): void {
		if (this.lostError !== undefined) return;
		this.stream.write(bytes);
	}

	private dispatch(type: number, payload: Buffer): void {
		const reader = new PacketReader(payload);
		if (type === PacketType.VERSION) {
			const waiter = this.versionWaiter;
			this.versionWaiter = undefined;
			waiter?.resolve({type, reader});
			return;
		}
		if (this.versionWaiter !== undefined) {
			this.fail(new SftpConnectionLostError(`the server answered INIT with packet type ${type} instead of VERSION: it does not speak SFTP`));
			return;
		}
		let id: number;
		try {
			id = reader.uint32();
		} catch (error) {
			this.fail(new SftpConnectionLostError(`the server sent a packet without a request ID (type ${type})`, {cause: error}));
			return;
		}
		const waiter = this.pending.get(id);
		if (waiter === undefined) return;
		this.pending.delete(id);
		waiter.resolve({type, reader});
	}

	private expect(reply: {type: number; reader: PacketReader}, type: number, what: string, path: string): PacketReader {
		if (reply.type === type) return reply.reader;
		if (reply.type === PacketType.STATUS) {
			const code = reply.reader.uint32();
			throw new SftpStatusError(code, readMessage(reply.reader), what, path);
		}
		throw new SftpProtocolError(`the server answered ${what} ${path} with packet type ${reply.type}`);
	}

	private expectOk(reply: {type: number; reader: PacketReader}, what: string, path: string): void {
		if (reply.type !== PacketType.STATUS) throw new SftpProtocolError(`the server answered ${what} ${path} with packet type ${reply.type} instead of a status`);
		const code = reply.reader.uint32();
		if (code !== StatusCode.OK) throw new SftpStatusError(code, readMessage(reply.reader), what, path);
	}

	private fail(error: SftpConnectionLostError): void {
		if (this.lostError !== undefined) return;
		this.lostError = error;
		const waiters = [...this.pending.values()];
		this.pending.clear();
		if (this.versionWaiter !== undefined) waiters.push(this.versionWaiter);
		this.versionWaiter = undefined;
		for (const waiter of waiters) waiter.reject(error);
		if (!this.ended) for (const listener of this.lostListeners) listener(error);
	}

	private suffix(): string {
		const detail = this.describeLoss();
		return detail === '' ? '' : `: ${detail}`;
	}
}

/** The message of a STATUS reply (older servers may leave it out). */
function readMessage(reader: PacketReader): string {
	try {
		return reader.hasMore() ? reader.text() : '';
	} catch {
		return '';
	}
}
