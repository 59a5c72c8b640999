/**
 * `--max-memory` / CAIRN_MAX_MEMORY end to end with the built CLI: a backup and a restore under
 * the smallest limit (one worker, one pack buffer, small restore reads) give the same files back
 * and a repository restic accepts; invalid sizes are refused before anything runs.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {compareTrees, describeRun, makeTempDir, restoredPath, runCairn, runRestic, writeSeededFile} from '../helpers/cli.js';

const PASSWORD = 'memory limit password';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

let base: string;
let source: string;

beforeAll(async () => {
	base = await makeTempDir('cairn-memory-');
	source = path.join(base, 'source');
	await fs.mkdir(path.join(source, 'many'), {recursive: true});
	// Larger than a pack, so that the single pack buffer is reused, plus many small files.
	await writeSeededFile(path.join(source, 'large.bin'), 'large', 40 * 1024 * 1024);
	await fs.writeFile(path.join(source, 'repeated.txt'), 'the same line again\n'.repeat(200_000));
	for (let i = 0; i < 200; i++) await fs.writeFile(path.join(source, 'many', `f${i}.txt`), `small file ${i}\n`.repeat(i + 1));
});

afterAll(async () => {
	await fs.rm(base, {recursive: true, force: true});
});

describe('--max-memory', () => {
	it('backs up and restores the same files under the smallest limit', async () => {
		const repo = path.join(base, 'repo');
		const init = await runCairn(['init', '--repo', repo], {env});
		expect(init.code, describeRun(init)).toBe(0);
		const backup = await runCairn(['backup', '-q', '--repo', repo, '--max-memory', '128M', source], {env});
		expect(backup.code, describeRun(backup)).toBe(0);
		const target = path.join(base, 'target');
		const restore = await runCairn(['restore', 'latest', '--repo', repo, '--target', target], {env: {...env, CAIRN_MAX_MEMORY: '200M'}});
		expect(restore.code, describeRun(restore)).toBe(0);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
		const check = await runRestic(['-r', repo, 'check', '--read-data'], {env});
		expect(check.code, describeRun(check)).toBe(0);
	});

	it('refuses a size it cannot read, and one too small, saying what to give', async () => {
		const repo = path.join(base, 'repo-bad');
		const bad = await runCairn(['init', '--repo', repo, '--max-memory', 'lots'], {env});
		expect(bad.code).toBe(1);
		expect(bad.stderr).toMatch(/--max-memory: "lots" is not a memory size.*512M/);
		await expect(fs.stat(repo)).rejects.toThrow();
		const small = await runCairn(['init', '--repo', repo], {env: {...env, CAIRN_MAX_MEMORY: '1M'}});
		expect(small.code).toBe(1);
		expect(small.stderr).toMatch(/CAIRN_MAX_MEMORY: 1M is too little/);
	});
});
