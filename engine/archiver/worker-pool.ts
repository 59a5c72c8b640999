/**
 * A pool of chunk workers (one per core) that read, chunk, compress, encrypt and pack files in
 * parallel with the main thread. A large file is chunked by one worker, which shares its chunks'
 * hashing, compression and sealing with the others (see worker-protocol.ts). The main thread decides which blobs are new (so that each is
 * stored once, whichever worker meets it first) and stores the packs the workers finish.
 */
import * as os from 'node:os';
import {MessageChannel, type MessagePort, type Worker} from 'node:worker_threads';
import type {MasterKey} from '../crypto/cipher.js';
import type {CompressionMode} from '../format/compression.js';
import type {PackedBlob} from '../format/pack.js';
import {startModuleWorker} from '../util/worker.js';
import {findMemoryBudget} from '../util/memory-budget.js';
import {FileReadError} from './file-chunker.js';
import type {FileJob, FromWorker, JobEvent, ToWorker} from './worker-protocol.js';

/** File jobs queued for one worker before they are sent without waiting for the walk to pause. */
const FILE_BATCH = 32;

/** One chunk of a file, as the main thread sees it. */
export interface ChunkInfo {
	id: string;
	/** Plaintext length. */
	length: number;
}

/**
 * What the pool needs from the backup.
 *
 * Contract: `isKnown` tells whether a data blob is already in the repository (indexed);
 * `storePack` stores a finished pack and indexes it, resolving once both are done (it may wait
 * to bound the uploads in flight); `onBlobStored` is called for each blob of a stored pack.
 */
export interface PoolSetup {
	polynomial: string;
	key: MasterKey;
	compression: CompressionMode;
	packSize: number;
	isKnown: (id: string) => boolean;
	storePack: (bytes: Uint8Array, id: string, blobs: PackedBlob[]) => Promise<void>;
	onBlobStored?: (blob: PackedBlob) => void;
}

interface Job {
	onChunk: (chunk: ChunkInfo) => void;
	resolve: (size: number) => void;
	reject: (error: Error) => void;
	worker: PoolWorker;
	/** The `seq` of the next chunk to hand to onChunk. */
	next: number;
	/** Chunks that came before their turn (from other workers), by seq. */
	early?: Map<number, ChunkInfo>;
	/** From `done`: the file's size and number of chunks. */
	size?: number;
	total?: number;
}

interface PoolWorker {
	worker: Worker;
	jobs: number;
	dead?: Error;
	/** Packs of this worker being stored. */
	storing: Set<Promise<void>>;
	onFlushed?: () => void;
	/** File jobs not yet sent (see {@link ChunkWorkerPool.sendFiles}). */
	outgoing: FileJob[];
}

/** The default number of workers: the number of cores, fewer when memory is short (memory-budget.ts). */
export function findDefaultWorkerCount(): number {
	return Math.max(1, Math.min(8, findMemoryBudget().maxWorkers, os.availableParallelism?.() ?? os.cpus().length));
}

export class ChunkWorkerPool {
	private readonly workers: PoolWorker[] = [];
	private readonly jobs = new Map<number, Job>();
	/** Blobs a worker was told to store and whose pack is not stored yet. */
	private readonly reserved = new Set<string>();
	private nextJob = 1;
	private closed = false;
	private failure: Error | undefined;
	/** Whether a send of the queued file jobs is scheduled. */
	private sendScheduled = false;

