/**
 * Files and bytes of snapshots: from the snapshot's own summary when it has one (restic 0.17
 * and later write it), from backups made in this session, or counted by walking its trees.
 * Counts are kept per tree, so snapshots that share directories are counted quickly, and a
 * count that was interrupted resumes where it stopped. No React here.
 */
import type {Snapshot} from '../engine/format/snapshot.js';
import type {TreeSource} from './find.js';
import type {SnapshotStats} from './state/snapshot-list.js';

/** The stats a snapshot records itself (restic's `summary`), if any. */
export function readRecordedStats(snapshot: Snapshot): SnapshotStats | undefined {
	const summary = snapshot.summary as Record<string, unknown> | undefined;
	const files = summary?.total_files_processed;
	const bytes = summary?.total_bytes_processed;
	return typeof files === 'number' && typeof bytes === 'number' ? {files, bytes} : undefined;
}

/** Counts files and bytes below trees, remembering every tree counted. */
export class TreeStatsCounter {
	private readonly byTree = new Map<string, SnapshotStats>();
	/** Stats of snapshots, by ID (recorded, given, or counted). */
	readonly bySnapshot = new Map<string, SnapshotStats>();

	constructor(private readonly source: TreeSource) {}

	/** Records the stats of a snapshot known otherwise (e.g. the summary of a backup just made). */
	remember(snapshotId: string, stats: SnapshotStats): void {
		this.bySnapshot.set(snapshotId, stats);
	}

	/** The stats of a snapshot, if known already. */
	peek(snapshot: Snapshot): SnapshotStats | undefined {
		return this.bySnapshot.get(snapshot.id) ?? readRecordedStats(snapshot) ?? this.byTree.get(snapshot.tree);
	}

	/** Counts a snapshot's files and bytes (regular files only, as restic's summary does). */
	async count(snapshot: Snapshot, signal?: AbortSignal): Promise<SnapshotStats> {
		const known = this.peek(snapshot);
		if (known !== undefined) return known;
		const stats = await this.countTree(snapshot.tree, signal);
		this.bySnapshot.set(snapshot.id, stats);
		return stats;
	}

	private async countTree(treeId: string, signal?: AbortSignal): Promise<SnapshotStats> {
		const known = this.byTree.get(treeId);
		if (known !== undefined) return known;
		signal?.throwIfAborted();
		const nodes = await this.source.load(treeId, signal);
		let files = 0;
		let bytes = 0;
		for (const node of nodes) {
			if (node.type === 'file') {
				files++;
				bytes += node.size ?? 0;
			} else if (node.type === 'dir' && node.subtree) {
				const below = await this.countTree(node.subtree, signal);
				files += below.files;
				bytes += below.bytes;
			}
		}
		const stats = {files, bytes};
		this.byTree.set(treeId, stats);
		return stats;
	}
}
