/**
 * Messages between the archiver (main thread) and its chunk workers.
 *
 * For each file job the worker sends one `chunk` per chunk, in file order, as soon as the chunk
 * is hashed, then `done` or `error`. The main thread answers every `chunk` with a `verdict`, in
 * the same order: whether the worker should store the blob (it is new and now reserved for this
 * worker) or drop it (the repository has it, or another worker is storing it). The worker packs
 * the blobs it stores itself and sends each full pack as one transferred buffer; the main
 * thread stores it and sends the buffer back for reuse. `flush` asks for the open pack.
 */
import type {PackedBlob} from '../format/pack.js';

export type ToWorker =
	| {type: 'init'; polynomial: string; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}; compression: string; packSize: number}
	| {type: 'file'; jobId: number; path: string | Uint8Array}
	| {type: 'verdict'; store: boolean}
	/** A pack buffer the main thread is done with. */
	| {type: 'buffer'; buffer: ArrayBuffer}
	/** Finish the jobs, then send the open pack (if any) and `flushed`. */
	| {type: 'flush'};

export type FromWorker =
	| {type: 'chunk'; jobId: number; id: string; length: number}
	| {type: 'done'; jobId: number; size: number}
	| {type: 'error'; jobId: number; message: string; readError: boolean}
	| {type: 'pack'; buffer: ArrayBuffer; size: number; id: string; blobs: PackedBlob[]}
	| {type: 'flushed'}
	/** The pipeline itself failed (not a file): the backup cannot go on. */
	| {type: 'fatal'; message: string};
