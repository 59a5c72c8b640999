/**
 * A pool of chunk workers (up to one per core; one until the work needs more) that read, chunk, compress, encrypt and pack files in
 * parallel with the main thread. A large file is chunked by one worker, which shares its chunks'
 * hashing, compression and sealing with the others (see worker-protocol.ts). The main thread decides which blobs are new (so that each is
 * stored once, whichever worker meets it first) and stores the packs the workers finish.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import {performance, type EventLoopUtilization} from 'node:perf_hooks';
import {MessageChannel, type MessagePort, type Worker} from 'node:worker_threads';
import type {MasterKey} from '../crypto/cipher.js';
import type {CompressionMode} from '../format/compression.js';
import type {PackedBlob} from '../format/pack.js';
import {startModuleWorker} from '../util/worker.js';
import {findMemoryBudget, limitHeapGrowth, type MemoryBudget} from '../util/memory-budget.js';
import {Semaphore} from '../util/concurrency.js';
import {openPackFile, PACK_ROOM, readPackFile} from './pack-builder.js';
import {FileReadError} from './file-chunker.js';
import type {FileJob, FromWorker, JobEvent, ToWorker} from './worker-protocol.js';

/** File jobs queued for one worker before they are sent without waiting for the walk to pause. */
const FILE_BATCH = 32;
/** A file that has given this many bytes of chunks starts the other workers (see {@link ChunkWorkerPool.considerGrowing}). */
const GROW_FILE_BYTES = 8 * 1024 * 1024;
/** After this many bytes of chunks, files averaging GROW_AVERAGE_BYTES start the other workers. */
const GROW_MIN_BYTES = 4 * 1024 * 1024;
const GROW_AVERAGE_BYTES = 16 * 1024;
/** How often the load of a lone worker is checked, and how busy it must be how many times in a row. */
const GROW_CHECK_MS = 250;
const GROW_BUSY_WORKER = 0.9;
const GROW_BUSY_CHECKS = 2;
/**
 * Temporary pack files per worker: one being filled while the main thread stores another. They
 * live on disk (the page cache), not in the process's memory.
 */
const PACK_FILES_PER_WORKER = 2;
/**
 * A store of one pack that takes at least this long makes the repository count as slow: the pool
 * then stores (and holds in memory) as many packs at once as the memory budget allows, instead of
 * one. A local repository saves a 16 MiB pack into the page cache in a few tens of milliseconds,
 * and one pack buffer (16.5 MiB of peak RSS less) keeps up with it; a remote one gains from a
 * second upload in flight while the first waits on the network.
 */
export const SLOW_STORE_MS = 100;

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
	/** Bytes of this file's chunks reported so far (counted only while the pool may grow). */
	bytes?: number;
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
	/** This worker's temporary pack files, closed with the pool. */
	packFiles: number[];
}

/**
 * The cores this process may run on: os.availableParallelism() follows the CPU affinity
 * (`taskset`, a container's cpuset), where os.cpus() counts every core of the machine.
 */
export function countUsableCores(): number {
	return os.availableParallelism?.() ?? os.cpus().length;
}

/**
 * The default number of workers: one per usable core (so one core gets one worker, which never
 * grows the pool), at most 8, fewer when memory is short (memory-budget.ts).
 */
export function findDefaultWorkerCount(cores = countUsableCores(), budget: MemoryBudget = findMemoryBudget()): number {
	return Math.max(1, Math.min(8, budget.maxWorkers, cores));
}

export class ChunkWorkerPool {
	private readonly workers: PoolWorker[] = [];
	private readonly jobs = new Map<number, Job>();
	/** Blobs a worker was told to store and whose pack is not stored yet. */
	private readonly reserved = new Set<string>();
	/** Packs read into memory and being stored at once, at most: {@link storeLimit} slots. */
	private readonly storeSlots = new Semaphore(1);
	/** 1 until a store is slow (see {@link SLOW_STORE_MS}), then the memory budget's number (memory-budget.ts). */
	private storeLimit = 1;
	private readonly maxStoreLimit = findMemoryBudget().packBuffers;
	/** Buffers packs are read into, for reuse. */
	private readonly packBuffers: Buffer[] = [];
	private nextJob = 1;
	private closed = false;
	private failure: Error | undefined;
	/** Whether a send of the queued file jobs is scheduled. */
	private sendScheduled = false;

