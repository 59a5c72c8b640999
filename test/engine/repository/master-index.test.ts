/**
 * The in-memory index: first location wins, repeated packs, types kept apart, counts, entries,
 * blob sizes, the binary-ID methods, entries the compact table cannot hold, and random packs
 * checked against a plain Map-based index.
 */
import {createHash, randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import type {PackEntry} from '../../../engine/format/index-file.js';
import type {BlobType, PackedBlob} from '../../../engine/format/pack.js';
import {MasterIndex, type BlobLocation} from '../../../engine/repository/master-index.js';

function idFor(n: number | string): string {
	return createHash('sha256').update(String(n)).digest('hex');
}

function blob(id: string, fields: Partial<PackedBlob> = {}): PackedBlob {
	return {type: 'data', id, offset: 0, length: 100, uncompressedLength: 0, ...fields};
}

/** The straightforward index the compact one must behave like. */
class MapIndex {
	readonly blobs = {data: new Map<string, BlobLocation>(), tree: new Map<string, BlobLocation>()};
	readonly packs = new Set<string>();

	addPack(entry: PackEntry): void {
		this.packs.add(entry.packId);
		for (const b of entry.blobs) {
			const map = this.blobs[b.type === 'tree' ? 'tree' : 'data'];
			if (!map.has(b.id)) map.set(b.id, {packId: entry.packId, offset: b.offset, length: b.length, uncompressedLength: b.uncompressedLength});
		}
	}
}

describe('MasterIndex', () => {
	it('keeps the first location of a blob listed in several packs', () => {
		const index = new MasterIndex();
		index.addPack({packId: idFor('p1'), blobs: [blob(idFor(1), {offset: 0, length: 50})]});
		index.addPack({packId: idFor('p2'), blobs: [blob(idFor(1), {offset: 70, length: 60, uncompressedLength: 90}), blob(idFor(2))]});
		expect(index.lookup('data', idFor(1))).toEqual({packId: idFor('p1'), offset: 0, length: 50, uncompressedLength: 0});
		expect(index.lookup('data', idFor(2))?.packId).toBe(idFor('p2'));
		expect(index.count()).toEqual({data: 2, tree: 0, packs: 2});
	});

	it('adds the same pack twice without change', () => {
		const index = new MasterIndex();
		const pack: PackEntry = {packId: idFor('p'), blobs: [blob(idFor(1)), blob(idFor(2), {type: 'tree', offset: 100})]};
		index.addPack(pack);
		const before = [...index.entries()];
		index.addPack(pack);
		expect([...index.entries()]).toEqual(before);
		expect(index.count()).toEqual({data: 1, tree: 1, packs: 1});
		expect([...index.packIds()]).toEqual([idFor('p')]);
	});

	it('keeps data and tree blobs apart', () => {
		const index = new MasterIndex();
		index.addPack({packId: idFor('p'), blobs: [blob(idFor(1), {type: 'tree', offset: 5, length: 40})]});
		expect(index.has('tree', idFor(1))).toBe(true);
		expect(index.has('data', idFor(1))).toBe(false);
		expect(index.lookup('data', idFor(1))).toBeUndefined();
		index.addPack({packId: idFor('q'), blobs: [blob(idFor(1), {offset: 9})]});
		expect(index.lookup('data', idFor(1))).toEqual({packId: idFor('q'), offset: 9, length: 100, uncompressedLength: 0});
		expect(index.lookup('tree', idFor(1))).toEqual({packId: idFor('p'), offset: 5, length: 40, uncompressedLength: 0});
	});

	it('lists packs in the order they were added and knows which it has', () => {
		const index = new MasterIndex();
		const packs = [idFor('c'), idFor('a'), idFor('b')];
		for (const packId of packs) index.addPack({packId, blobs: []});
		expect([...index.packIds()]).toEqual(packs);
		expect(index.hasPack(idFor('a'))).toBe(true);
		expect(index.hasPack(idFor('d'))).toBe(false);
		expect(index.count()).toEqual({data: 0, tree: 0, packs: 3});
	});

	it('gives plaintext sizes of compressed and uncompressed blobs', () => {
		const index = new MasterIndex();
		index.addPack({packId: idFor('p'), blobs: [blob(idFor(1), {length: 132}), blob(idFor(2), {length: 80, uncompressedLength: 500})]});
		expect(index.blobSize('data', idFor(1))).toBe(100);
		expect(index.blobSize('data', idFor(2))).toBe(500);
		expect(index.blobSize('tree', idFor(2))).toBeUndefined();
		expect(index.blobSize('data', idFor(3))).toBeUndefined();
	});

	it('returns locations the caller may change without changing the index', () => {
		const index = new MasterIndex();
		index.addPack({packId: idFor('p'), blobs: [blob(idFor(1), {offset: 3})]});
		const location = index.lookup('data', idFor(1))!;
		location.offset = 999;
		expect(index.lookup('data', idFor(1))?.offset).toBe(3);
	});

	it('looks up binary IDs like their hex form', () => {
		const index = new MasterIndex();
		const id = randomBytes(32);
		index.addPack({packId: idFor('p'), blobs: [blob(id.toString('hex'), {type: 'tree', offset: 12, length: 34, uncompressedLength: 56})]});
		expect(index.hasBinary('tree', id)).toBe(true);
		expect(index.hasBinary('data', id)).toBe(false);
		expect(index.lookupBinary('tree', id)).toEqual({packId: idFor('p'), offset: 12, length: 34, uncompressedLength: 56});
		expect(index.lookupBinary('tree', randomBytes(32))).toBeUndefined();
	});

	it('keeps entries the compact table cannot hold, exactly as listed', () => {
		const index = new MasterIndex();
		const upper = idFor(1).toUpperCase();
		const big = {offset: 2 ** 32 + 10, length: 2 ** 33, uncompressedLength: 0};
		index.addPack({
			packId: idFor('p'),
			blobs: [blob(upper, {offset: 1}), blob('short', {offset: 2}), blob(idFor(2), big), blob(idFor(1), {offset: 3}), blob(idFor(2), {offset: 4}), blob('short', {offset: 5})],
		});
		expect(index.lookup('data', upper)?.offset).toBe(1);
		expect(index.lookup('data', 'short')?.offset).toBe(2);
		expect(index.lookup('data', idFor(2))).toEqual({packId: idFor('p'), ...big});
		expect(index.lookup('data', idFor(1))?.offset).toBe(3);
		expect(index.has('data', 'short')).toBe(true);
		expect(index.hasBinary('data', Buffer.from(idFor(2), 'hex'))).toBe(true);
		expect(index.lookupBinary('data', Buffer.from(idFor(2), 'hex'))?.offset).toBe(2 ** 32 + 10);
		expect(index.blobSize('data', idFor(2))).toBe(2 ** 33 - 32);
		expect(index.count()).toEqual({data: 4, tree: 0, packs: 1});
		expect(new Set([...index.entries()].map((e) => e.id))).toEqual(new Set([upper, 'short', idFor(2), idFor(1)]));
	});

	it('agrees with a Map-based index on random packs with repeated blobs', () => {
		const index = new MasterIndex();
		const oracle = new MapIndex();
		const seen: Array<{type: BlobType; id: string}> = [];
		for (let p = 0; p < 300; p++) {
			const blobs: PackedBlob[] = [];
			let offset = 0;
			for (let b = 0; b < 1 + (p % 40); b++) {
				const type: BlobType = (p + b) % 5 === 0 ? 'tree' : 'data';
				const reuse = seen.length > 0 && (p * 31 + b) % 7 === 0;
				const id = reuse ? seen[(p * 131 + b * 17) % seen.length]!.id : randomBytes(32).toString('hex');
				const length = 40 + ((p * 7919 + b * 104_729) % 2_000_000);
				blobs.push({type, id, offset, length, uncompressedLength: b % 3 === 0 ? 0 : length * 2});
				offset += length;
				if (!reuse) seen.push({type, id});
			}
			const entry = {packId: randomBytes(32).toString('hex'), blobs};
			index.addPack(entry);
			oracle.addPack(entry);
			if (p % 50 === 0) index.addPack(entry);
		}
		expect(index.count()).toEqual({data: oracle.blobs.data.size, tree: oracle.blobs.tree.size, packs: oracle.packs.size});
		expect([...index.packIds()]).toEqual([...oracle.packs]);
		for (const type of ['data', 'tree'] as const) {
			for (const [id, location] of oracle.blobs[type]) {
				expect(index.lookup(type, id)).toEqual(location);
				expect(index.has(type, id)).toBe(true);
				expect(index.blobSize(type, id)).toBe(location.uncompressedLength || location.length - 32);
			}
		}
		const listed = [...index.entries()];
		const expected = [
			...[...oracle.blobs.data].map(([id, location]) => ({type: 'data', id, location})),
			...[...oracle.blobs.tree].map(([id, location]) => ({type: 'tree', id, location})),
		];
		expect(listed).toEqual(expected);
		for (let n = 0; n < 500; n++) expect(index.has('data', randomBytes(32).toString('hex'))).toBe(false);
	});
});
