/**
 * Feeding a byte array to a writable stream and collecting a readable one, with an AbortSignal
 * that destroys the stream. Used with the stream interfaces of the Google SDKs.
 */

import type {Readable, Writable} from 'node:stream';

/** The reason of an aborted signal, or a DOMException named AbortError. */
function readAbortReason(signal: AbortSignal): unknown {
	return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Writes `data` to `stream` and ends it; resolves on `finish`, rejects on the stream's first
 * error. When `signal` aborts first, the stream is destroyed and the promise rejects with the
 * signal's reason.
 */
export function writeAllToStream(stream: Writable, data: Uint8Array, signal?: AbortSignal): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		let settled = false;
		const settle = (error?: unknown) => {
			if (settled) return;
			settled = true;
			signal?.removeEventListener('abort', onAbort);
			if (error === undefined) resolve();
			else reject(error);
		};
		const onAbort = () => {
			const reason = readAbortReason(signal!);
			settle(reason);
			stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
		};
		if (signal?.aborted) {
			onAbort();
			return;
		}
		signal?.addEventListener('abort', onAbort, {once: true});
		stream.on('error', (error) => settle(error));
		stream.on('finish', () => settle());
		stream.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
	});
}

/** Reads a stream to its end into one array; an abort destroys the stream and rejects with the signal's reason. */
export function readAllFromStream(stream: Readable, signal?: AbortSignal): Promise<Uint8Array> {
	return new Promise<Uint8Array>((resolve, reject) => {
		const chunks: Buffer[] = [];
		let settled = false;
		const settle = (error: unknown, value?: Uint8Array) => {
			if (settled) return;
			settled = true;
			signal?.removeEventListener('abort', onAbort);
			if (error === undefined) resolve(value!);
			else reject(error);
		};
		const onAbort = () => {
			const reason = readAbortReason(signal!);
			settle(reason);
			stream.destroy();
		};
		if (signal?.aborted) {
			onAbort();
			return;
		}
		signal?.addEventListener('abort', onAbort, {once: true});
		stream.on('data', (chunk: Buffer) => chunks.push(chunk));
		stream.on('error', (error) => settle(error));
		stream.on('end', () => {
			const total = Buffer.concat(chunks);
			settle(undefined, new Uint8Array(total.buffer, total.byteOffset, total.byteLength));
		});
	});
}
