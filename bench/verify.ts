/**
 * The side check: a restored tree must hold what the corpus holds (same files with the same
 * sizes, same symlinks) and the sampled files must hash the same.
 */
import {promises as fs} from 'node:fs';
import {hashFiles, takeInventory, type Inventory} from './inventory.js';

/** The outcome of checking one restored tree. */
export interface Verification {
	ok: boolean;
	files: number;
	bytes: number;
	symlinks: number;
	/** Sampled files hashed. */
	hashed: number;
	/** The first problems found, for a person. */
	problems: string[];
}

const MAX_PROBLEMS = 10;

/** Compares the tree at `restoredRoot` with the corpus inventory and the sample's hashes. */
export async function verifyRestore(restoredRoot: string, expected: Inventory, sampleHashes: ReadonlyMap<string, string>): Promise<Verification> {
	const problems: string[] = [];
	const note = (text: string): void => {
		if (problems.length < MAX_PROBLEMS) problems.push(text);
		else if (problems.length === MAX_PROBLEMS) problems.push('...');
	};
	const exists = await fs.stat(restoredRoot).then((s) => s.isDirectory(), () => false);
	if (!exists) return {ok: false, files: 0, bytes: 0, symlinks: 0, hashed: 0, problems: [`${restoredRoot} was not restored`]};
	const actual = await takeInventory(restoredRoot);
	if (actual.files.size !== expected.files.size) note(`${actual.files.size} files restored, the corpus has ${expected.files.size}`);
	if (actual.bytes !== expected.bytes) note(`${actual.bytes} bytes restored, the corpus has ${expected.bytes}`);
	for (const [name, size] of expected.files) {
		const got = actual.files.get(name);
		if (got === undefined) note(`missing file ${name}`);
		else if (got !== size) note(`${name}: ${got} bytes, expected ${size}`);
	}
	for (const name of actual.files.keys()) if (!expected.files.has(name)) note(`unexpected file ${name}`);
	for (const [name, target] of expected.symlinks) {
		const got = actual.symlinks.get(name);
		if (got === undefined) note(`missing symlink ${name}`);
		else if (got !== target) note(`symlink ${name} points to ${got}, expected ${target}`);
	}
	if (actual.symlinks.size !== expected.symlinks.size) note(`${actual.symlinks.size} symlinks restored, the corpus has ${expected.symlinks.size}`);
	const names = [...sampleHashes.keys()].filter((name) => actual.files.has(name));
	const hashes = await hashFiles(restoredRoot, names);
	for (const name of names) {
		if (hashes.get(name) !== sampleHashes.get(name)) note(`${name}: content differs (SHA-256 ${hashes.get(name)?.slice(0, 16)}, expected ${sampleHashes.get(name)?.slice(0, 16)})`);
	}
	return {ok: problems.length === 0, files: actual.files.size, bytes: actual.bytes, symlinks: actual.symlinks.size, hashed: names.length, problems};
}

/** Joins the checks of several restored folders (a corpus of several paths) into one outcome. */
export function mergeVerifications(parts: readonly Verification[]): Verification {
	const problems = parts.flatMap((p) => p.problems).slice(0, MAX_PROBLEMS + 1);
	return {
		ok: parts.every((p) => p.ok),
		files: parts.reduce((n, p) => n + p.files, 0),
		bytes: parts.reduce((n, p) => n + p.bytes, 0),
		symlinks: parts.reduce((n, p) => n + p.symlinks, 0),
		hashed: parts.reduce((n, p) => n + p.hashed, 0),
		problems,
	};
}
