/**
 * Builds tree nodes from file metadata.
 */
import type {BigIntStats} from 'node:fs';
import {constants} from 'node:fs';
import {formatGoTime} from '../format/time.js';
import {unixToGoMode, type NodeType} from '../format/mode.js';
import type {TreeNode} from '../format/tree.js';
import {lookupGroupName, lookupUserName} from './owners.js';

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
		mtime: formatGoTime(stats.mtimeNs),
		atime: formatGoTime(stats.atimeNs),
		ctime: formatGoTime(stats.ctimeNs),
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
