/**
 * Third pass of a check: load every snapshot, then every tree reachable from them (each once),
 * and check each node the way restic does: file nodes need a content list whose data blobs are
 * all in the index, directories need a subtree, types must be known, names non-empty.
 */
import type {Snapshot} from '../format/snapshot.js';
import {decodeTree, type TreeNode} from '../format/tree.js';
import {loadSnapshot} from '../repository/snapshots.js';
import {mapConcurrent} from '../util/concurrency.js';
import {describeError, describeLoadFailure, formatPackFile, isFullId, isNullId, shortenId} from './describe.js';
import type {CheckContext} from './types.js';

/** The node types restic knows. */
const NODE_TYPES = new Set(['file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket', 'irregular']);

/** A tree to check and where it was first met. */
interface TreeVisit {
	readonly treeId: string;
	readonly snapshotId: string;
	/** Path of the directory in the snapshot, `/` for the root. */
	readonly path: string;
}

/** What the structure pass saw. */
export interface StructureCounts {
	snapshots: number;
	trees: number;
	/** Tree blobs read and verified. */
	blobsChecked: number;
	dataBlobsReferenced: number;
}

/** Loads every snapshot; each one that fails is reported as an error naming `snapshots/<id>`. */
export async function loadAllSnapshots(ctx: CheckContext, snapshotIds: readonly string[]): Promise<Snapshot[]> {
	const loaded = await mapConcurrent(snapshotIds, ctx.concurrency, async (id) => {
		const file = `snapshots/${id}`;
		try {
			return await loadSnapshot(ctx.repo, id, ctx.signal);
		} catch (error) {
			if (ctx.signal?.aborted) throw error;
			ctx.report(file, describeLoadFailure(error, file, `snapshot ${shortenId(id)}`));
			return undefined;
		} finally {
			ctx.progress.filesDone++;
			ctx.progress.currentFile = file;
			ctx.progress.maybeEmit();
		}
	});
	return loaded.filter((s): s is Snapshot => s !== undefined);
}

