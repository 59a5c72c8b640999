/**
 * Deciding what a prune does, as restic's prune decides it (internal/repository/prune.go):
 * - every needed blob must be indexed, or nothing happens;
 * - of several copies of a needed blob, one is kept: preferably in a pack that holds other needed
 *   blobs, or in a pack made only of such copies (what an interrupted repack leaves);
 * - packs no index lists are deleted; indexed packs with no needed blob are deleted; packs whose
 *   blobs are all needed are kept (small ones are repacked when there are at least ten);
 * - the other packs are repacked, those holding trees always and data packs, the ones with the
 *   largest unused share first, until the unused space left is below the `maxUnused` limit.
 * Planning is a pure function of the index, the needed blobs and the stored packs.
 */
import {CairnError} from '../errors.js';
import {computeHeaderSize, HEADER_LENGTH_FIELD} from '../checker/pack-files.js';
import {blobKey, type PackIndex} from './pack-index.js';

/** Packs below this size count as small (restic's MinPackSize). */
export const MIN_PACK_SIZE = 4 * 1024 * 1024;
/** At least this many small, fully used packs must exist before they are repacked. */
export const SMALL_PACKS_TO_REPACK = 10;

/** What one pack holds, as far as the prune is concerned. */
interface PackInfo {
	usedBlobs: number;
	unusedBlobs: number;
	duplicateBlobs: number;
	/** Bytes of needed blobs plus the pack header (so that used + unused is the file size). */
	usedSize: number;
	unusedSize: number;
	type: 'data' | 'tree' | 'mixed' | undefined;
}

/** Mutable counters behind the report. */
export interface PlanStats {
	blobs: {used: number; duplicate: number; unused: number; total: number; repack: number; repackRemove: number; remove: number; removeTotal: number; remaining: number};
	bytes: {used: number; duplicate: number; unused: number; unreferenced: number; total: number; repack: number; repackRemove: number; remove: number; removeTotal: number; remaining: number; remainingUnused: number};
	packs: {used: number; unused: number; partlyUsed: number; unreferenced: number; missing: number; total: number; keep: number; repack: number; remove: number; removeTotal: number};
}

/** What to do. */
export interface PrunePlan {
	/** Pack files no index lists: deleted first. Sorted. */
	readonly unreferencedPacks: readonly string[];
	/** Indexed packs with no needed blob: deleted after the new index is saved. */
	readonly removePacks: ReadonlySet<string>;
	/** Packs whose needed blobs are copied into new packs; deleted like removePacks. */
	readonly repackPacks: ReadonlySet<string>;
	/** Indexed packs missing from storage that hold nothing needed: dropped from the index. */
	readonly missingPacks: ReadonlySet<string>;
	/** Keys of the needed blobs that live only in repacked or removed packs: the repack copies each once. */
	readonly keepBlobs: ReadonlySet<string>;
	readonly stats: PlanStats;
}

/** What planning needs. */
export interface PlanInput {
	readonly index: PackIndex;
	/** Keys (`type:id`) of every needed blob. */
	readonly used: ReadonlySet<string>;
	/** Pack files in storage with their sizes. */
	readonly stored: ReadonlyMap<string, number>;
	/** Percentage of unused space to tolerate (0 ≤ maxUnused < 100). */
	readonly maxUnused: number;
}

/** Thrown when the repository is in a state prune must not touch (exit code 1). */
export class PruneRefusedError extends CairnError {}

function newStats(): PlanStats {
	return {
		blobs: {used: 0, duplicate: 0, unused: 0, total: 0, repack: 0, repackRemove: 0, remove: 0, removeTotal: 0, remaining: 0},
		bytes: {used: 0, duplicate: 0, unused: 0, unreferenced: 0, total: 0, repack: 0, repackRemove: 0, remove: 0, removeTotal: 0, remaining: 0, remainingUnused: 0},
		packs: {used: 0, unused: 0, partlyUsed: 0, unreferenced: 0, missing: 0, total: 0, keep: 0, repack: 0, remove: 0, removeTotal: 0},
	};
}

