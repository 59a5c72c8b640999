/**
 * Grouping snapshots before a policy is applied, as restic does: by host and paths unless told
 * otherwise, so that each machine and each backed-up set of paths keeps its own history.
 */

/** What snapshots are grouped by. All false puts every snapshot in one group. */
export interface GroupBy {
	host: boolean;
	paths: boolean;
	tags: boolean;
}

/** The default grouping: host and paths. */
export const DEFAULT_GROUP_BY: Readonly<GroupBy> = Object.freeze({host: true, paths: true, tags: false});

/** The fields of a snapshot grouping looks at. */
export interface GroupableSnapshot {
	hostname?: string;
	paths: readonly string[];
	tags?: readonly string[];
}

/**
 * The key of a group, in restic's JSON shape: `hostname` is '' and `paths` / `tags` are null
 * when not grouped by them; `paths` and `tags` are sorted; `tags` is null for untagged snapshots.
 */
export interface SnapshotGroupKey {
	hostname: string;
	paths: string[] | null;
	tags: string[] | null;
}

/** A group: its key and its snapshots, in the order given. */
export interface SnapshotGroup<S> {
	key: SnapshotGroupKey;
	snapshots: S[];
}

/** Thrown for a --group-by value that cannot be read. */
export class GroupByError extends Error {
	constructor(message: string) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'GroupByError', enumerable: false});
	}
}

/**
 * Parses `host,paths,tags` (any subset, comma separated; `hosts`, `path` and `tag` also accepted;
 * '' groups nothing). Throws GroupByError for an unknown word.
 */
export function parseGroupBy(text: string): GroupBy {
	const result: GroupBy = {host: false, paths: false, tags: false};
	for (const raw of text.split(',')) {
		const word = raw.trim();
		if (word === 'host' || word === 'hosts') result.host = true;
		else if (word === 'path' || word === 'paths') result.paths = true;
		else if (word === 'tag' || word === 'tags') result.tags = true;
		else if (word !== '') throw new GroupByError(`unknown grouping ${JSON.stringify(word)} in --group-by ${JSON.stringify(text)}: use host, paths and/or tags separated by commas, or '' for no grouping`);
	}
	return result;
}

/** Formats a grouping back to its `host,paths,tags` text ('' for none). */
export function formatGroupBy(groupBy: GroupBy): string {
	return [groupBy.host && 'host', groupBy.paths && 'paths', groupBy.tags && 'tags'].filter(Boolean).join(',');
}

/** The group key of one snapshot. */
export function findGroupKey(snapshot: GroupableSnapshot, groupBy: GroupBy): SnapshotGroupKey {
	const tags = groupBy.tags && snapshot.tags?.length ? [...snapshot.tags].sort(compareStrings) : null;
	return {
		hostname: groupBy.host ? snapshot.hostname ?? '' : '',
		paths: groupBy.paths ? [...snapshot.paths].sort(compareStrings) : null,
		tags,
	};
}

/** Byte-wise string order, as Go's sort.Strings. */
export function compareStrings(a: string, b: string): number {
	const ba = Buffer.from(a, 'utf8');
	const bb = Buffer.from(b, 'utf8');
	return Buffer.compare(ba, bb);
}

function keyText(key: SnapshotGroupKey): string {
	return JSON.stringify([key.hostname, key.paths, key.tags]);
}

/**
 * Splits snapshots into groups by `groupBy` (a GroupBy or its text). Groups come sorted by host,
 * then paths, then tags; each keeps its snapshots in the order given.
 */
export function groupSnapshots<S extends GroupableSnapshot>(snapshots: readonly S[], groupBy: GroupBy | string = DEFAULT_GROUP_BY): SnapshotGroup<S>[] {
	const by = typeof groupBy === 'string' ? parseGroupBy(groupBy) : groupBy;
	const groups = new Map<string, SnapshotGroup<S>>();
	for (const snapshot of snapshots) {
		const key = findGroupKey(snapshot, by);
		const text = keyText(key);
		let group = groups.get(text);
		if (!group) {
			group = {key, snapshots: []};
			groups.set(text, group);
		}
		group.snapshots.push(snapshot);
	}
	return [...groups.values()].sort((a, b) => compareGroupKeys(a.key, b.key));
}

function compareLists(a: readonly string[] | null, b: readonly string[] | null): number {
	const la = a ?? [];
	const lb = b ?? [];
	for (let i = 0; i < Math.min(la.length, lb.length); i++) {
		const order = compareStrings(la[i]!, lb[i]!);
		if (order !== 0) return order;
	}
	return la.length - lb.length;
}

function compareGroupKeys(a: SnapshotGroupKey, b: SnapshotGroupKey): number {
	return compareStrings(a.hostname, b.hostname) || compareLists(a.paths, b.paths) || compareLists(a.tags, b.tags);
}

/** Describes a group key for people: `host vm, paths /home, tags daily`; `all snapshots` when not grouped. */
export function describeGroupKey(key: SnapshotGroupKey, groupBy: GroupBy): string {
	const parts: string[] = [];
	if (groupBy.host) parts.push(`host ${key.hostname || '(none)'}`);
	if (groupBy.paths) parts.push(`paths ${key.paths?.length ? key.paths.join(', ') : '(none)'}`);
	if (groupBy.tags) parts.push(`tags ${key.tags?.length ? key.tags.join(', ') : '(none)'}`);
	return parts.length ? parts.join(', ') : 'all snapshots';
}
