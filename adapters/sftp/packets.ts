/**
 * The wire format of SFTP version 3 (draft-ietf-secsh-filexfer-02): packet types, status codes,
 * open flags, file attributes, and a writer and a reader for the packet fields.
 *
 * A packet is `uint32 length`, `byte type`, then the fields; integers are big-endian, strings are
 * `uint32 length` + bytes.
 */

/** Packet types used by the client. */
export const PacketType = {
	INIT: 1,
	VERSION: 2,
	OPEN: 3,
	CLOSE: 4,
	READ: 5,
	WRITE: 6,
	LSTAT: 7,
	FSTAT: 8,
	OPENDIR: 11,
	READDIR: 12,
	REMOVE: 13,
	MKDIR: 14,
	RMDIR: 15,
	REALPATH: 16,
	STAT: 17,
	RENAME: 18,
	STATUS: 101,
	HANDLE: 102,
	DATA: 103,
	NAME: 104,
	ATTRS: 105,
	EXTENDED: 200,
	EXTENDED_REPLY: 201,
} as const;

/** Status codes of SSH_FXP_STATUS. */
export const StatusCode = {
	OK: 0,
	EOF: 1,
	NO_SUCH_FILE: 2,
	PERMISSION_DENIED: 3,
	FAILURE: 4,
	BAD_MESSAGE: 5,
	NO_CONNECTION: 6,
	CONNECTION_LOST: 7,
	OP_UNSUPPORTED: 8,
} as const;

/** Names of the status codes, for messages. */
export const STATUS_NAMES: Readonly<Record<number, string>> = {
	0: 'OK',
	1: 'end of file',
	2: 'no such file',
	3: 'permission denied',
	4: 'failure',
	5: 'bad message',
	6: 'no connection',
	7: 'connection lost',
	8: 'operation not supported',
};

/** Flags of SSH_FXP_OPEN. */
export const OpenFlag = {
	READ: 0x01,
	WRITE: 0x02,
	APPEND: 0x04,
	CREATE: 0x08,
	TRUNCATE: 0x10,
	EXCLUSIVE: 0x20,
} as const;

const ATTR_SIZE = 0x01;
const ATTR_UIDGID = 0x02;
const ATTR_PERMISSIONS = 0x04;
const ATTR_ACMODTIME = 0x08;
const ATTR_EXTENDED = 0x80000000;

/** The type bits of `permissions` (as in st_mode). */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** File attributes; each field is present only when the server sent it. */
export interface FileAttributes {
	readonly size?: number;
	readonly uid?: number;
	readonly gid?: number;
	/** st_mode: type bits and permission bits. */
	readonly permissions?: number;
	readonly atime?: number;
	readonly mtime?: number;
}

/** Tells whether attributes describe a regular file (unknown type counts as a file). */
export function isRegularFile(attributes: FileAttributes): boolean {
	return attributes.permissions === undefined || (attributes.permissions & S_IFMT) === S_IFREG;
}

/** Tells whether attributes describe a directory. */
export function isDirectory(attributes: FileAttributes): boolean {
	return attributes.permissions !== undefined && (attributes.permissions & S_IFMT) === S_IFDIR;
}

/** Builds one packet field by field. */
export class PacketWriter {
	private buffer: Buffer;
	private length = 5;

	constructor(type: number, capacity = 256) {
		this.buffer = Buffer.allocUnsafe(Math.max(capacity, 16));
		this.buffer[4] = type;
	}

	uint32(value: number): this {
		this.reserve(4);
		this.buffer.writeUInt32BE(value >>> 0, this.length);
		this.length += 4;
		return this;
	}

	uint64(value: number): this {
		this.reserve(8);
		this.buffer.writeBigUInt64BE(BigInt(value), this.length);
		this.length += 8;
		return this;
	}

	/** A string field from text (UTF-8) or bytes. */
	string(value: string | Uint8Array): this {
		const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
		this.uint32(bytes.byteLength);
		this.reserve(bytes.byteLength);
		this.buffer.set(bytes, this.length);
		this.length += bytes.byteLength;
		return this;
	}

	/** An ATTRS field carrying only permissions, or no attributes at all. */
	attributes(permissions?: number): this {
		if (permissions === undefined) return this.uint32(0);
		return this.uint32(ATTR_PERMISSIONS).uint32(permissions);
	}

	/** The finished packet, length prefix included. */
	finish(): Buffer {
		this.buffer.writeUInt32BE(this.length - 4, 0);
		return this.buffer.subarray(0, this.length);
	}

