import {createHash} from 'node:crypto';

/** Hex SHA-256 of bytes: the ID of blobs and of repository files. */
export function hashHex(data: Uint8Array): string {
	return createHash('sha256').update(data).digest('hex');
}

/** Tells whether text looks like a full hex ID. */
export function isHexId(text: string): boolean {
	return /^[0-9a-f]{64}$/.test(text);
}