	/** Workers this pool may start, at most. */
	private readonly maxWorkers: number;
	/** Bytes of chunks reported, and files done, while the pool can still grow (see {@link considerGrowing}). */
	private chunkBytes = 0;
	private filesDone = 0;
	/** Whether the pool may still grow. */
	private mayGrow = false;
	private growTimer: NodeJS.Timeout | undefined;
	/** Event-loop utilisation of the first worker and of this thread at the last check. */
	private lastUse: {worker: EventLoopUtilization; main: EventLoopUtilization} | undefined;
	private busyChecks = 0;

	/**
	 * `size`: the number of workers, all started at once. Without it the pool starts one worker
	 * and grows to {@link findDefaultWorkerCount} only when one is not enough (see
	 * {@link considerGrowing}): a backup of small files is bound by the main thread, and each
	 * worker costs ~45 MiB (isolate, chunk ring, read and pack buffers). `maxWorkers`: how far it
	 * may grow then (default {@link findDefaultWorkerCount}). `growOnLoad`: whether a busy lone
	 * worker also grows the pool (see {@link checkWorkerLoad}); off only where a test needs the
	 * byte-based rules alone, independent of the machine's load.
	 */
	constructor(private readonly setup: PoolSetup, size?: number, maxWorkers = findDefaultWorkerCount(), growOnLoad = true) {
		limitHeapGrowth();
		this.maxWorkers = Math.max(1, size ?? maxWorkers);
		this.addWorkers(size === undefined ? 1 : this.maxWorkers);
		this.mayGrow = this.workers.length < this.maxWorkers;
		if (this.mayGrow && growOnLoad) {
			this.growTimer = setInterval(() => this.checkWorkerLoad(), GROW_CHECK_MS);
			this.growTimer.unref();
		}
	}

	/** Number of workers started. */
	get size(): number {
		return this.workers.length;
	}

	/** Starts `count` more workers, each with a channel to every other worker (for sharing large files' chunks). */
	private addWorkers(count: number): void {
		for (let n = 0; n < count; n++) {
			const ownPorts: MessagePort[] = [];
			for (const other of this.workers) {
				const channel = new MessageChannel();
				ownPorts.push(channel.port1);
				if (!other.dead) other.worker.postMessage({type: 'peers', peers: [channel.port2]} satisfies ToWorker, [channel.port2]);
			}
			const packFiles: number[] = [];
			try {
				for (let i = 0; i < PACK_FILES_PER_WORKER; i++) packFiles.push(openPackFile());
			} catch (error) {
				for (const fd of packFiles) fs.closeSync(fd);
				for (const port of ownPorts) port.close();
				throw error;
			}
			const worker = startModuleWorker(import.meta.url, 'chunk-worker');
			const entry: PoolWorker = {worker, jobs: 0, storing: new Set(), outgoing: [], packFiles};
			worker.on('message', (message: FromWorker) => this.handleMessage(entry, message));
			worker.on('error', (error) => this.failWorker(entry, error));
			worker.on('exit', (code) => {
				if (!this.closed) this.failWorker(entry, new Error(`a chunk worker stopped unexpectedly (exit ${code})`));
			});
			worker.unref();
			const {setup} = this;
			const init: ToWorker = {type: 'init', polynomial: setup.polynomial, key: {encrypt: setup.key.encrypt, macK: setup.key.macK, macR: setup.key.macR}, compression: setup.compression, packSize: setup.packSize, peers: ownPorts, packFiles};
			worker.postMessage(init, ownPorts);
			this.workers.push(entry);
		}
	}

	/** Starts the remaining workers, once. */
	private grow(): void {
		this.stopGrowing();
		if (this.closed || this.failure) return;
		this.addWorkers(this.maxWorkers - this.workers.length);
	}

	private stopGrowing(): void {
		this.mayGrow = false;
		clearInterval(this.growTimer);
		this.growTimer = undefined;
	}

	/**
	 * Grows the pool when the work is bound by bytes rather than by files: once a file has given
	 * GROW_FILE_BYTES of chunks (a large file, whose chunks the other workers would hash,
	 * compress and seal), or once files average GROW_AVERAGE_BYTES after GROW_MIN_BYTES.
	 */
	private considerGrowing(jobBytes: number): void {
		if (jobBytes >= GROW_FILE_BYTES) this.grow();
		else if (this.chunkBytes >= GROW_MIN_BYTES && this.chunkBytes >= GROW_AVERAGE_BYTES * Math.max(1, this.filesDone)) this.grow();
	}

