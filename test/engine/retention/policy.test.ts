import {describe, expect, it} from 'vitest';
import {DurationSyntaxError, formatRetentionDuration, parseRetentionDuration} from '../../../engine/retention/duration.js';
import {
	describePolicy, findPolicyField, isEmptyPolicy, parseKeepCount, PolicyError, readPolicyOptions, validatePolicy,
} from '../../../engine/retention/policy.js';
import {describeGroupKey, formatGroupBy, GroupByError, groupSnapshots, parseGroupBy} from '../../../engine/retention/group.js';

describe('durations', () => {
	it.each([
		['30d', {years: 0, months: 0, days: 30, hours: 0}],
		['1y2m', {years: 1, months: 2, days: 0, hours: 0}],
		['2y5m7d3h', {years: 2, months: 5, days: 7, hours: 3}],
		['3h2y', {years: 2, months: 0, days: 0, hours: 3}],
		[' 12m ', {years: 0, months: 12, days: 0, hours: 0}],
	])('parses %j', (text, expected) => {
		expect(parseRetentionDuration(text)).toEqual(expected);
	});

	it.each(['', '30', 'd', '1w', '1y1y', '-1d', '1.5d', '1d 2h', '30x'])('refuses %j with the syntax in the message', (text) => {
		expect(() => parseRetentionDuration(text)).toThrow(DurationSyntaxError);
		expect(() => parseRetentionDuration(text)).toThrow(/y \(years\), m \(months\), d \(days\) or h \(hours\)/);
	});

	it('formats as restic does, zero fields left out, in y m d h order', () => {
		expect(formatRetentionDuration(parseRetentionDuration('3h7d2y'))).toBe('2y7d3h');
		expect(formatRetentionDuration(parseRetentionDuration('1y2m'))).toBe('1y2m');
	});
});

describe('policy options', () => {
	it('fold restic\'s names into the main ones', () => {
		expect(findPolicyField('keep-last')).toBe('latest');
		expect(findPolicyField('--keep-yearly')).toBe('annual');
		expect(findPolicyField('keep-within-yearly')).toBe('withinAnnual');
		expect(findPolicyField('keep-forever')).toBeUndefined();
		expect(readPolicyOptions({'keep-last': '3', 'keep-yearly': '2', 'keep-within-daily': '7d', 'keep-tag': ['a,b', ' c ']})).toEqual({
			latest: 3, annual: 2, withinDaily: {years: 0, months: 0, days: 7, hours: 0}, tags: [['a', 'b'], ['c']],
		});
	});

	it('accept the same value under both names, refuse two different ones', () => {
		expect(readPolicyOptions({'keep-latest': '3', 'keep-last': '3'})).toEqual({latest: 3});
		expect(() => readPolicyOptions({'keep-latest': '3', 'keep-last': '4'})).toThrow(/keep-last is another name for keep-latest/);
	});

	it('read counts: whole numbers, or -1 / unlimited / all for no limit', () => {
		expect(parseKeepCount('0')).toBe(0);
		expect(parseKeepCount('12')).toBe(12);
		for (const text of ['-1', 'unlimited', 'all']) expect(parseKeepCount(text)).toBe(-1);
		for (const text of ['-2', '1.5', 'x', '']) expect(() => parseKeepCount(text, 'keep-daily')).toThrow(/invalid --keep-daily/);
	});

	it('name the option in a bad duration', () => {
		expect(() => readPolicyOptions({'keep-within-weekly': '2w'})).toThrow(PolicyError);
		expect(() => readPolicyOptions({'keep-within-weekly': '2w'})).toThrow(/--keep-within-weekly: invalid duration "2w": unknown unit "w"/);
	});

	it('know an empty policy', () => {
		expect(isEmptyPolicy({})).toBe(true);
		expect(isEmptyPolicy({daily: 0, within: {years: 0, months: 0, days: 0, hours: 0}})).toBe(true);
		expect(isEmptyPolicy({daily: -1})).toBe(false);
		expect(isEmptyPolicy({tags: [['']]})).toBe(false);
		expect(isEmptyPolicy({withinHourly: {years: 0, months: 0, days: 0, hours: 1}})).toBe(false);
	});

	it('refuse negative counts other than -1 and negative durations built in code', () => {
		expect(() => validatePolicy({daily: -2})).toThrow(/--keep-daily -2/);
		expect(() => validatePolicy({weekly: 1.5})).toThrow(/--keep-weekly/);
		expect(() => validatePolicy({within: {years: 0, months: 0, days: -1, hours: 0}})).toThrow(/--keep-within/);
		expect(validatePolicy({daily: -1})).toEqual({daily: -1});
	});

	it('describe themselves', () => {
		expect(describePolicy({daily: 7, weekly: 4, annual: -1})).toBe('keep 7 daily, 4 weekly, all annual snapshots');
		expect(describePolicy({latest: 2, withinDaily: parseRetentionDuration('30d'), tags: [['a', 'b'], ['c']], within: parseRetentionDuration('1y')}))
			.toBe('keep 2 latest snapshots, daily snapshots within 30d and all snapshots with tags [a, b] or [c] and all snapshots within 1y of the newest');
		expect(describePolicy({})).toBe('keep everything (no policy)');
	});
});

