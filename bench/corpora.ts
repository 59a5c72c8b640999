/**
 * The corpora of the benchmark and the cases timed on them. Each corpus lives in its own folder
 * of the corpus root (`small/`, `files-<count>-s<seed>/`, `large-<mib>-s<seed>/`) with a
 * manifest.json; a folder with a manifest is reused. The system corpus is not built: real
 * folders are backed up in place (read only).
 *
 * - small: the mixed corpus of corpus.ts (copies of real files, two large files).
 * - files: one generated tree of about 1 KB files per count (file-tree.ts).
 * - large: three cases: `large` (several files of N/4 to N MiB like VM images, database dumps
 *   and media), `large-single` (one file of N MiB, half random, half library data, timed alone:
 *   first backup and restore), `large-stream` (one file of 2N MiB restored, against the disk's
 *   sequential write speed: `dd conv=fsync` of the same size; the restore is timed with a
 *   `sync` after it, as dd's time includes its fsync).
 * - system: /usr/share plus enough of /usr/lib (by whole folders in name order), or the given
 *   folders; restored into the work dir.
 */
import {promises as fs} from 'node:fs';
import * as path from 'node:path';
import {prepareCorpus} from './corpus.js';
import {writeFileTree} from './file-tree.js';
import {takeInventory} from './inventory.js';
import {planRegions, readLibraryPool, writeLargeFile, type Mix} from './large-files.js';
import type {BenchOptions, CorpusKind} from './options.js';
import type {MeasureName} from './report.js';
import {findSources} from './sources.js';
import type {CaseRole} from './targets.js';

const MIB = 1024 * 1024;
const MANIFEST = 'manifest.json';

/** One timed case: what is backed up, which measures run, and its floors. */
export interface BenchCase {
	kind: CorpusKind;
	name: string;
	role: CaseRole;
	/** Absolute folders backed up (restored at `<target>/<path>`). */
	paths: string[];
	measures: MeasureName[];
	/** Floor of the restore: `cp -a` of the paths, or `dd conv=fsync` of the same size. */
	restoreFloor: 'cp' | 'dd';
	/** Time the restore with a `sync` after it (the stream case). */
	syncAfterRestore: boolean;
	generatedFiles: boolean;
	/** What was built or chosen, for the results. */
	manifest: Record<string, unknown>;
}

const ALL: MeasureName[] = ['backup-initial', 'backup-unchanged', 'restore'];

function plainCase(kind: CorpusKind, name: string, paths: string[], manifest: Record<string, unknown>, generatedFiles = false): BenchCase {
	return {kind, name, role: 'tree', paths, measures: ALL, restoreFloor: 'cp', syncAfterRestore: false, generatedFiles, manifest};
}

