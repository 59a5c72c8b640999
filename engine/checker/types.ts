/**
 * The shapes `runCheck` takes and returns, and the context its passes share.
 */
import type {ProgressListener, ProgressTracker} from '../progress.js';
import type {Repository} from '../repository/repository.js';

/** One thing found wrong (or worth knowing) about a repository. */
export interface CheckProblem {
	/**
	 * What the problem is about: a repository file (`data/ab/abcd…`, `index/<id>`,
	 * `snapshots/<id>`) or a blob (`tree <id>`).
	 */
	readonly file: string;
	/** What is wrong, as a sentence to be shown after the file. */
	readonly message: string;
	/** `error` is damage; `warning` is harmless (for example an unindexed pack that prune removes). */
	readonly severity: 'error' | 'warning';
}

/** Which packs `--read-data-subset` reads. */
export type ReadDataSubset =
	/** Group n of m: packs whose first ID byte modulo m is n - 1 (restic's rule; 1 ≤ n ≤ m ≤ 256). */
	| {readonly n: number; readonly m: number}
	/** A random share of the packs, at least one (0 < percent ≤ 100). */
	| {readonly percent: number};

/** Settings of {@link runCheck}. */
export interface CheckOptions {
	/** Read every pack, verify its hash and header and decrypt every blob. */
	readonly readData?: boolean;
	/** Read only some packs (cannot be combined with `readData`). */
	readonly readDataSubset?: ReadDataSubset;
	readonly signal?: AbortSignal;
	readonly onProgress?: ProgressListener;
	/** Called for each problem as soon as it is found. */
	readonly onProblem?: (problem: CheckProblem) => void;
	/** Take no lock (the caller holds one). */
	readonly noLock?: boolean;
	/** Source of randomness in [0, 1) for `{percent}` subsets; default Math.random. */
	readonly random?: () => number;
}

/** What a check found and how much it looked at. */
export interface CheckReport {
	/** Every problem, in the order found. */
	readonly problems: CheckProblem[];
	/** Pack files in storage. */
	readonly packs: number;
	/** Snapshot files that loaded. */
	readonly snapshots: number;
	/** Distinct tree blobs that loaded and decoded. */
	readonly trees: number;
	/**
	 * Blobs whose bytes were read, decrypted and hashed against their ID: the trees of the
	 * structure pass plus every blob of the packs read with `readData` (a tree read in both counts twice).
	 */
	readonly blobsChecked: number;
	/** Distinct data blob IDs referenced by file nodes (each was looked up in the index). */
	readonly dataBlobsReferenced: number;
	/** Index files that loaded. */
	readonly indexFiles: number;
	/** Packs read in full (readData / readDataSubset). */
	readonly packsRead: number;
	/** Bytes of the packs read in full (a pack read again after a failure counts once). */
	readonly bytesRead: number;
	/** True when no problem has severity `error`. */
	readonly ok: boolean;
}

/** State shared by the passes of one check. */
export interface CheckContext {
	readonly repo: Repository;
	readonly signal?: AbortSignal;
	readonly progress: ProgressTracker;
	/** Requests run at once by the metadata passes. */
	readonly concurrency: number;
	/** Records a problem (and tells the caller). */
	report(file: string, message: string, severity?: CheckProblem['severity']): void;
}
