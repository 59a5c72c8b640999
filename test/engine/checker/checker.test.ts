import {readFile, rm, stat, unlink, writeFile} from 'node:fs/promises';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCheck, type CheckProblem} from '../../../engine/checker/checker.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';
import {CancelledError, UsageError} from '../../../engine/errors.js';
import type {ProgressEvent} from '../../../engine/progress.js';
import {
	SOURCE_FILES,
	buildTemplate,
	copyTemplate,
	filePath,
	flipByte,
	listFileIds,
	locateBlob,
	openRepository,
	readIndexedPacks,
	sha256,
	truncateFile,
	type Template,
} from './fixtures.js';

let template: Template;

beforeAll(async () => {
	template = await buildTemplate();
});

afterAll(async () => {
	await rm(template.root, {recursive: true, force: true});
});

const errorsOf = (problems: CheckProblem[]): CheckProblem[] => problems.filter((p) => p.severity === 'error');
const dataFile = (packId: string): string => `data/${packId.slice(0, 2)}/${packId}`;

async function checkCopy(damage: (dir: string) => Promise<void>, options: Parameters<typeof runCheck>[1] = {}): Promise<Awaited<ReturnType<typeof runCheck>>> {
	const dir = await copyTemplate(template);
	await damage(dir);
	const repo = await openRepository(dir);
	try {
		return await runCheck(repo, {noLock: true, ...options});
	} finally {
		await repo.close();
	}
}

/** The root tree of the template's snapshot. */
async function rootTreeOf(dir: string): Promise<string> {
	const repo = await openRepository(dir);
	return (await loadSnapshot(repo, template.snapshotId)).tree;
}

