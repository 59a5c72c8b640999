/**
 * Large files that look like what NAS boxes hold: VM disk images, database dumps, media.
 *
 * Each file is a sequence of regions of three kinds, laid out by a seeded generator:
 * - `random`: the AES-256-CTR keystream of a key derived from the seed and the file's name
 *   (incompressible, never repeated: media, encrypted or already compressed data);
 * - `library`: real file contents (libraries and documentation from the system, read once into
 *   a pool) written from a varying offset of the pool, so the same bytes recur within and
 *   across files (compressible, and partly deduplicated, like installed systems in VM images);
 * - `zero`: runs of zero bytes (unallocated space of a disk image).
 */
import {createCipheriv, createHash} from 'node:crypto';
import {promises as fs} from 'node:fs';
import {createRandom} from './file-tree.js';
import {SourceCursor, type Source} from './sources.js';

const MIB = 1024 * 1024;

/** One region of a large file. */
export interface Region {
	kind: 'random' | 'library' | 'zero';
	bytes: number;
}

/** Shares of each kind in a file, summing to 1. */
export interface Mix {
	random: number;
	library: number;
	zero: number;
}

/**
 * Lays out a file of `size` bytes with the given mix, in regions of 1 to 16 MiB (the last one
 * cut). Pure: the same arguments give the same regions. When `ordered`, the kinds come in one
 * region each, in the order random, library, zero (the issue's "half random, half library").
 */
export function planRegions(size: number, mix: Mix, seed: number, ordered = false): Region[] {
	if (ordered) {
		const random = Math.round(size * mix.random);
		const library = Math.round(size * mix.library);
		return ([{kind: 'random', bytes: random}, {kind: 'library', bytes: library}, {kind: 'zero', bytes: size - random - library}] as Region[]).filter((r) => r.bytes > 0);
	}
	const next = createRandom(seed);
	const regions: Region[] = [];
	for (let at = 0; at < size;) {
		const roll = next();
		const kind: Region['kind'] = roll < mix.random ? 'random' : roll < mix.random + mix.library ? 'library' : 'zero';
		const bytes = Math.min(size - at, (1 + Math.floor(next() * 16)) * MIB);
		const last = regions.at(-1);
		if (last?.kind === kind) last.bytes += bytes;
		else regions.push({kind, bytes});
		at += bytes;
	}
	return regions;
}

/** Reads about `size` bytes of real files from the sources into one buffer. */
export async function readLibraryPool(sources: readonly Source[], size: number): Promise<Buffer> {
	const pool = Buffer.allocUnsafe(size);
	const cursors = sources.map((source) => new SourceCursor(source));
	let filled = 0;
	let idle = 0;
	for (let turn = 0; filled < size; turn++) {
		const entry = await cursors[turn % cursors.length]!.next();
		if (!entry || entry.kind !== 'file' || entry.size === 0) {
			if (++idle > 1_000_000) throw new Error('the sources hold no readable regular files');
			continue;
		}
		const data = await fs.readFile(entry.abs).catch(() => undefined);
		if (!data) continue;
		filled += data.copy(pool, filled, 0, Math.min(data.length, size - filled));
	}
	return pool;
}

/** Writes a large file of the given regions; library regions are taken from `pool`. */
export async function writeLargeFile(file: string, regions: readonly Region[], pool: Buffer, seed: number): Promise<number> {
	const key = createHash('sha256').update(`cairn-bench seed ${seed} ${file.split('/').at(-1)}`).digest();
	const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
	const zeros = Buffer.alloc(MIB);
	const next = createRandom(seed ^ 0x5bd1e995);
	const out = await fs.open(file, 'w', 0o644);
	let written = 0;
	try {
		for (const region of regions) {
			// Library regions start at a varying, unaligned offset of the pool and wrap around.
			let poolAt = Math.floor(next() * pool.length);
			for (let done = 0; done < region.bytes;) {
				const length = Math.min(MIB, region.bytes - done);
				let block: Buffer;
				if (region.kind === 'random') {
					block = cipher.update(zeros.subarray(0, length));
				} else if (region.kind === 'zero') {
					block = zeros.subarray(0, length);
				} else {
					const take = Math.min(length, pool.length - poolAt);
					block = pool.subarray(poolAt, poolAt + take);
					poolAt = (poolAt + take) % pool.length;
				}
				await out.write(block);
				done += block.length;
				written += block.length;
			}
		}
	} finally {
		await out.close();
	}
	return written;
}
