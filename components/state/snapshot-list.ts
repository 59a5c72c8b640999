/**
 * The snapshot list: snapshots grouped by source (host and paths), a `/` filter, a sort order,
 * and groups that fold. Only the rows on screen are drawn, so lists of 10,000 snapshots stay
 * fluid. Pure functions only.
 */
import type {Snapshot} from '../../engine/format/snapshot.js';
import {moveList, type ListMove, type ListState, type ListView} from './list.js';

/** The orders the list can be sorted in. */
export const SNAPSHOT_SORTS = ['newest', 'oldest', 'largest'] as const;
/** One of {@link SNAPSHOT_SORTS}. */
export type SnapshotSort = (typeof SNAPSHOT_SORTS)[number];

/** What a sort order is called on screen. */
export const SORT_LABELS: Record<SnapshotSort, string> = {newest: 'newest first', oldest: 'oldest first', largest: 'largest first'};

/** Files and bytes of a snapshot, when known. */
export interface SnapshotStats {
	readonly files: number;
	readonly bytes: number;
}

/** A snapshot with what its row shows, computed once. */
export interface SnapshotEntry {
	readonly snapshot: Snapshot;
	readonly date?: Date;
	readonly time: number;
	/** The source: host and paths. */
	readonly groupKey: string;
	readonly groupLabel: string;
	/** Lowercase text the filter searches: ID, time, host, tags, paths. */
	readonly haystack: string;
}

/** A row of the list: a group heading or a snapshot. */
export type SnapshotRowItem =
	| {readonly type: 'group'; readonly key: string; readonly label: string; readonly count: number; readonly total: number; readonly collapsed: boolean}
	| {readonly type: 'snapshot'; readonly entry: SnapshotEntry};

/** The state of the list. */
export interface SnapshotListState {
	readonly list: ListState;
	readonly filter: string;
	readonly editing: boolean;
	readonly sort: SnapshotSort;
	/** Group keys that are folded. */
	readonly collapsed: readonly string[];
}

/** Changes to a {@link SnapshotListState}. Movements carry the view they apply to. */
export type SnapshotListAction =
	| {readonly type: 'list'; readonly move: ListMove; readonly view: ListView}
	| {readonly type: 'start-filter'}
	| {readonly type: 'set-filter'; readonly filter: string}
	| {readonly type: 'accept-filter'}
	| {readonly type: 'clear-filter'}
	| {readonly type: 'cycle-sort'}
	| {readonly type: 'toggle-group'; readonly key: string};

/** The cursor on the first snapshot (the first row is the heading of its source). */
export const FIRST_SNAPSHOT: ListState = {cursor: 1, offset: 0};

/** The initial state: newest first, nothing folded, no filter, the cursor on the newest snapshot. */
export const INITIAL_SNAPSHOT_LIST: SnapshotListState = {list: FIRST_SNAPSHOT, filter: '', editing: false, sort: 'newest', collapsed: []};

/** The source key of a snapshot: its host and its paths (in order), as retention groups them. */
export function findSourceKey(snapshot: Snapshot): string {
	return `${snapshot.hostname ?? ''}\u0000${[...snapshot.paths].sort().join('\u0000')}`;
}

/** Reducer of {@link SnapshotListState}. */
export function reduceSnapshotList(state: SnapshotListState, action: SnapshotListAction): SnapshotListState {
	switch (action.type) {
		case 'list': {
			const list = moveList(state.list, action.move, action.view);
			return list === state.list ? state : {...state, list};
		}
		case 'start-filter':
			return {...state, editing: true};
		case 'set-filter':
			return action.filter === state.filter ? state : {...state, filter: action.filter, list: FIRST_SNAPSHOT};
		case 'accept-filter':
			return {...state, editing: false};
		case 'clear-filter':
			return {...state, list: state.filter === '' ? state.list : FIRST_SNAPSHOT, filter: '', editing: false};
		case 'cycle-sort': {
			const next = SNAPSHOT_SORTS[(SNAPSHOT_SORTS.indexOf(state.sort) + 1) % SNAPSHOT_SORTS.length]!;
			return {...state, sort: next, list: FIRST_SNAPSHOT};
		}
		case 'toggle-group': {
			const collapsed = state.collapsed.includes(action.key) ? state.collapsed.filter((key) => key !== action.key) : [...state.collapsed, action.key];
			return {...state, collapsed};
		}
	}
}

/** Compares two entries for a sort order; unknown sizes sort last. */
function compareEntries(a: SnapshotEntry, b: SnapshotEntry, sort: SnapshotSort, sizeOf: (entry: SnapshotEntry) => number | undefined): number {
	if (sort === 'oldest') return a.time - b.time;
	if (sort === 'largest') {
		const difference = (sizeOf(b) ?? -1) - (sizeOf(a) ?? -1);
		if (difference !== 0) return difference;
	}
	return b.time - a.time;
}

/**
 * The rows to show: a heading per source followed by its snapshots (unless folded), only the
 * snapshots matching every word of the filter, in the sort order. Groups come in the order of
 * their first snapshot.
 */
export function buildSnapshotRows(entries: readonly SnapshotEntry[], state: Pick<SnapshotListState, 'filter' | 'sort' | 'collapsed'>, sizeOf: (entry: SnapshotEntry) => number | undefined = () => undefined): SnapshotRowItem[] {
	const words = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
	const totals = new Map<string, number>();
	const groups = new Map<string, SnapshotEntry[]>();
	for (const entry of entries) {
		totals.set(entry.groupKey, (totals.get(entry.groupKey) ?? 0) + 1);
		if (words.length > 0 && !words.every((word) => entry.haystack.includes(word))) continue;
		let list = groups.get(entry.groupKey);
		if (list === undefined) {
			list = [];
			groups.set(entry.groupKey, list);
		}
		list.push(entry);
	}
	const ordered = [...groups.values()].map((list) => list.sort((a, b) => compareEntries(a, b, state.sort, sizeOf)));
	ordered.sort((a, b) => compareEntries(a[0]!, b[0]!, state.sort, sizeOf));
	const rows: SnapshotRowItem[] = [];
	for (const list of ordered) {
		const first = list[0]!;
		const collapsed = state.collapsed.includes(first.groupKey);
		rows.push({type: 'group', key: first.groupKey, label: first.groupLabel, count: list.length, total: totals.get(first.groupKey) ?? list.length, collapsed});
		if (!collapsed) for (const entry of list) rows.push({type: 'snapshot', entry});
	}
	return rows;
}
