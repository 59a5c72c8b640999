/**
 * The shapes `runPrune` takes and returns.
 */

/** The steps of a prune, in order, as progress reports them. */
export type PrunePhase =
	| 'lock'
	| 'index'
	| 'snapshots'
	| 'trees'
	| 'plan'
	| 'delete-unreferenced'
	| 'repack'
	| 'write-index'
	| 'delete-index'
	| 'delete-packs'
	| 'done';

/** Progress of a prune: the phase and, where it can be counted, how far it is. */
export interface PruneProgress {
	readonly phase: PrunePhase;
	/** Items finished in this phase (trees, packs, files). */
	readonly done: number;
	/** Items this phase has in all, when known. */
	readonly total?: number;
}

/** Settings of {@link runPrune}. */
export interface PruneOptions {
	/** Plan and report only: change nothing in the repository. */
	readonly dryRun?: boolean;
	/**
	 * Unused space to tolerate after the prune, as a percentage of the used space's share of the
	 * repository (restic's `--max-unused`): 0 repacks every partly used pack, 100 (exclusive) none.
	 * Default 5.
	 */
	readonly maxUnused?: number;
	readonly signal?: AbortSignal;
	/** Receives progress; it must be cheap and must not throw. */
	readonly onProgress?: (progress: PruneProgress) => void;
	/**
	 * Take no lock: the caller holds an exclusive lock some other way. Without it, runPrune reuses an
	 * exclusive lock this process holds on the same Repository object (see findHeldLocks), or takes one.
	 */
	readonly noLock?: boolean;
}

/** Counts of blobs, as restic's prune reports them. */
export interface PruneBlobCounts {
	/** Blobs some snapshot needs (one copy of each). */
	readonly used: number;
	/** Extra copies of needed blobs. */
	readonly duplicate: number;
	/** Blobs no snapshot needs. */
	readonly unused: number;
	readonly total: number;
	/** Blobs in packs chosen for repacking. */
	readonly repack: number;
	/** Of those, the ones the repack drops. */
	readonly repackRemove: number;
	/** Blobs in packs deleted whole. */
	readonly remove: number;
	/** repackRemove + remove. */
	readonly removeTotal: number;
	/** Blobs left after the prune. */
	readonly remaining: number;
}

/** Sizes in bytes (encrypted, as stored). */
export interface PruneByteCounts {
	readonly used: number;
	readonly duplicate: number;
	readonly unused: number;
	/** Pack files that no index lists. */
	readonly unreferenced: number;
	readonly total: number;
	readonly repack: number;
	readonly repackRemove: number;
	readonly remove: number;
	/** Bytes the prune frees (repackRemove + remove + unreferenced); what `--dry-run` promises. */
	readonly removeTotal: number;
	readonly remaining: number;
	/** Unused bytes left behind (tolerated by maxUnused). */
	readonly remainingUnused: number;
}

/** Counts of pack files. */
export interface PrunePackCounts {
	/** Packs whose blobs are all needed. */
	readonly used: number;
	/** Packs with no needed blob. */
	readonly unused: number;
	readonly partlyUsed: number;
	/** Pack files no index lists (deleted first). */
	readonly unreferenced: number;
	/** Indexed packs missing from storage that hold nothing needed (dropped from the index). */
	readonly missing: number;
	readonly total: number;
	readonly keep: number;
	readonly repack: number;
	/** Unused packs deleted whole. */
	readonly remove: number;
	/** Every pack file deleted: unreferenced + repack + remove. */
	readonly removeTotal: number;
}

/** What a prune did (or, with dryRun, would do). */
export interface PruneReport {
	readonly dryRun: boolean;
	/** Snapshots whose trees were walked. */
	readonly snapshots: number;
	readonly blobs: PruneBlobCounts;
	readonly bytes: PruneByteCounts;
	readonly packs: PrunePackCounts;
	/** Pack IDs deleted (or to be deleted): unreferenced, repacked and unused packs, sorted. */
	readonly removedPacks: readonly string[];
	/** New packs written by the repack (0 with dryRun). */
	readonly packsWritten: number;
	readonly bytesWritten: number;
	/** Index files written and deleted (0 with dryRun). */
	readonly indexFilesWritten: number;
	readonly indexFilesDeleted: number;
	/**
	 * Pack files that could not be deleted (for example refused by an object lock). They are
	 * unreferenced now, which is harmless: the next prune tries again.
	 */
	readonly deleteFailures: readonly string[];
}
