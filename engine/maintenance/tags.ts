/**
 * `tag`: changes the tags of snapshots the way restic does. A snapshot file's name is the hash of
 * its content, so a changed snapshot is saved as a new file (with `original` naming the first
 * snapshot of the chain) and the old file is removed.
 */
import type {Snapshot, SnapshotJson} from '../format/snapshot.js';
import type {Repository} from '../repository/repository.js';
import {saveSnapshot} from '../repository/snapshots.js';
import {snapshotFields} from './select.js';

/** What to do with the tags: replace them (`set`), or add and remove. */
export interface TagChange {
	/** Replaces every tag; `['']` means no tags (restic's rule). Exclusive with add/remove. */
	readonly set?: readonly string[];
	readonly add?: readonly string[];
	readonly remove?: readonly string[];
}

/**
 * The snapshot's fields with the tags changed, or undefined when nothing changes (pure). With
 * `set`, the snapshot always counts as changed, as in restic. `original` is kept when set and
 * otherwise becomes the snapshot's own ID.
 */
export function applyTagChange(snapshot: Snapshot, change: TagChange): SnapshotJson | undefined {
	const fields = snapshotFields(snapshot);
	let tags = [...(snapshot.tags ?? [])];
	let changed = false;
	if (change.set?.length) {
		tags = change.set.length === 1 && change.set[0] === '' ? [] : [...change.set];
		changed = true;
	} else {
		for (const tag of change.add ?? []) {
			if (!tags.includes(tag)) {
				tags.push(tag);
				changed = true;
			}
		}
		const remove = new Set(change.remove ?? []);
		const kept = tags.filter((tag) => !remove.has(tag));
		if (kept.length !== tags.length) changed = true;
		tags = kept;
	}
	if (!changed) return undefined;
	return {...fields, tags, original: snapshot.original || snapshot.id};
}

/** What happened to one snapshot. */
export interface TagOutcome {
	readonly snapshot: Snapshot;
	/** The new snapshot's ID, when the tags changed. */
	readonly newId?: string;
	readonly error?: Error;
}

/**
 * Changes the tags of each snapshot: saves the new snapshot file, then removes the old one. A
 * failure is reported in the outcome and the next snapshot is tried (restic warns and goes on).
 * The caller holds an exclusive lock.
 */
export async function changeTags(repo: Repository, snapshots: readonly Snapshot[], change: TagChange, signal?: AbortSignal): Promise<TagOutcome[]> {
	const outcomes: TagOutcome[] = [];
	for (const snapshot of snapshots) {
		const next = applyTagChange(snapshot, change);
		if (!next) {
			outcomes.push({snapshot});
			continue;
		}
		try {
			const newId = await saveSnapshot(repo, next, signal);
			await repo.storage.remove({type: 'snapshots', name: snapshot.id}, {signal});
			outcomes.push({snapshot, newId});
		} catch (error) {
			if (signal?.aborted) throw error;
			outcomes.push({snapshot, error: error as Error});
		}
	}
	return outcomes;
}
