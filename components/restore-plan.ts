/**
 * Before a restore: what already exists where the files would go, and what each overwrite policy
 * would then do. The check walks the snapshot's trees and looks at the target with lstat, the
 * same way the restorer decides (size and modification time). It is asynchronous and
 * cancellable, so the screen stays responsive on large snapshots. No React here.
 */
import {lstat} from 'node:fs/promises';
import {join} from 'node:path';
import type {Snapshot} from '../engine/format/snapshot.js';
import type {OverwriteMode} from '../engine/restorer/restorer.js';
import {checkNodeName} from '../engine/format/tree.js';
import type {TreeSource} from './find.js';
import {parseGoTime} from '../engine/format/time.js';
import {formatBytes} from './format.js';

/** What a restore would meet at its target. */
export interface RestoreConflicts {
	/** Entries to restore that are not directories (files, links, …). */
	readonly files: number;
	/** Bytes of the regular files to restore. */
	readonly bytes: number;
	/** Of `files`, how many already exist at the target. */
	readonly existing: number;
	/** Of `existing`, how many differ from the snapshot (size or modification time), or are not files. */
	readonly differing: number;
	/** A few existing paths that differ, to show. */
	readonly examples: readonly string[];
}

/** Two modification times closer than this count as equal (as the restorer's `if-changed`). */
const MTIME_TOLERANCE_NS = 2000n;

/** Tells whether a snapshot path (no leading slash) is selected by the includes, or leads to one. */
function classifyPath(path: string, includes: readonly string[]): 'inside' | 'above' | 'outside' {
	if (includes.length === 0) return 'inside';
	let above = false;
	for (const include of includes) {
		if (path === include || path.startsWith(include + '/')) return 'inside';
		if (include.startsWith(path + '/')) above = true;
	}
	return above ? 'above' : 'outside';
}

/** Settings of {@link scanRestoreTarget}. */
export interface ScanOptions {
	readonly signal?: AbortSignal;
	/** Called now and then with the number of entries checked so far. */
	readonly onProgress?: (checked: number) => void;
}

/**
 * Walks what a restore of `includes` (snapshot paths without a leading slash; empty means all)
 * into `target` would write and counts what exists there already. Listings come from `source`
 * (the session's tree loader, which decodes large directories off the main thread), and the walk
 * yields to the event loop now and then. Throws the signal's reason when cancelled. The
 * repository's index must be loaded.
 */
export async function scanRestoreTarget(source: TreeSource, snapshot: Snapshot, includes: readonly string[], target: string, options: ScanOptions = {}): Promise<RestoreConflicts> {
	const cleaned = includes.map((include) => include.replace(/^\/+/, '').replace(/\/+$/, '')).filter(Boolean);
	let files = 0;
	let bytes = 0;
	let existing = 0;
	let differing = 0;
	let checked = 0;
	const examples: string[] = [];
	const stack: Array<{prefix: string; tree: string}> = [{prefix: '', tree: snapshot.tree}];
	while (stack.length > 0) {
		options.signal?.throwIfAborted();
		const {prefix, tree} = stack.pop()!;
		const nodes = await source.load(tree, options.signal);
		const below: Array<{prefix: string; tree: string}> = [];
		for (const node of nodes) {
			if (checkNodeName(node.name) !== undefined) continue;
			const path = prefix === '' ? node.name : `${prefix}/${node.name}`;
			const place = classifyPath(path, cleaned);
			if (place === 'outside') continue;
			if (node.type === 'dir') {
				if (node.subtree) below.push({prefix: path, tree: node.subtree});
				continue;
			}
			if (place === 'above') continue;
			files++;
			if (node.type === 'file') bytes += node.size ?? 0;
			checked++;
			if (checked % 500 === 0) {
				options.onProgress?.(checked);
				options.signal?.throwIfAborted();
			}
			let stats;
			try {
				stats = await lstat(join(target, path), {bigint: true});
			} catch {
				continue;
			}
			existing++;
			let same = false;
			if (node.type === 'file' && stats.isFile() && Number(stats.size) === (node.size ?? 0)) {
				try {
					const delta = stats.mtimeNs - parseGoTime(node.mtime);
					same = delta > -MTIME_TOLERANCE_NS && delta < MTIME_TOLERANCE_NS;
				} catch {
					same = false;
				}
			}
			if (!same) {
				differing++;
				if (examples.length < 5) examples.push(join(target, path));
			}
		}
		for (let i = below.length - 1; i >= 0; i--) stack.push(below[i]!);
	}
	options.onProgress?.(checked);
	return {files, bytes, existing, differing, examples};
}

/** The overwrite policies offered, in the order shown. */
export const RESTORE_POLICIES: readonly OverwriteMode[] = ['never', 'if-changed', 'always'];

/** The name of a policy for people. */
export function describePolicyName(policy: OverwriteMode): string {
	return policy === 'never' ? 'skip existing files' : policy === 'if-changed' ? 'overwrite if changed' : 'overwrite';
}

function plural(count: number, one: string, many = `${one}s`): string {
	return `${count} ${count === 1 ? one : many}`;
}

/** What a restore with `policy` will do, in one or two sentences, given what exists at the target. */
export function describeRestoreConsequence(conflicts: RestoreConflicts, policy: OverwriteMode): string {
	const {existing, differing} = conflicts;
	const missing = conflicts.files - existing;
	const be = (count: number): string => (count === 1 ? 'is' : 'are');
	const restoredMissing = `${plural(missing, 'missing file')} ${be(missing)} restored`;
	switch (policy) {
		case 'never':
			return `${existing === 1 ? 'The existing file stays' : `The ${existing} existing files stay`} as ${existing === 1 ? 'it is' : 'they are'}, even if ${existing === 1 ? 'it differs' : 'they differ'}; ${restoredMissing}.`;
		case 'if-changed': {
			const same = existing - differing;
			return `${plural(differing, 'file')} that differ${differing === 1 ? 's' : ''} from the snapshot ${be(differing)} replaced, ${plural(same, 'identical file')} ${be(same)} left alone; ${restoredMissing}.`;
		}
		case 'always':
			return `${existing === 1 ? 'The existing file is' : `All ${existing} existing files are`} replaced by the snapshot's version (${differing} differ${differing === 1 ? 's' : ''} from it); ${restoredMissing}.`;
	}
}

/** The first line of the summary: how much exists already. */
export function describeConflicts(conflicts: RestoreConflicts, target: string): string {
	const {existing, differing} = conflicts;
	return `${existing} of ${plural(conflicts.files, 'file')} (${formatBytes(conflicts.bytes)} in all) already exist${existing === 1 ? 's' : ''} in ${target}; ${differing} of them differ${differing === 1 ? 's' : ''} from the snapshot.`;
}
