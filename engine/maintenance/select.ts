/**
 * Which snapshots a maintenance command works on, by restic's rules: the IDs given (a unique
 * prefix, or `latest` narrowed by the filters), or else every snapshot that passes the filters.
 */
import type {Snapshot} from '../format/snapshot.js';
import {filterSnapshots, type SnapshotFilter} from '../retention/plan.js';
import {CairnError} from '../errors.js';
import type {Repository} from '../repository/repository.js';
import {listSnapshots} from '../repository/snapshots.js';

/** Options of {@link selectSnapshots}. */
export interface SelectOptions {
	readonly filter?: SnapshotFilter;
	readonly signal?: AbortSignal;
	/** Told about snapshot files that cannot be read (they are skipped). */
	readonly onUnreadable?: (id: string, error: Error) => void;
	/**
	 * Told about a ref that names no snapshot (or several); the others are still returned, as
	 * restic ignores such a ref with a warning. Without it, the first such ref throws.
	 */
	readonly onUnresolved?: (ref: string, error: Error) => void;
}

/**
 * Resolves `refs` (IDs, unique prefixes or `latest`) to snapshots, in the order given, each once;
 * with no refs, every snapshot passing the filter, oldest first. Throws a CairnError naming a ref
 * that matches no snapshot or more than one.
 */
export async function selectSnapshots(repo: Repository, refs: readonly string[], options: SelectOptions = {}): Promise<Snapshot[]> {
	const all = await listSnapshots(repo, {signal: options.signal, onError: options.onUnreadable ?? (() => undefined)});
	if (refs.length === 0) return filterSnapshots(all, options.filter);
	const chosen: Snapshot[] = [];
	const seen = new Set<string>();
	for (const ref of refs) {
		let snapshot: Snapshot;
		try {
			snapshot = resolveSnapshotRef(all, ref, options.filter);
		} catch (error) {
			if (!options.onUnresolved || !(error instanceof CairnError)) throw error;
			options.onUnresolved(ref, error);
			continue;
		}
		if (!seen.has(snapshot.id)) chosen.push(snapshot);
		seen.add(snapshot.id);
	}
	return chosen;
}

/** Finds one snapshot by `latest`, a full ID or a unique prefix (pure). */
export function resolveSnapshotRef(all: readonly Snapshot[], ref: string, filter?: SnapshotFilter): Snapshot {
	if (ref === 'latest') {
		const last = filterSnapshots(all, filter).at(-1);
		if (!last) throw new CairnError('no snapshot found: no snapshot matches the host, tag and path filters given');
		return last;
	}
	if (!/^[0-9a-f]+$/.test(ref)) throw new CairnError(`invalid snapshot ID ${JSON.stringify(ref)}: give a hex ID, a unique prefix, or "latest"`);
	const matches = all.filter((s) => s.id.startsWith(ref));
	if (matches.length === 0) throw new CairnError(`no snapshot with ID ${ref}: run \`cairn snapshots\` to list them`);
	if (matches.length > 1) throw new CairnError(`snapshot prefix ${ref} is ambiguous (${matches.length} snapshots match): give more characters`);
	return matches[0]!;
}

/** The snapshot's fields without its ID, as they are stored. */
export function snapshotFields(snapshot: Snapshot): Omit<Snapshot, 'id'> {
	const {id: _id, ...fields} = snapshot;
	return fields;
}
