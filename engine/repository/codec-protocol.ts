/**
 * Messages between the main thread and blob codec workers.
 */
import type {BlobType} from '../format/pack.js';

/** One blob inside a raw byte range read from a pack. */
export interface RangeBlob {
	type: BlobType;
	id: string;
	/** Offset of the blob inside the raw range. */
	start: number;
	length: number;
	uncompressedLength: number;
}

export type ToCodec =
	| {type: 'init'; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}}
	| {type: 'decode'; jobId: number; packId: string; raw: ArrayBuffer; blobs: RangeBlob[]};

/** A decoded blob: its plaintext, or why it failed verification. */
export type DecodedBlob = {ok: true; plain: ArrayBuffer; zero: boolean} | {ok: false; message: string};

export type FromCodec = {type: 'decoded'; jobId: number; results: DecodedBlob[]};
