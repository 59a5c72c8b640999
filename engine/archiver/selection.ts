/**
 * Which entries a backup leaves out, with restic's rules (its cmd/restic/exclude.go):
 * - by name: exclude patterns (`--exclude`, `--iexclude` ignoring case) and tag files
 *   (`--exclude-if-present NAME[:HEADER]`, `--exclude-caches` = `CACHEDIR.TAG` with the Cache
 *   Directory Tagging signature): a directory holding the tag file is kept with the tag file alone;
 * - by metadata: `--exclude-larger-than` (any non-directory larger than the size) and
 *   `--one-file-system` (entries on another device than the source path they lie under; a mount
 *   point itself is kept, empty, as restic keeps it).
 */
import * as fs from 'node:fs';
import type {BigIntStats} from 'node:fs';
import * as path from 'node:path';
import {UsageError} from '../errors.js';
import {compileExcludes} from './excludes.js';
import {PatternError} from '../util/path-filter.js';

/** The signature a CACHEDIR.TAG file starts with (https://bford.info/cachedir/). */
export const CACHEDIR_TAG = 'CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55';

/** What to leave out. */
export interface SelectionOptions {
	excludes?: readonly string[];
	/** Patterns matched ignoring case. */
	iexcludes?: readonly string[];
	/** `NAME` or `NAME:HEADER` specs of tag files. */
	excludeIfPresent?: readonly string[];
	excludeCaches?: boolean;
	/** Largest size in bytes of a non-directory entry kept. */
	excludeLargerThan?: number;
	oneFileSystem?: boolean;
	/** Directories left out with everything below them, e.g. cairn's own cache (as restic leaves out its cache). */
	excludeDirectories?: readonly string[];
}

/** A compiled selection; `true` means "leave it out". */
export interface Selection {
	/** Decides on the absolute path alone (before lstat). */
	rejectByName(absolutePath: string): boolean;
	/** Decides with the entry's metadata (after lstat). */
	rejectByStats(absolutePath: string, stats: BigIntStats): boolean;
}

/** Parses restic's size syntax: a number with an optional b, k, m, g or t suffix (powers of 1024). */
export function parseSize(text: string): number {
	const match = /^(\d+)([bBkKmMgGtT]?)$/.exec(text.trim());
	if (!match) throw new UsageError(`invalid size ${JSON.stringify(text)}: use a number with an optional suffix k, m, g or t, e.g. 500M`);
	const unit = {'': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4}[match[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g' | 't'];
	return Number(match[1]) * unit;
}

/** Compiles the options; `warn` receives problems with tag files (restic's warnings). */
export function compileSelection(options: SelectionOptions, targets: readonly string[], warn: (message: string) => void = () => undefined): Selection {
	let excluded: (p: string) => boolean;
	try {
		excluded = compileExcludes(options.excludes ?? [], options.iexcludes ?? []);
	} catch (error) {
		if (error instanceof PatternError) throw new UsageError(`--exclude: ${error.message}`);
		throw error;
	}
	const tags = [...(options.excludeIfPresent ?? []), ...(options.excludeCaches ? [CACHEDIR_TAG] : [])].map(parseTagSpec);
	const tagCache = tags.map(() => new Map<string, boolean>());
	const devices = options.oneFileSystem ? mapDevices(targets) : undefined;
	const skipped = (options.excludeDirectories ?? []).map((d) => path.resolve(d));
	return {
		rejectByName(p) {
			if (excluded(p)) return true;
			if (skipped.some((d) => p === d || p.startsWith(d + '/'))) return true;
			if (tags.length === 0) return false;
			const dir = path.posix.dirname(p);
			const base = path.posix.basename(p);
			return tags.some((tag, i) => {
				if (base === tag.name) return false; // the tag file itself is kept
				const cache = tagCache[i]!;
				let rejected = cache.get(dir);
				if (rejected === undefined) {
					rejected = isTaggedDirectory(dir, tag, warn);
					cache.set(dir, rejected);
				}
				return rejected;
			});
		},
		rejectByStats(p, stats) {
			if (options.excludeLargerThan !== undefined && !stats.isDirectory() && Number(stats.size) > options.excludeLargerThan) return true;
			if (devices && !isOnAllowedDevice(devices, p, stats)) return true;
			return false;
		},
	};
}

interface TagSpec {
	name: string;
	header: string;
}

function parseTagSpec(spec: string): TagSpec {
	if (spec === '') throw new UsageError('--exclude-if-present: the name of the tag file is empty');
	const colon = spec.indexOf(':');
	if (colon === 0) throw new UsageError(`--exclude-if-present ${JSON.stringify(spec)}: no name of a tag file before the colon`);
	return colon > 0 ? {name: spec.slice(0, colon), header: spec.slice(colon + 1)} : {name: spec, header: ''};
}

function isTaggedDirectory(dir: string, tag: TagSpec, warn: (message: string) => void): boolean {
	const file = path.posix.join(dir, tag.name);
	try {
		fs.lstatSync(file);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') warn(`could not access exclusion tagfile: ${(error as Error).message}`);
		return false;
	}
	if (tag.header === '') return true;
	const expected = Buffer.from(tag.header, 'utf8');
	let fd: number;
	try {
		fd = fs.openSync(file, 'r');
	} catch (error) {
		warn(`could not open exclusion tagfile: ${(error as Error).message}`);
		return false;
	}
	try {
		const buffer = Buffer.alloc(expected.length);
		let got = 0;
		while (got < buffer.length) {
			const n = fs.readSync(fd, buffer, got, buffer.length - got, got);
			if (n === 0) break;
			got += n;
		}
		if (got < buffer.length) {
			warn(`invalid (too short) signature in exclusion tagfile ${JSON.stringify(file)}`);
			return false;
		}
		if (!buffer.equals(expected)) {
			warn(`invalid signature in exclusion tagfile ${JSON.stringify(file)}`);
			return false;
		}
		return true;
	} catch (error) {
		warn(`could not read signature from exclusion tagfile ${JSON.stringify(file)}: ${(error as Error).message}`);
		return false;
	} finally {
		fs.closeSync(fd);
	}
}

function mapDevices(targets: readonly string[]): Map<string, bigint> {
	const devices = new Map<string, bigint>();
	for (const target of targets) {
		try {
			devices.set(path.resolve(target), fs.lstatSync(target, {bigint: true}).dev);
		} catch {
			// a missing source path is reported by the backup itself
		}
	}
	return devices;
}

/** The device of the source path an entry lies under (the nearest one). */
function findAllowedDevice(devices: Map<string, bigint>, p: string): bigint | undefined {
	for (let dir = p; ; dir = path.posix.dirname(dir)) {
		const device = devices.get(dir);
		if (device !== undefined) return device;
		if (dir === path.posix.dirname(dir)) return undefined;
	}
}

function isOnAllowedDevice(devices: Map<string, bigint>, p: string, stats: BigIntStats): boolean {
	const allowed = findAllowedDevice(devices, p);
	if (allowed === undefined || allowed === stats.dev) return true;
	if (!stats.isDirectory()) return false;
	// A mount point is kept (as an empty directory) when its parent is on the allowed device.
	const parent = path.posix.dirname(p);
	try {
		const parentDevice = fs.lstatSync(parent, {bigint: true}).dev;
		return findAllowedDevice(devices, parent) === parentDevice;
	} catch {
		return false;
	}
}
