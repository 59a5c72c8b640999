/**
 * Checks of the handles callers pass in, shared by the network adapters: a file name must be a
 * repository ID (64 lowercase hex characters) so that no name can reach outside its folder, and
 * listings skip every other name (temporary files, stray files such as `.DS_Store`).
 */

import {FILE_TYPES, PermanentError, type FileHandle, type FileType} from '../storage.js';

/** The shape of a repository file name: a SHA-256 ID in lowercase hex. */
export const REPOSITORY_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Tells whether a name found in a listing is a repository file (and not a temporary or stray file). */
export function isRepositoryId(name: string): boolean {
	return REPOSITORY_ID_PATTERN.test(name);
}

/** Throws {@link PermanentError} for an unknown type (from untyped callers). */
export function checkFileType(type: FileType): void {
	if (!FILE_TYPES.includes(type)) throw new PermanentError(`unknown file type ${JSON.stringify(type)}; expected one of ${FILE_TYPES.join(', ')}`);
}

/** Throws {@link PermanentError} for a handle whose type is unknown or whose name is not a repository ID. */
export function checkFileHandle(handle: FileHandle): void {
	checkFileType(handle.type);
	if (handle.type !== 'config' && !isRepositoryId(handle.name)) {
		throw new PermanentError(`invalid ${handle.type} file name ${JSON.stringify(handle.name)}: names must be 64 lowercase hex characters`);
	}
}

/** Throws {@link PermanentError} for an offset or length that is not a whole number of bytes. */
export function checkByteRange(offset: number, length: number | undefined): void {
	if (!Number.isSafeInteger(offset) || offset < 0) throw new PermanentError(`invalid load offset ${offset}: it must be a whole number of bytes, 0 or more`);
	if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
		throw new PermanentError(`invalid load length ${length}: it must be a whole number of bytes, 0 or more`);
	}
}

/** The error for a range that starts or ends past the end of a file. */
export function makeRangeError(what: string, size: number, offset: number, length: number | undefined): PermanentError {
	const wanted = length === undefined ? `from byte ${offset} to the end` : `${length} bytes at offset ${offset}`;
	return new PermanentError(`cannot load ${wanted} of ${what}: the file holds only ${size} bytes (a damaged index or a truncated file; run cairn check)`);
}

/**
 * The repository name of a listed key relative to `<type>/`, or undefined for anything else
 * (temporary or stray objects). Data files must sit in the `xx/` folder named by their first two
 * characters, as restic's layout puts them.
 */
export function readListedName(type: FileType, rest: string): string | undefined {
	if (type === 'data') {
		const name = rest.slice(3);
		return rest[2] === '/' && isRepositoryId(name) && name.startsWith(rest.slice(0, 2)) ? name : undefined;
	}
	return isRepositoryId(rest) ? rest : undefined;
}
