/**
 * Reads one file through the chunker, and compresses chunks (when it helps). Runs inside the
 * chunk worker threads (see chunk-worker.ts); it knows nothing of the repository index.
 *
 * Files are read with synchronous calls: a worker thread blocks only itself, and a read of a
 * cached page costs a system call instead of a round trip through libuv's thread pool.
 */
import * as fs from 'node:fs';
import {Chunker, type ChunkerTables} from '../chunker/chunker.js';
import type {MasterKey} from '../crypto/cipher.js';
import {compressZstd, ZSTD_LEVELS, type CompressionMode} from '../format/compression.js';
import {compressTinySync, compressZstdSync, hasSyncZstd} from '../format/zstd-sync.js';
import {looksIncompressible} from '../format/incompressible.js';
import type {FifoArena} from './fifo-arena.js';

/** What a file chunker needs. */
export interface FileChunkerSetup {
	tables: ChunkerTables;
	key: MasterKey;
	compression: CompressionMode;
}

/** Bytes asked for per read. */
const READ_SIZE = 2 * 1024 * 1024;

/** A chunk's body as stored: compressed when that makes it smaller. */
export interface ChunkBody {
	body: Uint8Array;
	/** Plaintext length when `body` is compressed, else 0. */
	uncompressedLength: number;
}

/**
 * Chunks below this size are compressed in the worker's own thread where the runtime can
 * (Node 22.15+): they are whole small files, for which the trip through libuv's pool costs more
 * than the compression. Larger chunks still go to the pool, so that one large file is compressed
 * on more than one core while its worker reads and hashes the next chunks.
 */
export const SYNC_COMPRESS_LIMIT = 512 * 1024;

/**
 * Compresses one chunk when the repository compresses and it helps. Tiny chunks are compressed
 * synchronously in WebAssembly once the worker has loaded it (see engine/format/zstd-sync.ts). In `auto` mode, chunks that
 * look incompressible (random-looking bytes) are stored as they are without trying; `max` always
 * tries.
 */
export async function compressChunk(compression: CompressionMode, chunk: Uint8Array): Promise<ChunkBody> {
	if (compression !== 'off' && chunk.length > 0 && !(compression === 'auto' && looksIncompressible(chunk))) {
		const level = ZSTD_LEVELS[compression];
		const compressed = compressTinySync(chunk, level)
			?? (chunk.length < SYNC_COMPRESS_LIMIT && hasSyncZstd() ? compressZstdSync(chunk, level) : await compressZstd(chunk, level));
		if (compressed.length < chunk.length) return {body: compressed, uncompressedLength: chunk.length};
	}
	return {body: chunk, uncompressedLength: 0};
}

/** An error reading the file itself (as opposed to a failure of the pipeline). */
export class FileReadError extends Error {
	constructor(message: string, readonly code?: string) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'FileReadError', enumerable: false});
	}
}

function wrapReadError(what: string, error: unknown): FileReadError {
	return new FileReadError(`${what}: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code);
}

/**
 * Opens a file for reading without blocking on special files: a name that turned into a FIFO or
 * a device since it was listed is refused instead of hanging the worker.
 */
export function openRegularFile(path: string | Buffer): number {
	let fd: number;
	try {
		fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
	} catch (error) {
		throw wrapReadError('cannot open file', error);
	}
	try {
		if (!fs.fstatSync(fd).isFile()) throw new FileReadError('cannot read file: it is no longer a regular file');
	} catch (error) {
		fs.closeSync(fd);
		throw error instanceof FileReadError ? error : wrapReadError('cannot read file', error);
	}
	return fd;
}

/** Yielded by {@link readChunksIntoRing} when the ring has no room to read into: release its oldest region, then go on. */
export const NEEDS_ROOM = Symbol('needs room');
/** The least a read into the ring asks for; less room than this waits for the ring to drain. */
const MIN_RING_READ = 256 * 1024;

/**
 * Reads an open file to its end and yields its chunks in order. It reads straight into `ring` (a
 * FifoArena of at least the largest chunk plus 2 MiB), so that the chunks need no read buffer of
 * their own and no copy. Each chunk is a view into the ring, past every region taken: the caller
 * either claims it at once (`ring.claim(view)`, released in turn later) or leaves it, and the
 * next chunks may overwrite it. Yields {@link NEEDS_ROOM} when the ring is too full to read on; the caller then releases its
 * oldest region before asking for the next chunk. Read failures throw FileReadError.
 */
export function* readChunksIntoRing(fd: number, tables: ChunkerTables, ring: FifoArena, onBytes?: (n: number) => void): Generator<Uint8Array | typeof NEEDS_ROOM, number> {
	const chunker = new Chunker(tables);
	const memory = ring.bytes;
	let size = 0;
	let start = ring.head();
	let scan = start;
	let end = start;
	let eof = false;
	while (true) {
		if (scan === end) {
			if (eof) break;
			let room = ring.spaceAfter(end);
			while (room < MIN_RING_READ) {
				// Move the bytes not yet cut to the start of the ring when it has room there, else wait.
				if (start > 0 && ring.spaceAtStart(start) >= end - start + MIN_RING_READ) {
					memory.copyWithin(0, start, end);
					end -= start;
					scan -= start;
					start = 0;
				} else {
					yield NEEDS_ROOM;
				}
				room = ring.spaceAfter(end);
			}
			let bytesRead: number;
			try {
				bytesRead = fs.readSync(fd, memory, end, Math.min(READ_SIZE, room), null);
			} catch (error) {
				throw wrapReadError('cannot read file', error);
			}
			if (bytesRead === 0) eof = true;
			end += bytesRead;
			size += bytesRead;
			onBytes?.(bytesRead);
			continue;
		}
		const split = chunker.findSplitPoint(memory, scan, end);
		if (split < 0) {
			scan = end;
			continue;
		}
		yield memory.subarray(start, split);
		start = split;
		scan = split;
	}
	if (end > start) yield memory.subarray(start, end);
	return size;
}
