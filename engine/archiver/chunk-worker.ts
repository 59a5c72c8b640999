/**
 * Worker thread entry: chunks and hashes whole files, and compresses, encrypts and packs the
 * chunks the main thread says are new. Protocol: see worker-protocol.ts.
 *
 * Pipeline, in this thread: files are read (straight into a ring of reused memory, FifoArena) and
 * chunked synchronously and each chunk is hashed at once; its ID goes to the main thread (in a
 * batch of events), which answers whether to store it. A chunk waits where it was read for that
 * verdict and for its compression
 * (tiny chunks here, in WebAssembly; larger ones in libuv's pool meanwhile), and is then sealed
 * straight into this worker's open pack. Chunks are finished in the order they were read. Chunks
 * of large files are mostly handed to peer workers instead (see {@link shipToPeer}), which treat
 * them like their own. Memory is bounded: the ring, the chunks lent to or
 * borrowed from peers (PEER_CREDIT_BYTES each way per peer), and a 1 MiB staging buffer: packs are
 * written to temporary files (see pack-builder.ts), which the main thread reads and stores.
 */
import {parentPort, type MessagePort} from 'node:worker_threads';
import * as fs from 'node:fs';
import {createChunkerTables} from '../chunker/chunker.js';
import {parsePolynomial} from '../chunker/polynomial.js';
import type {CompressionMode} from '../format/compression.js';
import {hashHex} from '../util/hash.js';
import {compressChunk, FileReadError, NEEDS_ROOM, openRegularFile, readChunksIntoRing, type ChunkBody, type FileChunkerSetup} from './file-chunker.js';
import {FifoArena} from './fifo-arena.js';
import {PACK_ROOM, PackBuilder, STAGING_BYTES} from './pack-builder.js';
import {MAX_CHUNK_SIZE} from '../chunker/chunker.js';
import type {FromWorker, JobEvent, PeerMessage, ToWorker} from './worker-protocol.js';
import {loadWasmZstd} from '../format/zstd-sync.js';
import {noteGarbageBytes} from '../util/worker.js';

if (!parentPort) throw new Error('chunk-worker must run in a worker thread');
const port = parentPort;

/**
 * Chunks read and not yet finished, at most. Small files make small chunks, and a verdict round
 * trip is paid per batch of them, so the count is generous: the ring (its bytes) is what bounds
 * memory.
 */
const PENDING_LIMIT = 256;
/** Events collected before they are sent without waiting for a reason to. */
const EVENT_BATCH = 32;
/**
 * Chunks at least this large may be handed to another worker, which hashes, compresses and seals
 * them (see {@link shipToPeer}): only large files make them (restic's minimum chunk is 512 KiB),
 * and for them the copy costs far less than the hashing it moves.
 */
const SHARE_MIN_SIZE = 256 * 1024;
/**
 * Bytes of chunks handed to one peer and not yet given back, at most (beyond one chunk): bounds
 * the memory in flight. A chunk stays out for a verdict round trip and its compression, so a
 * peer needs several to stay busy.
 */
const PEER_CREDIT_BYTES = 4 * 1024 * 1024;
/** Returned chunk buffers kept for reuse, at most, and the largest kept (larger ones are dropped). */
const SPARE_BUFFERS = 2;
const SPARE_BUFFER_MAX = 2 * 1024 * 1024;
interface PendingChunk {
	id: string;
	/** The chunk's bytes: in the ring, or (a peer's chunk) in the buffer it sent. */
	view: Buffer;
	/** The peer that sent this chunk, to be given its buffer back once the chunk is finished. */
	from?: Peer;
	verdict: Promise<boolean>;
	/** Started once the verdict says store. */
	body?: Promise<ChunkBody>;
}

/** Another chunk worker, reached through its own channel. */
interface Peer {
	port: MessagePort;
	/** Bytes of chunks sent to it and not yet given back. */
	inFlight: number;
}

let setup: (FileChunkerSetup & {packSize: number}) | undefined;
let peers: Peer[] = [];
/** Chunk buffers given back by peers, for reuse. */
const spareBuffers: ArrayBuffer[] = [];
/** Chunks that peers sent to be hashed, compressed and sealed here, in arrival order. */
const peerChunks: Array<{jobId: number; seq: number; buffer: ArrayBuffer; length: number; from: Peer}> = [];
const jobs: Array<{jobId: number; path: string | Buffer}> = [];
/** Events not yet sent (see worker-protocol.ts). */
let outbox: JobEvent[] = [];
/** Resolves once the WebAssembly zstd for tiny chunks has loaded (or failed to). */
let tinyZstdReady: Promise<boolean> = Promise.resolve(false);
const pending: PendingChunk[] = [];
/** Resolvers of verdicts not yet received, in the order of the `chunk` messages. */
const verdictWaiters: Array<(store: boolean) => void> = [];
/** Files are read straight into this ring, where their chunks then wait (see readChunksIntoRing). */
const arena = new FifoArena(MAX_CHUNK_SIZE + 2 * 1024 * 1024);
/** Pack files (descriptors) free for the next pack: the main thread's, given at init and given back after each store. */
const freeFiles: number[] = [];
let wakeOnFile: (() => void) | undefined;
/** Where small blobs are sealed before they are written to the pack file. */
const staging = Buffer.allocUnsafeSlow(STAGING_BYTES);
let openPack: PackBuilder | undefined;
let running: Promise<void> | undefined;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
	port.postMessage(message, transfer);
}

