/**
 * Writing a run's results to bench/results/<date>.json (<date>-2.json, ... when that exists).
 */
import {promises as fs} from 'node:fs';
import * as path from 'node:path';

/**
 * Writes `results` into `dir` as `<date>-<label>.json` (or `<date>.json` without a label;
 * `-2`, `-3`, ... appended when that exists); returns the file written. Text (e.g. markdown) is
 * written as it is, under the extension given.
 */
export async function writeResults(dir: string, results: object | string, label?: string, extension = 'json'): Promise<string> {
	await fs.mkdir(dir, {recursive: true});
	const date = new Date().toISOString().slice(0, 10);
	const stem = label ? `${date}-${label}` : date;
	const text = typeof results === 'string' ? results : JSON.stringify(results, null, '\t') + '\n';
	for (let n = 1; ; n++) {
		const file = path.join(dir, n === 1 ? `${stem}.${extension}` : `${stem}-${n}.${extension}`);
		try {
			await fs.writeFile(file, text, {flag: 'wx'});
			return file;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
	}
}

/**
 * The newest results file (by modification time) in `dir` named `<date>-<label>.json` or
 * `<date>-<label>-<n>.json`, parsed; undefined when there is none.
 */
export async function readLatestResults(dir: string, label: string): Promise<{file: string; results: Record<string, unknown>} | undefined> {
	const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	const pattern = new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${escaped}(-\\d+)?\\.json$`);
	let newest: {file: string; mtime: number} | undefined;
	for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
		if (!pattern.test(name)) continue;
		const file = path.join(dir, name);
		const {mtimeMs} = await fs.stat(file);
		if (!newest || mtimeMs > newest.mtime) newest = {file, mtime: mtimeMs};
	}
	if (!newest) return undefined;
	return {file: newest.file, results: JSON.parse(await fs.readFile(newest.file, 'utf8')) as Record<string, unknown>};
}
