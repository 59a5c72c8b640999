/**
 * The progress scan of a backup: in a worker thread it counts what the scan on the main thread
 * counts (regular files and their bytes, excluded names and tagged directories left out), and a
 * cancelled backup stops it.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {scanTotals, scanTotalsInWorker, scanTotalsSync} from '../../../engine/archiver/scanner.js';
import {compileSelection, type SelectionOptions} from '../../../engine/archiver/selection.js';

let work: string;
let source: string;
beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-scanner-'));
	source = path.join(work, 'src');
	for (const dir of ['a/b', 'logs', 'tagged/inner']) await fs.mkdir(path.join(source, dir), {recursive: true});
	for (let i = 0; i < 25; i++) await fs.writeFile(path.join(source, 'a', 'b', `f${i}.txt`), 'x'.repeat(i * 10));
	await fs.writeFile(path.join(source, 'a', 'top.bin'), Buffer.alloc(4096));
	await fs.writeFile(path.join(source, 'logs', 'one.log'), 'log line\n');
	await fs.writeFile(path.join(source, 'tagged', '.nobackup'), '');
	await fs.writeFile(path.join(source, 'tagged', 'inner', 'skipped.txt'), 'not counted');
	await fs.symlink('a/top.bin', path.join(source, 'link'));
});
afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

describe('the scan worker', () => {
	it('counts what the scan on this thread counts, with the same selection', async () => {
		const cases: Array<[SelectionOptions, number, number]> = [
			[{}, 29, 4096 + 3000 + 9 + 11],
			[{excludes: ['*.log'], excludeIfPresent: ['.nobackup']}, 27, 4096 + 3000],
		];
		for (const [options, files, bytes] of cases) {
			const selection = compileSelection(options, [source]);
			const exclude = (p: string): boolean => selection.rejectByName(p);
			const here = await scanTotals([source], exclude);
			expect(scanTotalsSync([source], exclude)).toEqual(here);
			const there = await scanTotalsInWorker({paths: [source], targets: [source], selection: options}, exclude);
			expect(there).toEqual(here);
			expect(there).toEqual({files, bytes});
		}
	});

	it('stops when the backup is cancelled', async () => {
		const controller = new AbortController();
		controller.abort();
		const scan = scanTotalsInWorker({paths: [source], targets: [source], selection: {}}, () => false, controller.signal);
		await expect(scan).rejects.toThrow(/cancelled/);
	});
});