	constructor(private readonly setup: PoolSetup, size = findDefaultWorkerCount()) {
		// One channel between each pair of workers, for sharing the chunks of large files.
		const peers: MessagePort[][] = Array.from({length: size}, () => []);
		for (let i = 0; i < size; i++) {
			for (let j = i + 1; j < size; j++) {
				const channel = new MessageChannel();
				peers[i]!.push(channel.port1);
				peers[j]!.push(channel.port2);
			}
		}
		for (let i = 0; i < size; i++) {
			const worker = startModuleWorker(import.meta.url, 'chunk-worker');
			const entry: PoolWorker = {worker, jobs: 0, storing: new Set(), outgoing: []};
			worker.on('message', (message: FromWorker) => this.handleMessage(entry, message));
			worker.on('error', (error) => this.failWorker(entry, error));
			worker.on('exit', (code) => {
				if (!this.closed) this.failWorker(entry, new Error(`a chunk worker stopped unexpectedly (exit ${code})`));
			});
			worker.unref();
			const init: ToWorker = {type: 'init', polynomial: setup.polynomial, key: {encrypt: setup.key.encrypt, macK: setup.key.macK, macR: setup.key.macR}, compression: setup.compression, packSize: setup.packSize, peers: peers[i]!};
			worker.postMessage(init, peers[i]!);
			this.workers.push(entry);
		}
	}

	/**
	 * Chunks one file in a worker, which stores its new blobs. `onChunk` gets the chunks in file
	 * order. Resolves with the bytes read; rejects with FileReadError when the file cannot be
	 * read. A blob is only durable once `flush` has resolved.
	 */
	processFile(path: string | Buffer, onChunk: (chunk: ChunkInfo) => void): Promise<number> {
		const alive = this.workers.filter((w) => !w.dead);
		if (this.failure) return Promise.reject(this.failure);
		if (this.closed || alive.length === 0) return Promise.reject(new Error('the chunk workers are not running'));
		const target = alive.reduce((a, b) => (b.jobs < a.jobs ? b : a));
		const jobId = this.nextJob++;
		return new Promise<number>((resolve, reject) => {
			target.jobs++;
			this.jobs.set(jobId, {onChunk, resolve, reject, worker: target, next: 0});
			target.worker.ref();
			target.outgoing.push({jobId, path});
			if (target.outgoing.length >= FILE_BATCH) this.sendFiles(target);
			else if (!this.sendScheduled) {
				// The walk hands out files many at a time between two waits: they go in one message
				// when it pauses (or when a batch is full).
				this.sendScheduled = true;
				setImmediate(() => {
					this.sendScheduled = false;
					for (const entry of this.workers) this.sendFiles(entry);
				});
			}
		});
	}

	private sendFiles(entry: PoolWorker): void {
		if (entry.outgoing.length === 0 || entry.dead || this.closed) return;
		const message: ToWorker = {type: 'files', jobs: entry.outgoing};
		entry.outgoing = [];
		entry.worker.postMessage(message);
	}

	/** Has every worker send its open pack, and waits until all packs are stored. */
	async flush(): Promise<void> {
		await Promise.all(this.workers.filter((w) => !w.dead).map((entry) => new Promise<void>((resolve) => {
			this.sendFiles(entry);
			entry.onFlushed = resolve;
			entry.worker.ref();
			entry.worker.postMessage({type: 'flush'} satisfies ToWorker);
		})));
		for (const entry of this.workers) {
			while (entry.storing.size > 0) await Promise.allSettled(entry.storing);
			if (entry.jobs === 0) entry.worker.unref();
		}
		if (this.failure) throw this.failure;
		const dead = this.workers.find((w) => w.dead);
		if (dead) throw dead.dead!;
	}

	private finishJob(jobId: number): Job | undefined {
		const job = this.jobs.get(jobId);
		if (!job) return undefined;
		this.jobs.delete(jobId);
		job.worker.jobs--;
		if (job.worker.jobs === 0) job.worker.worker.unref();
		return job;
	}

	/** Whether a worker should store a blob; reserves it when it is new. */
	private judgeChunk(id: string): boolean {
		const store = !this.failure && !this.setup.isKnown(id) && !this.reserved.has(id);
		if (store) this.reserved.add(id);
		return store;
	}

