/**
 * Worker thread entry: decodes blobs read from packs (see codec-pool.ts).
 */
import {parentPort} from 'node:worker_threads';
import type {MasterKey} from '../crypto/cipher.js';
import {decodeStoredBlob, isAllZero} from './blob-codec.js';
import type {DecodedBlob, FromCodec, ToCodec} from './codec-protocol.js';

if (!parentPort) throw new Error('codec-worker must run in a worker thread');
const port = parentPort;
let key: MasterKey | undefined;

function toTransferable(bytes: Uint8Array): ArrayBuffer {
	if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
	const copy = new Uint8Array(bytes.byteLength);
	copy.set(bytes);
	return copy.buffer;
}

port.on('message', async (message: ToCodec) => {
	if (message.type === 'init') {
		key = {encrypt: Buffer.from(message.key.encrypt), macK: Buffer.from(message.key.macK), macR: Buffer.from(message.key.macR)};
		return;
	}
	const raw = new Uint8Array(message.raw);
	const results: DecodedBlob[] = [];
	const transfer: ArrayBuffer[] = [];
	for (const blob of message.blobs) {
		try {
			const plain = await decodeStoredBlob(key!, blob.type, blob.id, raw.subarray(blob.start, blob.start + blob.length), message.packId, blob.uncompressedLength);
			const zero = plain.length > 0 && isAllZero(plain);
			const buffer = zero ? new ArrayBuffer(0) : toTransferable(plain);
			if (!zero && !transfer.includes(buffer)) transfer.push(buffer);
			results.push({ok: true, plain: buffer, zero});
		} catch (error) {
			results.push({ok: false, message: (error as Error).message});
		}
	}
	const reply: FromCodec = {type: 'decoded', jobId: message.jobId, results};
	port.postMessage(reply, transfer);
});
