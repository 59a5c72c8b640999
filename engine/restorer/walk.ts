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

/** Tree listings loaded at once while walking (the walk reads ahead of the visitor). */
const TREE_READ_AHEAD = 8;
/**
 * Listings loaded ahead and not yet taken, at most: a directory with thousands of subdirectories
 * must not have them all decoded at once (that would hold much of a snapshot in memory).
 */
const TREE_AHEAD_LIMIT = 32;

/**
 * Loads trees with a bounded number of loads at once; a listing asked for ahead of time is kept
 * until taken (or released) as often as it was asked for.
 */
class TreeReadAhead {
	private readonly loaded = new Map<string, {promise: Promise<readonly TreeNode[]>; wanted: number}>();
	private readonly queue: Array<() => void> = [];
	private running = 0;

	constructor(private readonly load: (id: string) => Promise<readonly TreeNode[]>, private readonly limit: number) {}

	/** Listings requested and not yet taken. */
	get outstanding(): number {
		return this.loaded.size;
	}

	/** Starts loading `id` (when not already) and counts one more taker for it. */
	request(id: string): void {
		const entry = this.loaded.get(id);
		if (entry) {
			entry.wanted++;
			return;
		}
		const promise = this.schedule(id);
		promise.catch(() => undefined); // a failure surfaces when the listing is taken
		this.loaded.set(id, {promise, wanted: 1});
	}

	/** The listing of `id`, loading it now when it was not requested. */
	take(id: string): Promise<readonly TreeNode[]> {
		const entry = this.loaded.get(id);
		if (!entry) return this.load(id);
		if (--entry.wanted === 0) this.loaded.delete(id);
		return entry.promise;
	}

	/** Gives up one request of `id` without using the listing. */
	release(id: string): void {
		const entry = this.loaded.get(id);
		if (entry && --entry.wanted === 0) this.loaded.delete(id);
	}

	private async schedule(id: string): Promise<readonly TreeNode[]> {
		if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
		else this.running++;
		try {
			return await this.load(id);
		} finally {
			const next = this.queue.shift();
			if (next) next();
			else this.running--;
		}
	}
}

/** Options of {@link walkTree}. */
export interface WalkOptions {
	prefix?: string;
	signal?: AbortSignal;
	onUnsafe?: (path: string, reason: string) => void;
	loadTree?: TreeSource;
	/** Called after the contents of a directory the walk descended into (post-order). */
	leave?: (entry: WalkEntry) => void | Promise<void>;
}

/**
 * Walks a tree depth-first in name order, calling `visit` for every node (directories before
 * their contents, and `leave` after them). Names that are unsafe (`..`, containing `/` or NUL)
 * are reported through `onUnsafe` and skipped together with everything below them.
 * `visit` may return false to skip a directory's contents. The subtrees of a listing are loaded
 * ahead (a few at once, a bounded number waiting) while the visitor works through it, so the walk
 * holds only the listings on its path plus a few ahead.
 */
export async function walkTree(
	repo: Repository,
	treeId: string,
	visit: (entry: WalkEntry) => boolean | void | Promise<boolean | void>,
	options: WalkOptions = {},
): Promise<void> {
	const {signal, onUnsafe, leave} = options;
	const source = options.loadTree;
	const reader = new TreeReadAhead(source ? (id) => source(id, signal) : (id) => loadTree(repo, id, signal), TREE_READ_AHEAD);
	const walk = async (id: string, prefix: string | undefined): Promise<void> => {
		const nodes = await reader.take(id);
		// Subtrees of this listing in order; those before `ahead` have been requested (or passed).
		const subtrees: number[] = [];
		for (const [index, node] of nodes.entries()) {
			if (node.type === 'dir' && node.subtree && !checkNodeName(node.name)) subtrees.push(index);
		}
		let ahead = 0;
		const topUp = (): void => {
			while (ahead < subtrees.length && reader.outstanding < TREE_AHEAD_LIMIT) reader.request(nodes[subtrees[ahead++]!]!.subtree!);
		};
		let seen = 0;
		topUp();
		for (const node of nodes) {
			const unsafe = checkNodeName(node.name);
			const p = prefix ? `${prefix}/${node.name}` : node.name;
			if (unsafe) {
				onUnsafe?.(p, unsafe);
				continue;
			}
			const descend = await visit({path: p, node});
			if (node.type === 'dir' && node.subtree) {
				// Whether this subtree was requested ahead (else it is loaded when taken).
				const requested = seen < ahead;
				seen++;
				if (!requested) ahead = Math.max(ahead, seen);
				if (descend !== false) {
					await walk(node.subtree, p);
					await leave?.({path: p, node});
				} else if (requested) reader.release(node.subtree);
				topUp();
			}
		}
	};
	await walk(treeId, options.prefix);
}
