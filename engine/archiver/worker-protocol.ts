/**
 * Messages between the archiver and its chunk workers.
 */

/** Unacknowledged chunks a worker may send per job before it waits. */
export const CREDITS = 3;

export type ToWorker =
	| {type: 'init'; polynomial: string; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}; compression: string}
	| {type: 'file'; jobId: number; path: string | Uint8Array}
	| {type: 'ack'; jobId: number};

export type FromWorker =
	| {type: 'chunk'; jobId: number; id: string; length: number; sealed: ArrayBuffer; uncompressedLength: number}
	| {type: 'done'; jobId: number; size: number}
	| {type: 'error'; jobId: number; message: string; readError: boolean};
