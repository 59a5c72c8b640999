/**
 * The `.storageconfig` helpers: Kopia's format, first-match rules, the simple form, and the
 * warnings about cold classes for files other than data/.
 */
import {describe, expect, it} from 'vitest';

import {
	buildStorageConfig,
	findStorageClass,
	formatStorageConfig,
	listColdRuleWarnings,
	parseStorageConfig,
	STORAGE_CONFIG_NAME,
} from '../../adapters/shared/storage-config.js';
import {describeEffectiveClasses} from '../../source/commands/storageconfig.js';

const ID = 'ab'.repeat(32);

describe('parseStorageConfig', () => {
	it('reads Kopia\'s format, from text or bytes, ignoring unknown keys', () => {
		const text = '{"blobOptions":[{"prefix":"data/","storageClass":"DEEP_ARCHIVE","note":"x"},{"storageClass":"STANDARD_IA"}],"future":1}';
		const expected = {blobOptions: [{prefix: 'data/', storageClass: 'DEEP_ARCHIVE'}, {prefix: '', storageClass: 'STANDARD_IA'}]};
		expect(parseStorageConfig(text)).toEqual(expected);
		expect(parseStorageConfig(new TextEncoder().encode(text))).toEqual(expected);
		expect(parseStorageConfig('{}')).toEqual({blobOptions: []});
		expect(parseStorageConfig('{"blobOptions":null}')).toEqual({blobOptions: []});
	});

	it.each([
		['not json', /not valid JSON/],
		['[]', /must be a JSON object/],
		['{"blobOptions":{}}', /must be a list/],
		['{"blobOptions":[1]}', /rule 1 of "blobOptions" must be an object/],
		['{"blobOptions":[{"storageClass":"A"},{"prefix":"data/"}]}', /rule 2 of "blobOptions" needs a "storageClass" string/],
		['{"blobOptions":[{"prefix":7,"storageClass":"A"}]}', /"prefix" must be a string/],
		['{"blobOptions":[{"storageClass":"STANDARD IA"}]}', /must not contain spaces/],
	])('refuses %s', (text, message) => {
		expect(() => parseStorageConfig(text)).toThrow(message);
	});
});

describe('findStorageClass', () => {
	const config = parseStorageConfig('{"blobOptions":[{"prefix":"data/0","storageClass":"GLACIER"},{"prefix":"data/","storageClass":"DEEP_ARCHIVE"},{"prefix":"index/","storageClass":""},{"storageClass":"STANDARD_IA"}]}');

	it.each([
		[`data/00/00${ID.slice(2)}`, 'GLACIER'],
		[`data/ab/${ID}`, 'DEEP_ARCHIVE'],
		[`index/${ID}`, undefined],
		[`keys/${ID}`, 'STANDARD_IA'],
		['config', 'STANDARD_IA'],
		[STORAGE_CONFIG_NAME, undefined],
	])('gives %s the first matching rule\'s class (%s)', (key, expected) => {
		expect(findStorageClass(config, key)).toBe(expected);
	});

	it('gives nothing without a file or without a matching rule', () => {
		expect(findStorageClass(undefined, `data/ab/${ID}`)).toBeUndefined();
		expect(findStorageClass(parseStorageConfig('{"blobOptions":[{"prefix":"data/","storageClass":"X"}]}'), 'config')).toBeUndefined();
	});
});

describe('the simple form and formatting', () => {
	it('builds one rule per kind, then the default, and formats as Kopia does', () => {
		const config = buildStorageConfig({data: 'STANDARD_IA', snapshots: 'STANDARD', default: 'ONEZONE_IA'});
		expect(config).toEqual({blobOptions: [{prefix: 'snapshots/', storageClass: 'STANDARD'}, {prefix: 'data/', storageClass: 'STANDARD_IA'}, {prefix: '', storageClass: 'ONEZONE_IA'}]});
		const text = formatStorageConfig(config);
		expect(JSON.parse(text)).toEqual({blobOptions: [{prefix: 'snapshots/', storageClass: 'STANDARD'}, {prefix: 'data/', storageClass: 'STANDARD_IA'}, {storageClass: 'ONEZONE_IA'}]});
		expect(parseStorageConfig(text)).toEqual(config);
		expect(describeEffectiveClasses(config)).toEqual([
			{files: 'config', storageClass: 'ONEZONE_IA'},
			{files: 'keys/', storageClass: 'ONEZONE_IA'},
			{files: 'locks/', storageClass: 'ONEZONE_IA'},
			{files: 'snapshots/', storageClass: 'STANDARD'},
			{files: 'index/', storageClass: 'ONEZONE_IA'},
			{files: 'data/', storageClass: 'STANDARD_IA'},
		]);
	});
});

describe('listColdRuleWarnings', () => {
	const cold = ['GLACIER', 'DEEP_ARCHIVE'];

	it('accepts cold classes for data/ only', () => {
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"data/","storageClass":"DEEP_ARCHIVE"},{"storageClass":"STANDARD"}]}'), cold)).toEqual([]);
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"data/ab","storageClass":"glacier"}]}'), cold)).toEqual([]);
	});

	it('warns about a cold default, naming every kind of file it would freeze', () => {
		const warnings = listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"data/","storageClass":"STANDARD"},{"storageClass":"DEEP_ARCHIVE"}]}'), cold);
		expect(warnings).toHaveLength(5);
		expect(warnings[0]).toMatch(/^the default rule puts the config file into DEEP_ARCHIVE, which cannot be read without a thaw/);
		expect(warnings.join('\n')).toMatch(/keys\/ files/);
		expect(warnings.join('\n')).toMatch(/locks\/ files/);
	});

	it('warns about rules that cover part or all of a kind, but not when an earlier rule keeps it readable', () => {
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"index/0","storageClass":"GLACIER"}]}'), cold)).toEqual([
			expect.stringMatching(/^rule 1 \(prefix "index\/0"\) puts index\/ files into GLACIER/),
		]);
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"snap","storageClass":"GLACIER"}]}'), cold)).toEqual([expect.stringMatching(/snapshots\/ files into GLACIER/)]);
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"c","storageClass":"GLACIER"}]}'), cold)).toEqual([expect.stringMatching(/the config file into GLACIER/)]);
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"","storageClass":"STANDARD"},{"storageClass":"GLACIER"}]}'), cold)).toEqual([]);
		expect(listColdRuleWarnings(parseStorageConfig('{"blobOptions":[{"prefix":"index/","storageClass":"Hot"},{"storageClass":"Archive"}]}'), ['Archive'])).toHaveLength(4);
	});
});
