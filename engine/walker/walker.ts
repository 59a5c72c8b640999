/**
 * A tree walk with restic's walker semantics (internal/walker in restic 0.14): nodes in byte order
 * of their names, a visitor that may ignore a node or skip a directory, and a set of trees to
 * ignore that grows while walking (a directory whose visit and contents were all ignored is not
 * walked again when the same tree is met later, also in another snapshot sharing the set).
 * find and stats depend on these rules for their results to equal restic's.
 */
import {compareNames, type TreeNode} from '../format/tree.js';

/** Loads the nodes of a tree blob. */
export type TreeLoader = (treeId: string) => Promise<readonly TreeNode[]>;

/** Returned by a visitor to skip a directory's contents (or, for other nodes, the rest of the directory). */
export const SKIP_NODE = Symbol('skip node');

/** What a visitor returns: whether the node is ignored, and optionally SKIP_NODE. */
export interface VisitResult {
	ignore: boolean;
	skip?: boolean;
}

/**
 * Called for the root (node undefined, path "/") and then for every node below it.
 * `parentTree` is the ID of the tree holding the node. `error` is set when the node's subtree (or
 * the root tree) could not be loaded; the visitor decides: throw to stop, or return skip.
 */
export type WalkVisitor = (parentTree: string, path: string, node: TreeNode | undefined, error?: Error) => VisitResult | Promise<VisitResult>;

function joinPath(prefix: string, name: string): string {
	return prefix === '/' ? `/${name}` : `${prefix}/${name}`;
}

/**
 * Walks the tree `root`. `ignoreTrees` collects IDs of trees that need no further visits; pass the
 * same set to several walks to share it (as restic's find does across snapshots).
 */
export async function walkRestic(load: TreeLoader, root: string, visit: WalkVisitor, ignoreTrees: Set<string> = new Set()): Promise<void> {
	let nodes: readonly TreeNode[] | undefined;
	let loadError: Error | undefined;
	try {
		nodes = await load(root);
	} catch (error) {
		loadError = error as Error;
	}
	const rootResult = await visit(root, '/', undefined, loadError);
	if (rootResult.skip || nodes === undefined) return;
	await walkNodes(load, '/', root, nodes, visit, ignoreTrees);
}

async function walkNodes(load: TreeLoader, prefix: string, parentTree: string, unsorted: readonly TreeNode[], visit: WalkVisitor, ignoreTrees: Set<string>): Promise<boolean> {
	let allIgnored = unsorted.length > 0;
	const nodes = [...unsorted].sort((a, b) => compareNames(a.name, b.name));
	for (const node of nodes) {
		const p = joinPath(prefix, node.name);
		if (node.type !== 'dir') {
			const result = await visit(parentTree, p, node);
			if (result.skip) return allIgnored;
			if (!result.ignore) allIgnored = false;
			continue;
		}
		if (!node.subtree) throw new Error(`subtree for node ${node.name} in tree ${p} is missing`);
		if (ignoreTrees.has(node.subtree)) continue;
		let children: readonly TreeNode[] | undefined;
		let loadError: Error | undefined;
		try {
			children = await load(node.subtree);
		} catch (error) {
			loadError = error as Error;
		}
		const result = await visit(parentTree, p, node, loadError);
		if (result.ignore) ignoreTrees.add(node.subtree);
		if (result.skip) continue;
		if (!result.ignore) allIgnored = false;
		if (children === undefined) throw loadError ?? new Error(`tree ${node.subtree} cannot be loaded`);
		const ignored = await walkNodes(load, p, node.subtree, children, visit, ignoreTrees);
		if (ignored) ignoreTrees.add(node.subtree);
		else allIgnored = false;
	}
	return allIgnored;
}
