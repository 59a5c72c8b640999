import {createHash} from 'node:crypto';

/** Hex SHA-256 of bytes: the ID of blobs and of repository files. */
export function hashHex(data: Uint8Array): string {
	return createHash('sha256').update(data).digest('hex');
}

/** Tells whether text looks like a full hex ID. */
export function isHexId(text: string): boolean {
	return /^[0-9a-f]{64}$/.test(text);
}

/**
 * Hex SHA-256 computed in libuv's pool (Web Crypto) instead of the calling thread: for large
 * buffers, such as whole packs, that the main thread should not spend its time on.
 */
export async function hashHexOffThread(data: Uint8Array): Promise<string> {
	return Buffer.from(await globalThis.crypto.subtle.digest('SHA-256', data)).toString('hex');
}
