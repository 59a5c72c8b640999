/**
 * The paths `cairn backup` saves, gathered as restic gathers them: `--files-from` (one glob per
 * line, `#` comments, blank lines skipped, each glob expanded), `--files-from-verbatim` (one path
 * per line, nothing expanded), `--files-from-raw` (NUL-terminated paths), then the arguments.
 * `-` reads a list from standard input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {UsageError} from '../../engine/errors.js';
import {globToRegExp, PatternError} from '../../engine/util/path-filter.js';

/** The flags that name targets. */
export interface TargetFlags {
	filesFrom?: string[];
	filesFromVerbatim?: string[];
	filesFromRaw?: string[];
}

async function readInput(file: string): Promise<Buffer> {
	if (file !== '-') {
		try {
			return await fs.promises.readFile(file);
		} catch (error) {
			throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
		}
	}
	const chunks: Buffer[] = [];
	for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

/** Lines of a text file (a UTF-8 byte order mark and CR before LF dropped). */
async function readLines(file: string): Promise<string[]> {
	const text = (await readInput(file)).toString('utf8').replace(/^\uFEFF/, '');
	const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
	if (lines.at(-1) === '') lines.pop();
	return lines;
}

/** NUL-terminated names (restic's --files-from-raw): a missing last NUL or an empty name is an error. */
export function splitRawNames(data: Buffer): string[] {
	const names: string[] = [];
	let start = 0;
	while (start < data.length) {
		const end = data.indexOf(0, start);
		if (end < 0) throw new UsageError('--files-from-raw: trailing zero byte missing: end every name with a NUL byte, as find -print0 does');
		if (end === start) throw new UsageError('--files-from-raw: empty filename in listing');
		names.push(data.subarray(start, end).toString('utf8'));
		start = end + 1;
	}
	return names;
}

const META = /[*?[\\]/;

/** Expands a glob like Go's filepath.Glob: sorted matches, the pattern itself when it has no magic and exists. */
export function expandGlob(pattern: string): string[] {
	if (!META.test(pattern)) return fs.existsSync(pattern) || isDanglingLink(pattern) ? [pattern] : [];
	const dir = path.dirname(pattern);
	const base = path.basename(pattern);
	const dirs = META.test(dir) && dir !== pattern ? expandGlob(dir) : [dir];
	let regex: RegExp;
	try {
		regex = globToRegExp(base);
	} catch (error) {
		if (error instanceof PatternError) throw new UsageError(`pattern: ${pattern}: ${error.message}`);
		throw error;
	}
	const matches: string[] = [];
	for (const d of dirs) {
		let names: string[];
		try {
			names = fs.readdirSync(d);
		} catch {
			continue;
		}
		for (const name of names.sort()) if (regex.test(name)) matches.push(path.join(d, name));
	}
	return matches;
}

function isDanglingLink(p: string): boolean {
	try {
		fs.lstatSync(p);
		return true;
	} catch {
		return false;
	}
}

/** Gathers the targets; `warn` receives restic's warnings (unmatched globs, missing paths). */
export async function collectTargets(args: readonly string[], flags: TargetFlags, warn: (message: string) => void): Promise<string[]> {
	const targets: string[] = [];
	for (const file of flags.filesFrom ?? []) {
		for (const raw of await readLines(file)) {
			const line = raw.trim();
			if (line === '' || line.startsWith('#')) continue;
			const expanded = expandGlob(line);
			if (expanded.length === 0) warn(`pattern ${JSON.stringify(line)} does not match any files, skipping`);
			targets.push(...expanded);
		}
	}
	for (const file of flags.filesFromVerbatim ?? []) {
		for (const line of await readLines(file)) if (line !== '') targets.push(line);
	}
	for (const file of flags.filesFromRaw ?? []) targets.push(...splitRawNames(await readInput(file)));
	targets.push(...args);
	// Paths that do not exist are reported by the backup itself (a warning each, exit 3; none left: exit 1).
	return targets;
}
