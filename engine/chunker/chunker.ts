/**
 * Content-defined chunking identical to restic's: entry points for whole buffers and streams.
 */

import {Chunker, type ChunkerOptions} from './finder.js';
import type {ChunkerTables} from './tables.js';

export {Chunker, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, type ChunkerOptions} from './finder.js';
export {createChunkerTables, type ChunkerTables} from './tables.js';

const INITIAL_STAGING_SIZE = 1024 * 1024;

/** Splits a whole buffer and returns the chunk lengths in order; they sum to data.length. */
export function splitBuffer(tables: ChunkerTables, data: Uint8Array, options?: ChunkerOptions): number[] {
	const chunker = new Chunker(tables, options);
	const lengths: number[] = [];
	let pos = 0;
	while (pos < data.length) {
		const cut = chunker.findSplitPoint(data, pos, data.length);
		const next = cut < 0 ? data.length : cut;
		lengths.push(next - pos);
		pos = next;
	}
	return lengths;
}

/**
 * Splits a byte stream into chunks and yields each chunk's bytes; the last chunk may be
 * shorter than the minimum size, and an empty stream yields nothing. A chunk lying within
 * one source piece is yielded as a view of that piece (no copy), so the source must not
 * reuse its buffers; chunks spanning pieces are yielded as fresh arrays.
 */
export async function* splitStream(tables: ChunkerTables, source: AsyncIterable<Uint8Array>, options?: ChunkerOptions): AsyncGenerator<Uint8Array> {
	const chunker = new Chunker(tables, options);
	let staging: Uint8Array = new Uint8Array(0);
	let staged = 0;
	for await (const piece of source) {
		let pos = 0;
		while (pos < piece.length) {
			const cut = chunker.findSplitPoint(piece, pos, piece.length);
			if (cut < 0) {
				staging = ensureCapacity(staging, staged, staged + piece.length - pos);
				staging.set(piece.subarray(pos), staged);
				staged += piece.length - pos;
				break;
			}
			if (staged === 0) {
				yield piece.subarray(pos, cut);
			} else {
				const chunk = new Uint8Array(staged + cut - pos);
				chunk.set(staging.subarray(0, staged));
				chunk.set(piece.subarray(pos, cut), staged);
				staged = 0;
				yield chunk;
			}
			pos = cut;
		}
	}
	if (staged > 0) {
		yield staging.slice(0, staged);
	}
}

function ensureCapacity(buffer: Uint8Array, used: number, needed: number): Uint8Array {
	if (needed <= buffer.length) {
		return buffer;
	}
	let size = Math.max(buffer.length, INITIAL_STAGING_SIZE);
	while (size < needed) {
		size *= 2;
	}
	const grown = new Uint8Array(size);
	grown.set(buffer.subarray(0, used));
	return grown;
}
