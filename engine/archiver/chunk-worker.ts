/**
 * Worker thread entry: chunks and hashes whole files, and compresses, encrypts and packs the
 * chunks the main thread says are new. Protocol: see worker-protocol.ts.
 *
 * Pipeline, in this thread: files are read and chunked synchronously and each chunk is hashed at
 * once; its ID goes to the main thread, which answers whether to store it. A chunk waits in a
 * ring of reused memory (FifoArena) for that verdict and for its compression, which runs in
 * libuv's pool meanwhile, and is then sealed straight into this worker's open pack. Chunks are
 * finished in the order they were read. Memory is bounded: the ring, the read buffer, and at most
 * two pack buffers (the open one and one the main thread is storing).
 */
import {parentPort} from 'node:worker_threads';
import * as fs from 'node:fs';
import {createChunkerTables} from '../chunker/chunker.js';
import {parsePolynomial} from '../chunker/polynomial.js';
import {CIPHERTEXT_OVERHEAD} from '../crypto/cipher.js';
import type {CompressionMode} from '../format/compression.js';
import {hashHex} from '../util/hash.js';
import {compressChunk, FileReadError, openRegularFile, READ_BUFFER_SIZE, readChunks, type ChunkBody, type FileChunkerSetup} from './file-chunker.js';
import {FifoArena} from './fifo-arena.js';
import {PackBuilder} from './pack-builder.js';
import {MAX_CHUNK_SIZE} from '../chunker/chunker.js';
import type {FromWorker, ToWorker} from './worker-protocol.js';
import {findMemoryBudget} from '../util/memory-budget.js';
import {noteGarbageBytes} from '../util/worker.js';

if (!parentPort) throw new Error('chunk-worker must run in a worker thread');
const port = parentPort;

/** Chunks read and not yet finished, at most. */
const PENDING_LIMIT = 8;
/**
 * Pack buffers per worker at most: one filling, and on machines with enough RAM one being stored
 * (see memory-budget.ts).
 */
const PACK_BUFFERS = findMemoryBudget().packBuffersPerWorker;
/** How long a worker waits for its pack buffer to come back before it makes a second one (once). */
const SECOND_BUFFER_WAIT_MS = 250;
/**
 * Room for the pack header beyond the pack size. A pack is sent when it reaches the pack size,
 * or earlier when the next blob (or the header entries of many small blobs) would not fit.
 */
const HEADER_ROOM = 512 * 1024;

interface PendingChunk {
	id: string;
	/** The chunk's bytes, in the ring. */
	view: Buffer;
	verdict: Promise<boolean>;
	/** Started once the verdict says store. */
	body?: Promise<ChunkBody>;
}

let setup: (FileChunkerSetup & {packSize: number}) | undefined;
const jobs: Array<{jobId: number; path: string | Buffer}> = [];
const pending: PendingChunk[] = [];
/** Resolvers of verdicts not yet received, in the order of the `chunk` messages. */
const verdictWaiters: Array<(store: boolean) => void> = [];
const arena = new FifoArena(MAX_CHUNK_SIZE + 2 * 1024 * 1024);
const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
/** Pack buffers back from the main thread, ready for reuse. */
const freeBuffers: ArrayBuffer[] = [];
let buffersMade = 0;
let wakeOnBuffer: (() => void) | undefined;
let openPack: PackBuilder | undefined;
let running: Promise<void> | undefined;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
	port.postMessage(message, transfer);
}

/** Reports a failure of the pipeline itself and stops taking work. */
function failFatally(error: unknown): void {
	post({type: 'fatal', message: (error as Error).message});
	jobs.length = 0;
}

/** A new pack buffer: room for a full pack, or for the largest blob alone, plus its header. */
function makePackBuffer(): ArrayBuffer {
	buffersMade++;
	return new ArrayBuffer(Math.max(setup!.packSize, MAX_CHUNK_SIZE + CIPHERTEXT_OVERHEAD) + HEADER_ROOM);
}

/**
 * A pack buffer: a free one; else, when the main thread does not give one back within
 * SECOND_BUFFER_WAIT_MS (a slow repository), a new one while fewer than PACK_BUFFERS exist;
 * else the next one given back. Fast storage thus keeps one buffer per worker, slow storage two.
 */
async function takePackBuffer(): Promise<ArrayBuffer> {
	if (buffersMade === 0) {
		return makePackBuffer();
	}
	let waited = false;
	while (freeBuffers.length === 0) {
		if (waited && buffersMade < PACK_BUFFERS) {
			return makePackBuffer();
		}
		await new Promise<void>((resolve) => {
			const timer = buffersMade < PACK_BUFFERS ? setTimeout(resolve, SECOND_BUFFER_WAIT_MS) : undefined;
			wakeOnBuffer = () => {
				clearTimeout(timer);
				resolve();
			};
		});
		waited = true;
	}
	return freeBuffers.pop()!;
}

