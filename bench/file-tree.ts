/**
 * Generated trees of many small files (about 1 KB each), the case of a maildir, a source tree or a
 * photo library's sidecar files, where the cost per file rather than per byte decides.
 *
 * The tree is a pure function of (count, seed): {@link planFileTree} lays the files out and
 * {@link renderFile} gives each one's bytes, so the same options build the same tree on any
 * machine. Layout: `pNN/mNN/dNN/<name>` (three levels), 50 to 150 files per leaf folder (about
 * 100), up to 20 leaf folders per middle folder and 20 middle folders per top one. Sizes are
 * uniform in 200 B to 2 KB (mean about 1.1 KB). About 80 % of the files are text made of
 * pseudo-words (compressible), 15 % pseudo-random bytes (incompressible), and 5 % exact copies
 * of an earlier file (deduplicated by both tools).
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import * as path from 'node:path';

/** One planned file. */
export interface PlannedFile {
	/** Path relative to the tree root, `/`-separated. */
	rel: string;
	size: number;
	kind: 'text' | 'binary';
	/** Identifies the content: equal ids (and sizes) mean equal bytes. */
	contentId: number;
}

export const MIN_FILE_SIZE = 200;
export const MAX_FILE_SIZE = 2000;
const EXTENSIONS = ['txt', 'md', 'json', 'c', 'h', 'eml', 'xml', 'dat', 'bin'];

/** mulberry32: a small, fast, seeded 32-bit generator (deterministic across platforms). */
export function createRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function pad(value: number, width: number): string {
	return String(value).padStart(width, '0');
}

/** Lays out `count` files for `seed` (see the module comment). */
export function* planFileTree(count: number, seed: number): Generator<PlannedFile> {
	const random = createRandom(seed * 2654435761 + 1);
	let leaf = 0;
	let inLeaf = 0;
	let leafCapacity = 50 + Math.floor(random() * 101);
	// Content ids of earlier files with their sizes, for exact copies.
	const earlier: Array<{contentId: number; size: number; kind: 'text' | 'binary'}> = [];
	for (let index = 0; index < count; index++) {
		if (inLeaf === leafCapacity) {
			leaf++;
			inLeaf = 0;
			leafCapacity = 50 + Math.floor(random() * 101);
		}
		const dir = `p${pad(Math.floor(leaf / 400), 2)}/m${pad(Math.floor(leaf / 20) % 20, 2)}/d${pad(leaf % 20, 2)}`;
		const ext = EXTENSIONS[Math.floor(random() * EXTENSIONS.length)]!;
		const roll = random();
		let file: Omit<PlannedFile, 'rel'>;
		if (roll < 0.05 && earlier.length > 0) {
			file = earlier[Math.floor(random() * earlier.length)]!;
		} else {
			const size = MIN_FILE_SIZE + Math.floor(random() * (MAX_FILE_SIZE - MIN_FILE_SIZE + 1));
			file = {contentId: index, size, kind: roll < 0.2 ? 'binary' : 'text'};
			if (earlier.length < 4096) earlier.push({contentId: index, size, kind: file.kind});
			else earlier[Math.floor(random() * earlier.length)] = {contentId: index, size, kind: file.kind};
		}
		yield {rel: `${dir}/f${pad(inLeaf, 3)}-${pad(index, 7)}.${ext}`, ...file};
		inLeaf++;
	}
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'an', 'el', 'or', 'us', 'ti', 'be', 'da', 'fo', 'gu', 'he', 'ja', 'qu'];

/** A fixed vocabulary of pseudo-words, the same for every seed (word choice varies by file). */
const WORDS: string[] = (() => {
	const random = createRandom(7);
	const words: string[] = [];
	for (let i = 0; i < 2000; i++) {
		const length = 1 + Math.floor(random() * 4);
		let word = '';
		for (let s = 0; s < length; s++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
		words.push(word);
	}
	return words;
})();

/** The bytes of a planned file: a pure function of (seed, contentId, size, kind). */
export function renderFile(seed: number, file: Pick<PlannedFile, 'contentId' | 'size' | 'kind'>): Buffer {
	const random = createRandom((seed * 0x9e3779b1) ^ (file.contentId * 0x85ebca6b) ^ file.size);
	const out = Buffer.allocUnsafe(file.size);
	if (file.kind === 'binary') {
		for (let i = 0; i < file.size; i += 4) {
			const value = (random() * 4294967296) >>> 0;
			for (let b = 0; b < 4 && i + b < file.size; b++) out[i + b] = (value >>> (b * 8)) & 0xff;
		}
		return out;
	}
	let at = 0;
	let lineLength = 0;
	while (at < file.size) {
		const word = WORDS[Math.floor(random() * random() * WORDS.length)]!;
		const separator = lineLength > 60 ? '\n' : ' ';
		at += out.write(word + separator, at, 'latin1');
		lineLength = separator === '\n' ? 0 : lineLength + word.length + 1;
	}
	return out;
}

/** Writes the tree of `count` files for `seed` below `root`; returns the number of bytes written. */
export function writeFileTree(root: string, count: number, seed: number): {files: number; bytes: number; dirs: number} {
	const made = new Set<string>();
	let bytes = 0;
	let files = 0;
	for (const file of planFileTree(count, seed)) {
		const dest = path.join(root, file.rel);
		const dir = path.dirname(dest);
		if (!made.has(dir)) {
			mkdirSync(dir, {recursive: true});
			made.add(dir);
		}
		writeFileSync(dest, renderFile(seed, file), {mode: 0o644});
		bytes += file.size;
		files++;
	}
	return {files, bytes, dirs: made.size};
}
