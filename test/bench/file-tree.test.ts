import {createHash} from 'node:crypto';
import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {MAX_FILE_SIZE, MIN_FILE_SIZE, planFileTree, renderFile, writeFileTree} from '../../bench/file-tree.js';
import {planRegions} from '../../bench/large-files.js';

function digestTree(count: number, seed: number): string {
	const hash = createHash('sha256');
	for (const file of planFileTree(count, seed)) hash.update(`${file.rel}\0${file.size}\0`).update(renderFile(seed, file));
	return hash.digest('hex');
}

describe('generated trees of small files', () => {
	const temps: string[] = [];
	afterEach(async () => {
		for (const dir of temps.splice(0)) await rm(dir, {recursive: true, force: true});
	});

	it('is the same for the same seed and differs for another', () => {
		expect(digestTree(3000, 1)).toBe(digestTree(3000, 1));
		expect(digestTree(3000, 2)).not.toBe(digestTree(3000, 1));
	});

	it('holds about 1 KB files, about 100 to a folder, with some exact copies', () => {
		const files = [...planFileTree(20_000, 5)];
		expect(files).toHaveLength(20_000);
		expect(new Set(files.map((f) => f.rel)).size).toBe(20_000);
		for (const file of files) {
			expect(file.size).toBeGreaterThanOrEqual(MIN_FILE_SIZE);
			expect(file.size).toBeLessThanOrEqual(MAX_FILE_SIZE);
		}
		const mean = files.reduce((n, f) => n + f.size, 0) / files.length;
		expect(mean).toBeGreaterThan(900);
		expect(mean).toBeLessThan(1300);
		const dirs = new Map<string, number>();
		for (const file of files) dirs.set(path.dirname(file.rel), (dirs.get(path.dirname(file.rel)) ?? 0) + 1);
		const perDir = files.length / dirs.size;
		expect(perDir).toBeGreaterThan(70);
		expect(perDir).toBeLessThan(130);
		expect(files.every((f) => f.rel.split('/').length === 4)).toBe(true);
		const copies = files.length - new Set(files.map((f) => f.contentId)).size;
		expect(copies / files.length).toBeGreaterThan(0.02);
		expect(copies / files.length).toBeLessThan(0.1);
		const binary = files.filter((f) => f.kind === 'binary').length / files.length;
		expect(binary).toBeGreaterThan(0.05);
		expect(binary).toBeLessThan(0.3);
	});

	it('writes the planned files with their planned bytes; copies are equal', async () => {
		const root = await mkdtemp(path.join(os.tmpdir(), 'bench-tree-'));
		temps.push(root);
		const written = writeFileTree(root, 500, 3);
		const planned = [...planFileTree(500, 3)];
		expect(written.files).toBe(500);
		expect(written.bytes).toBe(planned.reduce((n, f) => n + f.size, 0));
		const top = await readdir(root);
		expect(top.length).toBeGreaterThan(0);
		for (const file of planned.slice(0, 50)) {
			const data = await readFile(path.join(root, file.rel));
			expect(data.length).toBe(file.size);
			expect(data.equals(renderFile(3, file))).toBe(true);
		}
		const text = planned.find((f) => f.kind === 'text')!;
		expect((await readFile(path.join(root, text.rel), 'latin1'))).toMatch(/^[a-z \n]+$/);
		const copy = planned.find((f, i) => planned.findIndex((g) => g.contentId === f.contentId) !== i);
		expect(copy).toBeDefined();
		const original = planned.find((f) => f.contentId === copy!.contentId)!;
		expect(copy!.rel).not.toBe(original.rel);
		expect((await readFile(path.join(root, copy!.rel))).equals(await readFile(path.join(root, original.rel)))).toBe(true);
	});
});

describe('large files laid out in regions', () => {
	it('covers the size exactly, keeps to the mix roughly, and is deterministic', () => {
		const size = 1024 * 1024 * 1024;
		const regions = planRegions(size, {random: 0.35, library: 0.4, zero: 0.25}, 9);
		expect(regions.reduce((n, r) => n + r.bytes, 0)).toBe(size);
		expect(planRegions(size, {random: 0.35, library: 0.4, zero: 0.25}, 9)).toEqual(regions);
		const share = (kind: string): number => regions.filter((r) => r.kind === kind).reduce((n, r) => n + r.bytes, 0) / size;
		expect(share('random')).toBeGreaterThan(0.2);
		expect(share('library')).toBeGreaterThan(0.25);
		expect(share('zero')).toBeGreaterThan(0.1);
		expect(new Set(regions.map((r) => r.kind)).size).toBe(3);
	});

	it('puts half random, then half library data in the single-file case', () => {
		const size = 64 * 1024 * 1024;
		expect(planRegions(size, {random: 0.5, library: 0.5, zero: 0}, 1, true)).toEqual([{kind: 'random', bytes: size / 2}, {kind: 'library', bytes: size / 2}]);
	});
});
