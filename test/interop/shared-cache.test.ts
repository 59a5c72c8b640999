/**
 * cairn's local cache has restic 0.14's layout, so the two can share one `--cache-dir`: each
 * reads the index files and tree packs the other cached. Proof that a cached copy was read: the
 * same repository with every index file damaged cannot be read without the cache, and is read
 * with it.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {execFile} from 'node:child_process';
import {cleanEnv, describeRun, makeTempDir, makeVariedTree, RESTIC, runCairn, runRestic, type RunResult} from '../helpers/cli.js';

const PASSWORD = 'shared cache';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD, TZ: 'UTC'};

/** restic with its cache where the arguments say (the helper's runRestic adds --no-cache). */
function resticWithCache(args: string[]): Promise<RunResult> {
	return new Promise((resolve) => {
		execFile(RESTIC, args, {env: cleanEnv(env), maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, signal: null, stdout, stderr});
		});
	});
}

let work: string;
let repo: string;
let damaged: string;

/** The files below a cache base directory, relative to its repository directory (`type/xx/id`, `version`, ...). */
async function listCacheFiles(base: string): Promise<string[]> {
	const files: string[] = [];
	for (const entry of await fs.readdir(base, {recursive: true, withFileTypes: true})) {
		if (!entry.isFile()) continue;
		const relative = path.relative(base, path.join(entry.parentPath, entry.name));
		files.push(relative.replace(/^[0-9a-f]{64}\//, ''));
	}
	return files.sort();
}

/** A copy of the repository with a byte of every index file flipped (same names and sizes). */
async function copyWithDamagedIndex(from: string, to: string): Promise<void> {
	await fs.cp(from, to, {recursive: true});
	for (const name of await fs.readdir(path.join(to, 'index'))) {
		const file = path.join(to, 'index', name);
		const bytes = await fs.readFile(file);
		bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
		await fs.writeFile(file, bytes);
	}
}

beforeAll(async () => {
	work = await makeTempDir('cairn-shared-cache-');
	const src = path.join(work, 'src');
	await makeVariedTree(src, {seed: 'shared cache', bigFileSize: 2 * 1024 * 1024});
	repo = path.join(work, 'repo');
	for (const args of [['init'], ['backup', src]]) {
		const result = await runCairn(['--no-cache', '-r', repo, ...args], {env});
		expect(result.code, describeRun(result)).toBe(0);
	}
	await fs.writeFile(path.join(src, 'added.txt'), 'a second snapshot\n');
	const second = await runRestic(['-r', repo, 'backup', src], {env});
	expect(second.code, describeRun(second)).toBe(0);
	damaged = path.join(work, 'damaged');
	await copyWithDamagedIndex(repo, damaged);
	// Without a cache, neither program can read the damaged copy.
	expect((await runRestic(['-r', damaged, 'ls', 'latest'], {env})).code).not.toBe(0);
	expect((await runCairn(['--no-cache', '-r', damaged, 'ls', 'latest'], {env})).code).not.toBe(0);
}, 120_000);

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

describe('one cache directory for cairn and restic', () => {
	it('restic reads what cairn cached', async () => {
		const cache = path.join(work, 'cache-by-cairn');
		const ours = await runCairn(['--cache-dir', cache, '-r', repo, 'ls', 'latest'], {env});
		expect(ours.code, describeRun(ours)).toBe(0);
		const filled = await listCacheFiles(cache);
		expect(filled).toContain('version');
		expect(filled.filter((f) => /^index\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f)).length).toBeGreaterThan(0);
		expect(filled.filter((f) => /^data\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f)).length).toBeGreaterThan(0);
		for (const f of filled.filter((name) => /^(index|data)\//.test(name))) expect(f.split('/')[2]!.startsWith(f.split('/')[1]!)).toBe(true);

		const theirs = await resticWithCache(['--cache-dir', cache, '-r', damaged, 'ls', 'latest']);
		expect(theirs.code, describeRun(theirs)).toBe(0);
		const reference = await runRestic(['-r', repo, 'ls', 'latest'], {env});
		expect(theirs.stdout).toBe(reference.stdout);
		// restic kept cairn's files (and added its own snapshot files beside them).
		const after = await listCacheFiles(cache);
		for (const f of filled) expect(after).toContain(f);
	});

	it('cairn reads what restic cached, and leaves restic\'s files in place', async () => {
		const cache = path.join(work, 'cache-by-restic');
		const theirs = await resticWithCache(['--cache-dir', cache, '-r', repo, 'ls', 'latest']);
		expect(theirs.code, describeRun(theirs)).toBe(0);
		const filled = await listCacheFiles(cache);
		expect(filled.filter((f) => f.startsWith('index/')).length).toBeGreaterThan(0);

		const ours = await runCairn(['--cache-dir', cache, '-r', damaged, 'ls', 'latest'], {env});
		expect(ours.code, describeRun(ours)).toBe(0);
		const reference = await runCairn(['--no-cache', '-r', repo, 'ls', 'latest'], {env});
		expect(ours.stdout).toBe(reference.stdout);
		const after = await listCacheFiles(cache);
		for (const f of filled) expect(after).toContain(f);
		const repositoryDir = (await fs.readdir(cache)).find((n) => /^[0-9a-f]{64}$/.test(n))!;
		expect(await fs.readFile(path.join(cache, repositoryDir, 'version'), 'utf8')).toBe('1');

		// And restic still reads its cache after cairn used it.
		const again = await resticWithCache(['--cache-dir', cache, '-r', damaged, 'ls', 'latest']);
		expect(again.code, describeRun(again)).toBe(0);
	});
});