/** Queues a job event; sends the batch when it is full. */
function report(event: JobEvent): void {
	outbox.push(event);
	if (outbox.length >= EVENT_BATCH) sendEvents();
}

/** Sends the collected events (before this worker waits for anything the main thread sends). */
function sendEvents(): void {
	if (outbox.length === 0) return;
	post({type: 'events', events: outbox});
	outbox = [];
}

/** Reports a failure of the pipeline itself and stops taking work. */
function failFatally(error: unknown): void {
	post({type: 'fatal', message: (error as Error).message});
	jobs.length = 0;
}

/** A pack file: a free one, else the next one the main thread gives back. */
async function takePackFile(): Promise<number> {
	while (freeFiles.length === 0) {
		await new Promise<void>((resolve) => {
			wakeOnFile = resolve;
		});
	}
	return freeFiles.pop()!;
}

/** Sends the open pack to the main thread. */
function shipOpenPack(): void {
	if (!openPack || openPack.blobCount === 0) return;
	const pack = openPack.finish();
	openPack = undefined;
	post({type: 'pack', fd: pack.fd, size: pack.size, id: pack.id, blobs: pack.blobs});
}

/** Seals a blob into the open pack, shipping full packs. */
async function packBlob(id: string, chunk: ChunkBody): Promise<void> {
	// A pack stays within the pack size plus PACK_ROOM, so the main thread reads any pack into
	// one buffer of that size.
	if (openPack && openPack.blobCount > 0 && openPack.packBytes + PackBuilder.growthOf(chunk.body.length, chunk.uncompressedLength > 0) > setup!.packSize + PACK_ROOM) shipOpenPack();
	openPack ??= new PackBuilder(setup!.key, await takePackFile(), staging);
	openPack.add(id, chunk.body, chunk.uncompressedLength);
	if (openPack.blobBytes >= setup!.packSize) shipOpenPack();
}

/** Finishes the oldest pending chunk: waits for its verdict and compression, packs it, frees its memory. */
async function finishOldest(): Promise<void> {
	const chunk = pending[0]!;
	sendEvents();
	try {
		if (await chunk.verdict) {
			const body = await chunk.body!;
			await packBlob(chunk.id, body);
			noteGarbageBytes(body.body.byteLength);
		}
	} finally {
		pending.shift();
		if (chunk.from) {
			const buffer = chunk.view.buffer as ArrayBuffer;
			chunk.from.port.postMessage({type: 'return', buffer, length: chunk.view.length} satisfies PeerMessage, [buffer]);
		} else {
			arena.release();
		}
	}
}

/** Queues a hashed chunk for its verdict, compression and packing, and reports it. */
function queueChunk(jobId: number, seq: number, view: Buffer, from?: Peer): void {
	const id = hashHex(view);
	const chunk: PendingChunk = {id, view, from, verdict: new Promise<boolean>((resolve) => verdictWaiters.push(resolve))};
	chunk.verdict = chunk.verdict.then((store) => {
		if (store) {
			chunk.body = compressChunk(setup!.compression, view);
			chunk.body.catch(() => undefined);
		}
		return store;
	});
	pending.push(chunk);
	report({type: 'chunk', jobId, seq, id, length: view.length});
}

/** Hashes and queues the chunks peers sent. */
async function takePeerChunks(): Promise<void> {
	while (peerChunks.length > 0) {
		while (pending.length >= PENDING_LIMIT) await finishOldest();
		const item = peerChunks.shift()!;
		queueChunk(item.jobId, item.seq, Buffer.from(item.buffer, 0, item.length), item.from);
	}
}

/**
 * Hands a chunk of a large file to the least busy peer with room for it, so that one file keeps
 * every worker busy: this worker reads and chunks (which must be sequential), the peer hashes,
 * compresses and seals. Returns false (the caller keeps the chunk) when every peer is full.
 */
