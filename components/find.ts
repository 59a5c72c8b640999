/**
 * "Find in snapshot": looks for entries by name through a whole snapshot, directory by
 * directory, yielding to the event loop as it goes so that the screen stays responsive, and
 * stopping as soon as it is cancelled. No React here.
 */
import picomatch from 'picomatch';
import type {NodeType} from '../engine/format/mode.js';
import type {TreeNode} from '../engine/format/tree.js';

/** One entry found. */
export interface FindMatch {
	/** Snapshot path without a leading slash, e.g. `home/me/notes.txt`. */
	readonly path: string;
	readonly name: string;
	readonly type: NodeType;
	readonly size?: number;
	/** Names of the directories from the root to the entry's directory. */
	readonly dir: readonly string[];
	/** Tree IDs from the root to the entry's directory (one more than `dir`). */
	readonly trees: readonly string[];
}

/** Where listings come from (the tree loader of the session). */
export interface TreeSource {
	load(treeId: string, signal?: AbortSignal): Promise<readonly TreeNode[]>;
}

/** Settings of {@link findInSnapshot}. */
export interface FindOptions {
	readonly signal?: AbortSignal;
	/** Called with new matches, in batches. */
	readonly onMatches?: (matches: readonly FindMatch[]) => void;
	/** Called now and then with the number of entries looked at so far. */
	readonly onProgress?: (checked: number) => void;
	/** Stop after this many matches (default 10,000). */
	readonly limit?: number;
}

/** What a search found. */
export interface FindResult {
	readonly matches: readonly FindMatch[];
	readonly checked: number;
	/** The limit was reached: there may be more. */
	readonly truncated: boolean;
}

/** Entries looked at between two yields to the event loop. */
const BATCH = 2000;

/**
 * A name matcher for a query: a glob when the query holds `*`, `?` or `[` (matched against the
 * whole name), otherwise every word of the query must appear in the name. Case is ignored.
 */
export function compileNameMatcher(query: string): (name: string) => boolean {
	const trimmed = query.trim();
	if (/[*?[]/.test(trimmed)) {
		const glob = picomatch(trimmed, {nocase: true, dot: true});
		return (name) => glob(name);
	}
	const words = trimmed.toLowerCase().split(/\s+/).filter(Boolean);
	return (name) => {
		const lower = name.toLowerCase();
		return words.every((word) => lower.includes(word));
	};
}

/** Searches the snapshot whose root tree is `rootTree` for names matching `query`. Rejects with the signal's reason when cancelled. */
export async function findInSnapshot(source: TreeSource, rootTree: string, query: string, options: FindOptions = {}): Promise<FindResult> {
	const matcher = compileNameMatcher(query);
	const limit = options.limit ?? 10_000;
	const matches: FindMatch[] = [];
	let pending: FindMatch[] = [];
	let checked = 0;
	let sinceYield = 0;
	// Depth first, in name order, without recursion (snapshots can be deep).
	const stack: Array<{dir: string[]; trees: string[]}> = [{dir: [], trees: [rootTree]}];
	while (stack.length > 0) {
		options.signal?.throwIfAborted();
		const {dir, trees} = stack.pop()!;
		const nodes = await source.load(trees[trees.length - 1]!, options.signal);
		const below: Array<{dir: string[]; trees: string[]}> = [];
		for (const node of nodes) {
			checked++;
			if (matcher(node.name)) {
				const match: FindMatch = {path: [...dir, node.name].join('/'), name: node.name, type: node.type, size: node.size, dir, trees};
				matches.push(match);
				pending.push(match);
				if (matches.length >= limit) {
					options.onMatches?.(pending);
					options.onProgress?.(checked);
					return {matches, checked, truncated: true};
				}
			}
			if (node.type === 'dir' && node.subtree) below.push({dir: [...dir, node.name], trees: [...trees, node.subtree]});
			if (++sinceYield >= BATCH) {
				sinceYield = 0;
				if (pending.length > 0) options.onMatches?.(pending);
				pending = [];
				options.onProgress?.(checked);
				await new Promise((resolve) => setImmediate(resolve));
				options.signal?.throwIfAborted();
			}
		}
		for (let i = below.length - 1; i >= 0; i--) stack.push(below[i]!);
	}
	if (pending.length > 0) options.onMatches?.(pending);
	options.onProgress?.(checked);
	return {matches, checked, truncated: false};
}
