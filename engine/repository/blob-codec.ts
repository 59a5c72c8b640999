/**
 * Verifying and decoding stored blobs: MAC check, decryption, decompression and the SHA-256
 * check against the blob ID. Shared by the codec workers and the in-thread path.
 */
import {openBytes, type MasterKey} from '../crypto/cipher.js';
import {decompressZstd, decompressZstdInThreadFirst} from '../format/compression.js';
import type {BlobType} from '../format/pack.js';
import {hashHex} from '../util/hash.js';

/**
 * Decodes one blob; throws an Error naming what is wrong. With `inThread`, small blobs are
 * decompressed in this thread: for the many small tree blobs an incremental backup reads, a
 * round trip through libuv's pool costs more than the decompression itself.
 */
export async function decodeStoredBlob(key: MasterKey, type: BlobType, id: string, raw: Uint8Array, packId: string, uncompressedLength: number, inThread = false): Promise<Buffer> {
	let plain: Buffer;
	try {
		plain = openBytes(key, raw);
		if (uncompressedLength > 0) plain = await (inThread ? decompressZstdInThreadFirst(plain) : decompressZstd(plain));
	} catch (error) {
		throw new Error(`pack ${packId}: ${type} blob ${id} is damaged: ${(error as Error).message}`, {cause: error});
	}
	if (uncompressedLength > 0 && plain.length !== uncompressedLength) {
		throw new Error(`pack ${packId}: ${type} blob ${id} is damaged: decompressed to ${plain.length} bytes, the index says ${uncompressedLength}`);
	}
	if (hashHex(plain) !== id) throw new Error(`pack ${packId}: ${type} blob ${id} is damaged: content does not match its ID`);
	return plain;
}

/** Tells whether every byte is zero (such blobs become holes in sparse files). */
export function isAllZero(data: Uint8Array): boolean {
	const words = Math.floor(data.byteLength / 4);
	const view = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, words) : undefined;
	if (view) {
		for (let i = 0; i < words; i++) if (view[i] !== 0) return false;
	} else {
		for (let i = 0; i < words * 4; i++) if (data[i] !== 0) return false;
	}
	for (let i = words * 4; i < data.byteLength; i++) if (data[i] !== 0) return false;
	return true;
}
