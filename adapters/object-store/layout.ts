/**
 * Where each repository file lives in an object store: the mapping from a {@link FileHandle} to a
 * key, and back from a listed key to a file name. One place for it, as restic's
 * `backend/layout` is, so that every store agrees.
 */

import {readListedName, isRepositoryId} from '../shared/file-names.js';
import {pathOf, type FileHandle, type FileType} from '../storage.js';

/**
 * A key layout. Keys here are relative to the repository root; {@link joinKey} puts the store's
 * prefix in front.
 *
 * Contract: `readName(type, rest)` is the inverse of `pathOf` for every valid handle of `type`,
 * where `rest` is the key with `folderOf(type)` taken off; it returns undefined for anything else
 * (temporary objects, stray files, IDs in the wrong `data/xx/` folder).
 */
export interface ObjectLayout {
	/** The key of a file relative to the repository root, e.g. `config`, `keys/<id>`, `data/ab/ab12…`. */
	pathOf(handle: FileHandle): string;
	/** The folder of a type's files relative to the root, with its trailing slash (`keys/`); unused for `config`. */
	folderOf(type: FileType): string;
	/** The file name of a listed key relative to {@link folderOf}, or undefined when it is not a repository file. */
	readName(type: FileType, rest: string): string | undefined;
}

/** restic's default layout: `config`, `data/<first two hex>/<id>`, and the other types flat (`keys/<id>`, …). */
export const DEFAULT_LAYOUT: ObjectLayout = {
	pathOf,
	folderOf: (type) => `${type}/`,
	readName: readListedName,
};

/** Every type flat, `data/<id>` included (Google Drive, where sub-folders only cost lookups). */
export const FLAT_LAYOUT: ObjectLayout = {
	pathOf: (handle) => (handle.type === 'config' ? 'config' : `${handle.type}/${handle.name}`),
	folderOf: (type) => `${type}/`,
	readName: (_type, rest) => (isRepositoryId(rest) ? rest : undefined),
};

/** Joins a store's prefix (no leading or trailing slash; empty for the root) and a key relative to the root. */
export function joinKey(prefix: string, key: string): string {
	return prefix === '' ? key : `${prefix}/${key}`;
}
