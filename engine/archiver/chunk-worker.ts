/**
 * Worker thread entry: chunks, hashes, compresses and encrypts whole files for the archiver.
 * Protocol (see worker-pool.ts): `init` once, then `file` jobs; the worker answers with `chunk`
 * messages (at most CREDITS unacknowledged per job), then `done` or `error`.
 */
import {parentPort} from 'node:worker_threads';
import {createChunkerTables} from '../chunker/chunker.js';
import {parsePolynomial} from '../chunker/polynomial.js';
import type {CompressionMode} from '../format/compression.js';
import {chunkFile, FileReadError, type FileChunkerSetup} from './file-chunker.js';
import {CREDITS, type FromWorker, type ToWorker} from './worker-protocol.js';

if (!parentPort) throw new Error('chunk-worker must run in a worker thread');
const port = parentPort;

let setup: FileChunkerSetup | undefined;
const queue: Array<{jobId: number; path: string | Buffer}> = [];
const waiting = new Map<number, {credits: number; wake?: () => void}>();
let running = false;
const buffer = Buffer.allocUnsafe(9 * 1024 * 1024);

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
	port.postMessage(message, transfer);
}

function toTransferable(bytes: Uint8Array): ArrayBuffer {
	if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
	const copy = new Uint8Array(bytes.byteLength);
	copy.set(bytes);
	return copy.buffer;
}

async function runJob(jobId: number, path: string | Buffer): Promise<void> {
	const state = {credits: CREDITS} as {credits: number; wake?: () => void};
	waiting.set(jobId, state);
	try {
		const size = await chunkFile(path, setup!, async (chunk) => {
			while (state.credits <= 0) await new Promise<void>((resolve) => (state.wake = resolve));
			state.credits--;
			const sealed = toTransferable(chunk.sealed);
			post({type: 'chunk', jobId, id: chunk.id, length: chunk.length, sealed, uncompressedLength: chunk.uncompressedLength}, [sealed]);
		}, buffer);
		post({type: 'done', jobId, size});
	} catch (error) {
		post({type: 'error', jobId, message: (error as Error).message, readError: error instanceof FileReadError});
	} finally {
		waiting.delete(jobId);
	}
}

async function drain(): Promise<void> {
	if (running) return;
	running = true;
	while (queue.length > 0) {
		const job = queue.shift()!;
		await runJob(job.jobId, job.path);
	}
	running = false;
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
			queue.push({jobId: message.jobId, path: typeof message.path === 'string' ? message.path : Buffer.from(message.path)});
			void drain();
			break;
		case 'ack': {
			const state = waiting.get(message.jobId);
			if (state) {
				state.credits++;
				const wake = state.wake;
				state.wake = undefined;
				wake?.();
			}
			break;
		}
	}
});
