/**
 * Worker thread entry: chunks, hashes, compresses and encrypts whole files for the archiver.
 * Protocol (see worker-pool.ts): `init` once, then `file` jobs, answered with `chunk` messages
 * (in file order) and then `done` or `error` for each job, in the order the jobs came.
 *
 * Pipeline: the thread reads and chunks files synchronously and hashes each chunk at once; the
 * compression of up to PENDING_LIMIT chunks runs meanwhile in libuv's pool, and each is sealed
 * and sent when its turn comes. At most CREDITS chunks are sent unacknowledged, which bounds
 * the memory a slow repository can make the pipeline hold.
 */
import {parentPort} from 'node:worker_threads';
import * as fs from 'node:fs';
import {createChunkerTables} from '../chunker/chunker.js';
import {parsePolynomial} from '../chunker/polynomial.js';
import type {CompressionMode} from '../format/compression.js';
import {hashHex} from '../util/hash.js';
import {FileReadError, openRegularFile, READ_BUFFER_SIZE, readChunks, sealChunk, type FileChunkerSetup} from './file-chunker.js';
import {CREDITS, type FromWorker, type ToWorker} from './worker-protocol.js';

if (!parentPort) throw new Error('chunk-worker must run in a worker thread');
const port = parentPort;

/** Chunks hashed and being compressed or waiting to be sent, per worker. */
const PENDING_LIMIT = 3;

type Pending =
	| {kind: 'chunk'; jobId: number; id: string; length: number; result: Promise<{sealed: Uint8Array; uncompressedLength: number}>}
	| {kind: 'done'; jobId: number; size: number}
	| {kind: 'error'; jobId: number; message: string; readError: boolean};

let setup: FileChunkerSetup | undefined;
const jobs: Array<{jobId: number; path: string | Buffer}> = [];
/** Results in the order they must be sent. */
const pending: Pending[] = [];
/** Jobs whose error was already sent: their remaining results are dropped. */
const failed = new Set<number>();
let credits = CREDITS;
let wakeOnCredit: (() => void) | undefined;
let running = false;
const buffer = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
	port.postMessage(message, transfer);
}

function toTransferable(bytes: Uint8Array): ArrayBuffer {
	if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
	const copy = new Uint8Array(bytes.byteLength);
	copy.set(bytes);
	return copy.buffer;
}

/** Sends the oldest pending result, waiting for its compression and for a credit. */
async function sendOldest(): Promise<void> {
	const item = pending.shift()!;
	if (failed.has(item.jobId)) {
		if (item.kind !== 'chunk') failed.delete(item.jobId);
		if (item.kind === 'chunk') item.result.catch(() => undefined);
		return;
	}
	switch (item.kind) {
		case 'chunk': {
			let result: {sealed: Uint8Array; uncompressedLength: number};
			try {
				result = await item.result;
			} catch (error) {
				failed.add(item.jobId);
				post({type: 'error', jobId: item.jobId, message: (error as Error).message, readError: false});
				return;
			}
			while (credits <= 0) await new Promise<void>((resolve) => (wakeOnCredit = resolve));
			credits--;
			const sealed = toTransferable(result.sealed);
			post({type: 'chunk', jobId: item.jobId, id: item.id, length: item.length, sealed, uncompressedLength: result.uncompressedLength}, [sealed]);
			break;
		}
		case 'done':
			post({type: 'done', jobId: item.jobId, size: item.size});
			break;
		case 'error':
			post({type: 'error', jobId: item.jobId, message: item.message, readError: item.readError});
			break;
	}
}

/** Reads and chunks one file, queueing its chunks (and then its outcome) for sending. */
async function chunkJob(jobId: number, path: string | Buffer): Promise<void> {
	let fd: number;
	try {
		fd = openRegularFile(path);
	} catch (error) {
		pending.push({kind: 'error', jobId, message: (error as Error).message, readError: error instanceof FileReadError});
		return;
	}
	try {
		const chunks = readChunks(fd, setup!.tables, buffer);
		while (true) {
			const next = chunks.next();
			if (next.done) {
				pending.push({kind: 'done', jobId, size: next.value});
				return;
			}
			const copy = Buffer.allocUnsafeSlow(next.value.length);
			copy.set(next.value);
			pending.push({kind: 'chunk', jobId, id: hashHex(copy), length: copy.length, result: sealChunk(setup!, copy)});
			while (pending.length >= PENDING_LIMIT) await sendOldest();
		}
	} catch (error) {
		pending.push({kind: 'error', jobId, message: (error as Error).message, readError: error instanceof FileReadError});
	} finally {
		fs.closeSync(fd);
	}
}

/** Works through queued jobs, then sends whatever is still pending. */
async function drain(): Promise<void> {
	if (running) return;
	running = true;
	try {
		while (jobs.length > 0 || pending.length > 0) {
			const job = jobs.shift();
			if (job) await chunkJob(job.jobId, job.path);
			else await sendOldest();
		}
	} finally {
		running = false;
	}
}

port.on('message', (message: ToWorker) => {
	switch (message.type) {
		case 'init':
			setup = {
				tables: createChunkerTables(parsePolynomial(message.polynomial)),
				key: {encrypt: Buffer.from(message.key.encrypt), macK: Buffer.from(message.key.macK), macR: Buffer.from(message.key.macR)},
				compression: message.compression as CompressionMode,
			};
			break;
		case 'file':
			jobs.push({jobId: message.jobId, path: typeof message.path === 'string' ? message.path : Buffer.from(message.path)});
			void drain();
			break;
		case 'ack': {
			credits += message.count;
			const wake = wakeOnCredit;
			wakeOnCredit = undefined;
			wake?.();
			break;
		}
	}
});