function listSome(items: readonly string[], limit = 5): string {
	const shown = items.slice(0, limit).join(', ');
	return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}

/** 0.8 × max(4 MiB, the size at the 3rd percentile of all packs): smaller packs count as small. */
export function computeTargetPackSize(sizes: readonly number[]): number {
	if (sizes.length === 0) return 0;
	const sorted = [...sizes].sort((a, b) => a - b);
	const percentile = sorted[Math.floor((sorted.length * 3) / 100)]!;
	return Math.floor((Math.max(MIN_PACK_SIZE, percentile) * 4) / 5);
}

/**
 * Counts the stored copies of each needed blob (copies in packs missing from storage do not count);
 * throws when a needed blob has none.
 */
function countCopies(input: PlanInput, packIds: readonly string[]): Map<string, number> {
	const counts = new Map<string, number>();
	const inMissingPacks = new Map<string, string>();
	for (const key of input.used) counts.set(key, 0);
	for (const packId of packIds) {
		const stored = input.stored.has(packId);
		for (const blob of input.index.packs.get(packId)!.blobs) {
			const key = blobKey(blob.type, blob.id);
			const count = counts.get(key);
			if (count === undefined) continue;
			if (stored) counts.set(key, count + 1);
			else inMissingPacks.set(key, packId);
		}
	}
	const lost = [...counts].filter(([, count]) => count === 0).map(([key]) => key);
	const inMissing = lost.filter((key) => inMissingPacks.has(key));
	if (inMissing.length > 0) {
		const packs = [...new Set(inMissing.map((key) => inMissingPacks.get(key)!))].sort();
		throw new PruneRefusedError(`${inMissing.length} blobs that snapshots need are only in pack files missing from storage (${listSome(packs)}); prune stopped before changing anything. Run \`cairn check\` to see which snapshots are affected`);
	}
	if (lost.length > 0) {
		throw new PruneRefusedError(`${lost.length} blobs that snapshots need are not in the index (${listSome(lost.map((key) => key.replace(':', ' blob ')))}): data seems to be missing, so prune will not start, to prevent further loss. Run \`cairn check --read-data\` to see what is damaged`);
	}
	return counts;
}

/** Classifies every blob of every indexed pack as used, unused or a duplicate; picks one copy of each duplicate. */
function describePacks(input: PlanInput, packIds: readonly string[], stats: PlanStats): Map<string, PackInfo> {
	const counts = countCopies(input, packIds);
	const infos = new Map<string, PackInfo>();
	let hasDuplicates = false;
	for (const packId of packIds) {
		const blobs = input.index.packs.get(packId)!.blobs;
		const info: PackInfo = {usedBlobs: 0, unusedBlobs: 0, duplicateBlobs: 0, usedSize: computeHeaderSize(blobs) + HEADER_LENGTH_FIELD, unusedSize: 0, type: undefined};
		const stored = input.stored.has(packId);
		for (const blob of blobs) {
			info.type = info.type === undefined || info.type === blob.type ? blob.type : 'mixed';
			// A copy in a pack missing from storage cannot be read: it counts as unused.
			const count = stored ? counts.get(blobKey(blob.type, blob.id)) ?? 0 : 0;
			if (count >= 2) {
				hasDuplicates = true;
				info.unusedSize += blob.length;
				info.unusedBlobs++;
				info.duplicateBlobs++;
				stats.bytes.duplicate += blob.length;
				stats.blobs.duplicate++;
			} else if (count === 1) {
				info.usedSize += blob.length;
				info.usedBlobs++;
				stats.bytes.used += blob.length;
				stats.blobs.used++;
			} else {
				info.unusedSize += blob.length;
				info.unusedBlobs++;
				stats.bytes.unused += blob.length;
				stats.blobs.unused++;
			}
		}
		infos.set(packId, info);
	}
	if (!hasDuplicates) return infos;
	// Each duplicated blob now becomes used in exactly one pack. A count of 0 marks "the last copy".
	for (const packId of packIds) {
		if (!input.stored.has(packId)) continue;
		const info = infos.get(packId)!;
		for (const blob of input.index.packs.get(packId)!.blobs) {
			const key = blobKey(blob.type, blob.id);
			const count = counts.get(key);
			if (count === undefined || count === 1) continue;
			if (info.usedBlobs > 0 || info.duplicateBlobs === info.unusedBlobs || count === 0) {
				info.usedSize += blob.length;
				info.usedBlobs++;
				info.unusedSize -= blob.length;
				info.unusedBlobs--;
				stats.bytes.used += blob.length;
				stats.blobs.used++;
				stats.bytes.duplicate -= blob.length;
				stats.blobs.duplicate--;
				counts.set(key, 1);
			} else {
				counts.set(key, count - 1 === 1 ? 0 : count - 1);
			}
		}
	}
	for (const [key, count] of counts) {
		if (count !== 1) throw new CairnError(`internal error while choosing copies of blob ${key}: ${count} copies left; nothing was changed`);
	}
	return infos;
}

