/**
 * Tree blobs: a JSON document `{"nodes":[...]}` followed by a newline, with restic's field names,
 * Go's field order and omitempty rules, nodes sorted by the bytes of their names.
 */
import type {NodeType} from './mode.js';
import {stringifyGoJson, parseJsonBytes} from './json.js';

/** One entry of a directory, as restic stores it. Times are RFC 3339 strings kept verbatim. */
export interface TreeNode {
	name: string;
	type: NodeType;
	/** Go os.FileMode (type bits differ from Unix). */
	mode?: number;
	mtime: string;
	atime: string;
	ctime: string;
	uid: number;
	gid: number;
	user?: string;
	group?: string;
	inode?: number;
	device_id?: number;
	size?: number;
	links?: number;
	linktarget?: string;
	/** base64 of a symlink target that is not valid UTF-8. */
	linktarget_raw?: string;
	extended_attributes?: Array<{name: string; value: string}>;
	generic_attributes?: Record<string, unknown>;
	device?: number;
	/** Data blob IDs, in order. restic requires `[]` (not null) for files. */
	content: string[] | null;
	subtree?: string;
	error?: string;
}

/** A decoded tree. */
export interface Tree {
	nodes: TreeNode[];
}

function orderNode(node: TreeNode): Record<string, unknown> {
	const out: Record<string, unknown> = {name: node.name, type: node.type};
	if (node.mode) out.mode = node.mode;
	out.mtime = node.mtime;
	out.atime = node.atime;
	out.ctime = node.ctime;
	out.uid = node.uid;
	out.gid = node.gid;
	if (node.user) out.user = node.user;
	if (node.group) out.group = node.group;
	if (node.inode) out.inode = node.inode;
	if (node.device_id) out.device_id = node.device_id;
	if (node.size) out.size = node.size;
	if (node.links) out.links = node.links;
	if (node.linktarget) out.linktarget = node.linktarget;
	if (node.linktarget_raw) out.linktarget_raw = node.linktarget_raw;
	if (node.extended_attributes?.length) out.extended_attributes = node.extended_attributes;
	if (node.generic_attributes && Object.keys(node.generic_attributes).length) out.generic_attributes = node.generic_attributes;
	if (node.device) out.device = node.device;
	out.content = node.content;
	if (node.subtree) out.subtree = node.subtree;
	if (node.error) out.error = node.error;
	return out;
}

/** Compares two names by their UTF-8 bytes, as Go sorts strings. */
export function compareNames(a: string, b: string): number {
	if (a === b) return 0;
	return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Encodes nodes as a tree blob. Nodes are sorted by name; duplicate names are an error. */
export function encodeTree(nodes: TreeNode[]): Buffer {
	const sorted = [...nodes].sort((a, b) => compareNames(a.name, b.name));
	for (let i = 1; i < sorted.length; i++) {
		if (sorted[i]!.name === sorted[i - 1]!.name) throw new Error(`duplicate name ${JSON.stringify(sorted[i]!.name)} in tree`);
	}
	return Buffer.from(stringifyGoJson({nodes: sorted.map(orderNode)}) + '\n', 'utf8');
}

/** Decodes a tree blob. */
export function decodeTree(bytes: Uint8Array, id = 'tree'): Tree {
	const tree = parseJsonBytes<Tree>(bytes, `tree ${id.slice(0, 8)}`);
	if (!tree || typeof tree !== 'object' || (tree.nodes !== null && !Array.isArray(tree.nodes))) {
		throw new Error(`tree ${id.slice(0, 8)} has no node list`);
	}
	tree.nodes ??= [];
	return tree;
}

/** Why a node name is unsafe to restore, or undefined when it is safe. */
export function checkNodeName(name: string): string | undefined {
	if (name === '' || name === '.' || name === '..') return `invalid name ${JSON.stringify(name)}`;
	if (name.includes('/')) return `name ${JSON.stringify(name)} contains '/'`;
	if (name.includes('\0')) return `name ${JSON.stringify(name)} contains a NUL byte`;
	return undefined;
}