	private reserve(bytes: number): void {
		if (this.length + bytes <= this.buffer.length) return;
		const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
		this.buffer.copy(grown, 0, 0, this.length);
		this.buffer = grown;
	}
}

/** A packet could not be decoded: the server sent something that is not SFTP. */
export class MalformedPacketError extends Error {
	constructor(message: string) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'MalformedPacketError', enumerable: false});
	}
}

/** Reads the fields of one packet's payload (after length and type). */
export class PacketReader {
	private offset = 0;

	constructor(private readonly payload: Buffer) {}

	uint32(): number {
		this.need(4);
		const value = this.payload.readUInt32BE(this.offset);
		this.offset += 4;
		return value;
	}

	uint64(): number {
		this.need(8);
		const value = this.payload.readBigUInt64BE(this.offset);
		this.offset += 8;
		return Number(value);
	}

	/** A string field as bytes (a view into the packet). */
	bytes(): Buffer {
		const length = this.uint32();
		this.need(length);
		const value = this.payload.subarray(this.offset, this.offset + length);
		this.offset += length;
		return value;
	}

	/** A string field as UTF-8 text. */
	text(): string {
		return this.bytes().toString('utf8');
	}

	attributes(): FileAttributes {
		const flags = this.uint32();
		const attributes: {-readonly [K in keyof FileAttributes]: FileAttributes[K]} = {};
		if (flags & ATTR_SIZE) attributes.size = this.uint64();
		if (flags & ATTR_UIDGID) {
			attributes.uid = this.uint32();
			attributes.gid = this.uint32();
		}
		if (flags & ATTR_PERMISSIONS) attributes.permissions = this.uint32();
		if (flags & ATTR_ACMODTIME) {
			attributes.atime = this.uint32();
			attributes.mtime = this.uint32();
		}
		if (flags & ATTR_EXTENDED) {
			const count = this.uint32();
			for (let index = 0; index < count; index++) {
				this.bytes();
				this.bytes();
			}
		}
		return attributes;
	}

	/** Tells whether fields remain. */
	hasMore(): boolean {
		return this.offset < this.payload.length;
	}

	private need(bytes: number): void {
		if (this.offset + bytes > this.payload.length) throw new MalformedPacketError(`an SFTP packet ended early (needed ${bytes} more bytes at offset ${this.offset} of ${this.payload.length})`);
	}
}

/**
 * Splits a byte stream into packets: feed it chunks, it calls `onPacket(type, payload)` for each
 * complete packet. Packets larger than `maxLength` are refused (they would mean a broken stream).
 */
export class PacketSplitter {
	private chunks: Buffer[] = [];
	private buffered = 0;

	constructor(
		private readonly onPacket: (type: number, payload: Buffer) => void,
		private readonly maxLength = 1024 * 1024 + 1024,
	) {}

	push(chunk: Buffer): void {
		this.chunks.push(chunk);
		this.buffered += chunk.length;
		for (;;) {
			if (this.buffered < 4) return;
			const length = this.peekLength();
			if (length < 1 || length > this.maxLength) {
				const start = this.take(Math.min(this.buffered, 64));
				throw new MalformedPacketError(`the server sent ${describeGarbage(start)} where an SFTP packet was expected`);
			}
			if (this.buffered < 4 + length) return;
			const packet = this.take(4 + length);
			this.onPacket(packet[4]!, packet.subarray(5));
		}
	}

	private peekLength(): number {
		const first = this.chunks[0]!;
		if (first.length >= 4) return first.readUInt32BE(0);
		const joined = Buffer.concat(this.chunks);
		this.chunks = [joined];
		return joined.readUInt32BE(0);
	}

	private take(bytes: number): Buffer {
		const first = this.chunks[0]!;
		let result: Buffer;
		if (first.length >= bytes) {
			result = first.subarray(0, bytes);
			if (first.length === bytes) this.chunks.shift();
			else this.chunks[0] = first.subarray(bytes);
		} else {
			const joined = Buffer.concat(this.chunks);
			result = joined.subarray(0, bytes);
			this.chunks = joined.length > bytes ? [joined.subarray(bytes)] : [];
		}
		this.buffered -= bytes;
		return result;
	}
}

/** Shows the start of unexpected bytes: as text when printable (a login banner, a shell message), else as hex. */
function describeGarbage(bytes: Buffer): string {
	const text = bytes.toString('utf8');
	if (/^[\x20-\x7e\r\n\t]+$/.test(text)) return `the text ${JSON.stringify(text)}`;
	return `the bytes ${bytes.toString('hex')}`;
}
