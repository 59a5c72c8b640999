/**
 * Worker thread entry: decodes blobs read from packs (see codec-pool.ts), and for restores writes
 * their plaintext straight into files opened by the main thread (file descriptors are shared by
 * every thread of the process), so no plaintext crosses threads.
 */
import {parentPort} from 'node:worker_threads';
import {closeSync, fchmodSync, fchownSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs';
import {setFdTimes, writeXattrs, type XattrWriteProblem} from '../util/file-metadata.js';
import type {MasterKey} from '../crypto/cipher.js';
import {releaseGarbageBuffers} from '../util/worker.js';
import {decodeStoredBlob, isAllZero} from './blob-codec.js';
import type {DecodedBlob, FromCodec, ToCodec, WriteBlob, WriteFailure, WriteFile, WriteReport} from './codec-protocol.js';

if (!parentPort) throw new Error('codec-worker must run in a worker thread');
const port = parentPort;
let key: MasterKey | undefined;

/**
 * Blobs of one job decoded at once: while one waits for zstd (which runs in libuv's pool), the
 * next one is verified and decrypted here.
 */
const LANES = 2;

function toTransferable(bytes: Uint8Array): ArrayBuffer {
	if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
	const copy = new Uint8Array(bytes.byteLength);
	copy.set(bytes);
	return copy.buffer;
}

/** Writes all of `data` at `position` (pwrite, repeated while short). */
function writeFully(fd: number, data: Uint8Array, position: number): void {
	let written = 0;
	while (written < data.byteLength) {
		written += writeSync(fd, data, written, data.byteLength - written, position + written);
	}
}

/**
 * Creates the job's `whole` files, decodes every blob of the range and writes it to its targets,
 * then completes the `whole` files (metadata and rename) or removes those that failed.
 */
async function writeRange(packId: string, raw: Uint8Array, files: WriteFile[], blobs: WriteBlob[]): Promise<WriteReport> {
	const failed = new Set<number>();
	const failures: WriteFailure[] = [];
	const holes = new Set<number>();
	const failFile = (file: number, message: string, code?: string): void => {
		if (failed.has(file)) return;
		failed.add(file);
		failures.push(code === undefined ? {file, message} : {file, message, code});
	};
	const failCall = (file: number, error: unknown): void => {
		const e = error as NodeJS.ErrnoException;
		failFile(file, e.message, e.code ?? 'EIO');
	};
	const fds = new Map<number, number>();
	for (const item of files) {
		if (item.fd !== undefined) fds.set(item.file, item.fd);
		else if (item.whole) {
			try {
				fds.set(item.file, openSync(item.whole.temp, 'wx', item.whole.createMode));
			} catch (error) {
				failCall(item.file, error);
			}
		}
	}
	let next = 0;
	const lane = async (): Promise<void> => {
		while (next < blobs.length) {
			const blob = blobs[next++]!;
			const {targets} = blob;
			let plain: Buffer;
			try {
				plain = await decodeStoredBlob(key!, 'data', blob.id, raw.subarray(blob.start, blob.start + blob.length), packId, blob.uncompressedLength);
			} catch (error) {
				for (let i = 0; i < targets.length; i += 2) failFile(targets[i]!, (error as Error).message);
				continue;
			}
			const zero = plain.length > 0 && isAllZero(plain);
			for (let i = 0; i < targets.length; i += 2) {
				const file = targets[i]!;
				if (failed.has(file)) continue;
				if (zero) {
					holes.add(file);
					continue;
				}
				try {
					writeFully(fds.get(file)!, plain, targets[i + 1]!);
				} catch (error) {
					failCall(file, error);
				}
			}
		}
	};
	await Promise.all(Array.from({length: Math.min(LANES, blobs.length)}, lane));
	const completed: number[] = [];
	const xattrProblems: Array<XattrWriteProblem & {file: number}> = [];
	for (const item of files) {
		const whole = item.whole;
		const fd = fds.get(item.file);
		if (!whole || fd === undefined) continue;
		let open = true;
		try {
			if (!failed.has(item.file)) {
				if (holes.has(item.file)) ftruncateSync(fd, whole.size);
				if (whole.owner) {
					try {
						fchownSync(fd, whole.owner.uid, whole.owner.gid);
					} catch {
						// like restic: a failed chown is not fatal
					}
				}
				// Attributes before the mode: setting user.* needs write permission on the file.
				for (const problem of writeXattrs({fd}, whole.xattrs, whole.xattrsAsRoot === true)) xattrProblems.push({...problem, file: item.file});
				if (whole.mode !== undefined) fchmodSync(fd, whole.mode);
				setFdTimes(fd, whole.atimeNs, whole.mtimeNs);
				open = false;
				closeSync(fd);
				renameSync(whole.temp, whole.dest);
				completed.push(item.file);
				continue;
			}
		} catch (error) {
			failCall(item.file, error);
		}
		if (open) {
			try {
				closeSync(fd);
			} catch {
				// removed below anyway
			}
		}
		try {
			unlinkSync(whole.temp);
		} catch {
			// already gone
		}
	}
	const held = new Set(files.filter((f) => f.fd !== undefined).map((f) => f.file));
	return {failures, holes: [...holes].filter((file) => held.has(file)), completed, ...(xattrProblems.length > 0 ? {xattrProblems} : {})};
}

async function decodeRange(packId: string, raw: Uint8Array, message: Extract<ToCodec, {type: 'decode'}>): Promise<{results: DecodedBlob[]; transfer: ArrayBuffer[]}> {
	const results: DecodedBlob[] = [];
	const transfer: ArrayBuffer[] = [];
	for (const blob of message.blobs) {
		try {
			const plain = await decodeStoredBlob(key!, blob.type, blob.id, raw.subarray(blob.start, blob.start + blob.length), packId, blob.uncompressedLength);
			const zero = plain.length > 0 && isAllZero(plain);
			const buffer = zero ? new ArrayBuffer(0) : toTransferable(plain);
			if (!zero && !transfer.includes(buffer)) transfer.push(buffer);
			results.push({ok: true, plain: buffer, zero});
		} catch (error) {
			results.push({ok: false, message: (error as Error).message});
		}
	}
	return {results, transfer};
}

/** Jobs run one after the other, so that the memory of only one is in use at a time. */
let queue: Promise<void> = Promise.resolve();

port.on('message', (message: ToCodec) => {
	if (message.type === 'init') {
		key = {encrypt: Buffer.from(message.key.encrypt), macK: Buffer.from(message.key.macK), macR: Buffer.from(message.key.macR)};
		return;
	}
	queue = queue.then(() => runJob(message)).finally(releaseGarbageBuffers);
});

async function runJob(message: Exclude<ToCodec, {type: 'init'}>): Promise<void> {
	const raw = new Uint8Array(message.raw ?? new ArrayBuffer(0));
	if (message.type === 'write') {
		const reply: FromCodec = {type: 'written', jobId: message.jobId, report: await writeRange(message.packId, raw, message.files, message.blobs)};
		port.postMessage(reply);
		return;
	}
	const {results, transfer} = await decodeRange(message.packId, raw, message);
	const reply: FromCodec = {type: 'decoded', jobId: message.jobId, results};
	port.postMessage(reply, transfer);
}
