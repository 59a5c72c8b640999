/**
 * Tree and blob access for the read commands: decoded trees (kept while a command runs, as
 * restic keeps recently used ones) and sizes from the index.
 */
import {loadTree} from '../../engine/restorer/walk.js';
import type {TreeNode} from '../../engine/format/tree.js';
import type {BlobType} from '../../engine/format/pack.js';
import type {Repository} from '../../engine/repository/repository.js';
import type {TreeLoader} from '../../engine/walker/walker.js';

/** Bytes of encryption overhead per blob (IV and MAC). */
const CRYPTO_OVERHEAD = 32;

/** A tree loader over the repository that keeps up to `keep` decoded trees. */
export function makeTreeLoader(repo: Repository, signal?: AbortSignal, keep = 4096): TreeLoader {
	const cache = new Map<string, Promise<readonly TreeNode[]>>();
	return (id) => {
		const hit = cache.get(id);
		if (hit) {
			cache.delete(id);
			cache.set(id, hit);
			return hit;
		}
		const promise = loadTree(repo, id, signal);
		cache.set(id, promise);
		promise.catch(() => cache.delete(id));
		if (cache.size > keep) cache.delete(cache.keys().next().value!);
		return promise;
	};
}

/** Plaintext size of a blob from the index (restic's LookupBlobSize), or undefined. */
export function lookupPlaintextSize(repo: Repository, type: BlobType, id: string): number | undefined {
	const location = repo.index.lookup(type, id);
	if (!location) return undefined;
	return location.uncompressedLength > 0 ? location.uncompressedLength : location.length - CRYPTO_OVERHEAD;
}

/** Size of a blob as stored in its pack (encrypted, maybe compressed), or undefined. */
export function lookupStoredSize(repo: Repository, type: BlobType, id: string): number | undefined {
	return repo.index.lookup(type, id)?.length;
}