function shipToPeer(jobId: number, seq: number, bytes: Uint8Array): boolean {
	if (bytes.length < SHARE_MIN_SIZE) return false;
	let target: Peer | undefined;
	for (const peer of peers) {
		if (peer.inFlight > 0 && peer.inFlight + bytes.length > PEER_CREDIT_BYTES) continue;
		if (!target || peer.inFlight < target.inFlight) target = peer;
	}
	if (!target) return false;
	let buffer = spareBuffers.pop();
	if (!buffer || buffer.byteLength < bytes.length) buffer = new ArrayBuffer(Math.max(bytes.length, 1024 * 1024));
	new Uint8Array(buffer, 0, bytes.length).set(bytes);
	target.inFlight += bytes.length;
	target.port.postMessage({type: 'chunk', jobId, seq, buffer, length: bytes.length} satisfies PeerMessage, [buffer]);
	return true;
}

/** Reads and chunks one file: sends each chunk's ID at once, and queues the chunk for packing. */
async function chunkJob(jobId: number, path: string | Buffer): Promise<void> {
	let fd: number;
	try {
		fd = openRegularFile(path);
	} catch (error) {
		report({type: 'error', jobId, message: (error as Error).message, readError: error instanceof FileReadError});
		return;
	}
	try {
		const chunks = readChunksIntoRing(fd, setup!.tables, arena);
		for (let seq = 0; ; seq++) {
			const next = chunks.next();
			if (next.done) {
				report({type: 'done', jobId, size: next.value, chunks: seq});
				return;
			}
			if (next.value === NEEDS_ROOM) {
				if (pending.length === 0) throw new Error('the chunk ring has no room and nothing to release');
				await finishOldest();
				seq--;
				continue;
			}
			if (peerChunks.length > 0) await takePeerChunks();
			if (shipToPeer(jobId, seq, next.value)) continue;
			if (next.value.length >= SHARE_MIN_SIZE && peers.length > 0) {
				// Every peer looked full, but this loop does not let the messages that give their
				// buffers back in: let them in once, then try again.
				await new Promise<void>((resolve) => setImmediate(resolve));
				if (shipToPeer(jobId, seq, next.value)) continue;
			}
			// The chunk stays where it was read: it becomes the ring's newest region.
			const view = next.value as Buffer;
			arena.claim(view);
			queueChunk(jobId, seq, view);
			while (pending.length >= PENDING_LIMIT) await finishOldest();
		}
	} catch (error) {
		if (!(error instanceof FileReadError)) throw error;
		report({type: 'error', jobId, message: error.message, readError: true});
	} finally {
		fs.closeSync(fd);
	}
}

/** Works through queued jobs, then finishes whatever is pending. */
async function drain(): Promise<void> {
	try {
		await tinyZstdReady;
		while (jobs.length > 0 || pending.length > 0 || peerChunks.length > 0) {
			if (peerChunks.length > 0) {
				await takePeerChunks();
				continue;
			}
			const job = jobs.shift();
			if (job) await chunkJob(job.jobId, job.path);
			else await finishOldest();
		}
		sendEvents();
	} catch (error) {
		sendEvents();
		failFatally(error);
	}
}

/** Starts draining unless a drain is under way (which will see new jobs). */
function startDrain(): Promise<void> {
	running ??= drain().finally(() => {
		running = undefined;
		if (jobs.length > 0 || peerChunks.length > 0) void startDrain();
	});
	return running;
}

function receiveFromPeer(peer: Peer, message: PeerMessage): void {
	if (message.type === 'chunk') {
		peerChunks.push({jobId: message.jobId, seq: message.seq, buffer: message.buffer, length: message.length, from: peer});
		void startDrain();
	} else {
		peer.inFlight -= message.length;
		if (message.buffer.byteLength <= SPARE_BUFFER_MAX && spareBuffers.length < SPARE_BUFFERS) spareBuffers.push(message.buffer);
		// A dropped chunk buffer (up to 8 MiB) is freed only when V8 collects it: count it.
		else noteGarbageBytes(message.buffer.byteLength);
	}
}

/** Takes channels to other workers, to share large files' chunks with them. */
function addPeers(ports: MessagePort[]): void {
	for (const peerPort of ports) {
		const peer: Peer = {port: peerPort, inFlight: 0};
		peerPort.on('message', (peerMessage: PeerMessage) => receiveFromPeer(peer, peerMessage));
		peers.push(peer);
	}
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
			if (setup.compression !== 'off') tinyZstdReady = loadWasmZstd();
			addPeers(message.peers);
			freeFiles.push(...message.packFiles);
			break;
		case 'peers':
			addPeers(message.peers);
			break;
		case 'files':
			for (const job of message.jobs) jobs.push({jobId: job.jobId, path: typeof job.path === 'string' ? job.path : Buffer.from(job.path)});
			void startDrain();
			break;
		case 'verdicts':
			for (const store of message.store) verdictWaiters.shift()?.(store);
			break;
		case 'file': {
			freeFiles.push(message.fd);
			const wake = wakeOnFile;
			wakeOnFile = undefined;
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
