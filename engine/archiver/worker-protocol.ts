/**
 * Messages between the archiver and its chunk workers.
 */

/** Chunks a worker may have sent and not yet seen acknowledged before it waits. */
export const CREDITS = 6;

export type ToWorker =
	| {type: 'init'; polynomial: string; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}; compression: string}
	| {type: 'file'; jobId: number; path: string | Uint8Array}
	/** The main thread has stored `count` more chunks. */
	| {type: 'ack'; count: number};

export type FromWorker =
	| {type: 'chunk'; jobId: number; id: string; length: number; sealed: ArrayBuffer; uncompressedLength: number}
	| {type: 'done'; jobId: number; size: number}
	| {type: 'error'; jobId: number; message: string; readError: boolean};
