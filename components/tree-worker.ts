/**
 * Worker thread entry: verifies, decrypts and decompresses tree blobs (see tree-loader.ts), so
 * that a directory of 100,000 entries never stops the screen from drawing. The nodes go back as
 * JSON text in chunks (see tree-protocol.ts), cut from the tree's own text where it has the usual
 * shape (tree-spans.ts), else parsed and written again.
 */
import {parentPort} from 'node:worker_threads';
import type {MasterKey} from '../engine/crypto/cipher.js';
import {decodeStoredBlob} from '../engine/repository/blob-codec.js';
import {decodeTree} from '../engine/format/tree.js';
import {TREE_CHUNK, type FromTreeWorker, type ToTreeWorker} from './tree-protocol.js';
import {findNodeSpans} from './tree-spans.js';

if (!parentPort) throw new Error('tree-worker must run in a worker thread');
const port = parentPort;
let key: MasterKey | undefined;

/** The JSON texts of arrays of up to TREE_CHUNK nodes each (one, empty, for an empty tree). */
function* cutChunks(plain: Uint8Array, id: string): Generator<string> {
	const spans = findNodeSpans(plain);
	if (spans === undefined) {
		// Not the usual shape: parse it whole (which names what is wrong when it is not a tree).
		const {nodes} = decodeTree(plain, id);
		for (let offset = 0; offset === 0 || offset < nodes.length; offset += TREE_CHUNK) yield JSON.stringify(nodes.slice(offset, offset + TREE_CHUNK));
		return;
	}
	const text = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
	const count = spans.length / 2;
	if (count === 0) yield '[]';
	for (let first = 0; first < count; first += TREE_CHUNK) {
		const last = Math.min(count, first + TREE_CHUNK) - 1;
		// From the first node's start to the last one's end: the nodes with the commas between them.
		yield `[${text.toString('utf8', spans[first * 2], spans[last * 2 + 1])}]`;
	}
}

port.on('message', async (message: ToTreeWorker) => {
	switch (message.type) {
		case 'init':
			key = {encrypt: Buffer.from(message.key.encrypt), macK: Buffer.from(message.key.macK), macR: Buffer.from(message.key.macR)};
			return;
		case 'decode':
			try {
				const plain = await decodeStoredBlob(key!, 'tree', message.id, new Uint8Array(message.raw), message.packId, message.uncompressedLength);
				// Each chunk goes as soon as it is cut: the main thread parses while the rest is cut.
				let previous: string | undefined;
				for (const json of cutChunks(plain, message.id)) {
					if (previous !== undefined) port.postMessage({type: 'chunk', jobId: message.jobId, json: previous, done: false} satisfies FromTreeWorker);
					previous = json;
				}
				port.postMessage({type: 'chunk', jobId: message.jobId, json: previous ?? '[]', done: true} satisfies FromTreeWorker);
			} catch (error) {
				const reply: FromTreeWorker = {type: 'error', jobId: message.jobId, message: (error as Error).message};
				port.postMessage(reply);
			}
	}
});
