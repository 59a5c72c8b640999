/**
 * A pool of chunk workers (one per core) that read, chunk, compress, encrypt and pack files in
 * parallel with the main thread. The main thread decides which blobs are new (so that each is
 * stored once, whichever worker meets it first) and stores the packs the workers finish.
 */
import * as os from 'node:os';
import type {Worker} from 'node:worker_threads';
import type {MasterKey} from '../crypto/cipher.js';
import type {CompressionMode} from '../format/compression.js';
import type {PackedBlob} from '../format/pack.js';
import {startModuleWorker} from '../util/worker.js';
import {findMemoryBudget} from '../util/memory-budget.js';
import {FileReadError} from './file-chunker.js';
import type {FromWorker, ToWorker} from './worker-protocol.js';

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
}

interface PoolWorker {
	worker: Worker;
	jobs: number;
	dead?: Error;
	/** Packs of this worker being stored. */
	storing: Set<Promise<void>>;
	onFlushed?: () => void;
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

	constructor(private readonly setup: PoolSetup, size = findDefaultWorkerCount()) {
		for (let i = 0; i < size; i++) {
			const worker = startModuleWorker(import.meta.url, 'chunk-worker');
			const entry: PoolWorker = {worker, jobs: 0, storing: new Set()};
			worker.on('message', (message: FromWorker) => this.handleMessage(entry, message));
			worker.on('error', (error) => this.failWorker(entry, error));
			worker.on('exit', (code) => {
				if (!this.closed) this.failWorker(entry, new Error(`a chunk worker stopped unexpectedly (exit ${code})`));
			});
			worker.unref();
			const init: ToWorker = {type: 'init', polynomial: setup.polynomial, key: {encrypt: setup.key.encrypt, macK: setup.key.macK, macR: setup.key.macR}, compression: setup.compression, packSize: setup.packSize};
			worker.postMessage(init);
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
			this.jobs.set(jobId, {onChunk, resolve, reject, worker: target});
			target.worker.ref();
			const message: ToWorker = {type: 'file', jobId, path};
			target.worker.postMessage(message);
		});
	}

	/** Has every worker send its open pack, and waits until all packs are stored. */
	async flush(): Promise<void> {
		await Promise.all(this.workers.filter((w) => !w.dead).map((entry) => new Promise<void>((resolve) => {
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

	/** Tells a worker whether to store a blob, reserving it when it is new. */
	private judgeChunk(entry: PoolWorker, id: string): void {
		const store = !this.failure && !this.setup.isKnown(id) && !this.reserved.has(id);
		if (store) this.reserved.add(id);
		entry.worker.postMessage({type: 'verdict', store} satisfies ToWorker);
	}

	private handleMessage(entry: PoolWorker, message: FromWorker): void {
		switch (message.type) {
			case 'chunk': {
				this.judgeChunk(entry, message.id);
				this.jobs.get(message.jobId)?.onChunk({id: message.id, length: message.length});
				break;
			}
			case 'done':
				this.finishJob(message.jobId)?.resolve(message.size);
				break;
			case 'error': {
				const job = this.finishJob(message.jobId);
				job?.reject(message.readError ? new FileReadError(message.message) : new Error(message.message));
				break;
			}
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
