/**
 * Writing a run's results to bench/results/<date>.json (<date>-2.json, ... when that exists).
 */
import {promises as fs} from 'node:fs';
import * as path from 'node:path';

/** Writes `results` as JSON into `dir` under today's date; returns the file written. */
export async function writeResults(dir: string, results: object): Promise<string> {
	await fs.mkdir(dir, {recursive: true});
	const date = new Date().toISOString().slice(0, 10);
	const text = JSON.stringify(results, null, '\t') + '\n';
	for (let n = 1; ; n++) {
		const file = path.join(dir, n === 1 ? `${date}.json` : `${date}-${n}.json`);
		try {
			await fs.writeFile(file, text, {flag: 'wx'});
			return file;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
	}
}
