import {describe, expect, it} from 'vitest';
import {SnapshotFileReader} from '../../components/file-reader.js';
import {describeBinary, findPreviousLineStart, formatHexRows, looksLikeText, splitTextLines} from '../../components/state/preview.js';
import {addToTotals, EMPTY_TOTALS, locateRow, orderByTime, toDiffRow} from '../../components/state/diff-view.js';
import type {TreeNode} from '../../engine/format/tree.js';

const base = {mtime: '2021-01-01T00:00:00Z', atime: '2021-01-01T00:00:00Z', ctime: '2021-01-01T00:00:00Z', uid: 0, gid: 0};

describe('SnapshotFileReader', () => {
	it('reads a range from the blobs that overlap it only', async () => {
		const blobs = new Map([['a', Buffer.from('0123456789')], ['b', Buffer.from('abcdefghij')], ['c', Buffer.from('KLMNO')]]);
		const loaded: string[] = [];
		const node: TreeNode = {...base, name: 'f', type: 'file', size: 25, content: ['a', 'b', 'c']};
		const reader = new SnapshotFileReader(node, (id) => blobs.get(id)?.length, async (id) => {
			loaded.push(id);
			return blobs.get(id)!;
		});
		expect(reader.size).toBe(25);
		expect((await reader.read(22, 10)).toString()).toBe('MNO');
		expect(loaded).toEqual(['c']);
		expect((await reader.read(8, 4)).toString()).toBe('89ab');
		expect(loaded).toEqual(['c', 'a', 'b']);
		expect((await reader.read(9, 2)).toString()).toBe('9a');
		expect(loaded).toHaveLength(3);
		expect((await reader.read(30, 5)).length).toBe(0);
		expect(() => new SnapshotFileReader({...node, content: ['missing']}, () => undefined, async () => Buffer.alloc(0))).toThrow(/not in the index/);
	});
});

describe('preview formatting', () => {
	it('tells text from binary and names common binary formats', () => {
		expect(looksLikeText(Buffer.from('hello\nwörld\n'))).toBe(true);
		expect(looksLikeText(Buffer.from([0x68, 0x00, 0x69]))).toBe(false);
		expect(describeBinary(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d]))).toBe('PNG image');
		expect(describeBinary(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip data');
		expect(describeBinary(Buffer.from([1, 2, 3]))).toBe('binary data');
	});

	it('formats hex rows and text lines with their offsets', () => {
		expect(formatHexRows(Buffer.from('ABCDEFGHIJKLMNOPQR'), 32)).toEqual([
			'00000020  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP',
			'00000030  51 52                                             QR',
		]);
		expect(splitTextLines(Buffer.from('one\n\ttwo\r\nthree'), 100, false)).toEqual([{offset: 100, text: 'one'}, {offset: 104, text: '    two'}]);
		expect(splitTextLines(Buffer.from('one\nthree'), 0, true).at(-1)).toEqual({offset: 4, text: 'three'});
		const text = Buffer.from('first\nsecond\nthird\n');
		expect(findPreviousLineStart(text.subarray(0, 13), 13)).toBe(6);
		expect(findPreviousLineStart(text.subarray(0, 6), 6)).toBe(0);
	});
});

describe('diff view rows', () => {
	it('turns changes into rows with sizes and totals, and finds where Enter leads', () => {
		const file = (size: number): TreeNode => ({...base, name: 'x', type: 'file', size, content: []});
		const rows = [
			toDiffRow({path: '/a/new', modifier: '+', after: file(10)}),
			toDiffRow({path: '/a/old/', modifier: '-', before: {...base, name: 'old', type: 'dir', content: null, subtree: 'f'.repeat(64)}}),
			toDiffRow({path: '/a/edit', modifier: 'M', before: file(5), after: file(3)}),
		];
		expect(rows.map((r) => r.kind)).toEqual(['added', 'removed', 'changed']);
		expect(rows.reduce(addToTotals, EMPTY_TOTALS)).toEqual({added: 1, removed: 1, changed: 1, bytesAdded: 10, bytesRemoved: 0, bytesChanged: -2});
		expect(locateRow(rows[1]!)).toEqual({side: 'before', path: '/a/old'});
		expect(locateRow(rows[0]!)).toEqual({side: 'after', path: '/a/new'});
		const older = {id: 'b', time: '2021-01-01T00:00:00Z'};
		const newer = {id: 'a', time: '2022-01-01T00:00:00+02:00'};
		expect(orderByTime(newer, older)).toEqual([older, newer]);
	});
});