function joinPath(parent: string, name: string): string {
	return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/**
 * Walks every tree of the snapshots breadth-first, each distinct tree once, and checks its nodes.
 * Trees in `missingPacks` (indexed packs absent from storage) are reported as lost without a read;
 * files with data blobs in `lostData` (blobs whose every copy is in such a pack) are reported as lost.
 */
export async function checkTrees(ctx: CheckContext, snapshots: readonly Snapshot[], missingPacks: ReadonlySet<string> = new Set(), lostData: ReadonlySet<string> = new Set()): Promise<StructureCounts> {
	const counts: StructureCounts = {snapshots: snapshots.length, trees: 0, blobsChecked: 0, dataBlobsReferenced: 0};
	const seenTrees = new Set<string>();
	const seenData = new Set<string>();
	let level: TreeVisit[] = [];
	for (const snapshot of snapshots) {
		if (seenTrees.has(snapshot.tree)) continue;
		seenTrees.add(snapshot.tree);
		level.push({treeId: snapshot.tree, snapshotId: snapshot.id, path: '/'});
	}
	while (level.length > 0) {
		const next: TreeVisit[] = [];
		await mapConcurrent(level, ctx.concurrency, async (visit) => {
			ctx.progress.currentFile = `snapshot ${shortenId(visit.snapshotId)}: ${visit.path}`;
			ctx.progress.maybeEmit();
			const nodes = await loadTreeNodes(ctx, visit, counts, missingPacks);
			if (!nodes) return;
			for (const node of nodes) {
				checkNode(ctx, visit, node, seenData, lostData);
				if (node.type === 'dir' && isFullId(node.subtree) && !isNullId(node.subtree) && !seenTrees.has(node.subtree)) {
					seenTrees.add(node.subtree);
					next.push({treeId: node.subtree, snapshotId: visit.snapshotId, path: joinPath(visit.path, String(node.name))});
				}
			}
		});
		level = next;
	}
	counts.dataBlobsReferenced = seenData.size;
	return counts;
}

/** Loads and decodes one tree; reports and returns undefined when that fails. */
async function loadTreeNodes(ctx: CheckContext, visit: TreeVisit, counts: StructureCounts, missingPacks: ReadonlySet<string>): Promise<TreeNode[] | undefined> {
	const file = `tree ${visit.treeId}`;
	const where = `referenced by snapshot ${shortenId(visit.snapshotId)} (path ${visit.path})`;
	if (!isFullId(visit.treeId)) {
		ctx.report(file, `${where} is not a valid tree ID`);
		return undefined;
	}
	const location = ctx.repo.index.lookup('tree', visit.treeId);
	if (!location) {
		ctx.report(file, `${where} is missing from the index`);
		return undefined;
	}
	const packFile = formatPackFile(location.packId);
	if (missingPacks.has(location.packId)) {
		ctx.report(file, `${where} is lost: its pack ${packFile} is missing from storage`);
		return undefined;
	}
	let bytes: Buffer;
	try {
		bytes = await ctx.repo.loadBlob('tree', visit.treeId, ctx.signal);
	} catch (error) {
		if (ctx.signal?.aborted) throw error;
		const reason = describeError(error, `pack ${location.packId}: tree blob ${visit.treeId}`, `pack ${location.packId}`);
		ctx.report(file, `${where} cannot be read from ${packFile}: ${reason}`);
		return undefined;
	}
	counts.blobsChecked++;
	try {
		const nodes = decodeTree(bytes, visit.treeId).nodes;
		counts.trees++;
		return nodes;
	} catch (error) {
		ctx.report(file, `${where} cannot be decoded: ${describeError(error)}`);
		return undefined;
	}
}

/** Checks one node of a tree; problems are reported against the tree. */
function checkNode(ctx: CheckContext, visit: TreeVisit, node: TreeNode, seenData: Set<string>, lostData: ReadonlySet<string>): void {
	const file = `tree ${visit.treeId}`;
	const path = joinPath(visit.path, String(node.name));
	const inSnapshot = `(snapshot ${shortenId(visit.snapshotId)})`;
	if (typeof node.name !== 'string' || node.name === '') ctx.report(file, `has a node with an empty name in ${visit.path} ${inSnapshot}`);
	switch (node.type) {
		case 'file': {
			if (!Array.isArray(node.content)) {
				ctx.report(file, `file ${JSON.stringify(path)} ${inSnapshot} has no content list (null)`);
				break;
			}
			const lost: string[] = [];
			for (const [position, blobId] of node.content.entries()) {
				if (!isFullId(blobId) || isNullId(blobId)) {
					ctx.report(file, `file ${JSON.stringify(path)} ${inSnapshot}: blob ${position} has the invalid ID ${JSON.stringify(blobId)}`);
					continue;
				}
				seenData.add(blobId);
				if (!ctx.repo.index.has('data', blobId)) {
					ctx.report(file, `file ${JSON.stringify(path)} ${inSnapshot}: data blob ${blobId} is not in the index`);
				} else if (lostData.has(blobId)) {
					lost.push(blobId);
				}
			}
			if (lost.length > 0) {
				ctx.report(file, `file ${JSON.stringify(path)} ${inSnapshot} cannot be restored: ${lost.length} of its data blobs (${lost.slice(0, 3).map(shortenId).join(', ')}${lost.length > 3 ? ', …' : ''}) are only in packs missing from storage`);
			}
			break;
		}
		case 'dir':
			if (node.subtree === undefined || node.subtree === null) ctx.report(file, `directory ${JSON.stringify(path)} ${inSnapshot} has no subtree`);
			else if (!isFullId(node.subtree) || isNullId(node.subtree)) ctx.report(file, `directory ${JSON.stringify(path)} ${inSnapshot} has the invalid subtree ID ${JSON.stringify(node.subtree)}`);
			break;
		default:
			if (!NODE_TYPES.has(node.type)) ctx.report(file, `node ${JSON.stringify(path)} ${inSnapshot} has the invalid type ${JSON.stringify(node.type)}`);
	}
}
