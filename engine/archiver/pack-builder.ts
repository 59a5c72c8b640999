/**
 * Writes a data pack of a chunk worker to a temporary file, as restic stages its packs: the
 * worker holds no pack in memory (a pack is 16 MiB or more, and a worker used to hold one or two),
 * and a finished pack leaves it as a file descriptor the main thread reads when it stores it.
 * Small blobs are sealed into a staging buffer first, so that a pack of small blobs costs one
 * write per staging buffer instead of one per blob.
 */
import {createHash, type Hash} from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {CIPHERTEXT_OVERHEAD, sealBytes, sealInto, type MasterKey} from '../crypto/cipher.js';
import {encodePackHeader, headerEntrySize, type PackedBlob} from '../format/pack.js';

/**
 * Bytes a pack may have beyond the pack size: a pack is finished once its blobs reach the pack
 * size, or earlier when the next blob (or the header entries of many small blobs) would take it
 * past the pack size plus this room.
 */
export const PACK_ROOM = 512 * 1024;

/** Bytes of the staging buffer a worker seals small blobs into. */
export const STAGING_BYTES = 1024 * 1024;

/** A finished pack: the file holding it (from offset 0), its size, ID and blobs. */
export interface FinishedPack {
	fd: number;
	size: number;
	id: string;
	blobs: PackedBlob[];
}

/**
 * Opens an anonymous temporary file for staging packs: created in `dir` (default the system's
 * temporary directory, TMPDIR), readable by this user only, and unlinked at once, so that it
 * disappears with its descriptor even when the process is killed. The descriptor is shared by
 * every thread of the process. Throws an Error saying what to do when it cannot be created.
 */
export function openPackFile(dir = os.tmpdir()): number {
	const name = path.join(dir, `cairn-pack-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
	let fd: number;
	try {
		fd = fs.openSync(name, 'wx+', 0o600);
	} catch (error) {
		throw new Error(`cannot create a temporary file for packs in ${dir}: ${(error as Error).message}; set TMPDIR to a writable directory with room for a few packs`);
	}
	try {
		fs.unlinkSync(name);
	} catch (error) {
		fs.closeSync(fd);
		throw new Error(`cannot remove the temporary pack file ${name}: ${(error as Error).message}`);
	}
	return fd;
}

/** Writes all of `bytes` to `fd` at `position`. */
function writeFully(fd: number, bytes: Uint8Array, position: number): void {
	for (let done = 0; done < bytes.length;) {
		done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
	}
}

/**
 * Reads `size` bytes of a pack file from offset 0 into `into` (which must hold them).
 * Resolves with the view of the bytes read; rejects when the file is shorter.
 */
export async function readPackFile(fd: number, size: number, into: Uint8Array): Promise<Uint8Array> {
	for (let done = 0; done < size;) {
		const {bytesRead} = await new Promise<{bytesRead: number}>((resolve, reject) => {
			fs.read(fd, into, done, size - done, done, (error, bytesRead) => (error ? reject(error) : resolve({bytesRead})));
		});
		if (bytesRead === 0) throw new Error(`a temporary pack file ended after ${done} of ${size} bytes`);
		done += bytesRead;
	}
	return into.subarray(0, size);
}

/**
 * One open data pack in a temporary file (see {@link openPackFile}).
 *
 * Contract: the file is truncated when the builder starts; `add` seals a blob into the pack
 * (blobs of any size fit: the caller bounds the pack with {@link packBytes} and
 * {@link growthOf}); `finish` writes the encrypted header and its length, and returns the pack with its
 * SHA-256 — the builder must not be used afterwards. `staging` is the caller's buffer, reused
 * by the next builder.
 */
export class PackBuilder {
	private readonly blobs: PackedBlob[] = [];
	private readonly hash: Hash = createHash('sha256');
	/** Bytes of blobs added. */
	private size = 0;
	/** Bytes written to the file. */
	private written = 0;
	/** Bytes sealed into `staging` and not yet written. */
	private staged = 0;
	/** Bytes of the encrypted header and its length, as the blobs so far make it. */
	private headerSize = CIPHERTEXT_OVERHEAD + 4;

	constructor(private readonly key: MasterKey, private readonly fd: number, private readonly staging: Buffer) {
		fs.ftruncateSync(fd, 0);
	}

	/** Bytes of blobs so far. */
	get blobBytes(): number {
		return this.size;
	}

	get blobCount(): number {
		return this.blobs.length;
	}

	/** Bytes the pack would have if it were finished now. */
	get packBytes(): number {
		return this.size + this.headerSize;
	}

	/** Bytes {@link packBytes} grows by when a blob of `bodyLength` bytes is added. */
	static growthOf(bodyLength: number, compressed: boolean): number {
		return bodyLength + CIPHERTEXT_OVERHEAD + headerEntrySize(compressed);
	}

	/** Seals one data blob into the pack. */
	add(id: string, body: Uint8Array, uncompressedLength: number): void {
		const length = body.length + CIPHERTEXT_OVERHEAD;
		if (length > this.staging.length) {
			this.writeStaged();
			this.write(sealBytes(this.key, body));
		} else {
			if (this.staged + length > this.staging.length) this.writeStaged();
			sealInto(this.key, body, this.staging, this.staged);
			this.staged += length;
		}
		this.blobs.push({type: 'data', id, offset: this.size, length, uncompressedLength});
		this.size += length;
		this.headerSize += headerEntrySize(uncompressedLength > 0);
	}

	/** Appends the header and its length; returns the pack. */
	finish(): FinishedPack {
		this.writeStaged();
		const header = sealBytes(this.key, encodePackHeader(this.blobs));
		const length = Buffer.alloc(4);
		length.writeUInt32LE(header.length);
		this.write(header);
		this.write(length);
		return {fd: this.fd, size: this.written, id: this.hash.digest('hex'), blobs: this.blobs};
	}

	private writeStaged(): void {
		if (this.staged === 0) return;
		this.write(this.staging.subarray(0, this.staged));
		this.staged = 0;
	}

	private write(bytes: Uint8Array): void {
		this.hash.update(bytes);
		writeFully(this.fd, bytes, this.written);
		this.written += bytes.length;
	}
}
