/**
 * Reading files straight into the chunk worker's ring: the chunks are those the chunker finds in
 * the whole file, whatever the ring holds, and a chunk claimed in the ring keeps its bytes until
 * it is released, while the reader moves, wraps and waits around it.
 */
import {createHash, randomBytes} from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createChunkerTables, MAX_CHUNK_SIZE, splitBuffer} from '../../../engine/chunker/chunker.js';
import {FifoArena} from '../../../engine/archiver/fifo-arena.js';
import {NEEDS_ROOM, readChunksIntoRing} from '../../../engine/archiver/file-chunker.js';

const tables = createChunkerTables(0x3da3358b4dc173n);
let work: string;
/** Times the reader asked for room (in the last {@link readAll}). */
let waits = 0;

beforeAll(() => {
	work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-file-chunker-'));
});

afterAll(() => {
	fs.rmSync(work, {recursive: true, force: true});
});

const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Files of random data with long runs of one byte (which make chunks of the largest size) and small files. */
function makeFiles(): Array<{file: string; data: Buffer}> {
	const parts = [
		Buffer.concat([randomBytes(9 * 1024 * 1024), Buffer.alloc(20 * 1024 * 1024, 7), randomBytes(6 * 1024 * 1024)]),
		randomBytes(1000),
		Buffer.alloc(0),
		randomBytes(3 * 1024 * 1024 + 17),
		Buffer.concat([Buffer.alloc(MAX_CHUNK_SIZE * 2 + 5, 1), randomBytes(2 * 1024 * 1024)]),
		// Zeros cut at every smallest chunk (512 KiB), so the reader meets the oldest region exactly.
		Buffer.alloc(24 * 1024 * 1024),
		randomBytes(5 * 1024 * 1024),
		Buffer.alloc(24 * 1024 * 1024),
	];
	return parts.map((data, i) => {
		const file = path.join(work, `file-${i}`);
		fs.writeFileSync(file, data);
		return {file, data};
	});
}

/**
 * Reads every file through one ring the way the chunk worker does: claims the chunks that
 * `keep` says to (the others are "shipped": copied out and left), releases the oldest claimed
 * chunk when asked for room and whenever more than `held` are held, and checks each chunk's bytes
 * when it is released. Returns each file's chunk digests and lengths.
 */
function readAll(files: Array<{file: string}>, keep: (n: number) => boolean, held: number): Array<{lengths: number[]; digests: string[]; size: number}> {
	const ring = new FifoArena(MAX_CHUNK_SIZE + 2 * 1024 * 1024);
	const claimed: Array<{view: Buffer; digest: string}> = [];
	const release = (): void => {
		const oldest = claimed.shift()!;
		expect(digest(oldest.view)).toBe(oldest.digest);
		ring.release();
	};
	let n = 0;
	waits = 0;
	const results = files.map(({file}) => {
		const fd = fs.openSync(file, 'r');
		try {
			const lengths: number[] = [];
			const digests: string[] = [];
			const chunks = readChunksIntoRing(fd, tables, ring);
			for (let next = chunks.next(); ; next = chunks.next()) {
				if (next.done) return {lengths, digests, size: next.value};
				if (next.value === NEEDS_ROOM) {
					expect(claimed.length).toBeGreaterThan(0);
					waits++;
					release();
					continue;
				}
				const view = next.value as Buffer;
				lengths.push(view.length);
				digests.push(digest(view));
				if (keep(n++)) {
					ring.claim(view);
					claimed.push({view, digest: digests.at(-1)!});
					while (claimed.length > held) release();
				}
			}
		} finally {
			fs.closeSync(fd);
		}
	});
	while (claimed.length > 0) release();
	expect(ring.taken).toBe(0);
	return results;
}

describe('readChunksIntoRing', () => {
	it('yields the chunks the chunker finds in each whole file, and keeps claimed chunks intact until released', () => {
		const files = makeFiles();
		const expected = files.map(({data}) => {
			const lengths = splitBuffer(tables, data);
			let offset = 0;
			const digests = lengths.map((length) => digest(data.subarray(offset, (offset += length))));
			return {lengths, digests, size: data.length};
		});
		// Claim every chunk and hold many (the ring fills and waits), claim every other one, hold one.
		expect(readAll(files, () => true, 64)).toEqual(expected);
		expect(waits).toBeGreaterThan(0);
		expect(readAll(files, (n) => n % 2 === 0, 64)).toEqual(expected);
		expect(readAll(files, () => true, 1)).toEqual(expected);
		expect(readAll(files, () => false, 0)).toEqual(expected);
	});

	it('throws FileReadError when the file cannot be read', () => {
		const fd = fs.openSync(work, 'r');
		try {
			const chunks = readChunksIntoRing(fd, tables, new FifoArena(MAX_CHUNK_SIZE + 2 * 1024 * 1024));
			expect(() => chunks.next()).toThrow(expect.objectContaining({name: 'FileReadError'}) as Error);
		} finally {
			fs.closeSync(fd);
		}
	});
});
