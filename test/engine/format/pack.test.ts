import {describe, expect, it} from 'vitest';
import {createHash} from 'node:crypto';
import {decodePackHeader, encodePackHeader, type PackedBlob} from '../../../engine/format/pack.js';
import {decodeIndexFile, encodeIndexFile} from '../../../engine/format/index-file.js';

const id = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('pack headers', () => {
	const blobs: PackedBlob[] = [
		{type: 'data', id: id('a'), offset: 0, length: 100, uncompressedLength: 0},
		{type: 'data', id: id('b'), offset: 100, length: 50, uncompressedLength: 500},
		{type: 'tree', id: id('c'), offset: 150, length: 70, uncompressedLength: 0},
		{type: 'tree', id: id('d'), offset: 220, length: 40, uncompressedLength: 90},
	];

	it('uses the entry sizes and type bytes of the spec', () => {
		const header = encodePackHeader(blobs);
		expect(header.length).toBe(37 + 41 + 37 + 41);
		expect([header[0], header[37], header[78], header[115]]).toEqual([0, 2, 1, 3]);
		expect(header.readUInt32LE(1)).toBe(100);
		expect(header.readUInt32LE(42)).toBe(500);
		expect(header.toString('hex', 5, 37)).toBe(id('a'));
	});

	it('decodes what it encodes, computing offsets', () => {
		expect(decodePackHeader(encodePackHeader(blobs))).toEqual(blobs);
	});

	it('rejects unknown types and truncated entries', () => {
		const header = encodePackHeader(blobs);
		const bad = Buffer.from(header);
		bad[0] = 7;
		expect(() => decodePackHeader(bad)).toThrow(/invalid blob type/);
		expect(() => decodePackHeader(header.subarray(0, 50))).toThrow(/truncated/);
	});
});

describe('index files', () => {
	it('writes uncompressed_length only for compressed blobs and reads it back', () => {
		const packs = [{packId: id('pack'), blobs: [
			{type: 'data' as const, id: id('x'), offset: 0, length: 10, uncompressedLength: 0},
			{type: 'data' as const, id: id('y'), offset: 10, length: 20, uncompressedLength: 40},
		]}];
		const json = JSON.parse(encodeIndexFile(packs, [id('old')]).toString());
		expect(json.supersedes).toEqual([id('old')]);
		expect(json.packs[0].blobs[0]).toEqual({id: id('x'), type: 'data', offset: 0, length: 10});
		expect(json.packs[0].blobs[1].uncompressed_length).toBe(40);
		expect(decodeIndexFile(json, 'i').packs).toEqual(packs);
	});

	it('says what is wrong with a document without packs', () => {
		expect(() => decodeIndexFile({}, 'abcdef0123')).toThrow(/index abcdef01 has no pack list/);
	});
});
