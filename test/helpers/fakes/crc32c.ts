/**
 * CRC32C (Castagnoli), as Google Cloud Storage reports it in `crc32c` fields and `x-goog-hash`
 * headers: the big-endian 4 bytes of the checksum, base64-encoded.
 */

const TABLE = makeTable();

function makeTable(): Uint32Array {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
}

/** The CRC32C of `data` as an unsigned 32-bit number. */
export function computeCrc32c(data: Uint8Array): number {
	let crc = 0xffffffff;
	for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC32C of `data` in Google's base64 form. */
export function encodeCrc32c(data: Uint8Array): string {
	const bytes = Buffer.alloc(4);
	bytes.writeUInt32BE(computeCrc32c(data));
	return bytes.toString('base64');
}
