/**
 * Helpers for the CLI and interop suites: run the built cairn CLI and restic as child processes,
 * build a varied source tree, and compare two trees for content and metadata.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {createCipheriv, createHash} from 'node:crypto';
import * as fs from 'node:fs/promises';
import type {BigIntStats} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

/** The project root (where package.json lives). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI entry point (`npm test` builds before running the suites). */
export const CLI = path.join(ROOT, 'dist/source/cli.js');
/** The restic binary used as the oracle. */
export const RESTIC = process.env.CAIRN_TEST_RESTIC ?? '/usr/bin/restic';
/** uid and gid of `nobody`, used to make files unreadable to cairn while the tests run as root. */
export const NOBODY = {uid: 65534, gid: 65534};

/** What a finished process left behind. */
export interface RunResult {
	/** Exit code, or null when the process was killed by a signal. */
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

/** Options for running cairn or restic. */
export interface RunOptions {
	/** Variables added to a clean environment (no CAIRN_* or RESTIC_* variables are inherited). */
	env?: Record<string, string | undefined>;
	cwd?: string;
	/** Run as the `nobody` user (through setpriv). */
	asNobody?: boolean;
	/** Written to stdin, which is a pipe (never a TTY). */
	input?: string;
	/** Kill the process after this many milliseconds (default 110 s). */
	timeoutMs?: number;
	/**
	 * Start the process in a session and process group of its own. Needed before stopping it with
	 * SIGSTOP: in a shared, orphaned process group the kernel sends SIGHUP to stopped members
	 * whenever another member (a restic run, say) exits.
	 */
	detached?: boolean;
}

/** A process running in the background. */
export interface Running {
	child: ChildProcess;
	/** Resolves when the process has exited. */
	done: Promise<RunResult>;
	/** What the process printed so far. */
	output(): {stdout: string; stderr: string};
}

/** The environment of a child: ours without CAIRN_* / RESTIC_* variables, plus `extra`, with TERM dumb and no colors. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (key.startsWith('CAIRN_') || key.startsWith('RESTIC_')) continue;
		env[key] = value;
	}
	env.NO_COLOR = '1';
	for (const [key, value] of Object.entries(extra)) {
		if (value === undefined) delete env[key];
		else env[key] = value;
	}
	return env;
}

function start(command: string, args: readonly string[], options: RunOptions): Running {
	let file = command;
	let argv = [...args];
	if (options.asNobody) {
		argv = [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', command, ...args];
		file = 'setpriv';
	}
	const child = spawn(file, argv, {
		cwd: options.cwd ?? os.tmpdir(),
		env: cleanEnv({...(options.asNobody ? {HOME: os.tmpdir()} : {}), ...options.env}),
		stdio: ['pipe', 'pipe', 'pipe'],
		detached: options.detached ?? false,
	});
	let stdout = '';
	let stderr = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	child.stdin!.on('error', () => undefined);
	child.stdin!.end(options.input ?? '');
	const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110_000);
	const done = new Promise<RunResult>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({code, signal, stdout, stderr});
		});
	});
	return {child, done, output: () => ({stdout, stderr})};
}

/** Starts the built cairn CLI in the background. */
export function startCairn(args: readonly string[], options: RunOptions = {}): Running {
	return start(process.execPath, [CLI, ...args], options);
}

/** Runs the built cairn CLI and waits for it. */
export function runCairn(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
	return startCairn(args, options).done;
}

/** Runs restic (with `--no-cache`, so that runs do not share state) and waits for it. */
export function runRestic(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
	return start(RESTIC, ['--no-cache', ...args], options).done;
}

/** Describes a result for assertion messages. */
export function describeRun(result: RunResult): string {
	return `exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** Parses JSON lines printed on stdout. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
	return text.split('\n').filter((line) => line.trim().startsWith('{') || line.trim().startsWith('[')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Creates a fresh temporary directory. */
export async function makeTempDir(prefix = 'cairn-test-'): Promise<string> {
	return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Deterministic pseudo-random bytes: AES-256-CTR keystream keyed by the seed. */
export function seededBytes(seed: string, size: number): Buffer {
	const key = createHash('sha256').update(`key:${seed}`).digest();
	const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
	const cipher = createCipheriv('aes-256-ctr', key, iv);
	return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** Writes `size` seeded random bytes to `file` in 4 MiB pieces (so large files need little memory). */
export async function writeSeededFile(file: string, seed: string, size: number): Promise<void> {
	const key = createHash('sha256').update(`key:${seed}`).digest();
	const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
	const cipher = createCipheriv('aes-256-ctr', key, iv);
	const handle = await fs.open(file, 'w', 0o644);
	try {
		const piece = 4 * 1024 * 1024;
		for (let done = 0; done < size; done += piece) {
			await handle.write(cipher.update(Buffer.alloc(Math.min(piece, size - done))));
		}
	} finally {
		await handle.close();
	}
}

/** Options of {@link makeVariedTree}. */
export interface TreeOptions {
	/** Seed of all random content. */
	seed?: string;
	/** Size of `big.bin` in bytes; 0 leaves it out. Default 21 MiB. */
	bigFileSize?: number;
}

/** What {@link makeVariedTree} made, relative to the tree's root. */
export interface TreeInfo {
	root: string;
	/** Regular files with their sizes. */
	files: Map<string, number>;
	dirs: string[];
	emptyDirs: string[];
	symlinks: Map<string, string>;
	/** Total bytes of regular files. */
	bytes: number;
}

/** 2021-03-04T05:06:07.123Z: a fixed time with milliseconds, far from "now". */
const BASE_TIME_MS = Date.UTC(2021, 2, 4, 5, 6, 7, 123);

/**
 * Builds a varied tree in `root` (which must not exist yet): a large random file, small files of
 * assorted sizes, empty files, empty and nested directories, relative, absolute and dangling
 * symlinks, names with spaces and UTF-8, a sparse file, a zero-filled file, and files with modes
 * 0750 and 0400. Every entry gets a distinct fixed mtime with milliseconds.
 */
export async function makeVariedTree(root: string, options: TreeOptions = {}): Promise<TreeInfo> {
	const seed = options.seed ?? 'cairn';
	const bigFileSize = options.bigFileSize ?? 21 * 1024 * 1024;
	const info: TreeInfo = {root, files: new Map(), dirs: [], emptyDirs: [], symlinks: new Map(), bytes: 0};
	const dirs = ['nested', 'nested/a', 'nested/a/b', 'nested/a/b/c', 'dir with spaces', 'ünïcødé 目录', 'empty-dir', 'nested/a/empty-leaf', 'modes'];
	await fs.mkdir(root);
	for (const dir of dirs) await fs.mkdir(path.join(root, dir));
	info.dirs = dirs;
	info.emptyDirs = ['empty-dir', 'nested/a/empty-leaf'];

	const file = async (rel: string, data: Buffer | string): Promise<void> => {
		await fs.writeFile(path.join(root, rel), data);
		const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
		info.files.set(rel, size);
	};
	if (bigFileSize > 0) {
		await writeSeededFile(path.join(root, 'big.bin'), `${seed}:big`, bigFileSize);
		info.files.set('big.bin', bigFileSize);
	}
	await file('small.txt', 'a small text file\n');
	await file('empty.txt', '');
	await file('nested/a/b/empty-too', '');
	await file('ü ñ 日本.txt', 'UTF-8 name with spaces: ü ñ 日本\n');
	await file('dir with spaces/file with spaces.txt', 'spaces in both names\n');
	await file('ünïcødé 目录/ファイル.bin', seededBytes(`${seed}:unicode`, 12_345));
	await file('nested/a/b/c/deep.txt', 'deep down\n'.repeat(100));
	await file('nested/a/random-1.bin', seededBytes(`${seed}:r1`, 1));
	await file('nested/a/random-4097.bin', seededBytes(`${seed}:r2`, 4097));
	await file('nested/a/random-700k.bin', seededBytes(`${seed}:r3`, 700 * 1024));
	await file('nested/text-repeated.txt', 'the same line over and over, which compresses well\n'.repeat(20_000));
	await file('modes/script.sh', '#!/bin/sh\necho hello\n');
	await fs.chmod(path.join(root, 'modes/script.sh'), 0o750);
	await file('modes/read-only.txt', 'read only\n');
	await fs.chmod(path.join(root, 'modes/read-only.txt'), 0o400);
	await fs.chmod(path.join(root, 'modes'), 0o750);

	// A zero-filled file written byte by byte (not sparse) and a sparse file made like `truncate -s`,
	// plus one with data between holes.
	await file('zeros.bin', Buffer.alloc(3 * 1024 * 1024));
	const sparse = path.join(root, 'sparse.img');
	await fs.writeFile(sparse, '');
	await fs.truncate(sparse, 5 * 1024 * 1024);
	info.files.set('sparse.img', 5 * 1024 * 1024);
	const holey = path.join(root, 'holey.img');
	const handle = await fs.open(holey, 'w', 0o644);
	await handle.write(seededBytes(`${seed}:holey`, 10_000), 0, 10_000, 2 * 1024 * 1024);
	await handle.truncate(4 * 1024 * 1024);
	await handle.close();
	info.files.set('holey.img', 4 * 1024 * 1024);

	const links: Array<[string, string]> = [
		['link-to-small', 'small.txt'],
		['nested/a/b/c/link-up', '../../../../small.txt'],
		['nested/link-to-dir', 'a/b'],
		['dangling', 'does/not/exist'],
		['absolute-link', '/etc/hostname'],
		['dir with spaces/link to ü', '../ü ñ 日本.txt'],
	];
	for (const [rel, target] of links) {
		await fs.symlink(target, path.join(root, rel));
		info.symlinks.set(rel, target);
	}
	info.bytes = [...info.files.values()].reduce((a, b) => a + b, 0);

	// Distinct fixed times: files and links first, then directories deepest first, the root last.
	let step = 0;
	const timeFor = (): Date => new Date(BASE_TIME_MS + (step++) * 86_400_001);
	for (const rel of [...info.files.keys()]) {
		const t = timeFor();
		await fs.utimes(path.join(root, rel), t, t);
	}
	for (const rel of info.symlinks.keys()) {
		const t = timeFor();
		await fs.lutimes(path.join(root, rel), t, t);
	}
	for (const rel of [...dirs].sort((a, b) => b.split('/').length - a.split('/').length)) {
		const t = timeFor();
		await fs.utimes(path.join(root, rel), t, t);
	}
	const t = timeFor();
	await fs.utimes(root, t, t);
	return info;
}

/** Options of {@link compareTrees}. */
export interface CompareOptions {
	/** Compare the mtimes of symlinks too (default true). */
	symlinkTimes?: boolean;
	/** Compare owners (default true). */
	owners?: boolean;
}

async function hashFile(file: string): Promise<string> {
	const hash = createHash('sha256');
	const handle = await fs.open(file, 'r');
	try {
		for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
	} finally {
		await handle.close().catch(() => undefined);
	}
	return hash.digest('hex');
}

function kindOf(stats: BigIntStats): string {
	if (stats.isFile()) return 'file';
	if (stats.isDirectory()) return 'dir';
	if (stats.isSymbolicLink()) return 'symlink';
	return 'other';
}

/**
 * Compares two trees and returns every difference found (an empty list when they match):
 * the set of names in each directory (so missing or extra entries and empty directories count),
 * types, permission bits, owners, sizes, SHA-256 of contents, symlink targets and mtimes.
 *
 * mtimes are compared to the millisecond. Node's utimes and lutimes take seconds as a double,
 * so a restorer written in Node cannot set nanosecond times exactly (a double holds a current
 * time to about half a microsecond); comparing at a coarser precision keeps the check fair.
 */
export async function compareTrees(expected: string, actual: string, options: CompareOptions = {}): Promise<string[]> {
	const differences: string[] = [];
	const visit = async (rel: string): Promise<void> => {
		const a = path.join(expected, rel);
		const b = path.join(actual, rel);
		const name = rel || '.';
		let sa: BigIntStats;
		let sb: BigIntStats;
		try {
			sa = await fs.lstat(a, {bigint: true});
		} catch {
			differences.push(`${name}: missing in the expected tree`);
			return;
		}
		try {
			sb = await fs.lstat(b, {bigint: true});
		} catch {
			differences.push(`${name}: missing`);
			return;
		}
		if (kindOf(sa) !== kindOf(sb)) {
			differences.push(`${name}: is a ${kindOf(sb)}, expected a ${kindOf(sa)}`);
			return;
		}
		const kind = kindOf(sa);
		if (kind !== 'symlink' && (sa.mode & 0o7777n) !== (sb.mode & 0o7777n)) {
			differences.push(`${name}: mode ${(sb.mode & 0o7777n).toString(8)}, expected ${(sa.mode & 0o7777n).toString(8)}`);
		}
		if (options.owners !== false && (sa.uid !== sb.uid || sa.gid !== sb.gid)) {
			differences.push(`${name}: owner ${sb.uid}:${sb.gid}, expected ${sa.uid}:${sa.gid}`);
		}
		if (kind !== 'symlink' || options.symlinkTimes !== false) {
			const delta = sa.mtimeNs - sb.mtimeNs;
			if (delta >= 1_000_000n || delta <= -1_000_000n) {
				differences.push(`${name}: mtime ${new Date(Number(sb.mtimeMs)).toISOString()} (${sb.mtimeNs} ns), expected ${new Date(Number(sa.mtimeMs)).toISOString()} (${sa.mtimeNs} ns)`);
			}
		}
		if (kind === 'file') {
			if (sa.size !== sb.size) differences.push(`${name}: size ${sb.size}, expected ${sa.size}`);
			else if ((await hashFile(a)) !== (await hashFile(b))) differences.push(`${name}: content differs`);
		} else if (kind === 'symlink') {
			const [ta, tb] = await Promise.all([fs.readlink(a), fs.readlink(b)]);
			if (ta !== tb) differences.push(`${name}: link target ${JSON.stringify(tb)}, expected ${JSON.stringify(ta)}`);
		} else if (kind === 'dir') {
			const [na, nb] = await Promise.all([fs.readdir(a), fs.readdir(b)]);
			const setB = new Set(nb);
			const setA = new Set(na);
			for (const n of nb) if (!setA.has(n)) differences.push(`${path.join(name, n)}: unexpected entry`);
			for (const n of na.sort()) {
				if (!setB.has(n)) differences.push(`${path.join(name, n)}: missing`);
				else await visit(rel ? path.join(rel, n) : n);
			}
		}
	};
	await visit('');
	return differences;
}

/** Where a backup of the absolute path `source` lands inside a restore target. */
export function restoredPath(target: string, source: string): string {
	return path.join(target, path.resolve(source));
}

/** Lists every file below a directory (relative paths), or [] when it does not exist. */
export async function listFilesBelow(dir: string): Promise<string[]> {
	try {
		const entries = await fs.readdir(dir, {recursive: true, withFileTypes: true});
		return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
}

/** The pack files in a local repository with their sizes. */
export async function listPacks(repo: string): Promise<Map<string, number>> {
	const packs = new Map<string, number>();
	for (const rel of await listFilesBelow(path.join(repo, 'data'))) {
		if (!/^[0-9a-f]{64}$/.test(path.basename(rel))) continue; // temporary files of uploads in progress
		const stats = await fs.stat(path.join(repo, 'data', rel)).catch(() => undefined);
		if (stats) packs.set(path.basename(rel), stats.size);
	}
	return packs;
}

/** IDs of the files in one directory of a local repository (e.g. snapshots, index, locks); temporary files are left out. */
export async function listRepoFiles(repo: string, type: 'snapshots' | 'index' | 'locks' | 'keys'): Promise<string[]> {
	try {
		return (await fs.readdir(path.join(repo, type))).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
}

/** The path of a pack file in a local repository. */
export function packPath(repo: string, id: string): string {
	return path.join(repo, 'data', id.slice(0, 2), id);
}

/** Flips one bit of a file in place. */
export async function flipBit(file: string, offset: number, bit = 0): Promise<void> {
	const handle = await fs.open(file, 'r+');
	try {
		const byte = Buffer.alloc(1);
		await handle.read(byte, 0, 1, offset);
		byte[0] = byte[0]! ^ (1 << bit);
		await handle.write(byte, 0, 1, offset);
	} finally {
		await handle.close();
	}
}

/** Waits until `check` returns a value other than undefined, polling every `everyMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 20): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, everyMs));
	}
}

/** A pack entry of restic's index JSON. */
export interface IndexPack {
	id: string;
	blobs: Array<{id: string; type: 'data' | 'tree'; offset: number; length: number; uncompressed_length?: number}>;
}

/** Every pack listed in the index files of a repository, read through restic (`restic cat index`). */
export async function readIndexWithRestic(repo: string, password: string): Promise<IndexPack[]> {
	const env = {RESTIC_PASSWORD: password};
	const listed = await runRestic(['-r', repo, 'list', 'index'], {env});
	if (listed.code !== 0) throw new Error(`restic list index failed: ${describeRun(listed)}`);
	const packs: IndexPack[] = [];
	for (const id of listed.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
		const cat = await runRestic(['-r', repo, 'cat', 'index', id], {env});
		if (cat.code !== 0) throw new Error(`restic cat index ${id} failed: ${describeRun(cat)}`);
		packs.push(...(JSON.parse(cat.stdout) as {packs: IndexPack[]}).packs);
	}
	return packs;
}
