/**
 * A pool of worker threads that verify and decode blobs, so restore and check use every core.
 */
import type {MasterKey} from '../crypto/cipher.js';
import type {Worker} from 'node:worker_threads';
import {startModuleWorker} from '../util/worker.js';
import type {DecodedBlob, FromCodec, RangeBlob, ToCodec, WriteBlob, WriteFile, WriteReport} from './codec-protocol.js';

export type {RangeBlob, DecodedBlob, WriteBlob, WriteFile, WriteReport, WriteFailure} from './codec-protocol.js';

interface Pending {
	resolve: (reply: FromCodec) => void;
	reject: (error: Error) => void;
	slot: Slot;
}

interface Slot {
	worker: Worker;
	busy: number;
	dead?: Error;
}

/**
 * Contract: jobs go to the least busy live worker; a job whose worker dies or is stopped rejects;
 * `raw` buffers handed to a job are transferred (unusable afterwards). Idle workers do not keep
 * the process alive.
 */
export class BlobCodecPool {
	private readonly slots: Slot[] = [];
	private readonly pending = new Map<number, Pending>();
	private nextJob = 1;
	private closed = false;

	constructor(key: MasterKey, size: number) {
		for (let i = 0; i < size; i++) {
			const worker = startModuleWorker(import.meta.url, 'codec-worker');
			const slot: Slot = {worker, busy: 0};
			worker.on('message', (message: FromCodec) => this.settle(message));
			worker.on('error', (error) => this.failSlot(slot, error));
			worker.on('exit', (code) => {
				if (!this.closed) this.failSlot(slot, new Error(`a decoding worker stopped unexpectedly (exit ${code})`));
			});
			worker.unref();
			const init: ToCodec = {type: 'init', key: {encrypt: key.encrypt, macK: key.macK, macR: key.macR}};
			worker.postMessage(init);
			this.slots.push(slot);
		}
	}

	/** Number of workers. */
	get size(): number {
		return this.slots.length;
	}

	/**
	 * Decodes the blobs found in one raw range of a pack. `raw` is transferred to the worker and
	 * must not be used afterwards. Each result is the plaintext or the reason it failed.
	 */
	async decode(packId: string, raw: Uint8Array, blobs: RangeBlob[]): Promise<DecodedBlob[]> {
		const reply = await this.run((jobId, buffer) => ({type: 'decode', jobId, packId, raw: buffer!, blobs}), raw);
		if (reply.type !== 'decoded') throw new Error('a decoding worker answered with the wrong kind of reply');
		return reply.results;
	}

	/**
	 * Decodes the data blobs of one raw range of a pack and writes each to its targets in `files`
	 * (see {@link WriteFile}); all-zero blobs are not written (holes). `raw` is transferred; it may
	 * be absent when there are no blobs (a job that only creates empty files). Resolves once every
	 * write is done, with the files that failed and those completed.
	 */
	async write(packId: string, raw: Uint8Array | undefined, files: WriteFile[], blobs: WriteBlob[]): Promise<WriteReport> {
		const reply = await this.run((jobId, buffer) => ({type: 'write', jobId, packId, raw: buffer, files, blobs}), raw);
		if (reply.type !== 'written') throw new Error('a decoding worker answered with the wrong kind of reply');
		return reply.report;
	}

	private run(build: (jobId: number, raw: ArrayBuffer | undefined) => ToCodec, raw: Uint8Array | undefined): Promise<FromCodec> {
		const alive = this.slots.filter((s) => !s.dead);
		if (this.closed || alive.length === 0) return Promise.reject(new Error('the decoding workers are not running'));
		const slot = alive.reduce((a, b) => (b.busy < a.busy ? b : a));
		const jobId = this.nextJob++;
		let buffer: ArrayBuffer | undefined;
		if (raw === undefined) buffer = undefined;
		else if (raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer) {
			buffer = raw.buffer;
		} else {
			const copy = new Uint8Array(raw.byteLength);
			copy.set(raw);
			buffer = copy.buffer;
		}
		return new Promise((resolve, reject) => {
			slot.busy++;
			slot.worker.ref();
			this.pending.set(jobId, {resolve, reject, slot});
			slot.worker.postMessage(build(jobId, buffer), buffer ? [buffer] : []);
		});
	}

	private release(jobId: number): Pending | undefined {
		const entry = this.pending.get(jobId);
		if (!entry) return undefined;
		this.pending.delete(jobId);
		entry.slot.busy--;
		if (entry.slot.busy === 0) entry.slot.worker.unref();
		return entry;
	}

	private settle(message: FromCodec): void {
		this.release(message.jobId)?.resolve(message);
	}

	private failSlot(slot: Slot, error: Error): void {
		if (slot.dead) return;
		slot.dead = error;
		for (const [jobId, entry] of [...this.pending]) if (entry.slot === slot) this.release(jobId)?.reject(error);
	}

	/** Stops the workers; pending jobs are rejected. */
	async close(): Promise<void> {
		this.closed = true;
		for (const jobId of [...this.pending.keys()]) this.release(jobId)?.reject(new Error('the decoding workers were stopped'));
		await Promise.all(this.slots.map((s) => s.worker.terminate()));
	}
}
