/**
 * File system paths whose names may not be valid UTF-8. Such paths are kept as bytes for every
 * system call; the text form (invalid bytes replaced by U+FFFD, as restic records them) is used
 * for names in trees, messages and exclude matching.
 */

/** A path as text, or as raw bytes when some part of it is not valid UTF-8. */
export type FsPath = string | Buffer;

import {isUtf8 as isValidUtf8} from 'node:buffer';

/** Tells whether bytes are valid UTF-8. */
export function isUtf8(bytes: Buffer): boolean {
	return isValidUtf8(bytes);
}

/** The text form of a path. */
export function displayPath(p: FsPath): string {
	return typeof p === 'string' ? p : p.toString('utf8');
}

/** Joins a directory and one raw name; stays text while everything is valid UTF-8. */
export function joinPath(dir: FsPath, rawName: Buffer): {path: FsPath; name: string} {
	const name = rawName.toString('utf8');
	if (typeof dir === 'string' && isUtf8(rawName)) return {path: dir.endsWith('/') ? dir + name : `${dir}/${name}`, name};
	const prefix = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
	const separator = prefix[prefix.length - 1] === 0x2f ? Buffer.alloc(0) : Buffer.from('/');
	return {path: Buffer.concat([prefix, separator, rawName]), name};
}