	/** Hands a file's chunks to its job in file order, whichever worker hashed them. */
	private deliverChunk(jobId: number, seq: number, chunk: ChunkInfo): void {
		const job = this.jobs.get(jobId);
		if (!job) return;
		if (seq !== job.next) {
			(job.early ??= new Map()).set(seq, chunk);
			return;
		}
		job.onChunk(chunk);
		job.next++;
		for (let early = job.early?.get(job.next); early; early = job.early?.get(job.next)) {
			job.early!.delete(job.next);
			job.onChunk(early);
			job.next++;
		}
		this.completeIfDone(jobId, job);
	}

	/** Resolves a job once its `done` and all its chunks have come. */
	private completeIfDone(jobId: number, job: Job): void {
		if (job.total !== undefined && job.next === job.total) this.finishJob(jobId)?.resolve(job.size!);
	}

	/** Handles a batch of job events and answers its chunks with one `verdicts` message. */
	private handleEvents(entry: PoolWorker, events: JobEvent[]): void {
		const verdicts: boolean[] = [];
		for (const event of events) {
			switch (event.type) {
				case 'chunk':
					verdicts.push(this.judgeChunk(event.id));
					this.deliverChunk(event.jobId, event.seq, {id: event.id, length: event.length});
					break;
				case 'done': {
					const job = this.jobs.get(event.jobId);
					if (!job) break;
					job.size = event.size;
					job.total = event.chunks;
					this.completeIfDone(event.jobId, job);
					break;
				}
				case 'error': {
					const job = this.finishJob(event.jobId);
					job?.reject(event.readError ? new FileReadError(event.message) : new Error(event.message));
					break;
				}
			}
		}
		if (verdicts.length > 0 && !entry.dead && !this.closed) entry.worker.postMessage({type: 'verdicts', store: verdicts} satisfies ToWorker);
	}

	private handleMessage(entry: PoolWorker, message: FromWorker): void {
		switch (message.type) {
			case 'events':
				this.handleEvents(entry, message.events);
				break;
			case 'pack':
				this.storePack(entry, message.buffer, message.size, message.id, message.blobs);
				break;
			case 'flushed':
				entry.onFlushed?.();
				entry.onFlushed = undefined;
				break;
			case 'fatal':
				this.fail(new Error(`backup pipeline failed: ${message.message}`));
				break;
		}
	}

	private storePack(entry: PoolWorker, buffer: ArrayBuffer, size: number, id: string, blobs: PackedBlob[]): void {
		const stored = (async () => {
			try {
				await this.setup.storePack(new Uint8Array(buffer, 0, size), id, blobs);
				for (const blob of blobs) {
					this.reserved.delete(blob.id);
					this.setup.onBlobStored?.(blob);
				}
			} catch (error) {
				this.fail(error as Error);
			} finally {
				if (!entry.dead && !this.closed) entry.worker.postMessage({type: 'buffer', buffer} satisfies ToWorker, [buffer]);
			}
		})();
		entry.storing.add(stored);
		void stored.finally(() => entry.storing.delete(stored));
	}

	/** Fails the backup: running jobs reject, and so do later calls. */
	private fail(error: Error): void {
		this.failure ??= error;
		for (const [jobId] of [...this.jobs]) this.finishJob(jobId)?.reject(this.failure);
		for (const entry of this.workers) {
			entry.onFlushed?.();
			entry.onFlushed = undefined;
		}
	}

	private failWorker(entry: PoolWorker, error: Error): void {
		if (entry.dead) return;
		entry.dead = error;
		this.fail(error);
	}

	/** Stops every worker. Jobs still running are rejected; packs being stored are waited for. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const [jobId, job] of [...this.jobs]) {
			this.finishJob(jobId);
			job.reject(new Error('the chunk workers were stopped'));
		}
		await Promise.allSettled(this.workers.flatMap((w) => [...w.storing]));
		await Promise.all(this.workers.map((w) => w.worker.terminate()));
	}
}