/** Sends the open pack to the main thread. */
function shipOpenPack(): void {
	if (!openPack || openPack.blobCount === 0) return;
	const pack = openPack.finish();
	openPack = undefined;
	post({type: 'pack', buffer: pack.buffer, size: pack.size, id: pack.id, blobs: pack.blobs}, [pack.buffer]);
}

/** Seals a blob into the open pack, shipping full packs. */
async function packBlob(id: string, chunk: ChunkBody): Promise<void> {
	openPack ??= new PackBuilder(setup!.key, await takePackBuffer());
	if (!openPack.add(id, chunk.body, chunk.uncompressedLength)) {
		shipOpenPack();
		openPack = new PackBuilder(setup!.key, await takePackBuffer());
		if (!openPack.add(id, chunk.body, chunk.uncompressedLength)) throw new Error(`a ${chunk.body.length}-byte blob does not fit in an empty pack`);
	}
	if (openPack.blobBytes >= setup!.packSize) shipOpenPack();
}

/** Finishes the oldest pending chunk: waits for its verdict and compression, packs it, frees its memory. */
async function finishOldest(): Promise<void> {
	const chunk = pending[0]!;
	try {
		if (await chunk.verdict) {
			const body = await chunk.body!;
			await packBlob(chunk.id, body);
			noteGarbageBytes(body.body.byteLength);
		}
	} finally {
		pending.shift();
		arena.release();
	}
}

/** Reads and chunks one file: sends each chunk's ID at once, and queues the chunk for packing. */
async function chunkJob(jobId: number, path: string | Buffer): Promise<void> {
	let fd: number;
	try {
		fd = openRegularFile(path);
	} catch (error) {
		post({type: 'error', jobId, message: (error as Error).message, readError: error instanceof FileReadError});
		return;
	}
	try {
		const chunks = readChunks(fd, setup!.tables, readBuffer);
		while (true) {
			const next = chunks.next();
			if (next.done) {
				post({type: 'done', jobId, size: next.value});
				return;
			}
			const size = next.value.length;
			while (pending.length >= PENDING_LIMIT) await finishOldest();
			let view = arena.take(size);
			while (!view) {
				await finishOldest();
				view = arena.take(size);
			}
			view.set(next.value);
			const id = hashHex(view);
			const chunk: PendingChunk = {id, view, verdict: new Promise<boolean>((resolve) => verdictWaiters.push(resolve))};
			chunk.verdict = chunk.verdict.then((store) => {
				if (store) {
					chunk.body = compressChunk(setup!.compression, view);
					chunk.body.catch(() => undefined);
				}
				return store;
			});
			pending.push(chunk);
			post({type: 'chunk', jobId, id, length: size});
		}
	} catch (error) {
		if (!(error instanceof FileReadError)) throw error;
		post({type: 'error', jobId, message: error.message, readError: true});
	} finally {
		fs.closeSync(fd);
	}
}

/** Works through queued jobs, then finishes whatever is pending. */
async function drain(): Promise<void> {
	try {
		while (jobs.length > 0 || pending.length > 0) {
			const job = jobs.shift();
			if (job) await chunkJob(job.jobId, job.path);
			else await finishOldest();
		}
	} catch (error) {
		failFatally(error);
	}
}

/** Starts draining unless a drain is under way (which will see new jobs). */
function startDrain(): Promise<void> {
	running ??= drain().finally(() => {
		running = undefined;
		if (jobs.length > 0) void startDrain();
	});
	return running;
}

port.on('message', (message: ToWorker) => {
	switch (message.type) {
		case 'init':
			setup = {
				tables: createChunkerTables(parsePolynomial(message.polynomial)),
				key: {encrypt: Buffer.from(message.key.encrypt), macK: Buffer.from(message.key.macK), macR: Buffer.from(message.key.macR)},
				compression: message.compression as CompressionMode,
				packSize: message.packSize,
			};
			break;
		case 'file':
			jobs.push({jobId: message.jobId, path: typeof message.path === 'string' ? message.path : Buffer.from(message.path)});
			void startDrain();
			break;
		case 'verdict':
			verdictWaiters.shift()?.(message.store);
			break;
		case 'buffer': {
			freeBuffers.push(message.buffer);
			const wake = wakeOnBuffer;
			wakeOnBuffer = undefined;
			wake?.();
			break;
		}
		case 'flush':
			void (async () => {
				while (running) await running;
				try {
					shipOpenPack();
					post({type: 'flushed'});
				} catch (error) {
					failFatally(error);
				}
			})();
			break;
	}
});