/** Opens the corpus in `dir` when its manifest is there, or builds it with `build`. */
async function openOrBuild(dir: string, log: (line: string) => void, build: (dataDir: string) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
	const existing = await fs.readFile(path.join(dir, MANIFEST), 'utf8').catch(() => undefined);
	if (existing !== undefined) return {...(JSON.parse(existing) as Record<string, unknown>), reused: true};
	const present = await fs.readdir(dir).catch(() => [] as string[]);
	if (present.length > 0) throw new Error(`${dir} is neither empty nor a benchmark corpus (no ${MANIFEST}); remove it or give another --corpus`);
	const started = performance.now();
	const manifest = await build(path.join(dir, 'data'));
	log(`  built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
	await fs.writeFile(path.join(dir, MANIFEST), JSON.stringify({...manifest, builtAt: new Date().toISOString()}, null, '\t') + '\n');
	return {...manifest, reused: false};
}

/** The large corpus's files: name, size share of N, mix of regions. */
const LARGE_FILES: ReadonlyArray<{name: string; share: number; mix: Mix}> = [
	{name: 'vm-disk.img', share: 1, mix: {random: 0.35, library: 0.4, zero: 0.25}},
	{name: 'db-dump.sql', share: 0.5, mix: {random: 0.15, library: 0.85, zero: 0}},
	{name: 'media.mkv', share: 0.25, mix: {random: 1, library: 0, zero: 0}},
];

async function buildLarge(dataDir: string, options: BenchOptions, projectRoot: string, log: (line: string) => void): Promise<Record<string, unknown>> {
	const sources = (await findSources(projectRoot)).filter((s) => s.label !== 'node_modules');
	const poolBytes = Math.min(64 * MIB, options.largeMib * MIB);
	log(`  reading ${poolBytes / MIB} MiB of library data from ${sources.map((s) => s.root).join(', ')}`);
	const pool = await readLibraryPool(sources, poolBytes);
	const files: Array<Record<string, unknown>> = [];
	const write = async (folder: string, name: string, size: number, mix: Mix, ordered: boolean, seed: number): Promise<void> => {
		await fs.mkdir(path.join(dataDir, folder), {recursive: true});
		const regions = planRegions(size, mix, seed, ordered);
		await writeLargeFile(path.join(dataDir, folder, name), regions, pool, options.seed);
		files.push({path: `${folder}/${name}`, bytes: size, mix, regions: regions.length});
	};
	let n = 0;
	for (const file of LARGE_FILES) await write('images', file.name, Math.max(1, Math.round(options.largeMib * file.share)) * MIB, file.mix, false, options.seed + ++n);
	await write('single', 'one-large-file.img', options.largeMib * MIB, {random: 0.5, library: 0.5, zero: 0}, true, options.seed);
	await write('stream', 'two-x-large.img', 2 * options.largeMib * MIB, {random: 0.5, library: 0.5, zero: 0}, false, options.seed + 100);
	return {format: 'cairn-bench-large/1', largeMib: options.largeMib, seed: options.seed, poolBytes, files};
}

/** Folders of the default system corpus: /usr/share, then whole folders of /usr/lib in name order while they fit `budgetMib`. */
export async function chooseSystemPaths(budgetMib: number, log: (line: string) => void): Promise<string[]> {
	const chosen: string[] = [];
	let total = 0;
	const budget = budgetMib * MIB;
	const share = await fs.stat('/usr/share').catch(() => undefined);
	if (share?.isDirectory()) {
		chosen.push('/usr/share');
		total += (await takeInventory('/usr/share')).bytes;
	}
	const names = (await fs.readdir('/usr/lib', {withFileTypes: true}).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort();
	for (const name of names) {
		if (total >= budget * 0.95) break;
		const bytes = (await takeInventory(path.join('/usr/lib', name))).bytes;
		if (total + bytes <= budget) {
			chosen.push(path.join('/usr/lib', name));
			total += bytes;
		}
	}
	log(`system corpus: ${chosen.length} folders, ${(total / MIB).toFixed(0)} MiB`);
	if (chosen.length === 0) throw new Error('no system folders found; give --system-paths');
	return chosen;
}

/** Builds (or opens) the corpora of one kind and returns its cases. */
export async function prepareCases(kind: CorpusKind, options: BenchOptions, corpusRoot: string, projectRoot: string, log: (line: string) => void): Promise<BenchCase[]> {
	switch (kind) {
		case 'small': {
			const corpus = await prepareCorpus(path.join(corpusRoot, 'small'), {sizeMib: options.sizeMib, seed: options.seed, projectRoot, log});
			return [plainCase('small', 'small', [corpus.dataDir], {...corpus.manifest, reused: !corpus.built})];
		}
		case 'files': {
			const cases: BenchCase[] = [];
			for (const count of options.fileCounts) {
				const dir = path.join(corpusRoot, `files-${count}-s${options.seed}`);
				log(`files corpus of ${count} files in ${dir}`);
				const manifest = await openOrBuild(dir, log, async (dataDir) => ({format: 'cairn-bench-files/1', count, seed: options.seed, ...writeFileTree(dataDir, count, options.seed)}));
				cases.push(plainCase('files', `files-${count}`, [path.join(dir, 'data')], manifest, true));
			}
			return cases;
		}
		case 'large': {
			const dir = path.join(corpusRoot, `large-${options.largeMib}-s${options.seed}`);
			log(`large corpus (${options.largeMib} MiB single file) in ${dir}`);
			const manifest = await openOrBuild(dir, log, (dataDir) => buildLarge(dataDir, options, projectRoot, log));
			const data = path.join(dir, 'data');
			return [
				plainCase('large', 'large', [path.join(data, 'images')], manifest),
				{kind, name: 'large-single', role: 'single', paths: [path.join(data, 'single')], measures: ['backup-initial', 'restore'], restoreFloor: 'cp', syncAfterRestore: false, generatedFiles: false, manifest},
				{kind, name: 'large-stream', role: 'stream', paths: [path.join(data, 'stream')], measures: ['restore'], restoreFloor: 'dd', syncAfterRestore: true, generatedFiles: false, manifest},
			];
		}
		case 'system': {
			const paths = options.systemPaths ?? await chooseSystemPaths(options.systemMib, log);
			for (const folder of paths) {
				const stats = await fs.stat(folder).catch(() => undefined);
				if (!stats?.isDirectory()) throw new Error(`--system-paths: ${folder} is not a folder`);
			}
			return [plainCase('system', 'system', paths, {format: 'cairn-bench-system/1', paths, inPlace: true})];
		}
	}
}
