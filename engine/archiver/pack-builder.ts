/**
 * Lays encrypted blobs out in a pack buffer of a chunk worker, so that a finished pack leaves the
 * worker as one transferred buffer instead of one message and one copy per blob.
 */
import {CIPHERTEXT_OVERHEAD, sealBytes, sealInto, type MasterKey} from '../crypto/cipher.js';
import {encodePackHeader, headerEntrySize, type PackedBlob} from '../format/pack.js';
import {hashHex} from '../util/hash.js';

/** A finished pack: its bytes (a view of the builder's buffer), ID and blobs. */
export interface FinishedPack {
	buffer: ArrayBuffer;
	size: number;
	id: string;
	blobs: PackedBlob[];
}

/**
 * One open data pack in a buffer the builder was given.
 *
 * Contract: `add` seals a blob into the buffer, or returns false when it does not fit (finish the
 * pack and start another); `finish` appends the encrypted header and its length, hashes the pack
 * and hands the buffer over — the builder must not be used afterwards.
 */
export class PackBuilder {
	private readonly bytes: Buffer;
	private readonly blobs: PackedBlob[] = [];
	private size = 0;
	private headerSize = CIPHERTEXT_OVERHEAD + 4;

	constructor(private readonly key: MasterKey, private readonly buffer: ArrayBuffer) {
		this.bytes = Buffer.from(buffer);
	}

	/** Bytes of blobs so far. */
	get blobBytes(): number {
		return this.size;
	}

	get blobCount(): number {
		return this.blobs.length;
	}

	/** Seals one data blob into the pack; false when it (and the header it adds) would not fit. */
	add(id: string, body: Uint8Array, uncompressedLength: number): boolean {
		const length = body.length + CIPHERTEXT_OVERHEAD;
		const headerGrowth = headerEntrySize(uncompressedLength > 0);
		if (this.size + length + this.headerSize + headerGrowth > this.bytes.length) return false;
		sealInto(this.key, body, this.bytes, this.size);
		this.blobs.push({type: 'data', id, offset: this.size, length, uncompressedLength});
		this.size += length;
		this.headerSize += headerGrowth;
		return true;
	}

	/** Appends the header and its length; returns the pack. */
	finish(): FinishedPack {
		const header = sealBytes(this.key, encodePackHeader(this.blobs));
		this.bytes.set(header, this.size);
		this.bytes.writeUInt32LE(header.length, this.size + header.length);
		const size = this.size + header.length + 4;
		return {buffer: this.buffer, size, id: hashHex(this.bytes.subarray(0, size)), blobs: this.blobs};
	}
}
