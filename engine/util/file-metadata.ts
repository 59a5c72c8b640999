/**
 * File times to the nanosecond and extended attributes in restic's tree format, on top of the
 * native calls of ./native-fs.ts, with fallbacks when those cannot be loaded: times through Node's
 * utimes (to about a microsecond), extended attributes left out (callers warn once).
 */
import * as fs from 'node:fs';
import {loadNativeFs, nativeFsUnavailableReason, type NativePath} from './native-fs.js';

/** An extended attribute as a restic tree node records it (value in base64, as Go encodes []byte). */
export interface ExtendedAttribute {
	name: string;
	value: string;
}

/** Why extended attributes cannot be read or written in this process; undefined when they can. */
export function findXattrSupportProblem(): string | undefined {
	return loadNativeFs() ? undefined : nativeFsUnavailableReason();
}

function toSeconds(ns: bigint): number {
	return Number(ns) / 1e9;
}

/** Sets the times of an open file: exact with futimens, else through fs.futimesSync. */
export function setFdTimes(fd: number, atimeNs: bigint, mtimeNs: bigint): void {
	const native = loadNativeFs();
	if (native) native.setFdTimes(fd, atimeNs, mtimeNs);
	else fs.futimesSync(fd, toSeconds(atimeNs), toSeconds(mtimeNs));
}

/** Sets the times of a path (of a symlink itself with `noFollow`): exact with utimensat, else through fs.utimesSync/lutimesSync. */
export function setPathTimes(path: NativePath, atimeNs: bigint, mtimeNs: bigint, noFollow = false): void {
	const native = loadNativeFs();
	if (native) native.setTimes(path, atimeNs, mtimeNs, noFollow);
	else if (noFollow) fs.lutimesSync(path, toSeconds(atimeNs), toSeconds(mtimeNs));
	else fs.utimesSync(path, toSeconds(atimeNs), toSeconds(mtimeNs));
}

/** What reading the attributes of one path gave. */
export type XattrReadResult =
	| {ok: true; attributes: ExtendedAttribute[]}
	/** The file system (`scope: 'filesystem'`) or this process has no extended attributes: not an error of the file. */
	| {ok: false; unsupported: true; scope: 'filesystem' | 'process'; message: string}
	| {ok: false; unsupported: false; message: string};

/** Error codes that mean "this file system has no extended attributes" (ENOATTR is ENODATA on Linux). */
const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP']);

/**
 * Reads every extended attribute of `path` (not following symlinks) in the order the kernel lists
 * them, which lists only what this process may read (trusted.* needs root). An attribute removed
 * between the listing and the read is left out.
 */
export function readXattrs(path: NativePath): XattrReadResult {
	const native = loadNativeFs();
	if (!native) return {ok: false, unsupported: true, scope: 'process', message: nativeFsUnavailableReason() ?? 'extended attributes are unavailable'};
	let names: string[];
	try {
		names = native.listXattrs(path);
	} catch (error) {
		const e = error as NodeJS.ErrnoException;
		if (UNSUPPORTED.has(e.code ?? '')) return {ok: false, unsupported: true, scope: 'filesystem', message: e.message};
		return {ok: false, unsupported: false, message: `cannot list extended attributes: ${e.message}`};
	}
	const attributes: ExtendedAttribute[] = [];
	for (const name of names) {
		try {
			attributes.push({name, value: native.getXattr(path, name).toString('base64')});
		} catch (error) {
			const e = error as NodeJS.ErrnoException;
			if (e.code === 'ENODATA') continue;
			if (UNSUPPORTED.has(e.code ?? '')) return {ok: false, unsupported: true, scope: 'filesystem', message: e.message};
			return {ok: false, unsupported: false, message: `cannot read extended attribute ${name}: ${e.message}`};
		}
	}
	return {ok: true, attributes};
}

/** Whether this process restores an attribute: `user.*` always, every namespace as root. */
export function shouldRestoreXattr(name: string, asRoot: boolean): boolean {
	return asRoot || name.startsWith('user.');
}

/** A failure to set one attribute; `unsupported` when the file system has none. */
export interface XattrWriteProblem {
	name: string;
	code: string;
	message: string;
	unsupported: boolean;
}

/**
 * Sets the attributes of a node on an open file (`fd`) or a path (not following symlinks); returns
 * the problems (the file is still restored: restic does not fail a file for them either). Stops at
 * the first "unsupported", which would repeat for every attribute.
 */
export function writeXattrs(target: {fd: number} | {path: NativePath}, attributes: readonly ExtendedAttribute[] | undefined, asRoot: boolean): XattrWriteProblem[] {
	const problems: XattrWriteProblem[] = [];
	if (!attributes?.length) return problems;
	const native = loadNativeFs();
	if (!native) return [{name: attributes[0]!.name, code: 'ENOSYS', message: nativeFsUnavailableReason() ?? 'extended attributes are unavailable', unsupported: true}];
	for (const {name, value} of attributes) {
		if (!shouldRestoreXattr(name, asRoot)) continue;
		try {
			const bytes = Buffer.from(value, 'base64');
			if ('fd' in target) native.setFdXattr(target.fd, name, bytes);
			else native.setXattr(target.path, name, bytes);
		} catch (error) {
			const e = error as NodeJS.ErrnoException;
			const unsupported = UNSUPPORTED.has(e.code ?? '');
			problems.push({name, code: e.code ?? 'EIO', message: e.message, unsupported});
			if (unsupported) break;
		}
	}
	return problems;
}
