/**
 * Rewrites the tree of a snapshot node by node, saving new trees only where something changed.
 * Shared by `rewrite` (drop excluded paths) and `repair snapshots` (drop missing data).
 *
 * A tree in which nothing changed keeps its ID and is never re-encoded, so trees written by any
 * program survive untouched. A changed tree is encoded by cairn; with `requireStableEncoding`
 * (restic's rule for `rewrite`) that is refused when re-encoding the unchanged tree would not give
 * back its exact bytes, because fields cairn does not know would be lost.
 */
import {posix} from 'node:path';
import {decodeTree, encodeTree, type TreeNode} from '../format/tree.js';
import {CairnError} from '../errors.js';
import {hashHex} from '../util/hash.js';
import type {Repository} from '../repository/repository.js';

/** Settings of a {@link TreeRewriter}. */
export interface TreeRewriteOptions {
	/**
	 * Returns the node to keep: the same object when unchanged, a new object when changed, or
	 * undefined to drop it. `path` is the node's absolute path inside the snapshot.
	 */
	readonly rewriteNode?: (node: TreeNode, path: string) => TreeNode | undefined;
	/**
	 * Decides what replaces a tree that cannot be loaded: a tree ID, or undefined to drop the
	 * snapshot (only allowed for the root, `/`). Without it the load error is thrown.
	 */
	readonly replaceUnreadableTree?: (id: string, path: string, error: Error) => Promise<string | undefined>;
	/** Refuse to re-encode a tree whose bytes cairn cannot reproduce (see the module comment). */
	readonly requireStableEncoding?: boolean;
	/** Reuse the result for a tree ID seen before (only when `rewriteNode` ignores paths). */
	readonly cacheByTree?: boolean;
	/** Compute the new IDs but save nothing (dry run). */
	readonly dryRun?: boolean;
	readonly signal?: AbortSignal;
}

/** Rewrites trees; see the module comment. Not safe for concurrent calls on one instance. */
export class TreeRewriter {
	private readonly replaced = new Map<string, string | undefined>();
	/** Trees saved so far. */
	treesSaved = 0;

	constructor(private readonly repo: Repository, private readonly options: TreeRewriteOptions) {}

	/** Rewrites the tree `id` found at `path`; resolves with the new ID (the same when unchanged), undefined when the snapshot is to go. */
	async rewrite(id: string, path = '/'): Promise<string | undefined> {
		if (this.options.cacheByTree && this.replaced.has(id)) return this.replaced.get(id);
		const result = await this.rewriteUncached(id, path);
		if (this.options.cacheByTree) this.replaced.set(id, result);
		return result;
	}

	private async rewriteUncached(id: string, path: string): Promise<string | undefined> {
		let bytes: Buffer;
		let nodes: TreeNode[];
		try {
			if (!/^[0-9a-f]{64}$/.test(id)) throw new CairnError(`invalid tree ID ${JSON.stringify(id)}`);
			bytes = await this.repo.loadBlob('tree', id, this.options.signal);
			nodes = decodeTree(bytes, id).nodes;
		} catch (error) {
			if (this.options.signal?.aborted || !this.options.replaceUnreadableTree) throw error;
			return this.options.replaceUnreadableTree(id, path, error as Error);
		}
		let changed = false;
		const kept: TreeNode[] = [];
		for (const node of nodes) {
			const nodePath = posix.join(path, node.name);
			let next = this.options.rewriteNode ? this.options.rewriteNode(node, nodePath) : node;
			if (next === undefined) {
				changed = true;
				continue;
			}
			if (next !== node) changed = true;
			if (next.type === 'dir') {
				const subtree = await this.rewrite(next.subtree ?? '', nodePath);
				if (subtree === undefined) throw new CairnError(`the tree of ${nodePath} cannot be replaced`);
				if (subtree !== next.subtree) {
					next = {...next, subtree};
					changed = true;
				}
			}
			kept.push(next);
		}
		if (!changed) return id;
		if (this.options.requireStableEncoding && hashHex(encodeTree(nodes)) !== id) {
			throw new CairnError(`cannot encode the tree at ${JSON.stringify(path)} without losing information: it holds fields this version of cairn does not know`);
		}
		return this.saveTree(kept);
	}

	/** Saves a tree of these nodes (or only hashes it in a dry run); returns its ID. */
	async saveTree(nodes: TreeNode[]): Promise<string> {
		const encoded = encodeTree(nodes);
		if (this.options.dryRun) return hashHex(encoded);
		const {id, known} = await this.repo.saveBlob('tree', encoded, undefined, this.options.signal);
		if (!known) this.treesSaved++;
		return id;
	}
}
