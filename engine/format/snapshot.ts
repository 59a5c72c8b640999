/**
 * Snapshot files: JSON with restic's field names and Go's field order.
 */
import {stringifyGoJson} from './json.js';

/** A snapshot as stored in `snapshots/<id>`. */
export interface SnapshotJson {
	time: string;
	parent?: string;
	tree: string;
	paths: string[];
	hostname?: string;
	username?: string;
	uid?: number;
	gid?: number;
	excludes?: string[];
	tags?: string[];
	original?: string;
	program_version?: string;
	summary?: Record<string, unknown>;
}

/** A snapshot with its storage ID. */
export interface Snapshot extends SnapshotJson {
	id: string;
}

/** Encodes a snapshot with Go's field order and omitempty rules. */
export function encodeSnapshot(snapshot: SnapshotJson): Buffer {
	const out: Record<string, unknown> = {time: snapshot.time};
	if (snapshot.parent) out.parent = snapshot.parent;
	out.tree = snapshot.tree;
	out.paths = snapshot.paths;
	if (snapshot.hostname) out.hostname = snapshot.hostname;
	if (snapshot.username) out.username = snapshot.username;
	if (snapshot.uid) out.uid = snapshot.uid;
	if (snapshot.gid) out.gid = snapshot.gid;
	if (snapshot.excludes?.length) out.excludes = snapshot.excludes;
	if (snapshot.tags?.length) out.tags = snapshot.tags;
	if (snapshot.original) out.original = snapshot.original;
	if (snapshot.program_version) out.program_version = snapshot.program_version;
	if (snapshot.summary) out.summary = snapshot.summary;
	return Buffer.from(stringifyGoJson(out), 'utf8');
}

/** Checks the fields a snapshot must have; throws naming what is wrong. */
export function validateSnapshot(value: unknown, id: string): SnapshotJson {
	const snap = value as SnapshotJson;
	if (!snap || typeof snap !== 'object') throw new Error(`snapshot ${id.slice(0, 8)} is not a JSON object`);
	if (typeof snap.time !== 'string') throw new Error(`snapshot ${id.slice(0, 8)} has no time`);
	if (typeof snap.tree !== 'string' || !/^[0-9a-f]{64}$/.test(snap.tree)) throw new Error(`snapshot ${id.slice(0, 8)} has no valid tree ID`);
	snap.paths = Array.isArray(snap.paths) ? snap.paths : [];
	snap.tags = Array.isArray(snap.tags) ? snap.tags : [];
	return snap;
}