describe('grouping', () => {
	const snaps = [
		{id: '1', hostname: 'b', paths: ['/y', '/x'], tags: ['t2', 't1']},
		{id: '2', hostname: 'a', paths: ['/x'], tags: []},
		{id: '3', hostname: 'b', paths: ['/x', '/y'], tags: ['t1', 't2']},
		{id: '4', hostname: 'a', paths: ['/x'], tags: ['t1']},
		{id: '5', paths: ['/x']},
	];

	it('parses --group-by words and refuses unknown ones', () => {
		expect(parseGroupBy('host,paths')).toEqual({host: true, paths: true, tags: false});
		expect(parseGroupBy('tag,hosts,path')).toEqual({host: true, paths: true, tags: true});
		expect(parseGroupBy('')).toEqual({host: false, paths: false, tags: false});
		expect(formatGroupBy(parseGroupBy('tags,host'))).toBe('host,tags');
		expect(() => parseGroupBy('host,user')).toThrow(GroupByError);
		expect(() => parseGroupBy('host,user')).toThrow(/unknown grouping "user"/);
	});

	it('groups by host and paths by default (path order does not matter), sorted by key', () => {
		const groups = groupSnapshots(snaps);
		expect(groups.map((g) => [g.key, g.snapshots.map((s) => s.id)])).toEqual([
			[{hostname: '', paths: ['/x'], tags: null}, ['5']],
			[{hostname: 'a', paths: ['/x'], tags: null}, ['2', '4']],
			[{hostname: 'b', paths: ['/x', '/y'], tags: null}, ['1', '3']],
		]);
	});

	it('groups by tags (sorted; untagged snapshots have null tags) and by nothing', () => {
		expect(groupSnapshots(snaps, 'tags').map((g) => [g.key, g.snapshots.map((s) => s.id)])).toEqual([
			[{hostname: '', paths: null, tags: null}, ['2', '5']],
			[{hostname: '', paths: null, tags: ['t1']}, ['4']],
			[{hostname: '', paths: null, tags: ['t1', 't2']}, ['1', '3']],
		]);
		expect(groupSnapshots(snaps, '').map((g) => g.snapshots.length)).toEqual([5]);
	});

	it('describes a group key for people', () => {
		const by = parseGroupBy('host,paths,tags');
		expect(describeGroupKey({hostname: 'vm', paths: ['/a', '/b'], tags: null}, by)).toBe('host vm, paths /a, /b, tags (none)');
		expect(describeGroupKey({hostname: '', paths: null, tags: null}, parseGroupBy(''))).toBe('all snapshots');
	});
});
