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
 * packs the blobs it stores itself, into temporary files the main thread opened for it (see
 * pack-builder.ts), and sends each full pack as its file descriptor; the main thread reads and
 * stores it and sends the descriptor back for reuse. `flush` asks for the open pack.
 *
 * Large files: the worker that reads a file must chunk it alone (content-defined chunking is
 * sequential), but it hands chunks of 256 KiB and more to other workers over direct channels
 * (`PeerMessage`), a few megabytes at a time, so that one file is hashed, compressed and sealed on every
 * core. The peer reports such a chunk's event itself, with its `seq`; the main thread puts a
 * file's chunks back in order, and the file is done once `done` and all its chunks have come.
 * Chunk boundaries and blob IDs are those of one sequential chunker whichever worker hashes them.
 */
import type {MessagePort} from 'node:worker_threads';
import type {PackedBlob} from '../format/pack.js';

/** One file to chunk. */
export interface FileJob {
	jobId: number;
	path: string | Uint8Array;
}

/** What a worker reports about its jobs, in order. */
export type JobEvent =
	/** `seq`: the chunk's place in its file (chunks of one file may come from several workers). */
	| {type: 'chunk'; jobId: number; seq: number; id: string; length: number}
	/** `chunks`: how many chunk events the file has in all, from whichever workers. */
	| {type: 'done'; jobId: number; size: number; chunks: number}
	| {type: 'error'; jobId: number; message: string; readError: boolean};

export type ToWorker =
	/**
	 * `peers`: one channel to each other worker (see {@link PeerMessage}); `packFiles`: the
	 * descriptors of this worker's temporary pack files (unlinked; the main thread closes them).
	 */
	| {type: 'init'; polynomial: string; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}; compression: string; packSize: number; peers: MessagePort[]; packFiles: number[]}
	/** Channels to workers started after this one (the pool grows; see worker-pool.ts). */
	| {type: 'peers'; peers: MessagePort[]}
	| {type: 'files'; jobs: FileJob[]}
	/** One flag per `chunk` event of an `events` message, in order. */
	| {type: 'verdicts'; store: boolean[]}
	/** A pack file the main thread is done with (stored, or failed). */
	| {type: 'file'; fd: number}
	/** Finish the jobs, then send the open pack (if any) and `flushed`. */
	| {type: 'flush'};

export type FromWorker =
	| {type: 'events'; events: JobEvent[]}
	/** A finished pack: `size` bytes from offset 0 of the pack file `fd`. */
	| {type: 'pack'; fd: number; size: number; id: string; blobs: PackedBlob[]}
	| {type: 'flushed'}
	/** The pipeline itself failed (not a file): the backup cannot go on. */
	| {type: 'fatal'; message: string};

/** Between two chunk workers. */
export type PeerMessage =
	/** A chunk to hash, compress and seal, as its reader's chunk number `seq` of job `jobId`. */
	| {type: 'chunk'; jobId: number; seq: number; buffer: ArrayBuffer; length: number}
	/** A chunk's buffer back, once the chunk is finished (for reuse). */
	| {type: 'return'; buffer: ArrayBuffer; length: number};
