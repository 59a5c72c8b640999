/**
 * The benchmark corpus: copies of real files plus two large files, under `<dir>/data`, with a
 * manifest at `<dir>/manifest.json`.
 *
 * Layout of `data`:
 * - `tree/<pass>/<source>/...`: real files and symlinks copied from the sources. The budget is
 *   shared between sources (each gets an equal part of what is left, unused parts roll over);
 *   when a source is used up it is copied again into the next numbered pass folder, which makes
 *   exact duplicates (deduplicated by both tools).
 * - `large/assembled.bin`: real file contents from the sources, concatenated (about 20 % of the size).
 * - `large/random.bin`: seeded pseudo-random bytes, AES-256-CTR keystream (about 10 % of the size).
 */
import {createCipheriv, createHash} from 'node:crypto';
import {promises as fs} from 'node:fs';
import * as path from 'node:path';
import {findSources, SourceCursor, type Source, type SourceEntry} from './sources.js';

const MIB = 1024 * 1024;
const MANIFEST = 'manifest.json';
const FORMAT = 'cairn-bench-corpus/1';

/** What manifest.json records. */
export interface CorpusManifest {
	format: string;
	builtAt: string;
	sizeMib: number;
	seed: number;
	sources: Source[];
}

/** A corpus ready to back up. */
export interface Corpus {
	/** The corpus directory (holding manifest.json and data/). */
	dir: string;
	/** The directory that is backed up. */
	dataDir: string;
	manifest: CorpusManifest;
	/** True when it was built by this run. */
	built: boolean;
}

/** Sizes of the large files for a corpus of `sizeMib`. */
function planLargeFiles(sizeMib: number): {assembled: number; random: number} {
	return {
		assembled: Math.max(1, Math.round((sizeMib * 200) / 1024)) * MIB,
		random: Math.max(1, Math.round((sizeMib * 100) / 1024)) * MIB,
	};
}

/** Opens the corpus in `dir`, building it first when `dir` is missing or empty. */
export async function prepareCorpus(dir: string, options: {sizeMib: number; seed: number; projectRoot: string; log: (line: string) => void}): Promise<Corpus> {
	const dataDir = path.join(dir, 'data');
	const existing = await fs.readFile(path.join(dir, MANIFEST), 'utf8').catch(() => undefined);
	if (existing !== undefined) {
		const manifest = JSON.parse(existing) as CorpusManifest;
		if (manifest.format !== FORMAT) throw new Error(`${dir} holds a corpus of another format (${manifest.format}); use an empty directory`);
		if (manifest.sizeMib !== options.sizeMib) options.log(`note: reusing the ${manifest.sizeMib} MiB corpus in ${dir} (--size-mib ${options.sizeMib} is ignored)`);
		return {dir, dataDir, manifest, built: false};
	}
	const present = await fs.readdir(dir).catch(() => [] as string[]);
	if (present.length > 0) throw new Error(`${dir} is neither empty nor a benchmark corpus (no ${MANIFEST}); give an empty or new directory`);
	const sources = await findSources(options.projectRoot);
	if (sources.length === 0) throw new Error('no source folders of real files found (node_modules, /usr/share, /usr/lib, /usr/bin)');
	options.log(`building a ${options.sizeMib} MiB corpus in ${dir} from ${sources.map((s) => s.root).join(', ')}`);
	const large = planLargeFiles(options.sizeMib);
	const treeBudget = Math.max(0, options.sizeMib * MIB - large.assembled - large.random);
	const cursors = sources.map((source) => new SourceCursor(source));
	await copyTree(cursors, path.join(dataDir, 'tree'), treeBudget);
	await fs.mkdir(path.join(dataDir, 'large'), {recursive: true});
	await writeAssembledFile(cursors, path.join(dataDir, 'large', 'assembled.bin'), large.assembled);
	await writeRandomFile(path.join(dataDir, 'large', 'random.bin'), large.random, options.seed);
	const manifest: CorpusManifest = {format: FORMAT, builtAt: new Date().toISOString(), sizeMib: options.sizeMib, seed: options.seed, sources};
	await fs.writeFile(path.join(dir, MANIFEST), JSON.stringify(manifest, null, '\t') + '\n');
	return {dir, dataDir, manifest, built: true};
}

/** Copies one entry; returns false when it could not be read. */
async function copyEntry(entry: SourceEntry, dest: string, madeDirs: Set<string>): Promise<boolean> {
	const parent = path.dirname(dest);
	if (!madeDirs.has(parent)) {
		await fs.mkdir(parent, {recursive: true});
		madeDirs.add(parent);
	}
	try {
		if (entry.kind === 'symlink') {
			await fs.symlink(await fs.readlink(entry.abs), dest);
		} else {
			await fs.copyFile(entry.abs, dest);
		}
		return true;
	} catch {
		return false;
	}
}

/** Copies source entries into `treeDir` until `budget` bytes of regular files are there. */
async function copyTree(cursors: SourceCursor[], treeDir: string, budget: number): Promise<void> {
	const madeDirs = new Set<string>();
	let copied = 0;
	while (copied < budget) {
		const before = copied;
		for (let i = 0; i < cursors.length && copied < budget; i++) {
			const cursor = cursors[i]!;
			const share = (budget - copied) / (cursors.length - i);
			let taken = 0;
			while (taken < share) {
				const pass = cursor.pass;
				const entry = await cursor.next();
				if (!entry) break;
				const dest = path.join(treeDir, String(pass).padStart(3, '0'), cursor.source.label, entry.rel);
				if (await copyEntry(entry, dest, madeDirs)) taken += entry.size;
			}
			copied += taken;
		}
		if (copied === before) throw new Error('the sources hold no readable regular files');
	}
}

/** Writes `size` bytes made of whole real files taken in turn from the sources (the last one cut). */
async function writeAssembledFile(cursors: SourceCursor[], file: string, size: number): Promise<void> {
	const out = await fs.open(file, 'w', 0o644);
	const buffer = Buffer.allocUnsafe(MIB);
	let written = 0;
	let idle = 0;
	try {
		for (let turn = 0; written < size; turn++) {
			const entry = await cursors[turn % cursors.length]!.next();
			if (!entry || entry.kind !== 'file' || entry.size === 0) {
				if (++idle > 1_000_000) throw new Error('the sources hold no readable regular files');
				continue;
			}
			const input = await fs.open(entry.abs, 'r').catch(() => undefined);
			if (!input) continue;
			try {
				while (written < size) {
					const {bytesRead} = await input.read(buffer, 0, Math.min(buffer.length, size - written), null);
					if (bytesRead === 0) break;
					await out.write(buffer, 0, bytesRead);
					written += bytesRead;
				}
			} catch {
				// a file that fails half way still contributed what was read
			} finally {
				await input.close();
			}
		}
	} finally {
		await out.close();
	}
}

/** Writes `size` pseudo-random bytes: the AES-256-CTR keystream under a key derived from the seed. */
async function writeRandomFile(file: string, size: number, seed: number): Promise<void> {
	const key = createHash('sha256').update(`cairn-bench seed ${seed}`).digest();
	const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
	const zeros = Buffer.alloc(MIB);
	const out = await fs.open(file, 'w', 0o644);
	try {
		for (let written = 0; written < size; written += MIB) {
			await out.write(cipher.update(zeros.subarray(0, Math.min(MIB, size - written))));
		}
	} finally {
		await out.close();
	}
}
