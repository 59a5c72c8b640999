/**
 * restic's `find`: entries of snapshots whose paths match patterns (optionally within a range of
 * modification times), or the places where given tree or data blob IDs occur.
 * Pure apart from the tree loader it is given.
 */
import type {TreeNode} from '../format/tree.js';
import {parseGoTime} from '../format/time.js';
import {walkRestic, type TreeLoader, type VisitResult} from '../walker/walker.js';
import {childMayMatch, matchPattern} from './pattern.js';

/** What to look for by path. */
export interface PatternQuery {
	patterns: readonly string[];
	ignoreCase?: boolean;
	/** Only entries modified at or after this time (ns since the epoch). */
	oldestNs?: bigint;
	/** Only entries modified at or before this time (ns since the epoch). */
	newestNs?: bigint;
}

/** Tells about a tree that could not be loaded while searching. */
export type TreeErrorHandler = (treeId: string, error: Error) => void;

/**
 * Walks one snapshot's tree and reports every entry matching the query, in restic's walk order.
 * `ignoreTrees` is shared between the snapshots of one search, as restic shares it.
 */
export async function findPatternMatches(load: TreeLoader, rootTree: string, query: PatternQuery, ignoreTrees: Set<string>, onMatch: (path: string, node: TreeNode) => void, onTreeError: TreeErrorHandler): Promise<void> {
	const patterns = query.ignoreCase ? query.patterns.map((p) => p.toLowerCase()) : [...query.patterns];
	await walkRestic(load, rootTree, (parentTree, nodePath, node, error): VisitResult => {
		if (error) {
			onTreeError(parentTree, error);
			return {ignore: false, skip: true};
		}
		if (!node) return {ignore: false};
		const normalized = query.ignoreCase ? nodePath.toLowerCase() : nodePath;
		const found = patterns.some((p) => matchPattern(p, normalized));
		let noMatch: VisitResult = {ignore: true};
		if (node.type === 'dir') {
			noMatch = patterns.some((p) => childMayMatch(p, normalized)) ? {ignore: false} : {ignore: true, skip: true};
		}
		if (!found) return noMatch;
		const mtime = safeTime(node.mtime);
		if (query.oldestNs !== undefined && mtime < query.oldestNs) return noMatch;
		if (query.newestNs !== undefined && mtime > query.newestNs) return noMatch;
		onMatch(nodePath, node);
		return {ignore: false};
	}, ignoreTrees);
}

function safeTime(text: string): bigint {
	try {
		return parseGoTime(text);
	} catch {
		return 0n;
	}
}

/** One place a searched ID was found. */
export interface FoundObject {
	kind: 'blob' | 'tree';
	/** The full ID. */
	id: string;
	/** Path of the file (blob) or directory (tree). */
	path: string;
	/** For blobs: the tree listing the file. */
	parentTree?: string;
}

/**
 * State of a search for IDs across snapshots: IDs are given in full or as 8-digit short IDs (a short
 * one is replaced by the full ID once seen), as restic's find does.
 */
export class IdSearch {
	readonly blobIds?: Set<string>;
	readonly treeIds?: Set<string>;
	private itemsFound = 0;

	constructor(options: {blobIds?: Iterable<string>; treeIds?: Iterable<string>}) {
		if (options.blobIds) this.blobIds = new Set(options.blobIds);
		if (options.treeIds) this.treeIds = new Set(options.treeIds);
	}

	/** Walks one snapshot's tree reporting where the IDs occur. */
	async searchSnapshot(load: TreeLoader, rootTree: string, ignoreTrees: Set<string>, onFound: (found: FoundObject) => void, onTreeError: TreeErrorHandler): Promise<void> {
		const done = new Error('all trees found');
		try {
			await walkRestic(load, rootTree, (parentTree, nodePath, node, error): VisitResult => {
				if (error) {
					onTreeError(parentTree, error);
					return {ignore: false, skip: true};
				}
				if (!node) return {ignore: false};
				if (node.type === 'dir' && this.treeIds && node.subtree) {
					const id = node.subtree;
					if (this.treeIds.has(id) || this.treeIds.has(id.slice(0, 8))) {
						onFound({kind: 'tree', id, path: nodePath});
						this.itemsFound++;
						if (this.itemsFound >= this.treeIds.size && this.blobIds === undefined) throw done;
					}
				}
				if (node.type === 'file' && this.blobIds) {
					for (const id of node.content ?? []) {
						if (!this.blobIds.has(id)) {
							const short = id.slice(0, 8);
							if (!this.blobIds.has(short)) continue;
							this.blobIds.add(id);
							this.blobIds.delete(short);
						}
						onFound({kind: 'blob', id, path: nodePath, parentTree});
					}
				}
				return {ignore: false};
			}, ignoreTrees);
		} catch (error) {
			if (error !== done) throw error;
		}
	}
}
