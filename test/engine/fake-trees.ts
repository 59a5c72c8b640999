/**
 * Trees in memory for the pure engine tests: a builder that gives every directory a tree ID
 * (the SHA-256 of its encoding, as in a repository) and a loader over them.
 */
import {createHash} from 'node:crypto';
import {encodeTree, type TreeNode} from '../../engine/format/tree.js';
import type {TreeLoader} from '../../engine/walker/walker.js';

/** A directory listing: a name maps to file contents (a string), a symlink ({link}) or a directory (an object). */
export type Spec = {[name: string]: string | {link: string} | Spec};

/** Blob contents by ID, and trees by ID. */
export interface FakeRepo {
	trees: Map<string, TreeNode[]>;
	blobs: Map<string, Buffer>;
	load: TreeLoader;
	/** Number of tree loads so far. */
	loads: number;
}

const TIME = '2021-03-04T05:06:07.123456789+01:00';

export function makeFakeRepo(): FakeRepo {
	const repo: FakeRepo = {trees: new Map(), blobs: new Map(), loads: 0, load: async (id) => {
		repo.loads++;
		const nodes = repo.trees.get(id);
		if (!nodes) throw new Error(`tree ${id} not found`);
		return nodes;
	}};
	return repo;
}

/** Adds a directory (recursively) and returns its tree ID. Files are cut into 4-byte blobs. */
export function addTree(repo: FakeRepo, spec: Spec, options: {mtime?: string; mode?: number} = {}): string {
	const nodes: TreeNode[] = [];
	for (const [name, value] of Object.entries(spec)) {
		const common = {name, mtime: options.mtime ?? TIME, atime: TIME, ctime: TIME, uid: 1000, gid: 1000, user: 'me', group: 'me'};
		if (typeof value === 'string') {
			const content: string[] = [];
			const bytes = Buffer.from(value);
			for (let i = 0; i < bytes.length; i += 4) {
				const blob = bytes.subarray(i, i + 4);
				const id = createHash('sha256').update(blob).digest('hex');
				repo.blobs.set(id, Buffer.from(blob));
				content.push(id);
			}
			nodes.push({...common, type: 'file', mode: options.mode ?? 0o644, size: bytes.length, content});
		} else if ('link' in value && typeof value.link === 'string') {
			nodes.push({...common, type: 'symlink', mode: 0o777 + 2 ** 27, linktarget: value.link, content: null});
		} else {
			nodes.push({...common, type: 'dir', mode: 0o755 + 2 ** 31, content: null, subtree: addTree(repo, value as Spec, options)});
		}
	}
	const encoded = encodeTree(nodes);
	const id = createHash('sha256').update(encoded).digest('hex');
	repo.trees.set(id, JSON.parse(encoded.toString()).nodes as TreeNode[]);
	return id;
}
