/**
 * Messages between the main thread and blob codec workers.
 */
import type {BlobType} from '../format/pack.js';
import type {ExtendedAttribute, XattrWriteProblem} from '../util/file-metadata.js';

/** One blob inside a raw byte range read from a pack. */
export interface RangeBlob {
	type: BlobType;
	id: string;
	/** Offset of the blob inside the raw range. */
	start: number;
	length: number;
	uncompressedLength: number;
}

/**
 * A file a restore job writes into. Either the caller holds it open (`fd`), or the job holds every
 * piece of it (`whole`): then the worker creates it under `temp`, writes it, sets its size (after
 * holes), owner, mode and times, and renames it to `dest`; on failure it removes `temp`.
 */
export interface WriteFile {
	/** The caller's number for the file (used in reports). */
	file: number;
	fd?: number;
	whole?: {
		temp: string;
		dest: string;
		size: number;
		/** Permission bits the file is created with (the umask applies). */
		createMode: number;
		/** Permission bits to set with fchmod after writing (and after fchown); absent: left as created. */
		mode?: number;
		/** Owner to set (fchown), when running as root. */
		owner?: {uid: number; gid: number};
		/** Nanoseconds since the epoch. */
		atimeNs: bigint;
		mtimeNs: bigint;
		/** Extended attributes to set before the times (restic's tree format). */
		xattrs?: ExtendedAttribute[];
		/** Set every attribute namespace (running as root), not only `user.*`. */
		xattrsAsRoot?: boolean;
	};
}

/** One data blob of a range to restore; `targets` holds pairs (file, byte offset in that file). */
export interface WriteBlob {
	id: string;
	/** Offset of the blob inside the raw range. */
	start: number;
	length: number;
	uncompressedLength: number;
	targets: number[];
}

/** A file of a restore job that could not be written, and why. */
export interface WriteFailure {
	/** The caller's number for the file. */
	file: number;
	message: string;
	/** The errno code when a file-system call failed (e.g. `ENOSPC`); absent when the blob was damaged. */
	code?: string;
}

/** What a restore job did. */
export interface WriteReport {
	failures: WriteFailure[];
	/** Files held by the caller in which an all-zero blob was skipped (a hole): truncate them to their size. */
	holes: number[];
	/** `whole` files now complete under their final names. */
	completed: number[];
	/** Extended attributes of `whole` files that could not be set (the files are restored all the same). */
	xattrProblems?: Array<XattrWriteProblem & {file: number}>;
}

export type ToCodec =
	| {type: 'init'; key: {encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array}}
	| {type: 'decode'; jobId: number; packId: string; raw: ArrayBuffer; blobs: RangeBlob[]}
	| {type: 'write'; jobId: number; packId: string; raw?: ArrayBuffer; files: WriteFile[]; blobs: WriteBlob[]};

/** A decoded blob: its plaintext, or why it failed verification. */
export type DecodedBlob = {ok: true; plain: ArrayBuffer; zero: boolean} | {ok: false; message: string};

export type FromCodec =
	| {type: 'decoded'; jobId: number; results: DecodedBlob[]}
	| {type: 'written'; jobId: number; report: WriteReport};