	/**
	 * Grows the pool when its one worker is the bottleneck: busy nearly all the time (its event
	 * loop never waits for the main thread's verdicts or for more files) while the main thread is
	 * not, for GROW_BUSY_CHECKS checks in a row.
	 */
	private checkWorkerLoad(): void {
		const first = this.workers[0];
		if (!first || this.jobs.size === 0) {
			this.lastUse = undefined;
			this.busyChecks = 0;
			return;
		}
		const now = {worker: first.worker.performance.eventLoopUtilization(), main: performance.eventLoopUtilization()};
		if (this.lastUse) {
			const worker = first.worker.performance.eventLoopUtilization(now.worker, this.lastUse.worker).utilization;
			const main = performance.eventLoopUtilization(now.main, this.lastUse.main).utilization;
			this.busyChecks = worker >= GROW_BUSY_WORKER && worker > main ? this.busyChecks + 1 : 0;
			if (this.busyChecks >= GROW_BUSY_CHECKS) this.grow();
		}
		this.lastUse = now;
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

	/** Counts a chunk's bytes towards growing the pool. */
	private countChunk(jobId: number, length: number): void {
		this.chunkBytes += length;
		const job = this.jobs.get(jobId);
		if (job) job.bytes = (job.bytes ?? 0) + length;
		this.considerGrowing(job?.bytes ?? 0);
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
					if (this.mayGrow) this.countChunk(event.jobId, event.length);
					this.deliverChunk(event.jobId, event.seq, {id: event.id, length: event.length});
					break;
				case 'done': {
					const job = this.jobs.get(event.jobId);
					if (!job) break;
					job.size = event.size;
					job.total = event.chunks;
					this.filesDone++;
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
				this.storePack(entry, message.fd, message.size, message.id, message.blobs);
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

	/**
	 * Reads a finished pack from its worker's file into a reused buffer and stores it; at most
	 * {@link storeLimit} at once, so the main thread holds that many packs in memory at most.
	 */
	private storePack(entry: PoolWorker, fd: number, size: number, id: string, blobs: PackedBlob[]): void {
		const stored = (async () => {
			const release = await this.storeSlots.acquire();
			let buffer: Buffer | undefined;
			try {
				if (this.failure) throw this.failure;
				buffer = this.takePackBuffer(size);
				const bytes = await readPackFile(fd, size, buffer);
				// Slow once a store has taken SLOW_STORE_MS, not only once it ends: the next pack
				// (often the last ones, at the end of a backup) goes up beside it.
				const slow = setTimeout(() => this.raiseStoreLimit(), SLOW_STORE_MS);
				try {
					await this.setup.storePack(bytes, id, blobs);
				} finally {
					clearTimeout(slow);
				}
				for (const blob of blobs) {
					this.reserved.delete(blob.id);
					this.setup.onBlobStored?.(blob);
				}
			} catch (error) {
				this.fail(error as Error);
			} finally {
				if (buffer) this.packBuffers.push(buffer);
				release();
				if (!entry.dead && !this.closed) entry.worker.postMessage({type: 'file', fd} satisfies ToWorker);
			}
		})();
		entry.storing.add(stored);
		void stored.finally(() => entry.storing.delete(stored));
	}

	/** The repository is slow: store as many packs at once as the memory budget allows, from now on. */
	private raiseStoreLimit(): void {
		if (this.storeLimit >= this.maxStoreLimit) return;
		this.storeSlots.addSlots(this.maxStoreLimit - this.storeLimit);
		this.storeLimit = this.maxStoreLimit;
	}

	/** Packs stored at once, at most, now: 1 until a store is slow (see {@link SLOW_STORE_MS}). */
	get packStoreLimit(): number {
		return this.storeLimit;
	}

	/** A buffer for a pack of `size` bytes: a free one large enough, else a new one with room for any pack. */
	private takePackBuffer(size: number): Buffer {
		const index = this.packBuffers.findIndex((buffer) => buffer.length >= size);
		if (index >= 0) return this.packBuffers.splice(index, 1)[0]!;
		// Packs stay within the pack size plus PACK_ROOM (see chunk-worker.ts), except one blob
		// larger than a small pack size.
		return Buffer.allocUnsafeSlow(Math.max(size, this.setup.packSize + PACK_ROOM));
	}

	/** Fails the backup: running jobs reject, and so do later calls. */
	private fail(error: Error): void {
		this.failure ??= error;
		this.stopGrowing();
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
		this.stopGrowing();
		for (const [jobId, job] of [...this.jobs]) {
			this.finishJob(jobId);
			job.reject(new Error('the chunk workers were stopped'));
		}
		await Promise.allSettled(this.workers.flatMap((w) => [...w.storing]));
		await Promise.all(this.workers.map((w) => w.worker.terminate()));
		for (const entry of this.workers) {
			for (const fd of entry.packFiles) fs.closeSync(fd);
			entry.packFiles = [];
		}
		this.packBuffers.length = 0;
	}
}
