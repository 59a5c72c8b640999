/**
 * restic's `diff`: the changes from one snapshot's tree to another's, and statistics of what was
 * added and removed (entries, and the blobs only one side uses, with their plaintext sizes).
 * Pure apart from the tree loader and the blob size lookup it is given.
 */
import {compareNames, type TreeNode} from '../format/tree.js';
import {sameGoTime} from '../format/time.js';
import type {BlobType} from '../format/pack.js';
import type {TreeLoader} from '../walker/walker.js';

/** One change: `+` added, `-` removed, `M` content modified, `T` type changed, `U` metadata updated (combinations like `TM` occur). */
export interface DiffChange {
	path: string;
	modifier: string;
	/** The entry in the first snapshot (absent when added). */
	before?: TreeNode;
	/** The entry in the second snapshot (absent when removed). */
	after?: TreeNode;
}

/** Counts of one side, with restic's JSON field names. */
export interface DiffStat {
	files: number;
	dirs: number;
	others: number;
	data_blobs: number;
	tree_blobs: number;
	bytes: number;
}

/** The result of a comparison. */
export interface DiffStatistics {
	changed_files: number;
	added: DiffStat;
	removed: DiffStat;
}

/** Options of {@link diffTrees}. */
export interface DiffOptions {
	/** Report metadata changes (`U`) too. */
	metadata?: boolean;
	/** Plaintext size of a blob, or undefined when the index does not list it. */
	blobSize: (type: BlobType, id: string) => number | undefined;
	/** Told about a blob the index lacks, and about trees that cannot be loaded (the comparison goes on). */
	onWarning?: (message: string) => void;
}

function emptyStat(): DiffStat {
	return {files: 0, dirs: 0, others: 0, data_blobs: 0, tree_blobs: 0, bytes: 0};
}

function countNode(stat: DiffStat, node: TreeNode): void {
	if (node.type === 'file') stat.files++;
	else if (node.type === 'dir') stat.dirs++;
	else stat.others++;
}

function blobKey(type: BlobType, id: string): string {
	return `${type === 'tree' ? 't' : 'd'}${id}`;
}

function addBlobs(set: Set<string>, node: TreeNode | undefined): void {
	if (!node) return;
	if (node.type === 'file') for (const id of node.content ?? []) set.add(blobKey('data', id));
	else if (node.type === 'dir' && node.subtree) set.add(blobKey('tree', node.subtree));
}

function sameContent(a: TreeNode, b: TreeNode): boolean {
	if (a.content == null || b.content == null) return (a.content == null) === (b.content == null);
	return a.content.length === b.content.length && a.content.every((id, i) => id === b.content![i]);
}

function sameXattrs(a: TreeNode, b: TreeNode): boolean {
	const xa = a.extended_attributes ?? [];
	const xb = b.extended_attributes ?? [];
	if (xa.length !== xb.length) return false;
	const values = new Map(xa.map((x) => [x.name, x.value]));
	return xb.every((x) => values.has(x.name) && values.get(x.name) === x.value);
}

/** restic's Node.Equals: every stored attribute alike (times compared as instants). */
export function nodesEqual(a: TreeNode, b: TreeNode): boolean {
	return a.name === b.name && a.type === b.type && (a.mode ?? 0) === (b.mode ?? 0)
		&& sameGoTime(a.mtime, b.mtime) && sameGoTime(a.atime, b.atime) && sameGoTime(a.ctime, b.ctime)
		&& a.uid === b.uid && a.gid === b.gid && (a.user ?? '') === (b.user ?? '') && (a.group ?? '') === (b.group ?? '')
		&& (a.inode ?? 0) === (b.inode ?? 0) && (a.device_id ?? 0) === (b.device_id ?? 0) && (a.size ?? 0) === (b.size ?? 0)
		&& (a.links ?? 0) === (b.links ?? 0) && (a.linktarget ?? '') === (b.linktarget ?? '') && (a.device ?? 0) === (b.device ?? 0)
		&& sameContent(a, b) && sameXattrs(a, b) && (a.subtree ?? '') === (b.subtree ?? '') && (a.error ?? '') === (b.error ?? '');
}

