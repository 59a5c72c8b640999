/**
 * Worker thread entry: verifies, decrypts, decompresses and parses tree blobs (see
 * tree-loader.ts), so that a directory of 100,000 entries never stops the screen from drawing.
 * The nodes go back in chunks, each when the loader asks for it.
 */
import {parentPort} from 'node:worker_threads';
import type {MasterKey} from '../engine/crypto/cipher.js';
import type {TreeNode} from '../engine/format/tree.js';
import {decodeStoredBlob} from '../engine/repository/blob-codec.js';
import {decodeTree} from '../engine/format/tree.js';
import {TREE_CHUNK, type FromTreeWorker, type ToTreeWorker} from './tree-protocol.js';

if (!parentPort) throw new Error('tree-worker must run in a worker thread');
const port = parentPort;
let key: MasterKey | undefined;
const jobs = new Map<number, {nodes: TreeNode[]; offset: number}>();

function sendChunk(jobId: number): void {
	const job = jobs.get(jobId);
	if (job === undefined) return;
	const nodes = job.nodes.slice(job.offset, job.offset + TREE_CHUNK);
	job.offset += nodes.length;
	const done = job.offset >= job.nodes.length;
	if (done) jobs.delete(jobId);
	const reply: FromTreeWorker = {type: 'chunk', jobId, nodes, done};
	port.postMessage(reply);
}

port.on('message', async (message: ToTreeWorker) => {
	switch (message.type) {
		case 'init':
			key = {encrypt: Buffer.from(message.key.encrypt), macK: Buffer.from(message.key.macK), macR: Buffer.from(message.key.macR)};
			return;
		case 'next':
			sendChunk(message.jobId);
			return;
		case 'drop':
			jobs.delete(message.jobId);
			return;
		case 'decode':
			try {
				const plain = await decodeStoredBlob(key!, 'tree', message.id, new Uint8Array(message.raw), message.packId, message.uncompressedLength);
				jobs.set(message.jobId, {nodes: decodeTree(plain, message.id).nodes, offset: 0});
				sendChunk(message.jobId);
			} catch (error) {
				const reply: FromTreeWorker = {type: 'error', jobId: message.jobId, message: (error as Error).message};
				port.postMessage(reply);
			}
	}
});
