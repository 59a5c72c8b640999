/**
 * Helpers shared by the prune, concurrency and crash suites: hashing trees, restoring snapshots
 * with cairn or restic and comparing them byte for byte, and small repository inspections.
 */
import {createHash} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {expect} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import type {LockJson} from '../../engine/repository/lock.js';
import {formatGoTime} from '../../engine/format/time.js';
import {describeRun, makeTempDir, restoredPath, runCairn, runRestic, type RunOptions, type RunResult} from '../helpers/cli.js';

/** SHA-256 of every regular file below `root`, by relative path. */
export async function hashTree(root: string): Promise<Map<string, string>> {
	const out = new Map<string, string>();
	for (const entry of await fs.readdir(root, {recursive: true, withFileTypes: true})) {
		if (!entry.isFile()) continue;
		const abs = path.join(entry.parentPath, entry.name);
		out.set(path.relative(root, abs), createHash('sha256').update(await fs.readFile(abs)).digest('hex'));
	}
	return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Runs cairn and expects an exit code (0 by default). */
export async function cairnOk(args: readonly string[], options: RunOptions, code = 0): Promise<RunResult> {
	const result = await runCairn(args, options);
	expect(result.code, `cairn ${args.join(' ')}\n${describeRun(result)}`).toBe(code);
	return result;
}

/** Runs restic and expects an exit code (0 by default). */
export async function resticOk(args: readonly string[], options: RunOptions, code = 0): Promise<RunResult> {
	const result = await runRestic(args, options);
	expect(result.code, `restic ${args.join(' ')}\n${describeRun(result)}`).toBe(code);
	return result;
}

/**
 * Restores a snapshot with cairn (or restic) into a fresh directory and expects the files of
 * `source` in it to have exactly the hashes in `expected`.
 */
export async function expectRestores(tool: 'cairn' | 'restic', repo: string, snapshotId: string, source: string, expected: ReadonlyMap<string, string>, options: RunOptions): Promise<void> {
	const target = await makeTempDir(`cairn-restore-${tool}-`);
	try {
		if (tool === 'cairn') await cairnOk(['restore', snapshotId, '--repo', repo, '--target', target], options);
		else await resticOk(['-r', repo, 'restore', snapshotId, '--target', target], options);
		expect(await hashTree(restoredPath(target, source)), `${tool} restore of snapshot ${snapshotId.slice(0, 8)}`).toEqual(expected);
	} finally {
		await fs.rm(target, {recursive: true, force: true});
	}
}

/** IDs of the snapshots, as restic lists them. */
export async function listSnapshotIds(repo: string, options: RunOptions): Promise<string[]> {
	const result = await resticOk(['-r', repo, 'snapshots', '--json'], options);
	return (JSON.parse(result.stdout) as Array<{id: string}>).map((s) => s.id).sort();
}

/** Writes a lock file through the engine (as another process, possibly of another host, would). */
export async function writeLockFile(repo: string, password: string, fields: Partial<LockJson>): Promise<string> {
	const opened = await Repository.open(createLocalStorage(repo), password);
	try {
		const json: LockJson = {time: formatGoTime(BigInt(Date.now()) * 1_000_000n), exclusive: false, hostname: 'other-host', username: 'someone', pid: 4242, ...fields};
		return await opened.saveUnpacked('locks', Buffer.from(JSON.stringify(json)));
	} finally {
		await opened.close();
	}
}

/** Every file of a repository directory with its size, for before/after comparisons. */
export async function listRepository(repo: string): Promise<string[]> {
	const out: string[] = [];
	for (const entry of await fs.readdir(repo, {recursive: true, withFileTypes: true})) {
		if (!entry.isFile()) continue;
		const abs = path.join(entry.parentPath, entry.name);
		out.push(`${path.relative(repo, abs)}:${(await fs.stat(abs)).size}`);
	}
	return out.sort();
}

/** A small deterministic pseudo-random generator: the benchmark's mulberry32. */
export {createRandom} from '../../bench/file-tree.js';