describe('runCheck on a sound repository', () => {
	it('finds nothing wrong, with and without reading the data, and counts what it saw', async () => {
		const dir = await copyTemplate(template);
		const packIds = await listFileIds(dir, 'data');
		expect(packIds.length).toBeGreaterThanOrEqual(3);

		const repo = await openRepository(dir);
		const quick = await runCheck(repo, {noLock: true});
		expect(quick.problems).toEqual([]);
		expect(quick.ok).toBe(true);
		expect(quick.packs).toBe(packIds.length);
		expect(quick.snapshots).toBe(1);
		expect(quick.indexFiles).toBe(1);
		// root, the source path's ancestors (tmp/…), source, docs, docs/deep, other: at least 4 distinct trees
		expect(quick.trees).toBeGreaterThanOrEqual(4);
		expect(quick.blobsChecked).toBe(quick.trees);
		// the empty file has no blobs; every other file is one blob
		expect(quick.dataBlobsReferenced).toBe(SOURCE_FILES.size - 1);
		expect(quick.packsRead).toBe(0);

		const full = await runCheck(await openRepository(dir), {noLock: true, readData: true});
		expect(full.problems).toEqual([]);
		expect(full.ok).toBe(true);
		expect(full.packsRead).toBe(packIds.length);
		let packBytes = 0;
		for (const id of packIds) packBytes += (await stat(filePath(dir, 'data', id))).size;
		expect(full.bytesRead).toBe(packBytes);
		const indexedBlobs = (await readIndexedPacks(dir)).reduce((sum, p) => sum + p.blobs.length, 0);
		expect(full.blobsChecked).toBe(full.trees + indexedBlobs);
	});

	it('takes a shared lock and removes it afterwards', async () => {
		const dir = await copyTemplate(template);
		const repo = await openRepository(dir);
		let locksWhileChecking: string[] = [];
		const report = await runCheck(repo, {
			onProgress: () => undefined,
			onProblem: () => undefined,
		});
		expect(report.ok).toBe(true);
		expect(await listFileIds(dir, 'locks')).toEqual([]);
		// the lock is visible while the check runs
		const running = runCheck(await openRepository(dir), {onProgress: () => undefined});
		for (let i = 0; i < 50 && locksWhileChecking.length === 0; i++) {
			locksWhileChecking = await listFileIds(dir, 'locks');
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		await running;
		expect(locksWhileChecking).toHaveLength(1);
		expect(await listFileIds(dir, 'locks')).toEqual([]);
	});

	it('emits check progress ending with every file done', async () => {
		const events: ProgressEvent[] = [];
		const report = await checkCopy(async () => undefined, {readData: true, onProgress: (e) => events.push(e)});
		expect(report.ok).toBe(true);
		const last = events.at(-1)!;
		expect(events.every((e) => e.kind === 'check')).toBe(true);
		// one index file + one snapshot + every pack read
		expect(last.filesTotal).toBe(2 + report.packsRead);
		expect(last.filesDone).toBe(last.filesTotal);
		expect(last.bytesDone).toBe(report.bytesRead);
		expect(last.bytesTotal).toBe(report.bytesRead);
		expect(last.errors).toBe(0);
	});

	it('rejects contradictory options and stops when cancelled', async () => {
		const repo = await openRepository(await copyTemplate(template));
		await expect(runCheck(repo, {noLock: true, readData: true, readDataSubset: {n: 1, m: 2}})).rejects.toBeInstanceOf(UsageError);
		await expect(runCheck(repo, {noLock: true, readDataSubset: {n: 3, m: 2}})).rejects.toBeInstanceOf(UsageError);
		await expect(runCheck(repo, {noLock: true, readDataSubset: {percent: 0}})).rejects.toBeInstanceOf(UsageError);
		await expect(runCheck(repo, {noLock: true, signal: AbortSignal.abort()})).rejects.toBeInstanceOf(CancelledError);
	});
});

describe('runCheck on damaged repositories', () => {
	it('finds a flipped byte inside a data blob only when reading the data, naming the pack and the blob', async () => {
		const blobId = sha256(SOURCE_FILES.get('docs/deep/random.bin')!);
		let packId = '';
		const damage = async (dir: string): Promise<void> => {
			const where = await locateBlob(dir, 'data', blobId);
			packId = where.packId;
			await flipByte(filePath(dir, 'data', packId), where.offset + 100);
		};

		// Without --read-data the pack's size is right and its blobs are not decrypted.
		const quick = await checkCopy(damage);
		expect(quick.ok).toBe(true);
		expect(quick.problems).toEqual([]);

		const seen: CheckProblem[] = [];
		const full = await checkCopy(damage, {readData: true, onProblem: (p) => seen.push(p)});
		expect(full.ok).toBe(false);
		expect(seen).toEqual(full.problems);
		const errors = errorsOf(full.problems);
		expect(errors.every((p) => p.file === dataFile(packId))).toBe(true);
		expect(errors.some((p) => p.message.includes('does not match its name'))).toBe(true);
		const blobProblem = errors.find((p) => p.message.includes(blobId));
		expect(blobProblem?.message).toMatch(/data blob [0-9a-f]{64} is damaged: ciphertext verification failed/);
		// only that blob is bad
		expect(errors.filter((p) => /blob [0-9a-f]{64}/.test(p.message))).toHaveLength(1);
	});

	it('finds a damaged pack header when reading the data', async () => {
		let packId = '';
		const full = await checkCopy(async (dir) => {
			const where = await locateBlob(dir, 'data', sha256(SOURCE_FILES.get('other/random2.bin')!));
			packId = where.packId;
			const path = filePath(dir, 'data', packId);
			const size = (await stat(path)).size;
			await flipByte(path, size - 10); // inside the encrypted header's MAC
		}, {readData: true});
		const messages = errorsOf(full.problems).filter((p) => p.file === dataFile(packId)).map((p) => p.message);
		expect(messages.some((m) => m.startsWith('the pack header cannot be decrypted'))).toBe(true);
		// the blobs themselves are still verified through the index
		expect(messages.some((m) => m.includes('is damaged'))).toBe(false);
	});

	it('reports an indexed pack missing from storage', async () => {
		let packId = '';
		const report = await checkCopy(async (dir) => {
			packId = (await locateBlob(dir, 'data', sha256(SOURCE_FILES.get('hello.txt')!))).packId;
			await unlink(filePath(dir, 'data', packId));
		}, {readData: true});
		expect(report.ok).toBe(false);
		const errors = errorsOf(report.problems);
		expect(errors[0]).toMatchObject({file: dataFile(packId), severity: 'error'});
		expect(errors[0]!.message).toContain(`pack ${packId} is in the index but missing from storage`);
		// Every other error names a file of the snapshot that can no longer be restored, hello.txt among them.
		const files = errors.slice(1);
		expect(files.length).toBeGreaterThan(0);
		for (const problem of files) expect(problem.message).toMatch(/^file ".*" \(snapshot [0-9a-f]{8}\) cannot be restored: \d+ of its data blobs .* are only in packs missing from storage$/);
		expect(files.some((p) => p.message.includes('/hello.txt"'))).toBe(true);
		// the missing pack is not read again
		expect(report.packsRead).toBe(report.packs);
	});

	it('reports the trees of a missing tree pack as unreadable, naming snapshot and path', async () => {
		let treePack = '';
		let rootTree = '';
		const report = await checkCopy(async (dir) => {
			rootTree = await rootTreeOf(dir);
			treePack = (await locateBlob(dir, 'tree', rootTree)).packId;
			await unlink(filePath(dir, 'data', treePack));
		});
		expect(report.ok).toBe(false);
		const errors = errorsOf(report.problems);
		expect(errors.find((p) => p.file === dataFile(treePack))?.message).toContain('missing from storage');
		const rootProblem = errors.find((p) => p.file === `tree ${rootTree}`);
		expect(rootProblem?.message).toBe(`referenced by snapshot ${template.snapshotId.slice(0, 8)} (path /) is lost: its pack ${dataFile(treePack)} is missing from storage`);
		expect(report.trees).toBe(0);
	});

	it('reports a missing index file: packs become unindexed (warnings) and the snapshot tree unindexed (error)', async () => {
		let rootTree = '';
		const report = await checkCopy(async (dir) => {
			rootTree = await rootTreeOf(dir);
			for (const id of await listFileIds(dir, 'index')) await unlink(filePath(dir, 'index', id));
		});
		expect(report.ok).toBe(false);
		const warnings = report.problems.filter((p) => p.severity === 'warning');
		expect(warnings).toHaveLength(report.packs);
		expect(warnings.every((p) => p.file.startsWith('data/') && p.message === 'is not referenced by any index; `prune` removes it')).toBe(true);
		expect(errorsOf(report.problems)).toEqual([
			{file: `tree ${rootTree}`, message: `referenced by snapshot ${template.snapshotId.slice(0, 8)} (path /) is missing from the index`, severity: 'error'},
		]);
	});

	it('names each file whose data blobs are not indexed when the index of the data packs is lost', async () => {
		const report = await checkCopy(async (dir) => {
			const repo = await openRepository(dir);
			const packs = await readIndexedPacks(dir);
			const old = await listFileIds(dir, 'index');
			// keep an index of the tree packs only
			await repo.saveIndex(packs.filter((p) => p.blobs.every((b) => b.type === 'tree')));
			for (const id of old) await unlink(filePath(dir, 'index', id));
		});
		const errors = errorsOf(report.problems);
		const nonEmpty = [...SOURCE_FILES].filter(([, content]) => content.length > 0);
		expect(errors).toHaveLength(nonEmpty.length);
		for (const [relative, content] of nonEmpty) {
			const name = relative.split('/').at(-1)!;
			const problem = errors.find((p) => p.message.includes(sha256(content)));
			expect(problem?.file).toMatch(/^tree [0-9a-f]{64}$/);
			expect(problem?.message).toMatch(new RegExp(`^file ".*/${name.replace('.', '\\.')}" \\(snapshot [0-9a-f]{8}\\): data blob [0-9a-f]{64} is not in the index$`));
		}
		expect(report.trees).toBeGreaterThanOrEqual(4);
	});

	it('reports a damaged index file by name and goes on', async () => {
		let indexId = '';
		const report = await checkCopy(async (dir) => {
			indexId = (await listFileIds(dir, 'index'))[0]!;
			await flipByte(filePath(dir, 'index', indexId), 40);
		});
		const indexProblem = report.problems.find((p) => p.file === `index/${indexId}`);
		expect(indexProblem).toMatchObject({severity: 'error'});
		expect(indexProblem!.message).toMatch(/^is damaged: its content does not match its name .*; the index file was not used$/);
		expect(report.indexFiles).toBe(0);
		expect(report.snapshots).toBe(1);
	});

	it('reports a truncated snapshot file', async () => {
		const report = await checkCopy(async (dir) => {
			const path = filePath(dir, 'snapshots', template.snapshotId);
			await truncateFile(path, Math.floor((await readFile(path)).length / 2));
		});
		expect(report.ok).toBe(false);
		expect(report.problems).toHaveLength(1);
		expect(report.problems[0]!.file).toBe(`snapshots/${template.snapshotId}`);
		expect(report.problems[0]!.message).toMatch(/^is damaged: its content does not match its name/);
		expect(report.snapshots).toBe(0);
	});

	it('reports a truncated pack without reading the data, and its lost header with it', async () => {
		let packId = '';
		const damage = async (dir: string): Promise<void> => {
			packId = (await locateBlob(dir, 'data', sha256(SOURCE_FILES.get('docs/deep/random.bin')!))).packId;
			const path = filePath(dir, 'data', packId);
			await truncateFile(path, (await stat(path)).size - 30);
		};
		const quick = await checkCopy(damage);
		expect(errorsOf(quick.problems)).toHaveLength(1);
		expect(quick.problems[0]!.file).toBe(dataFile(packId));
		expect(quick.problems[0]!.message).toMatch(/^is truncated: the file has \d+ bytes, the index \(listed by index [0-9a-f]{8}\) implies \d+$/);

		const full = await checkCopy(damage, {readData: true});
		const messages = errorsOf(full.problems).filter((p) => p.file === dataFile(packId)).map((p) => p.message);
		expect(messages.some((m) => m.includes('does not match its name'))).toBe(true);
		expect(messages.some((m) => m.startsWith('the header length field says') || m.startsWith('the pack header cannot be decrypted'))).toBe(true);
	});

	it('reports a pack whose header disagrees with the index', async () => {
		const report = await checkCopy(async (dir) => {
			// swap two packs' contents under each other's names: sizes differ, headers list other blobs
			const [a, b] = await listFileIds(dir, 'data');
			const bytesA = await readFile(filePath(dir, 'data', a!));
			const bytesB = await readFile(filePath(dir, 'data', b!));
			await writeFile(filePath(dir, 'data', a!), bytesB);
			await writeFile(filePath(dir, 'data', b!), bytesA);
		}, {readData: true});
		expect(report.ok).toBe(false);
		const messages = errorsOf(report.problems).map((p) => p.message);
		expect(messages.some((m) => m.includes('is in the pack header but not in the index'))).toBe(true);
		expect(messages.some((m) => m.includes('but the pack header does not'))).toBe(true);
	});
});

describe('runCheck with a read-data subset', () => {
	it('reads the packs of group n/m, which together cover every pack once', async () => {
		const dir = await copyTemplate(template);
		const packIds = await listFileIds(dir, 'data');
		let total = 0;
		for (let n = 1; n <= 3; n++) {
			const report = await runCheck(await openRepository(dir), {noLock: true, readDataSubset: {n, m: 3}});
			expect(report.ok).toBe(true);
			expect(report.packsRead).toBe(packIds.filter((id) => Number.parseInt(id.slice(0, 2), 16) % 3 === n - 1).length);
			total += report.packsRead;
		}
		expect(total).toBe(packIds.length);
	});

	it('reads a percentage of the packs, at least one', async () => {
		const dir = await copyTemplate(template);
		const packIds = await listFileIds(dir, 'data');
		const tiny = await runCheck(await openRepository(dir), {noLock: true, readDataSubset: {percent: 0.1}});
		expect(tiny.packsRead).toBe(1);
		const half = await runCheck(await openRepository(dir), {noLock: true, readDataSubset: {percent: 50}, random: () => 0});
		expect(half.packsRead).toBe(Math.floor(packIds.length / 2));
		const all = await runCheck(await openRepository(dir), {noLock: true, readDataSubset: {percent: 100}});
		expect(all.packsRead).toBe(packIds.length);
	});
});
