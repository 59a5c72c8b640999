/**
 * Messages between the archiver (main thread) and its chunk workers.
 *
 * The main thread sends file jobs in batches (`files`). For each job the worker reports one
 * `chunk` event per chunk, in file order, as soon as the chunk is hashed, then `done` or
 * `error`. Events travel in batches (`events`): a worker sends what it has collected whenever
 * it is about to wait for a verdict, when it runs out of jobs, and every few dozen events, so a
 * folder of small files costs a few messages instead of four per file. The main thread answers
 * each `events` message that held chunks with one `verdicts` message: one flag per chunk, in the
 * same order, telling whether the worker should store the blob (it is new and now reserved for
 * this worker) or drop it (the repository has it, or another worker is storing it). The worker
 * packs the blobs it stores itself and sends each full pack as one transferred buffer; the main
 * thread stores it and sends the buffer back for reuse. `flush` asks for the open pack.
 */
import type {PackedBlob} from '../format/pack.js';

/** One file to chunk. */
export interface FileJob {
	jobId: number;
	path: string | Uint8Array;
}

/** What a worker reports about its jobs, in order. */
export type JobEvent =
	| {type: 'chunk'; jobId: number; id: string; length: number}
	| {type: 'done'; jobId: number; size: number}
	| {type: 'error'; jobId: number; message: string; readError: boolean};

export type ToWorker =
	| {type: 'init'; polynomial: string; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}; compression: string; packSize: number}
	| {type: 'files'; jobs: FileJob[]}
	/** One flag per `chunk` event of an `events` message, in order. */
	| {type: 'verdicts'; store: boolean[]}
	/** A pack buffer the main thread is done with. */
	| {type: 'buffer'; buffer: ArrayBuffer}
	/** Finish the jobs, then send the open pack (if any) and `flushed`. */
	| {type: 'flush'};

export type FromWorker =
	| {type: 'events'; events: JobEvent[]}
	| {type: 'pack'; buffer: ArrayBuffer; size: number; id: string; blobs: PackedBlob[]}
	| {type: 'flushed'}
	/** The pipeline itself failed (not a file): the backup cannot go on. */
	| {type: 'fatal'; message: string};
