import {rm} from 'node:fs/promises';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import type {LoadOptions, Storage} from '../../../adapters/storage.js';
import {runCheck} from '../../../engine/checker/checker.js';
import {compareHeaderWithIndex, findIndexGaps} from '../../../engine/checker/read-data.js';
import type {PackedBlob} from '../../../engine/format/pack.js';
import {Repository} from '../../../engine/repository/repository.js';
import {PASSWORD, buildTemplate, copyTemplate, listFileIds, type Template} from './fixtures.js';

const blob = (id: string, offset: number, length: number, type: PackedBlob['type'] = 'data'): PackedBlob => ({type, id: id.repeat(64), offset, length, uncompressedLength: 0});

describe('findIndexGaps', () => {
	it('accepts contiguous blobs and names the first gap or overlap', () => {
		expect(findIndexGaps([blob('a', 0, 40), blob('b', 40, 50)])).toBeUndefined();
		expect(findIndexGaps([blob('a', 0, 40), blob('b', 41, 50)])).toContain(`blob ${'b'.repeat(64)} at offset 41, where byte 40 was expected`);
		expect(findIndexGaps([blob('a', 0, 40), blob('b', 39, 50)])).toContain('gaps or overlaps');
	});
});

describe('compareHeaderWithIndex', () => {
	it('lists blobs only one side has, different lengths and a header that does not start after the blobs', () => {
		const header = [blob('a', 0, 40), blob('b', 40, 50)];
		expect(compareHeaderWithIndex(header, 90, header)).toEqual([]);
		const problems = compareHeaderWithIndex(header, 100, [blob('a', 0, 41), blob('c', 40, 50)]);
		expect(problems).toEqual([
			'the pack header describes 90 bytes of blobs, but the header starts at byte 100',
			`data blob ${'a'.repeat(64)} at offset 0: the pack header says 40 bytes (0 uncompressed), the index 41 (0 uncompressed)`,
			`data blob ${'b'.repeat(64)} at offset 40 is in the pack header but not in the index at that position`,
			`the index lists data blob ${'c'.repeat(64)} at offset 40, but the pack header does not`,
		]);
	});
});

describe('runCheck --read-data and passing faults', () => {
	let template: Template;

	beforeAll(async () => {
		template = await buildTemplate();
	});

	afterAll(async () => {
		await rm(template.root, {recursive: true, force: true});
	});

	it('reads a pack again after a failure and reports a sound second read as a warning', async () => {
		const dir = await copyTemplate(template);
		const [victim] = await listFileIds(dir, 'data');
		const inner = createLocalStorage(dir);
		let damagedOnce = false;
		// a storage whose first whole read of one pack returns a flipped byte
		const flaky: Storage = Object.create(inner, {
			load: {
				value: async (handle: {type: 'data'; name: string}, options?: LoadOptions) => {
					const bytes = await inner.load(handle, options);
					if (handle.type === 'data' && handle.name === victim && options?.offset === undefined && !damagedOnce) {
						damagedOnce = true;
						const copy = Buffer.from(bytes);
						copy[10]! ^= 0xff;
						return copy;
					}
					return bytes;
				},
			},
		});
		const report = await runCheck(await Repository.open(flaky, PASSWORD), {noLock: true, readData: true});
		expect(damagedOnce).toBe(true);
		expect(report.ok).toBe(true);
		expect(report.problems).toHaveLength(1);
		expect(report.problems[0]).toMatchObject({file: `data/${victim!.slice(0, 2)}/${victim}`, severity: 'warning'});
		expect(report.problems[0]!.message).toMatch(/^failed the first read but passed the second, which suggests a passing fault: the file's content does not match its name/);
	});
});
