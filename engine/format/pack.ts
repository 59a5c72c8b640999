/**
 * Pack files: `EncryptedBlob1 || ... || EncryptedBlobN || EncryptedHeader || Header_Length`.
 * The plaintext header lists, per blob: a type byte, the encrypted length (uint32 LE),
 * the uncompressed length for compressed types (uint32 LE), and the 32-byte plaintext hash.
 */

/** The two kinds of blob. */
export type BlobType = 'data' | 'tree';

/** One blob of a pack, as the header and the index describe it. */
export interface PackedBlob {
	type: BlobType;
	/** Hex SHA-256 of the uncompressed plaintext. */
	id: string;
	/** Byte offset of the encrypted blob in the pack. */
	offset: number;
	/** Length of the encrypted blob (IV + ciphertext + MAC). */
	length: number;
	/** Uncompressed plaintext length; 0 when the blob is stored uncompressed. */
	uncompressedLength: number;
}

const PLAIN_ENTRY = 1 + 4 + 32;
const COMPRESSED_ENTRY = 1 + 4 + 4 + 32;

/** Size of one header entry for a blob. */
export function headerEntrySize(compressed: boolean): number {
	return compressed ? COMPRESSED_ENTRY : PLAIN_ENTRY;
}

/** Builds the plaintext pack header for blobs in pack order. */
export function encodePackHeader(blobs: readonly PackedBlob[]): Buffer {
	let size = 0;
	for (const blob of blobs) size += headerEntrySize(blob.uncompressedLength > 0);
	const header = Buffer.alloc(size);
	let pos = 0;
	for (const blob of blobs) {
		const compressed = blob.uncompressedLength > 0;
		header[pos] = (blob.type === 'tree' ? 1 : 0) | (compressed ? 2 : 0);
		header.writeUInt32LE(blob.length, pos + 1);
		pos += 5;
		if (compressed) {
			header.writeUInt32LE(blob.uncompressedLength, pos);
			pos += 4;
		}
		pos += header.write(blob.id, pos, 'hex');
	}
	return header;
}

/** Parses a decrypted pack header into blobs with their offsets. Throws on malformed input. */
export function decodePackHeader(header: Uint8Array): PackedBlob[] {
	const buf = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
	const blobs: PackedBlob[] = [];
	let pos = 0;
	let offset = 0;
	while (pos < buf.length) {
		const kind = buf[pos]!;
		if (kind > 3) throw new Error(`pack header has invalid blob type ${kind} at byte ${pos}`);
		const compressed = kind >= 2;
		const size = headerEntrySize(compressed);
		if (pos + size > buf.length) throw new Error(`pack header is truncated at byte ${pos}`);
		const length = buf.readUInt32LE(pos + 1);
		const uncompressedLength = compressed ? buf.readUInt32LE(pos + 5) : 0;
		const id = buf.toString('hex', pos + size - 32, pos + size);
		blobs.push({type: kind & 1 ? 'tree' : 'data', id, offset, length, uncompressedLength});
		offset += length;
		pos += size;
	}
	return blobs;
}
