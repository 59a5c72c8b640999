/**
 * runForget: carries out a retention plan on a repository. Like restic's `forget`, it holds an
 * exclusive lock (also for a dry run), reads every snapshot, plans, and removes the snapshot files
 * of the snapshots the plan removes. Only snapshot files are removed; their data stays until a prune.
 */
import {isStorageError} from '../../adapters/storage.js';
import {CairnError, UsageError} from '../errors.js';
import type {Snapshot} from '../format/snapshot.js';
import {acquireLock} from '../repository/lock.js';
import type {Repository} from '../repository/repository.js';
import {listSnapshots} from '../repository/snapshots.js';
import {describeGroupKey, DEFAULT_GROUP_BY, type GroupBy} from './group.js';
import {filterSnapshots, planRetention, type RetentionPlanGroup, type SnapshotFilter} from './plan.js';
import {describePolicy, isEmptyPolicy, PolicyError, validatePolicy, type RetentionPolicy} from './policy.js';
import {parseRecordedTime, type TimeZone} from './calendar.js';

/** Options of {@link runForget}. */
export interface ForgetOptions {
	/** The policy; it must not be empty (a UsageError says so). Ignored when `ids` is given. */
	policy: RetentionPolicy;
	/** Remove exactly these snapshots (full IDs) instead of applying the policy. */
	ids?: readonly string[];
	/** Default host and paths. */
	groupBy?: GroupBy;
	/** Only these snapshots are considered; the others are left alone. */
	filter?: SnapshotFilter;
	/** Plan only: nothing is removed. */
	dryRun?: boolean;
	/** The zone for keep-within arithmetic (default: the process's zone). */
	timeZone?: TimeZone | string;
	/** The current time in ms (default Date.now()): snapshots later than this are not the "newest". */
	now?: number;
	/** Do not take the exclusive lock (for callers that already hold one). */
	noLock?: boolean;
	signal?: AbortSignal;
	/** Called for each snapshot file that could not be read (it is neither kept nor removed). */
	onUnreadable?: (id: string, error: Error) => void;
	/** Called after each snapshot file is removed. */
	onRemoved?: (id: string) => void;
}

/** What runForget did. */
export interface ForgetResult {
	/** The plan: every group with its decisions (empty when `ids` was given). */
	groups: RetentionPlanGroup<Snapshot>[];
	/** The snapshots removed (or, for a dry run, that would be removed), as loaded. */
	remove: Snapshot[];
	/** IDs whose snapshot files were removed (empty for a dry run). */
	removed: string[];
	/** Snapshot files that could not be removed, with the reason. */
	failed: Array<{id: string; error: Error}>;
	/** Snapshot files that could not be read. */
	unreadable: Array<{id: string; error: Error}>;
}

/**
 * Applies a policy (or removes the given snapshot IDs) under an exclusive lock.
 *
 * Refuses (UsageError) an empty policy, and (CairnError, before removing anything) a plan that
 * would remove every snapshot of a group: a policy that keeps nothing of a host's backups is
 * almost always a mistake. Removal goes on past a failed file; failures are returned.
 */
export async function runForget(repo: Repository, options: ForgetOptions): Promise<ForgetResult> {
	const {signal} = options;
	if (!options.ids?.length) {
		try {
			validatePolicy(options.policy);
		} catch (error) {
			if (error instanceof PolicyError) throw new UsageError(error.message, {cause: error});
			throw error;
		}
		if (isEmptyPolicy(options.policy)) {
			throw new UsageError('no policy given, so no snapshot would be removed: give at least one --keep-* option, e.g. --keep-daily 7 --keep-weekly 4 (see `cairn forget --help`)');
		}
	}
	const lock = options.noLock ? undefined : await acquireLock(repo, {exclusive: true, signal});
	try {
		const unreadable: ForgetResult['unreadable'] = [];
		const reportUnreadable = (id: string, error: Error): void => {
			unreadable.push({id, error});
			options.onUnreadable?.(id, error);
		};
		// A time that cannot be read makes the snapshot unreadable, as it is for restic.
		const all = (await listSnapshots(repo, {signal, onError: reportUnreadable})).filter((s) => {
			try {
				parseRecordedTime(s.time);
				return true;
			} catch (error) {
				reportUnreadable(s.id, error as Error);
				return false;
			}
		});
		let groups: RetentionPlanGroup<Snapshot>[] = [];
		let remove: Snapshot[];
		if (options.ids?.length) {
			const wanted = new Set(options.ids);
			remove = all.filter((s) => wanted.has(s.id));
			const missing = options.ids.filter((id) => !remove.some((s) => s.id === id));
			if (missing.length) throw new CairnError(`no snapshot ${missing.map((id) => id.slice(0, 8)).join(', ')} in the repository: run \`cairn snapshots\` to list them`);
		} else {
			const considered = filterSnapshots(all, options.filter);
			groups = planRetention(considered, options.policy, {groupBy: options.groupBy ?? DEFAULT_GROUP_BY, timeZone: options.timeZone, now: options.now ?? Date.now()});
			const emptied = groups.filter((g) => g.keep.length === 0 && g.remove.length > 0);
			if (emptied.length) {
				const which = emptied.map((g) => describeGroupKey(g.key, options.groupBy ?? DEFAULT_GROUP_BY)).join('; ');
				throw new CairnError(`refusing to remove every snapshot of ${emptied.length === 1 ? 'a group' : `${emptied.length} groups`} (${which}): the policy "${describePolicy(options.policy)}" keeps none of them. Add a policy that keeps some, such as --keep-latest 1, or remove them by ID`);
			}
			remove = groups.flatMap((g) => g.remove);
		}
		const result: ForgetResult = {groups, remove, removed: [], failed: [], unreadable};
		if (options.dryRun) return result;
		for (const snapshot of remove) {
			signal?.throwIfAborted();
			try {
				await repo.storage.remove({type: 'snapshots', name: snapshot.id}, {signal});
				result.removed.push(snapshot.id);
				options.onRemoved?.(snapshot.id);
			} catch (error) {
				if (isStorageError(error, 'not-found')) {
					// Removed meanwhile by someone else ignoring the lock: it is gone, as wanted.
					result.removed.push(snapshot.id);
					continue;
				}
				if (signal?.aborted) throw error;
				result.failed.push({id: snapshot.id, error: error as Error});
			}
		}
		return result;
	} finally {
		await lock?.release();
	}
}
