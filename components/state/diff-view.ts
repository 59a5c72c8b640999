/**
 * The rows of the diff view: what changed from one snapshot to another (added, removed, changed),
 * each with its sizes, built from the engine's diff changes. Pure.
 */
import type {DiffChange} from '../../engine/diff/diff.js';
import type {TreeNode} from '../../engine/format/tree.js';

/** One row of the diff view. */
export interface DiffRow {
	readonly kind: 'added' | 'removed' | 'changed';
	/** restic's modifier: `+`, `-`, `M`, `T` (or `TM`). */
	readonly modifier: string;
	/** Path in the snapshots, directories ending in `/`. */
	readonly path: string;
	readonly type: TreeNode['type'];
	/** File sizes before and after (undefined where the side has no file). */
	readonly sizeBefore?: number;
	readonly sizeAfter?: number;
}

/** Totals shown above the list. */
export interface DiffTotals {
	added: number;
	removed: number;
	changed: number;
	/** Bytes of files added, removed, and the growth of changed files (may be negative). */
	bytesAdded: number;
	bytesRemoved: number;
	bytesChanged: number;
}

function fileSize(node: TreeNode | undefined): number | undefined {
	return node?.type === 'file' ? node.size ?? 0 : undefined;
}

/** Turns one change into a row. */
export function toDiffRow(change: DiffChange): DiffRow {
	const kind = change.modifier === '+' ? 'added' : change.modifier === '-' ? 'removed' : 'changed';
	const node = change.after ?? change.before!;
	return {kind, modifier: change.modifier, path: change.path, type: node.type, sizeBefore: fileSize(change.before), sizeAfter: fileSize(change.after)};
}

/** Adds a row to the totals. */
export function addToTotals(totals: DiffTotals, row: DiffRow): DiffTotals {
	const next = {...totals};
	if (row.kind === 'added') {
		next.added++;
		next.bytesAdded += row.sizeAfter ?? 0;
	} else if (row.kind === 'removed') {
		next.removed++;
		next.bytesRemoved += row.sizeBefore ?? 0;
	} else {
		next.changed++;
		next.bytesChanged += (row.sizeAfter ?? 0) - (row.sizeBefore ?? 0);
	}
	return next;
}

export const EMPTY_TOTALS: DiffTotals = {added: 0, removed: 0, changed: 0, bytesAdded: 0, bytesRemoved: 0, bytesChanged: 0};

/** Which of two snapshots is older: the diff goes from the older to the newer. */
export function orderByTime<T extends {time: string; id: string}>(a: T, b: T): [T, T] {
	const ta = Date.parse(a.time);
	const tb = Date.parse(b.time);
	return ta < tb || (ta === tb && a.id < b.id) ? [a, b] : [b, a];
}

/** Where Enter on a row leads: the snapshot side holding the entry, and its path without the trailing slash. */
export function locateRow(row: DiffRow): {side: 'before' | 'after'; path: string} {
	return {side: row.kind === 'removed' ? 'before' : 'after', path: row.path.replace(/\/$/, '')};
}
