/**
 * Builds tree nodes from file metadata.
 */
import type {BigIntStats} from 'node:fs';
import {constants} from 'node:fs';
import {isDeepStrictEqual} from 'node:util';
import {unixToGoMode, type NodeType} from '../format/mode.js';
import type {TreeNode} from '../format/tree.js';
import type {ExtendedAttribute} from '../util/file-metadata.js';
import {lookupGroupName, lookupUserName} from './owners.js';
import {formatStatTime} from './stat-time.js';

/** The restic node type for a file's st_mode. */
export function findNodeType(mode: number): NodeType {
	switch (mode & constants.S_IFMT) {
		case constants.S_IFREG: return 'file';
		case constants.S_IFDIR: return 'dir';
		case constants.S_IFLNK: return 'symlink';
		case constants.S_IFBLK: return 'dev';
		case constants.S_IFCHR: return 'chardev';
		case constants.S_IFIFO: return 'fifo';
		case constants.S_IFSOCK: return 'socket';
		default: return 'irregular';
	}
}

/** A node with the metadata of `stats` (content, subtree and link target are filled in by the caller). */
export function buildNode(name: string, stats: BigIntStats): TreeNode {
	const mode = Number(stats.mode);
	const type = findNodeType(mode);
	const uid = Number(stats.uid);
	const gid = Number(stats.gid);
	const node: TreeNode = {
		name,
		type,
		mode: unixToGoMode(mode),
		mtime: formatStatTime(stats.mtimeNs),
		atime: formatStatTime(stats.atimeNs),
		ctime: formatStatTime(stats.ctimeNs),
		uid,
		gid,
		user: lookupUserName(uid),
		group: lookupGroupName(gid),
		inode: Number(stats.ino),
		device_id: Number(stats.dev),
		links: Number(stats.nlink),
		content: null,
	};
	if (type === 'file') {
		node.size = Number(stats.size);
		node.content = [];
	}
	if (type === 'dev' || type === 'chardev') node.device = Number(stats.rdev);
	return node;
}

/** Tells whether a file is unchanged against its node in the parent snapshot (restic's rule). */
export function isUnchanged(previous: TreeNode | undefined, current: TreeNode): boolean {
	return previous !== undefined
		&& previous.type === 'file'
		&& current.type === 'file'
		&& previous.mtime === current.mtime
		&& previous.ctime === current.ctime
		&& (previous.size ?? 0) === (current.size ?? 0)
		&& previous.inode === current.inode
		&& Array.isArray(previous.content);
}

/** The fields {@link buildNode} gives a regular file (besides `extended_attributes`). */
const FILE_FIELDS = new Set(['name', 'type', 'mode', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'user', 'group', 'inode', 'device_id', 'links', 'size', 'content']);

/**
 * Tells whether a regular file's node, built from `stats` and `attributes` with its content taken
 * from `previous`, would equal `previous` field for field as sameNode() compares them (so the
 * previous node can stand for it, in the tree and as restic's "unchanged"), without building it:
 * numbers are compared first, then the three times formatted as the node would hold them.
 * False when anything differs, or when `previous` holds a field such a node does not have.
 */
export function matchesUnchangedFile(previous: TreeNode, name: string, stats: BigIntStats, attributes: readonly ExtendedAttribute[] | undefined): boolean {
	if (previous.type !== 'file' || previous.name !== name || !Array.isArray(previous.content)) return false;
	const mode = Number(stats.mode);
	if ((mode & constants.S_IFMT) !== constants.S_IFREG || previous.mode !== unixToGoMode(mode)) return false;
	if (previous.size !== Number(stats.size) || previous.inode !== Number(stats.ino) || previous.device_id !== Number(stats.dev) || previous.links !== Number(stats.nlink)) return false;
	const uid = Number(stats.uid);
	const gid = Number(stats.gid);
	if (previous.uid !== uid || previous.gid !== gid || previous.user !== lookupUserName(uid) || previous.group !== lookupGroupName(gid)) return false;
	if (previous.mtime !== formatStatTime(stats.mtimeNs) || previous.ctime !== formatStatTime(stats.ctimeNs) || previous.atime !== formatStatTime(stats.atimeNs)) return false;
	if (attributes === undefined ? !isAbsent(previous.extended_attributes) : !isDeepStrictEqual(attributes, previous.extended_attributes)) return false;
	const fields = previous as unknown as Record<string, unknown>;
	for (const key in fields) {
		if (!FILE_FIELDS.has(key) && key !== 'extended_attributes' && !isAbsent(fields[key])) return false;
	}
	return true;
}

function isAbsent(value: unknown): boolean {
	return value === undefined || value === null;
}
