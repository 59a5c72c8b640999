/**
 * Reads one file through the chunker and turns each chunk into a stored-form blob: SHA-256 ID,
 * zstd compression (when it helps) and encryption. Runs inside worker threads (see chunk-worker.ts)
 * or in the calling thread; it knows nothing of the repository index.
 */
import * as fs from 'node:fs/promises';
import {Chunker, type ChunkerTables} from '../chunker/chunker.js';
import {sealBytes, type MasterKey} from '../crypto/cipher.js';
import {compressZstd, ZSTD_LEVELS, type CompressionMode} from '../format/compression.js';
import {hashHex} from '../util/hash.js';

/** One chunk of a file, ready to be packed. */
export interface ProcessedChunk {
	id: string;
	/** Plaintext length. */
	length: number;
	/** IV || ciphertext || MAC of the (possibly compressed) chunk. */
	sealed: Uint8Array;
	/** Uncompressed length when compressed, else 0. */
	uncompressedLength: number;
}

/** What a file chunker needs. */
export interface FileChunkerSetup {
	tables: ChunkerTables;
	key: MasterKey;
	compression: CompressionMode;
}

const READ_SIZE = 1024 * 1024;
const BUFFER_SIZE = 9 * 1024 * 1024;
/** Chunks being compressed at once per file. */
const PARALLEL_CHUNKS = 2;

/** Compresses (when worthwhile) and seals one chunk. */
export async function sealChunk(setup: FileChunkerSetup, chunk: Uint8Array, id: string): Promise<ProcessedChunk> {
	let body: Uint8Array = chunk;
	let uncompressedLength = 0;
	if (setup.compression !== 'off' && chunk.length > 0) {
		const compressed = await compressZstd(chunk, ZSTD_LEVELS[setup.compression]);
		if (compressed.length < chunk.length) {
			body = compressed;
			uncompressedLength = chunk.length;
		}
	}
	return {id, length: chunk.length, sealed: sealBytes(setup.key, body), uncompressedLength};
}

/** An error reading the file itself (as opposed to a failure of the pipeline). */
export class FileReadError extends Error {
	constructor(message: string, readonly code?: string) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'FileReadError', enumerable: false});
	}
}

/**
 * Chunks a file and hands each processed chunk to `emit`, in file order. `emit` may apply
 * backpressure by returning a promise. Resolves with the number of bytes read.
 * Failures to open or read the file reject with FileReadError.
 */
export async function chunkFile(path: string | Buffer, setup: FileChunkerSetup, emit: (chunk: ProcessedChunk) => Promise<void> | void, buffer?: Buffer, onBytes?: (n: number) => void): Promise<number> {
	let handle: fs.FileHandle;
	try {
		handle = await fs.open(path, 'r');
	} catch (error) {
		throw new FileReadError(`cannot open file: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code);
	}
	const buf = buffer ?? Buffer.allocUnsafe(BUFFER_SIZE);
	const chunker = new Chunker(setup.tables);
	const inFlight: Array<Promise<ProcessedChunk>> = [];
	let size = 0;
	const flushOne = async (): Promise<void> => {
		await emit(await inFlight.shift()!);
	};
	const submit = async (view: Uint8Array): Promise<void> => {
		const copy = Buffer.from(view);
		inFlight.push(sealChunk(setup, copy, hashHex(copy)));
		if (inFlight.length >= PARALLEL_CHUNKS) await flushOne();
	};
	try {
		let start = 0;
		let scan = 0;
		let end = 0;
		let eof = false;
		while (true) {
			if (scan === end) {
				if (eof) break;
				if (end + READ_SIZE > buf.length) {
					buf.copyWithin(0, start, end);
					end -= start;
					scan -= start;
					start = 0;
				}
				let bytesRead: number;
				try {
					({bytesRead} = await handle.read(buf, end, Math.min(READ_SIZE, buf.length - end), null));
				} catch (error) {
					throw new FileReadError(`cannot read file: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code);
				}
				if (bytesRead === 0) eof = true;
				end += bytesRead;
				size += bytesRead;
				onBytes?.(bytesRead);
				continue;
			}
			const split = chunker.findSplitPoint(buf, scan, end);
			if (split < 0) {
				scan = end;
				continue;
			}
			await submit(buf.subarray(start, split));
			start = split;
			scan = split;
		}
		if (end > start) await submit(buf.subarray(start, end));
		while (inFlight.length > 0) await flushOne();
		return size;
	} finally {
		await Promise.allSettled(inFlight);
		await handle.close().catch(() => undefined);
	}
}
