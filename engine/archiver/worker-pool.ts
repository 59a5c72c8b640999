/**
 * A pool of chunk workers (one per core) that process whole files in parallel with the main
 * thread. Each file job streams its chunks back in order, with backpressure.
 */
import * as os from 'node:os';
import type {MasterKey} from '../crypto/cipher.js';
import type {Worker} from 'node:worker_threads';
import {startModuleWorker} from '../util/worker.js';
import type {CompressionMode} from '../format/compression.js';
import {FileReadError, type ProcessedChunk} from './file-chunker.js';
import type {FromWorker, ToWorker} from './worker-protocol.js';

interface Job {
	onChunk: (chunk: ProcessedChunk) => Promise<void> | void;
	resolve: (size: number) => void;
	reject: (error: Error) => void;
	chain: Promise<void>;
	failed?: Error;
	worker: PoolWorker;
}

interface PoolWorker {
	worker: Worker;
	jobs: number;
	dead?: Error;
}

/** What the workers need to know. */
export interface PoolSetup {
	polynomial: string;
	key: MasterKey;
	compression: CompressionMode;
}


/** The default number of workers: the number of cores. */
export function findDefaultWorkerCount(): number {
	return Math.max(1, Math.min(8, os.availableParallelism?.() ?? os.cpus().length));
}

export class ChunkWorkerPool {
	private readonly workers: PoolWorker[] = [];
	private readonly jobs = new Map<number, Job>();
	private nextJob = 1;
	private closed = false;

	constructor(setup: PoolSetup, size = findDefaultWorkerCount()) {
		for (let i = 0; i < size; i++) {
			const worker = startModuleWorker(import.meta.url, 'chunk-worker');
			const entry: PoolWorker = {worker, jobs: 0};
			worker.on('message', (message: FromWorker) => this.handleMessage(entry, message));
			worker.on('error', (error) => this.failWorker(entry, error));
			worker.on('exit', (code) => {
				if (!this.closed) this.failWorker(entry, new Error(`a chunk worker stopped unexpectedly (exit ${code})`));
			});
			worker.unref();
			const init: ToWorker = {type: 'init', polynomial: setup.polynomial, key: {encrypt: setup.key.encrypt, macK: setup.key.macK, macR: setup.key.macR}, compression: setup.compression};
			worker.postMessage(init);
			this.workers.push(entry);
		}
	}

	/**
	 * Chunks, hashes, compresses and encrypts one file in a worker. `onChunk` gets the chunks in
	 * file order, one at a time. Resolves with the bytes read; rejects with FileReadError when the
	 * file cannot be read.
	 */
	processFile(path: string | Buffer, onChunk: (chunk: ProcessedChunk) => Promise<void> | void): Promise<number> {
		const alive = this.workers.filter((w) => !w.dead);
		if (this.closed || alive.length === 0) return Promise.reject(new Error('the chunk workers are not running'));
		const target = alive.reduce((a, b) => (b.jobs < a.jobs ? b : a));
		const jobId = this.nextJob++;
		return new Promise<number>((resolve, reject) => {
			target.jobs++;
			this.jobs.set(jobId, {onChunk, resolve, reject, chain: Promise.resolve(), worker: target});
			target.worker.ref();
			const message: ToWorker = {type: 'file', jobId, path};
			target.worker.postMessage(message);
		});
	}

	private finishJob(jobId: number): Job | undefined {
		const job = this.jobs.get(jobId);
		if (!job) return undefined;
		this.jobs.delete(jobId);
		job.worker.jobs--;
		if (job.worker.jobs === 0) job.worker.worker.unref();
		return job;
	}

	private handleMessage(entry: PoolWorker, message: FromWorker): void {
		const job = this.jobs.get(message.jobId);
		if (!job) return;
		switch (message.type) {
			case 'chunk': {
				const chunk: ProcessedChunk = {id: message.id, length: message.length, sealed: new Uint8Array(message.sealed), uncompressedLength: message.uncompressedLength};
				job.chain = job.chain.then(async () => {
					if (!job.failed) {
						try {
							await job.onChunk(chunk);
						} catch (error) {
							job.failed = error as Error;
						}
					}
					const ack: ToWorker = {type: 'ack', count: 1};
					entry.worker.postMessage(ack);
				});
				break;
			}
			case 'done':
				void job.chain.then(() => {
					this.finishJob(message.jobId);
					if (job.failed) job.reject(job.failed);
					else job.resolve(message.size);
				});
				break;
			case 'error':
				void job.chain.then(() => {
					this.finishJob(message.jobId);
					job.reject(job.failed ?? (message.readError ? new FileReadError(message.message) : new Error(message.message)));
				});
				break;
		}
	}

	private failWorker(entry: PoolWorker, error: Error): void {
		if (entry.dead) return;
		entry.dead = error;
		for (const [jobId, job] of [...this.jobs]) {
			if (job.worker === entry) {
				this.finishJob(jobId);
				job.reject(error);
			}
		}
	}

	/** Stops every worker. Jobs still running are rejected. */
	async close(): Promise<void> {
		this.closed = true;
		for (const [jobId, job] of [...this.jobs]) {
			this.finishJob(jobId);
			job.reject(new Error('the chunk workers were stopped'));
		}
		await Promise.all(this.workers.map((w) => w.worker.terminate()));
	}
}