interface Candidate {
	packId: string;
	info: PackInfo;
}

/** Orders repack candidates: packs holding trees first, then small packs, then by unused share, largest first. */
function compareCandidates(target: number): (a: Candidate, b: Candidate) => number {
	return (a, b) => {
		const aData = a.info.type === 'data';
		const bData = b.info.type === 'data';
		if (aData !== bData) return aData ? 1 : -1;
		const aSmall = a.info.usedSize + a.info.unusedSize < target;
		const bSmall = b.info.usedSize + b.info.unusedSize < target;
		if (aSmall !== bSmall) return aSmall ? -1 : 1;
		const aShare = a.info.unusedSize / (a.info.usedSize + a.info.unusedSize);
		const bShare = b.info.unusedSize / (b.info.usedSize + b.info.unusedSize);
		if (aShare !== bShare) return bShare - aShare;
		return a.packId < b.packId ? -1 : a.packId > b.packId ? 1 : 0;
	};
}

/**
 * Plans a prune. Throws PruneRefusedError, changing nothing, when a needed blob is not indexed,
 * when a needed pack is missing from storage, or when a needed pack's size disagrees with the index.
 */
export function planPrune(input: PlanInput): PrunePlan {
	if (!(input.maxUnused >= 0 && input.maxUnused < 100)) throw new CairnError(`invalid maxUnused ${input.maxUnused}: give a percentage from 0 up to (not including) 100`);
	const stats = newStats();
	const packIds = [...input.index.packs.keys()].sort();
	const infos = describePacks(input, packIds, stats);
	const target = computeTargetPackSize([...infos.values()].map((info) => info.usedSize + info.unusedSize));

	const unreferencedPacks: string[] = [];
	const removePacks = new Set<string>();
	const repackPacks = new Set<string>();
	const missingPacks = new Set<string>();
	const candidates: Candidate[] = [];
	const smallCandidates: Candidate[] = [];
	const mismatched: string[] = [];
	for (const packId of [...input.stored.keys()].sort()) {
		const size = input.stored.get(packId)!;
		const info = infos.get(packId);
		if (!info) {
			unreferencedPacks.push(packId);
			stats.bytes.unreferenced += size;
			continue;
		}
		if (info.usedSize + info.unusedSize !== size && info.usedBlobs !== 0) {
			mismatched.push(`${packId} has ${size} bytes, the index implies ${info.usedSize + info.unusedSize}`);
			continue;
		}
		if (info.usedBlobs === 0) stats.packs.unused++;
		else if (info.unusedBlobs === 0) stats.packs.used++;
		else stats.packs.partlyUsed++;

		if (info.usedBlobs === 0) {
			removePacks.add(packId);
			stats.blobs.remove += info.unusedBlobs;
			stats.bytes.remove += info.unusedSize;
		} else if (info.unusedBlobs === 0 && info.type !== 'mixed') {
			if (size >= target) stats.packs.keep++;
			else smallCandidates.push({packId, info});
		} else {
			candidates.push({packId, info});
		}
	}
	if (mismatched.length > 0) {
		throw new PruneRefusedError(`${mismatched.length} needed pack files do not have the size the index gives them (${listSome(mismatched, 3)}); prune stopped before changing anything. Run \`cairn check --read-data\` to see what is damaged`);
	}
	const needed: string[] = [];
	for (const [packId, info] of infos) {
		if (input.stored.has(packId)) continue;
		if (info.usedBlobs === 0) {
			missingPacks.add(packId);
			stats.blobs.remove += info.unusedBlobs;
			stats.bytes.remove += info.unusedSize;
		} else {
			needed.push(packId);
		}
	}
	if (needed.length > 0) {
		throw new PruneRefusedError(`the index lists ${needed.length} needed pack files that are missing from storage (${listSome(needed.sort())}); prune stopped before changing anything. Run \`cairn check\` to see which snapshots are affected`);
	}

	if (smallCandidates.length < SMALL_PACKS_TO_REPACK) stats.packs.keep += smallCandidates.length;
	else candidates.push(...smallCandidates);
	candidates.sort(compareCandidates(target));

	const maxUnusedAfter = (input.maxUnused / (100 - input.maxUnused)) * stats.bytes.used;
	for (const {packId, info} of candidates) {
		const remainingUnused = stats.bytes.duplicate + stats.bytes.unused - stats.bytes.remove - stats.bytes.repackRemove;
		const largeEnough = info.usedSize + info.unusedSize >= target;
		if (info.type === 'data' && remainingUnused < maxUnusedAfter && largeEnough) {
			stats.packs.keep++;
			continue;
		}
		repackPacks.add(packId);
		stats.blobs.repack += info.usedBlobs + info.unusedBlobs;
		stats.bytes.repack += info.usedSize + info.unusedSize;
		stats.blobs.repackRemove += info.unusedBlobs;
		stats.bytes.repackRemove += info.unusedSize;
	}

	// The blobs to copy: needed blobs with no copy in a pack that stays.
	const keepBlobs = new Set<string>();
	if (repackPacks.size > 0) {
		for (const key of input.used) keepBlobs.add(key);
		for (const [packId, pack] of input.index.packs) {
			if (repackPacks.has(packId) || removePacks.has(packId) || missingPacks.has(packId)) continue;
			for (const blob of pack.blobs) keepBlobs.delete(blobKey(blob.type, blob.id));
		}
	}

	stats.packs.unreferenced = unreferencedPacks.length;
	stats.packs.missing = missingPacks.size;
	stats.packs.repack = repackPacks.size;
	stats.packs.remove = removePacks.size;
	stats.packs.total = stats.packs.used + stats.packs.partlyUsed + stats.packs.unused + stats.packs.unreferenced;
	stats.packs.removeTotal = stats.packs.unreferenced + stats.packs.remove + stats.packs.repack;
	stats.blobs.total = stats.blobs.used + stats.blobs.unused + stats.blobs.duplicate;
	stats.blobs.removeTotal = stats.blobs.remove + stats.blobs.repackRemove;
	stats.blobs.remaining = stats.blobs.total - stats.blobs.removeTotal;
	stats.bytes.total = stats.bytes.used + stats.bytes.duplicate + stats.bytes.unused + stats.bytes.unreferenced;
	stats.bytes.removeTotal = stats.bytes.remove + stats.bytes.repackRemove + stats.bytes.unreferenced;
	stats.bytes.remaining = stats.bytes.total - stats.bytes.removeTotal;
	stats.bytes.remainingUnused = stats.bytes.duplicate + stats.bytes.unused - stats.bytes.remove - stats.bytes.repackRemove;
	return {unreferencedPacks, removePacks, repackPacks, missingPacks, keepBlobs, stats};
}
