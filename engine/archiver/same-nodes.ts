/**
 * Whether a directory's new nodes equal those of its tree in the parent snapshot, so that the
 * parent's tree blob can be reused instead of encoding and hashing the same tree again.
 */
import {isDeepStrictEqual} from 'node:util';
import type {TreeNode} from '../format/tree.js';

/** A field that a tree leaves out: absent, undefined or null (restic writes `"content": null`). */
function isAbsent(value: unknown): boolean {
	return value === undefined || value === null;
}

/**
 * Tells whether two nodes hold the same fields with the same values. Absent, undefined and null
 * count as the same; anything else must be deeply equal, so a difference in any field, however
 * written, means "not the same" (the tree is then encoded anew, which is always correct).
 */
export function sameNode(a: TreeNode, b: TreeNode): boolean {
	if (a === b) return true;
	const left = a as unknown as Record<string, unknown>;
	const right = b as unknown as Record<string, unknown>;
	for (const key of Object.keys(left)) {
		const x = left[key];
		const y = right[key];
		if (isAbsent(x)) {
			if (!isAbsent(y)) return false;
		} else if (x !== y && !isDeepStrictEqual(x, y)) {
			return false;
		}
	}
	for (const key of Object.keys(right)) {
		if (!isAbsent(right[key]) && isAbsent(left[key])) return false;
	}
	return true;
}

/** Tells whether `current` (by name) holds exactly the nodes of `previous`, each the same. */
export function sameNodes(current: ReadonlyMap<string, TreeNode>, previous: ReadonlyMap<string, TreeNode>): boolean {
	if (current.size !== previous.size) return false;
	for (const [name, node] of current) {
		const old = previous.get(name);
		if (!old || !sameNode(node, old)) return false;
	}
	return true;
}
