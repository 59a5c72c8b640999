/**
 * Positional reads of a byte range, without reading the rest of the file.
 */

import {open} from 'node:fs/promises';

import {PermanentError, throwIfAborted} from '../storage.js';

/** Bytes read per call, so that an abort is noticed between chunks of a large file. */
const READ_CHUNK = 8 * 1024 * 1024;

/** Which bytes to read and what to call the file in messages. */
export interface RangeRequest {
	readonly path: string;
	/** A short name for messages, e.g. `data/ab/ab12…`. */
	readonly label: string;
	readonly offset: number;
	/** Omitted: to the end of the file. */
	readonly length?: number;
	readonly signal?: AbortSignal;
}

/**
 * Reads `length` bytes (or up to the end) starting at `offset` with positional reads.
 *
 * Rejects with {@link PermanentError} when the range starts or ends past the end of the file or is
 * not made of non-negative integers; file-system errors are thrown raw for the caller to map.
 */
export async function readFileRange(request: RangeRequest): Promise<Uint8Array> {
	const {offset, length, label, signal} = request;
	checkRange(offset, length, label);
	throwIfAborted(signal);
	const file = await open(request.path, 'r');
	try {
		const {size} = await file.stat();
		const end = length === undefined ? size : offset + length;
		if (offset > size || end > size) {
			throw new PermanentError(`cannot load ${label}: the range ${offset}..${end} is past the end of the file (${size} bytes)`);
		}
		const bytes = new Uint8Array(end - offset);
		let filled = 0;
		while (filled < bytes.byteLength) {
			throwIfAborted(signal);
			const want = Math.min(READ_CHUNK, bytes.byteLength - filled);
			const {bytesRead} = await file.read(bytes, filled, want, offset + filled);
			if (bytesRead === 0) {
				throw new PermanentError(`cannot load ${label}: the file ended after ${offset + filled} bytes while it was being read (it shrank?)`);
			}
			filled += bytesRead;
		}
		return bytes;
	} finally {
		await file.close().catch(() => undefined);
	}
}

/** Rejects offsets and lengths that are not non-negative safe integers. */
function checkRange(offset: number, length: number | undefined, label: string): void {
	const valid = (n: number) => Number.isSafeInteger(n) && n >= 0;
	if (!valid(offset) || (length !== undefined && !valid(length))) {
		throw new PermanentError(`cannot load ${label}: invalid range (offset ${offset}, length ${length}); both must be non-negative integers`);
	}
}
