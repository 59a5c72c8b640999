/**
 * Replaces a snapshot by one with a rewritten tree, as restic's `rewrite` and `repair snapshots`
 * do: the new snapshot records the old one's ID in `original`, gets a tag (`rewrite`, `repaired`)
 * unless the old one is removed (`forget`), and a snapshot whose root tree is gone is removed.
 */
import type {Snapshot} from '../format/snapshot.js';
import type {Repository} from '../repository/repository.js';
import {saveSnapshot} from '../repository/snapshots.js';
import {snapshotFields} from './select.js';
import type {TreeRewriter} from './tree-rewriter.js';

/** What {@link replaceSnapshot} did (or, in a dry run, would do). */
export type ReplaceOutcome =
	| {readonly kind: 'unchanged'}
	/** The root tree could not be read: the snapshot was removed. */
	| {readonly kind: 'removed-empty'}
	/** A new snapshot was saved (`newId` is undefined in a dry run); `forgotten` when the old one was removed. */
	| {readonly kind: 'replaced'; readonly newId?: string; readonly forgotten: boolean};

/** Settings of {@link replaceSnapshot}. */
export interface ReplaceOptions {
	readonly dryRun?: boolean;
	/** Remove the old snapshot (and add no tag). */
	readonly forget?: boolean;
	/** Tag added to the new snapshot when the old one stays. */
	readonly addTag: string;
	readonly signal?: AbortSignal;
}

/**
 * Saves the snapshot with `newTree` in place of its tree. Call after the new trees are flushed
 * to the repository. `newTree` undefined removes the snapshot; the same tree changes nothing.
 */
export async function replaceSnapshot(repo: Repository, snapshot: Snapshot, newTree: string | undefined, options: ReplaceOptions): Promise<ReplaceOutcome> {
	const {signal} = options;
	if (newTree === undefined) {
		if (!options.dryRun) await repo.storage.remove({type: 'snapshots', name: snapshot.id}, {signal});
		return {kind: 'removed-empty'};
	}
	if (newTree === snapshot.tree) return {kind: 'unchanged'};
	if (options.dryRun) return {kind: 'replaced', forgotten: Boolean(options.forget)};
	const fields = snapshotFields(snapshot);
	const tags = [...(fields.tags ?? [])];
	if (!options.forget && !tags.includes(options.addTag)) tags.push(options.addTag);
	const newId = await saveSnapshot(repo, {...fields, tree: newTree, tags, original: snapshot.id}, signal);
	if (options.forget) await repo.storage.remove({type: 'snapshots', name: snapshot.id}, {signal});
	return {kind: 'replaced', newId, forgotten: Boolean(options.forget)};
}

/** Settings of {@link replaceSnapshots}. */
export interface ReplaceAllOptions extends ReplaceOptions {
	/** Told before each snapshot is rewritten. */
	readonly onSnapshot?: (snapshot: Snapshot) => void;
	/** Told what became of each snapshot. */
	readonly onOutcome?: (snapshot: Snapshot, outcome: ReplaceOutcome) => void;
}

/**
 * Rewrites each snapshot's tree with the rewriter `rewriterFor` gives for it, flushes, and replaces
 * the snapshot ({@link replaceSnapshot}); resolves with the number of snapshots changed. On an
 * error, what reached storage is indexed (no snapshot refers to it, so prune can remove it later).
 */
export async function replaceSnapshots(repo: Repository, snapshots: readonly Snapshot[], rewriterFor: (snapshot: Snapshot) => TreeRewriter, options: ReplaceAllOptions): Promise<number> {
	let changed = 0;
	try {
		for (const snapshot of snapshots) {
			options.onSnapshot?.(snapshot);
			const tree = await rewriterFor(snapshot).rewrite(snapshot.tree);
			if (!options.dryRun) await repo.flush(options.signal);
			const outcome = await replaceSnapshot(repo, snapshot, tree, {dryRun: options.dryRun, forget: options.forget, addTag: options.addTag, signal: options.signal});
			options.onOutcome?.(snapshot, outcome);
			if (outcome.kind !== 'unchanged') changed++;
		}
	} catch (error) {
		if (!options.dryRun) await repo.salvage().catch(() => undefined);
		throw error;
	}
	return changed;
}
