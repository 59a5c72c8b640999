/**
 * Walking the trees of a snapshot.
 */
import {decodeTree, checkNodeName, type TreeNode} from '../format/tree.js';
import {IntegrityError} from '../errors.js';
import type {Repository} from '../repository/repository.js';

/** Loads the entries of a tree; lets a caller decode trees elsewhere (e.g. off the UI thread). */
export type TreeSource = (treeId: string, signal?: AbortSignal) => Promise<readonly TreeNode[]>;

/** Loads and decodes a tree blob. */
export async function loadTree(repo: Repository, id: string, signal?: AbortSignal): Promise<TreeNode[]> {
	const bytes = await repo.loadBlob('tree', id, signal);
	try {
		return decodeTree(bytes, id).nodes;
	} catch (error) {
		throw new IntegrityError(`tree ${id} cannot be decoded: ${(error as Error).message}`, {cause: error});
	}
}

/** Splits a snapshot path like `/home/me/docs` into components, ignoring empty ones. */
export function splitSnapshotPath(p: string): string[] {
	return p.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Finds the node at a path inside a snapshot tree. Returns `{nodes}` for the root or a directory's
 * listing, plus the node itself for non-root paths; undefined when the path does not exist.
 */
export async function resolvePath(repo: Repository, rootTree: string, p: string, signal?: AbortSignal): Promise<{node?: TreeNode; children?: TreeNode[]} | undefined> {
	let nodes = await loadTree(repo, rootTree, signal);
	let node: TreeNode | undefined;
	for (const part of splitSnapshotPath(p)) {
		node = nodes.find((n) => n.name === part);
		if (!node) return undefined;
		if (node.type === 'dir' && node.subtree) nodes = await loadTree(repo, node.subtree, signal);
		else nodes = [];
	}
	return {node, children: node && node.type !== 'dir' ? undefined : nodes};
}

/** One entry met while walking, with its path relative to the snapshot root (no leading slash). */
export interface WalkEntry {
	path: string;
	node: TreeNode;
}

/**
 * Walks a tree depth-first in name order, calling `visit` for every node (directories before
 * their contents). Names that are unsafe (`..`, containing `/` or NUL) are reported through
 * `onUnsafe` and skipped together with everything below them.
 * `visit` may return false to skip a directory's contents.
 */
export async function walkTree(
	repo: Repository,
	treeId: string,
	visit: (entry: WalkEntry) => boolean | void | Promise<boolean | void>,
	options: {prefix?: string; signal?: AbortSignal; onUnsafe?: (path: string, reason: string) => void; loadTree?: TreeSource} = {},
): Promise<void> {
	const nodes = options.loadTree ? await options.loadTree(treeId, options.signal) : await loadTree(repo, treeId, options.signal);
	for (const node of nodes) {
		const unsafe = checkNodeName(node.name);
		const p = options.prefix ? `${options.prefix}/${node.name}` : node.name;
		if (unsafe) {
			options.onUnsafe?.(p, unsafe);
			continue;
		}
		const descend = await visit({path: p, node});
		if (node.type === 'dir' && node.subtree && descend !== false) {
			await walkTree(repo, node.subtree, visit, {...options, prefix: p});
		}
	}
}