function joinPath(prefix: string, name: string): string {
	return prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`;
}

/**
 * Compares the trees `before` and `after` (root trees of two snapshots), calling `onChange` in
 * restic's order (names in byte order, a directory before its contents; directories end in `/`).
 */
export async function diffTrees(load: TreeLoader, before: string, after: string, options: DiffOptions, onChange: (change: DiffChange) => void | Promise<void>): Promise<DiffStatistics> {
	const warn = options.onWarning ?? (() => undefined);
	const stats: DiffStatistics = {changed_files: 0, added: emptyStat(), removed: emptyStat()};
	const blobsBefore = new Set<string>([blobKey('tree', before)]);
	const blobsAfter = new Set<string>([blobKey('tree', after)]);
	const blobsCommon = new Set<string>();

	const collect = async (set: Set<string>, id: string): Promise<void> => {
		for (const node of await load(id)) {
			addBlobs(set, node);
			if (node.type === 'dir' && node.subtree) await collect(set, node.subtree).catch((error: Error) => warn(`error: ${error.message}`));
		}
	};

	const printDir = async (modifier: '+' | '-', stat: DiffStat, set: Set<string>, prefix: string, id: string): Promise<void> => {
		for (const node of await load(id)) {
			let name = joinPath(prefix, node.name);
			if (node.type === 'dir') name += '/';
			await onChange(modifier === '+' ? {path: name, modifier, after: node} : {path: name, modifier, before: node});
			countNode(stat, node);
			addBlobs(set, node);
			if (node.type === 'dir' && node.subtree) await printDir(modifier, stat, set, name, node.subtree).catch((error: Error) => warn(`error: ${error.message}`));
		}
	};

	const diff = async (prefix: string, id1: string, id2: string): Promise<void> => {
		const [tree1, tree2] = [await load(id1), await load(id2)];
		const nodes1 = new Map(tree1.map((n) => [n.name, n]));
		const nodes2 = new Map(tree2.map((n) => [n.name, n]));
		const names = [...new Set([...nodes1.keys(), ...nodes2.keys()])].sort(compareNames);
		for (const name of names) {
			const node1 = nodes1.get(name);
			const node2 = nodes2.get(name);
			addBlobs(blobsBefore, node1);
			addBlobs(blobsAfter, node2);
			if (node1 && node2) {
				let p = joinPath(prefix, name);
				let modifier = '';
				if (node1.type !== node2.type) modifier += 'T';
				if (node2.type === 'dir') p += '/';
				if (node1.type === 'file' && node2.type === 'file' && !sameContent(node1, node2)) {
					modifier += 'M';
					stats.changed_files++;
				} else if (options.metadata && !nodesEqual(node1, node2)) {
					modifier += 'U';
				}
				if (modifier) await onChange({path: p, modifier, before: node1, after: node2});
				if (node1.type === 'dir' && node2.type === 'dir' && node1.subtree && node2.subtree) {
					const work = node1.subtree === node2.subtree ? collect(blobsCommon, node1.subtree) : diff(p, node1.subtree, node2.subtree);
					await work.catch((error: Error) => warn(`error: ${error.message}`));
				}
			} else if (node1) {
				let p = joinPath(prefix, name);
				if (node1.type === 'dir') p += '/';
				await onChange({path: p, modifier: '-', before: node1});
				countNode(stats.removed, node1);
				if (node1.type === 'dir' && node1.subtree) await printDir('-', stats.removed, blobsBefore, p, node1.subtree).catch((error: Error) => warn(`error: ${error.message}`));
			} else if (node2) {
				let p = joinPath(prefix, name);
				if (node2.type === 'dir') p += '/';
				await onChange({path: p, modifier: '+', after: node2});
				countNode(stats.added, node2);
				if (node2.type === 'dir' && node2.subtree) await printDir('+', stats.added, blobsAfter, p, node2.subtree).catch((error: Error) => warn(`error: ${error.message}`));
			}
		}
	};

	await diff('/', before, after);

	const count = (set: Set<string>, other: Set<string>, stat: DiffStat): void => {
		for (const key of set) {
			if (other.has(key) || blobsCommon.has(key)) continue;
			const type: BlobType = key[0] === 't' ? 'tree' : 'data';
			const id = key.slice(1);
			if (type === 'tree') stat.tree_blobs++;
			else stat.data_blobs++;
			const size = options.blobSize(type, id);
			if (size === undefined) {
				warn(`unable to find blob size for <${type}/${id.slice(0, 8)}>`);
				continue;
			}
			stat.bytes += size;
		}
	};
	count(blobsBefore, blobsAfter, stats.removed);
	count(blobsAfter, blobsBefore, stats.added);
	return stats;
}
