import {findSnapshotId, loadSnapshot} from '../../engine/repository/snapshots.js';
import {walkTree, resolvePath, splitSnapshotPath} from '../../engine/restorer/walk.js';
import {formatMode} from '../../engine/format/mode.js';
import {CairnError} from '../../engine/errors.js';
import type {TreeNode} from '../../engine/format/tree.js';
import type {Repository} from '../../engine/repository/repository.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {formatLocalTime, OutputBuffer} from './snapshots.js';

/** Flags of `cairn ls`. */
export interface LsFlags extends GlobalFlags {
	long?: boolean;
	recursive?: boolean;
}

function toNodeJson(node: TreeNode, p: string): Record<string, unknown> {
	return {
		name: node.name, type: node.type, path: p, uid: node.uid, gid: node.gid, size: node.size ?? 0,
		mode: node.mode ?? 0, permissions: formatMode(node.mode ?? 0, node.type),
		mtime: node.mtime, atime: node.atime, ctime: node.ctime, ...(node.linktarget ? {linktarget: node.linktarget} : {}),
		struct_type: 'node',
	};
}

function formatLong(node: TreeNode, p: string): string {
	const owner = `${node.user || node.uid} ${node.group || node.gid}`;
	const target = node.type === 'symlink' ? ` -> ${node.linktarget ?? ''}` : '';
	return `${formatMode(node.mode ?? 0, node.type)} ${owner.padEnd(12)} ${String(node.size ?? 0).padStart(12)} ${formatLocalTime(node.mtime)} ${p}${target}`;
}

/**
 * `cairn ls SNAPSHOT [PATH]`: lists the whole snapshot, or with PATH the entries below that
 * directory (recursively with --recursive), or that single file.
 */
export async function runLs(snapshotRef: string, dir: string | undefined, flags: LsFlags, signal: AbortSignal): Promise<number> {
	const repo = await openRepository(flags, signal);
	try {
		await repo.loadIndex({signal});
		const id = await findSnapshotId(repo, snapshotRef, {}, signal);
		const snapshot = await loadSnapshot(repo, id, signal);
		// Lines are written in blocks (see OutputBuffer); whatever was listed is written also when the walk fails.
		const out = new OutputBuffer();
		const print = (node: TreeNode, p: string): void => {
			out.line(flags.json ? JSON.stringify(toNodeJson(node, p)) : flags.long ? formatLong(node, p) : p);
		};
		if (flags.json) printJson({time: snapshot.time, tree: snapshot.tree, paths: snapshot.paths, hostname: snapshot.hostname, username: snapshot.username, id, short_id: id.slice(0, 8), struct_type: 'snapshot'});
		else if (!flags.quiet) process.stderr.write(`snapshot ${id.slice(0, 8)} of [${snapshot.paths.join(' ')}] at ${formatLocalTime(snapshot.time)}:\n`);
		try {
			return await listEntries(repo, snapshot.tree, id, dir, flags, print, signal);
		} finally {
			out.flush();
		}
	} finally {
		await repo.close();
	}
}

/** Walks what `cairn ls` lists below the snapshot's root tree, handing each entry to `print`. */
async function listEntries(repo: Repository, tree: string, id: string, dir: string | undefined, flags: LsFlags, print: (node: TreeNode, p: string) => void, signal: AbortSignal): Promise<number> {
	const base = dir === undefined ? [] : splitSnapshotPath(dir);
	const prefix = '/' + base.join('/');
	if (base.length === 0) {
		await walkTree(repo, tree, ({path, node}) => print(node, '/' + path), {signal});
		return 0;
	}
	const found = await resolvePath(repo, tree, prefix, signal);
	if (!found) throw new CairnError(`${prefix} is not in snapshot ${id.slice(0, 8)}: run \`cairn ls ${id.slice(0, 8)}\` to see its contents`);
	if (found.node) print(found.node, prefix);
	if (found.node?.type === 'dir' && found.node.subtree) {
		await walkTree(repo, found.node.subtree, ({path, node}) => {
			print(node, `${prefix}/${path}`);
			return flags.recursive === true;
		}, {signal});
	}
	return 0;
}
