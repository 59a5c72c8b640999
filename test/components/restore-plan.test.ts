import {mkdir, stat, utimes, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {listSnapshots} from '../../engine/repository/snapshots.js';
import {TreeLoader} from '../../components/tree-loader.js';
import {describeConflicts, describeRestoreConsequence, scanRestoreTarget, type RestoreConflicts} from '../../components/restore-plan.js';
import {createRepository, createTestEnvironment, writeTree, type TestEnvironment} from './harness.js';

let environment: TestEnvironment | undefined;
afterEach(async () => {
	await environment?.dispose();
	environment = undefined;
});

describe('what a restore would meet', () => {
	it('says what each policy does, in words, with the counts', () => {
		const conflicts: RestoreConflicts = {files: 10, bytes: 2048, existing: 4, differing: 1, examples: []};
		expect(describeConflicts(conflicts, '/t')).toBe('4 of 10 files (2.00 KiB in all) already exist in /t; 1 of them differs from the snapshot.');
		expect(describeRestoreConsequence(conflicts, 'never')).toBe('The 4 existing files stay as they are, even if they differ; 6 missing files are restored.');
		expect(describeRestoreConsequence(conflicts, 'if-changed')).toBe('1 file that differs from the snapshot is replaced, 3 identical files are left alone; 6 missing files are restored.');
		expect(describeRestoreConsequence(conflicts, 'always')).toBe("All 4 existing files are replaced by the snapshot's version (1 differs from it); 6 missing files are restored.");
		const one: RestoreConflicts = {files: 1, bytes: 1, existing: 1, differing: 0, examples: []};
		expect(describeRestoreConsequence(one, 'never')).toBe('The existing file stays as it is, even if it differs; 0 missing files are restored.');
		expect(describeRestoreConsequence(one, 'always')).toBe("The existing file is replaced by the snapshot's version (0 differ from it); 0 missing files are restored.");
	});

	it('counts existing and differing files under the marked paths only, as the restorer compares them', async () => {
		environment = await createTestEnvironment();
		const source = join(environment.root, 'src');
		await writeTree(source, {'keep/a.txt': 'aaa', 'keep/b.txt': 'bbb', 'keep/c.txt': 'ccc', 'other/d.txt': 'ddd'});
		const repoPath = join(environment.root, 'repo');
		await createRepository(repoPath, 'pw', [{paths: [source]}]);
		const repo = await Repository.open(createLocalStorage(repoPath), 'pw');
		const after: Array<() => Promise<void>> = [];
		try {
			await repo.loadIndex();
			const loader = new TreeLoader(repo);
			after.push(() => loader.close());
			const [snapshot] = await listSnapshots(repo);
			const target = join(environment.root, 'target');
			const inside = join(target, source, 'keep');
			await mkdir(inside, {recursive: true});
			// a.txt: same size and modification time (identical); b.txt: other content; c.txt: missing.
			await writeFile(join(inside, 'a.txt'), 'aaa');
			const recorded = await stat(join(source, 'keep', 'a.txt'), {bigint: true});
			await utimes(join(inside, 'a.txt'), Number(recorded.atimeNs) / 1e9, Number(recorded.mtimeNs) / 1e9);
			await writeFile(join(inside, 'b.txt'), 'bbbb');
			await writeFile(join(target, source, 'other-file'), 'x');
			const rel = join(source, 'keep').replace(/^\//, '');
			const progress: number[] = [];
			const conflicts = await scanRestoreTarget(loader, snapshot!, [rel], target, {onProgress: (n) => progress.push(n)});
			expect(conflicts).toMatchObject({files: 3, bytes: 9, existing: 2});
			expect(conflicts.differing).toBe(1);
			expect(conflicts.examples).toContain(join(inside, 'b.txt'));
			expect(progress.at(-1)).toBe(3);
			const whole = await scanRestoreTarget(loader, snapshot!, [], target);
			expect(whole).toMatchObject({files: 4, existing: 2});
			const controller = new AbortController();
			controller.abort();
			await expect(scanRestoreTarget(loader, snapshot!, [], target, {signal: controller.signal})).rejects.toThrow();
		} finally {
			for (const close of after) await close();
			await repo.close();
		}
	});
});
