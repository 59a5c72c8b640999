/**
 * Messages between the tree loader and its worker thread. A decoded tree comes back in chunks,
 * one at a time: the loader asks for the next chunk only after its event loop has turned, so
 * that copying a listing of 100,000 entries into the main thread never holds it for long.
 */
import type {TreeNode} from '../engine/format/tree.js';

/** Nodes per chunk: copying one chunk into the main thread takes a few tens of milliseconds. */
export const TREE_CHUNK = 2000;

/** To the worker: the key once, then trees to decode, and requests for their next chunk. */
export type ToTreeWorker =
	| {readonly type: 'init'; readonly key: {readonly encrypt: Uint8Array; readonly macK: Uint8Array; readonly macR: Uint8Array}}
	| {readonly type: 'decode'; readonly jobId: number; readonly id: string; readonly packId: string; readonly uncompressedLength: number; readonly raw: ArrayBuffer}
	| {readonly type: 'next'; readonly jobId: number}
	| {readonly type: 'drop'; readonly jobId: number};

/** From the worker: a chunk of the decoded nodes (`done` on the last), or why the tree could not be decoded. */
export type FromTreeWorker =
	| {readonly type: 'chunk'; readonly jobId: number; readonly nodes: TreeNode[]; readonly done: boolean}
	| {readonly type: 'error'; readonly jobId: number; readonly message: string};
