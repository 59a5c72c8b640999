/**
 * Messages between the tree loader and its worker thread. The worker verifies, decrypts and
 * decompresses a tree, finds where its nodes start and end (tree-spans.ts), then sends them back
 * as JSON text in chunks, one after another without waiting; the loader parses one chunk per turn
 * of its event loop, so that taking in a listing of 100,000 entries never holds the main thread
 * for long. (JSON text is cheaper to take in than the same nodes as structured-cloned objects:
 * about half the main thread's time.)
 */

/** Nodes per chunk: parsing one chunk on the main thread takes a few milliseconds. */
export const TREE_CHUNK = 2000;

/** To the worker: the key once, then trees to decode. */
export type ToTreeWorker =
	| {readonly type: 'init'; readonly key: {readonly encrypt: Uint8Array; readonly macK: Uint8Array; readonly macR: Uint8Array}}
	| {readonly type: 'decode'; readonly jobId: number; readonly id: string; readonly packId: string; readonly uncompressedLength: number; readonly raw: ArrayBuffer};

/** From the worker: a chunk of the nodes as the JSON text of an array (`done` on the last), or why the tree could not be decoded. */
export type FromTreeWorker =
	| {readonly type: 'chunk'; readonly jobId: number; readonly json: string; readonly done: boolean}
	| {readonly type: 'error'; readonly jobId: number; readonly message: string};
