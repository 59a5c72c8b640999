/**
 * The compact blob table: hex decoding, insert and find, first entry wins, growth of the chunks
 * and of the slot table, entry order, and random IDs checked against a Map.
 */
import {createHash, randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {BlobTable, decodeHexId} from '../../../engine/repository/blob-table.js';

/** A deterministic blob ID (hex) for a number. */
function idFor(n: number, salt = ''): string {
	return createHash('sha256').update(`${salt}${n}`).digest('hex');
}

interface Values {
	pack: number;
	offset: number;
	length: number;
	uncompressedLength: number;
}

function valuesOf(table: BlobTable, entry: number): Values {
	return {pack: table.packOf(entry), offset: table.offsetOf(entry), length: table.lengthOf(entry), uncompressedLength: table.uncompressedLengthOf(entry)};
}

describe('decodeHexId', () => {
	it('decodes 64 lowercase hex digits into 32 bytes', () => {
		const bytes = randomBytes(32);
		const into = new Uint8Array(32);
		expect(decodeHexId(bytes.toString('hex'), into)).toBe(true);
		expect(Buffer.from(into).equals(bytes)).toBe(true);
	});

	it('rejects every other string', () => {
		const into = new Uint8Array(32);
		const good = idFor(1);
		expect(decodeHexId(good.toUpperCase(), into)).toBe(false);
		expect(decodeHexId(`A${good.slice(1)}`, into)).toBe(false);
		expect(decodeHexId(good.slice(0, 62), into)).toBe(false);
		expect(decodeHexId(`${good}00`, into)).toBe(false);
		expect(decodeHexId(`g${good.slice(1)}`, into)).toBe(false);
		expect(decodeHexId(`${good.slice(0, 63)} `, into)).toBe(false);
		expect(decodeHexId('', into)).toBe(false);
		// U+0130's low byte is the code of '0': it must not pass for a digit.
		expect(decodeHexId(`\u0130${good.slice(1)}`, into)).toBe(false);
		expect(decodeHexId(`${good.slice(0, 32)}\u0161${good.slice(33)}`, into)).toBe(false);
	});
});

describe('BlobTable', () => {
	it('finds what was inserted and nothing else', () => {
		const table = new BlobTable();
		expect(table.insertHex(idFor(1), 7, 100, 200, 300)).toBe(true);
		expect(table.size).toBe(1);
		const entry = table.findHex(idFor(1));
		expect(entry).toBe(0);
		expect(valuesOf(table, entry)).toEqual({pack: 7, offset: 100, length: 200, uncompressedLength: 300});
		expect(table.idHexOf(entry)).toBe(idFor(1));
		expect(table.findHex(idFor(2))).toBe(-1);
		expect(table.findHex('not an id')).toBe(-1);
	});

	it('keeps the first entry of an ID', () => {
		const table = new BlobTable();
		expect(table.insertHex(idFor(1), 1, 0, 10, 0)).toBe(true);
		expect(table.insertHex(idFor(1), 2, 50, 60, 70)).toBe(false);
		expect(table.size).toBe(1);
		expect(valuesOf(table, table.findHex(idFor(1)))).toEqual({pack: 1, offset: 0, length: 10, uncompressedLength: 0});
	});

	it('adds nothing for a string that is not a lowercase hex ID', () => {
		const table = new BlobTable();
		expect(table.insertHex(idFor(1).toUpperCase(), 1, 0, 10, 0)).toBe(false);
		expect(table.insertHex('abc', 1, 0, 10, 0)).toBe(false);
		expect(table.insertHex(`\u0130${idFor(1).slice(1)}`, 1, 0, 10, 0)).toBe(false);
		expect(table.insertHex(`${idFor(1).slice(0, 63)}G`, 1, 0, 10, 0)).toBe(false);
		expect(table.size).toBe(0);
		expect(table.insertHex(idFor(1), 1, 0, 10, 0)).toBe(true);
		expect(table.findHex(idFor(1).toUpperCase())).toBe(-1);
		expect(table.findHex(`${idFor(1).slice(0, 40)}\u0131${idFor(1).slice(41)}`)).toBe(-1);
		expect(table.findHex(idFor(1))).toBe(0);
	});

	it('holds the whole uint32 range in every value', () => {
		const table = new BlobTable();
		const max = 2 ** 32 - 1;
		table.insertHex(idFor(1), max, max, max, max);
		table.insertHex(idFor(2), 0, 0, 0, 0);
		expect(valuesOf(table, 0)).toEqual({pack: max, offset: max, length: max, uncompressedLength: max});
		expect(valuesOf(table, 1)).toEqual({pack: 0, offset: 0, length: 0, uncompressedLength: 0});
	});

	it('takes binary IDs, also from an unaligned view, and agrees with hex', () => {
		const table = new BlobTable();
		const pool = randomBytes(32 * 3 + 1);
		const a = pool.subarray(1, 33);
		const b = pool.subarray(33, 65);
		expect(table.insertBytes(a, 1, 2, 3, 4)).toBe(true);
		expect(table.insertBytes(Buffer.from(a), 9, 9, 9, 9)).toBe(false);
		expect(table.findBytes(a)).toBe(0);
		expect(table.findHex(a.toString('hex'))).toBe(0);
		expect(table.idHexOf(0)).toBe(a.toString('hex'));
		expect(table.findBytes(b)).toBe(-1);
		expect(table.insertHex(b.toString('hex'), 5, 6, 7, 8)).toBe(true);
		expect(table.findBytes(b)).toBe(1);
		expect(() => table.findBytes(new Uint8Array(31))).toThrow(RangeError);
	});

	it('grows past several chunks, keeping entry numbers in insertion order', () => {
		const table = new BlobTable();
		const count = 150_000;
		let added = 0;
		for (let n = 0; n < count; n++) if (table.insertHex(idFor(n), n % 1000, n, n * 2, n * 3)) added++;
		expect(added).toBe(count);
		expect(table.size).toBe(count);
		expect(table.allocatedBytes).toBeLessThan(count * 70);
		for (let n = 0; n < count; n += 997) {
			expect(table.findHex(idFor(n))).toBe(n);
			expect(table.idHexOf(n)).toBe(idFor(n));
			expect(valuesOf(table, n)).toEqual({pack: n % 1000, offset: n, length: n * 2, uncompressedLength: n * 3});
		}
		expect(table.findHex(idFor(count - 1))).toBe(count - 1);
		for (let n = 0; n < 2000; n++) expect(table.findHex(idFor(n, 'absent'))).toBe(-1);
		for (let n = 0; n < count; n += 4999) expect(table.insertHex(idFor(n), 0, 0, 0, 0)).toBe(false);
		expect(table.size).toBe(count);
	});

	it('tells apart IDs that share their first bytes or differ only in the last one', () => {
		const table = new BlobTable();
		const prefix = randomBytes(28);
		const ids: Buffer[] = [];
		for (let n = 0; n < 3000; n++) {
			const id = Buffer.concat([prefix, Buffer.alloc(4)]);
			id.writeUInt32BE(n, 28);
			ids.push(id);
			// the same first 4 bytes as `id`, and so the same home slot and the same tag
			ids.push(Buffer.concat([prefix.subarray(0, 4), randomBytes(28)]));
		}
		for (const [n, id] of ids.entries()) expect(table.insertBytes(id, n, 0, 0, 0)).toBe(true);
		for (const [n, id] of ids.entries()) {
			expect(table.findBytes(id)).toBe(n);
			expect(table.insertBytes(id, 0, 0, 0, 0)).toBe(false);
		}
		const absent = Buffer.from(ids[0]!);
		absent.writeUInt32BE(0xffff_ffff, 28);
		expect(table.findBytes(absent)).toBe(-1);
		expect(table.size).toBe(ids.length);
	});

	it('agrees with a Map on random IDs, repeats and misses', () => {
		const table = new BlobTable();
		const oracle = new Map<string, Values>();
		const known: string[] = [];
		let seed = 12345;
		const random = (): number => {
			seed = (seed * 1103515245 + 12345) >>> 0;
			return seed / 2 ** 32;
		};
		for (let step = 0; step < 40_000; step++) {
			const id = known.length > 0 && random() < 0.3 ? known[Math.floor(random() * known.length)]! : randomBytes(32).toString('hex');
			const values = {pack: Math.floor(random() * 2 ** 32), offset: Math.floor(random() * 2 ** 32), length: step, uncompressedLength: step % 3 === 0 ? 0 : step + 1};
			const added = table.insertHex(id, values.pack, values.offset, values.length, values.uncompressedLength);
			expect(added).toBe(!oracle.has(id));
			if (added) {
				oracle.set(id, values);
				known.push(id);
			}
		}
		expect(table.size).toBe(oracle.size);
		const listed = new Map<string, Values>();
		for (let entry = 0; entry < table.size; entry++) listed.set(table.idHexOf(entry), valuesOf(table, entry));
		expect(listed).toEqual(oracle);
		expect([...listed.keys()]).toEqual([...oracle.keys()]);
		for (const [id, values] of oracle) expect(valuesOf(table, table.findHex(id))).toEqual(values);
		for (let n = 0; n < 1000; n++) expect(table.findHex(randomBytes(32).toString('hex'))).toBe(-1);
	});
});
