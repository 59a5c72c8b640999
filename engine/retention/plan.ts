/**
 * A retention plan: snapshots grouped, the policy applied to each group. Pure; the CLI and the
 * TUI show it, and runForget carries it out.
 */
import {applyPolicy, hasTags, type ApplyPolicyOptions, type PolicyResult, type PolicySnapshot} from './apply.js';
import {DEFAULT_GROUP_BY, groupSnapshots, type GroupableSnapshot, type GroupBy, type SnapshotGroupKey} from './group.js';
import type {RetentionPolicy} from './policy.js';

/** One group of a plan: its key and the policy's decisions for its snapshots. */
export interface RetentionPlanGroup<S> extends PolicyResult<S> {
	key: SnapshotGroupKey;
}

/** Options of {@link planRetention}. */
export interface PlanOptions extends ApplyPolicyOptions {
	/** Default host and paths. */
	groupBy?: GroupBy;
}

/** Groups the snapshots and applies the policy to each group; groups come sorted by key. */
export function planRetention<S extends PolicySnapshot & GroupableSnapshot>(snapshots: readonly S[], policy: RetentionPolicy, options: PlanOptions = {}): RetentionPlanGroup<S>[] {
	return groupSnapshots(snapshots, options.groupBy ?? DEFAULT_GROUP_BY).map((group) => ({key: group.key, ...applyPolicy(group.snapshots, policy, options)}));
}

/** Which snapshots a forget looks at; an empty or missing field does not filter. */
export interface SnapshotFilter {
	/** Snapshots of any of these hosts. */
	hosts?: readonly string[];
	/** Snapshots having all tags of at least one list. */
	tags?: readonly (readonly string[])[];
	/** Snapshots that include every one of these paths. */
	paths?: readonly string[];
}

/** Keeps the snapshots that match the filter (restic's --host, --tag and --path rules). */
export function filterSnapshots<S extends GroupableSnapshot>(snapshots: readonly S[], filter: SnapshotFilter = {}): S[] {
	return snapshots.filter((s) => (!filter.hosts?.length || filter.hosts.includes(s.hostname ?? ''))
		&& (!filter.tags?.length || filter.tags.some((list) => hasTags(s, list)))
		&& (!filter.paths?.length || filter.paths.every((p) => s.paths.includes(p))));
}
