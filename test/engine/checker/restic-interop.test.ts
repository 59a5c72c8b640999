import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdir, mkdtemp, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import {runCheck} from '../../../engine/checker/checker.js';
import {Repository} from '../../../engine/repository/repository.js';
import {filePath, flipByte, listFileIds, truncateFile} from './fixtures.js';

const run = promisify(execFile);
const PASSWORD = 'restic made this';

describe('cairn check on a repository made by restic 0.14', () => {
	let root = '';
	let repoDir = '';

	async function restic(...args: string[]): Promise<{code: number; output: string}> {
		const env = {...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_REPOSITORY: repoDir};
		try {
			const {stdout, stderr} = await run('restic', ['--no-cache', '--quiet', ...args], {env, maxBuffer: 16 * 1024 * 1024});
			return {code: 0, output: stdout + stderr};
		} catch (error) {
			const failure = error as {code?: number; stdout?: string; stderr?: string};
			return {code: failure.code ?? -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`};
		}
	}

	beforeAll(async () => {
		root = await mkdtemp(join(tmpdir(), 'cairn-check-restic-'));
		const source = join(root, 'source');
		await mkdir(join(source, 'sub', 'deeper'), {recursive: true});
		await writeFile(join(source, 'a.txt'), 'text from restic\n'.repeat(100));
		await writeFile(join(source, 'empty'), '');
		await writeFile(join(source, 'sub', 'random.bin'), randomBytes(600 * 1024));
		await writeFile(join(source, 'sub', 'deeper', 'b.txt'), 'deeper\n');
		repoDir = join(root, 'repo');
		expect((await restic('init')).code).toBe(0);
		expect((await restic('backup', source)).code).toBe(0);
		await writeFile(join(source, 'sub', 'second.bin'), randomBytes(100 * 1024));
		expect((await restic('backup', source)).code).toBe(0);
	});

	afterAll(async () => {
		await rm(root, {recursive: true, force: true});
	});

	it('passes, reading all data, with no problem at all', async () => {
		const repo = await Repository.open(createLocalStorage(repoDir), PASSWORD);
		const report = await runCheck(repo, {readData: true});
		expect(report.problems).toEqual([]);
		expect(report.ok).toBe(true);
		expect(report.snapshots).toBe(2);
		expect(report.packs).toBe((await listFileIds(repoDir, 'data')).length);
		expect(report.packsRead).toBe(report.packs);
		expect(report.dataBlobsReferenced).toBeGreaterThanOrEqual(4);
		// our lock is gone, so restic can take an exclusive one
		expect(await listFileIds(repoDir, 'locks')).toEqual([]);
		expect((await restic('check')).code).toBe(0);
	});

	it('agrees with restic about a flipped byte and a truncated pack', async () => {
		const damaged = join(root, 'damaged');
		await run('cp', ['-r', repoDir, damaged]);
		const packs = await listFileIds(damaged, 'data');
		const sizes = await Promise.all(packs.map(async (id) => (await stat(filePath(damaged, 'data', id))).size));
		const largest = packs[sizes.indexOf(Math.max(...sizes))]!;
		const smallest = packs[sizes.indexOf(Math.min(...sizes))]!;
		await flipByte(filePath(damaged, 'data', largest), 200);
		await truncateFile(filePath(damaged, 'data', smallest), sizes[packs.indexOf(smallest)]! - 8);

		const report = await runCheck(await Repository.open(createLocalStorage(damaged), PASSWORD), {noLock: true, readData: true});
		const damagedFiles = new Set(report.problems.filter((p) => p.severity === 'error' && p.file.startsWith('data/')).map((p) => p.file));
		expect(damagedFiles).toEqual(new Set([largest, smallest].map((id) => `data/${id.slice(0, 2)}/${id}`)));

		const saved = repoDir;
		repoDir = damaged;
		try {
			const resticCheck = await restic('check', '--read-data');
			expect(resticCheck.code).not.toBe(0);
			expect(resticCheck.output).toContain(largest);
			expect(resticCheck.output).toContain(smallest);
		} finally {
			repoDir = saved;
		}
	});
});
