/**
 * The decoded snapshot list, kept in the local cache as one file, so that listing thousands of
 * snapshots costs one read and one decryption instead of one read, decryption and decompression
 * per snapshot file.
 *
 * Safe to keep: a snapshot file's name is the SHA-256 of its stored bytes, so the snapshot an ID
 * names never changes. The list is sealed with the repository's key like every repository file
 * (a cache file that fails to verify is ignored), and only IDs the repository still lists are used.
 */
import {openBytes, sealBytes} from '../crypto/cipher.js';
import {validateSnapshot, type SnapshotJson} from '../format/snapshot.js';
import type {Repository} from './repository.js';

const FILE_NAME = 'snapshot-list';
const FORMAT_VERSION = 1;

interface ListFile {
	version: number;
	snapshots: Array<[string, SnapshotJson]>;
}

/** The cached snapshots by ID; empty when there is no cache, no list, or the list does not verify. */
export async function readSnapshotList(repo: Repository): Promise<Map<string, SnapshotJson>> {
	const known = new Map<string, SnapshotJson>();
	if (!repo.cache) return known;
	try {
		const sealed = await repo.cache.readOwn(FILE_NAME);
		if (!sealed) return known;
		const file = JSON.parse(openBytes(repo.key, sealed).toString('utf8')) as ListFile;
		if (file.version !== FORMAT_VERSION || !Array.isArray(file.snapshots)) return known;
		for (const [id, json] of file.snapshots) known.set(id, validateSnapshot(json, id));
	} catch {
		known.clear(); // damaged, foreign or stale: the snapshot files are read instead
	}
	return known;
}

/** Replaces the cached list; failures are ignored (the cache is only a shortcut). */
export async function writeSnapshotList(repo: Repository, snapshots: Iterable<[string, SnapshotJson]>): Promise<void> {
	if (!repo.cache) return;
	const file: ListFile = {version: FORMAT_VERSION, snapshots: [...snapshots]};
	await repo.cache.writeOwn(FILE_NAME, sealBytes(repo.key, Buffer.from(JSON.stringify(file)))).catch(() => undefined);
}
