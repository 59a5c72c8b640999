/**
 * Loads directory listings (tree blobs) for the browser without blocking the screen: the pack
 * range is read asynchronously, and large trees are verified, decrypted, decompressed and parsed
 * in a worker thread (a 100,000-entry tree takes a few tenths of a second of CPU), then taken
 * back as JSON text in chunks, one chunk parsed per turn of the event loop. Small trees are
 * decoded in place, where a worker round trip would cost more than it saves. Listings are cached.
 * No React here.
 */
import type {Worker} from 'node:worker_threads';
import type {Repository} from '../engine/repository/repository.js';
import type {TreeNode} from '../engine/format/tree.js';
import {IntegrityError} from '../engine/errors.js';
import {loadTree} from '../engine/restorer/walk.js';
import {startModuleWorker} from '../engine/util/worker.js';
import type {FromTreeWorker, ToTreeWorker} from './tree-protocol.js';

/** Stored trees at least this large are decoded in the worker. */
export const WORKER_THRESHOLD = 64 * 1024;
/** Listings kept in the cache, counted in entries. */
const CACHE_ENTRIES = 400_000;

interface Pending {
	/** The tree's ID. */
	id: string;
	resolve(nodes: TreeNode[]): void;
	reject(error: Error): void;
	/** Nodes taken in so far. */
	nodes: TreeNode[];
	/** Chunks received and not yet parsed (JSON text of node arrays). */
	chunks: string[];
	/** True once the last chunk has been received. */
	received: boolean;
	/** True while a parse of the next chunk is scheduled. */
	scheduled: boolean;
}

/** Loads and caches tree listings of one repository. Call {@link TreeLoader.close} when done. */
export class TreeLoader {
	private worker?: Worker;
	private workerError?: Error;
	private readonly pending = new Map<number, Pending>();
	private nextJob = 1;
	private readonly cache = new Map<string, readonly TreeNode[]>();
	private readonly loading = new Map<string, Promise<readonly TreeNode[]>>();
	private cachedEntries = 0;
	private closed = false;

	constructor(private readonly repo: Repository, private readonly threshold = WORKER_THRESHOLD) {}

	/**
	 * Starts the worker ahead of the first large tree (it takes a tenth of a second to load its
	 * modules), so that opening a large directory does not wait for it. Does nothing once closed.
	 */
	prepare(): void {
		if (!this.closed) this.startWorker();
	}

	/** The cached listing of a tree, if it has been loaded. */
	peek(treeId: string): readonly TreeNode[] | undefined {
		return this.cache.get(treeId);
	}

	/** The entries of a tree, in the order stored. The repository's index must be loaded. */
	load(treeId: string, signal?: AbortSignal): Promise<readonly TreeNode[]> {
		const cached = this.cache.get(treeId);
		if (cached !== undefined) return Promise.resolve(cached);
		let running = this.loading.get(treeId);
		if (running === undefined) {
			running = this.fetch(treeId).finally(() => this.loading.delete(treeId));
			this.loading.set(treeId, running);
		}
		if (signal === undefined) return running;
		return new Promise((resolve, reject) => {
			if (signal.aborted) reject(signal.reason);
			signal.addEventListener('abort', () => reject(signal.reason), {once: true});
			running.then(resolve, reject);
		});
	}

	private async fetch(treeId: string): Promise<readonly TreeNode[]> {
		const location = this.repo.index.lookup('tree', treeId);
		let nodes: TreeNode[];
		if (location === undefined || location.length < this.threshold) {
			nodes = await loadTree(this.repo, treeId);
		} else {
			const raw = await this.repo.storage.load({type: 'data', name: location.packId}, {offset: location.offset, length: location.length});
			nodes = await this.decode(treeId, location.packId, location.uncompressedLength, raw);
		}
		this.remember(treeId, nodes);
		return nodes;
	}

	private remember(treeId: string, nodes: readonly TreeNode[]): void {
		if (this.cachedEntries + nodes.length > CACHE_ENTRIES) {
			this.cache.clear();
			this.cachedEntries = 0;
		}
		this.cache.set(treeId, nodes);
		this.cachedEntries += Math.max(1, nodes.length);
	}

	private decode(id: string, packId: string, uncompressedLength: number, raw: Uint8Array): Promise<TreeNode[]> {
		if (this.closed) return Promise.reject(new Error('the repository was closed'));
		const worker = this.startWorker();
		if (this.workerError !== undefined) return Promise.reject(this.workerError);
		const jobId = this.nextJob++;
		const copy = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer ? raw.buffer : raw.slice().buffer;
		return new Promise((resolve, reject) => {
			this.pending.set(jobId, {id, resolve, reject, nodes: [], chunks: [], received: false, scheduled: false});
			const message: ToTreeWorker = {type: 'decode', jobId, id, packId, uncompressedLength, raw: copy as ArrayBuffer};
			worker.postMessage(message, [copy as ArrayBuffer]);
		});
	}

	private startWorker(): Worker {
		if (this.worker !== undefined) return this.worker;
		const worker = startModuleWorker(import.meta.url, 'tree-worker');
		worker.on('message', (message: FromTreeWorker) => {
			const pending = this.pending.get(message.jobId);
			if (pending === undefined) return;
			if (message.type === 'error') {
				this.pending.delete(message.jobId);
				pending.reject(new IntegrityError(message.message));
				return;
			}
			pending.chunks.push(message.json);
			if (message.done) pending.received = true;
			this.schedule(message.jobId, pending);
		});
		const fail = (error: Error): void => {
			this.workerError = error;
			for (const pending of this.pending.values()) pending.reject(error);
			this.pending.clear();
		};
		worker.on('error', fail);
		worker.on('exit', (code) => {
			if (!this.closed) fail(new Error(`the tree decoding worker stopped unexpectedly (exit ${code})`));
		});
		worker.unref();
		const key = this.repo.key;
		const init: ToTreeWorker = {type: 'init', key: {encrypt: key.encrypt, macK: key.macK, macR: key.macR}};
		worker.postMessage(init);
		this.worker = worker;
		return worker;
	}

	/** Parses the next chunk of a job after the event loop has turned (keys, frames, timers), one chunk per turn. */
	private schedule(jobId: number, pending: Pending): void {
		if (pending.scheduled) return;
		pending.scheduled = true;
		setImmediate(() => {
			pending.scheduled = false;
			if (this.pending.get(jobId) !== pending) return;
			const json = pending.chunks.shift();
			if (json !== undefined) {
				let nodes: TreeNode[];
				try {
					nodes = JSON.parse(json) as TreeNode[];
				} catch (error) {
					this.pending.delete(jobId);
					pending.reject(new IntegrityError(`tree ${pending.id.slice(0, 8)} is not valid JSON: ${(error as Error).message}`));
					return;
				}
				for (const node of nodes) pending.nodes.push(node);
			}
			if (pending.chunks.length > 0) this.schedule(jobId, pending);
			else if (pending.received) {
				this.pending.delete(jobId);
				pending.resolve(pending.nodes);
			}
		});
	}

	/** Stops the worker; pending loads reject. */
	async close(): Promise<void> {
		this.closed = true;
		for (const pending of this.pending.values()) pending.reject(new Error('the repository was closed'));
		this.pending.clear();
		await this.worker?.terminate();
		this.worker = undefined;
	}
}
