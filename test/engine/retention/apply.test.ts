/**
 * applyPolicy on a small timeline. Every expectation below is worked out by hand from the rules
 * (the comments show the reasoning); none is taken from restic's own test data.
 */
import {describe, expect, it} from 'vitest';
import {applyPolicy, type KeepCounters} from '../../../engine/retention/apply.js';
import {parseRetentionDuration} from '../../../engine/retention/duration.js';
import type {RetentionPolicy} from '../../../engine/retention/policy.js';

interface TestSnapshot {
	id: string;
	time: string;
	tags?: string[];
}

// Newest first, with the ISO week of each (2024-03-04 is the Monday of week 10).
const s1: TestSnapshot = {id: 's1', time: '2024-03-10T10:00:00Z'}; // Sun, W10
const s2: TestSnapshot = {id: 's2', time: '2024-03-10T08:00:00Z', tags: ['manual']}; // Sun, W10
const s3: TestSnapshot = {id: 's3', time: '2024-03-09T22:00:00Z'}; // Sat, W10
const s4: TestSnapshot = {id: 's4', time: '2024-03-04T12:00:00Z'}; // Mon, W10
const s5: TestSnapshot = {id: 's5', time: '2024-03-03T12:00:00Z'}; // Sun, W9
const s6: TestSnapshot = {id: 's6', time: '2024-02-29T12:00:00Z'}; // Thu, W9
const s7: TestSnapshot = {id: 's7', time: '2024-01-15T00:00:00Z', tags: ['manual', 'important']}; // Mon, W3
const s8: TestSnapshot = {id: 's8', time: '2023-12-31T23:00:00Z'}; // Sun, 2023-W52
const s9: TestSnapshot = {id: 's9', time: '2023-06-01T00:00:00Z', tags: ['important']};
/** Shuffled, so that the sort is tested too. */
const timeline = [s5, s1, s9, s3, s7, s2, s8, s4, s6];
const all = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9'];
const d = parseRetentionDuration;

interface Case {
	name: string;
	policy: RetentionPolicy;
	/** Kept snapshots, newest first, with their reasons. */
	keep: Array<[string, string[]]>;
	/** Counters after some kept snapshots (checked when given). */
	counters?: Record<string, KeepCounters>;
}

const cases: Case[] = [
	{name: 'the last 3', policy: {latest: 3}, keep: [['s1', ['last snapshot']], ['s2', ['last snapshot']], ['s3', ['last snapshot']]], counters: {s1: {last: 2}, s2: {last: 1}, s3: {}}},
	// Hours 2024-03-10 10h, 08h and 2024-03-09 22h are three distinct hours.
	{name: '3 hourly', policy: {hourly: 3}, keep: [['s1', ['hourly snapshot']], ['s2', ['hourly snapshot']], ['s3', ['hourly snapshot']]]},
	// Days: Mar 10 (s1, newest of s1/s2), Mar 9 (s3), Mar 4 (s4).
	{name: '3 daily', policy: {daily: 3}, keep: [['s1', ['daily snapshot']], ['s3', ['daily snapshot']], ['s4', ['daily snapshot']]], counters: {s1: {daily: 2}, s3: {daily: 1}, s4: {}}},
	// Weeks: W10 (s1), W9 (s5).
	{name: '2 weekly', policy: {weekly: 2}, keep: [['s1', ['weekly snapshot']], ['s5', ['weekly snapshot']]]},
	// W10, W9, 2024-W3, then 2023-W52 for Sunday 2023-12-31.
	{name: '4 weekly across the year boundary', policy: {weekly: 4}, keep: [['s1', ['weekly snapshot']], ['s5', ['weekly snapshot']], ['s7', ['weekly snapshot']], ['s8', ['weekly snapshot']]]},
	{name: '3 monthly', policy: {monthly: 3}, keep: [['s1', ['monthly snapshot']], ['s6', ['monthly snapshot']], ['s7', ['monthly snapshot']]]},
	// Only two years have snapshots: the count is not used up.
	{name: '5 annual', policy: {annual: 5}, keep: [['s1', ['yearly snapshot']], ['s8', ['yearly snapshot']]], counters: {s1: {yearly: 4}, s8: {yearly: 3}}},
	// s1 opens day, week and month. s2 and s4 open nothing new (s4: days used up, week 10 and March seen).
	// s3 opens Mar 9; s5 opens W9; s6 opens February; s7 would open January but months are used up.
	{
		name: '2 daily, 2 weekly, 2 monthly', policy: {daily: 2, weekly: 2, monthly: 2},
		keep: [['s1', ['daily snapshot', 'weekly snapshot', 'monthly snapshot']], ['s3', ['daily snapshot']], ['s5', ['weekly snapshot']], ['s6', ['monthly snapshot']]],
		counters: {s1: {daily: 1, weekly: 1, monthly: 1}, s3: {weekly: 1, monthly: 1}, s5: {monthly: 1}, s6: {}},
	},
	// Newest is s1 (Mar 10 10:00); the cut-off is Mar 9 10:00, so s3 (Mar 9 22:00) is within.
	{name: 'within 1d', policy: {within: d('1d')}, keep: [['s1', ['within 1d']], ['s2', ['within 1d']], ['s3', ['within 1d']]]},
	// Cut-off Mar 3 10:00: s5 (Mar 3 12:00) is within, s6 is not.
	{name: 'within 7d', policy: {within: d('7d')}, keep: ['s1', 's2', 's3', 's4', 's5'].map((id) => [id, ['within 7d']])},
	{name: 'daily within 7d', policy: {withinDaily: d('7d')}, keep: ['s1', 's3', 's4', 's5'].map((id) => [id, ['daily within 7d']])},
	// Cut-off Feb 10: s1 to s6 are within; their weeks are W10 and W9.
	{name: 'weekly within 1m', policy: {withinWeekly: d('1m')}, keep: [['s1', ['weekly within 1m']], ['s5', ['weekly within 1m']]]},
	{name: 'keep-tag manual', policy: {tags: [['manual']]}, keep: [['s2', ['has tags [manual]']], ['s7', ['has tags [manual]']]]},
	{
		name: 'two tag lists, one needing both tags', policy: {tags: [['manual', 'important'], ['important']]},
		keep: [['s7', ['has tags [manual, important]', 'has tags [important]']], ['s9', ['has tags [important]']]],
	},
	// restic's rule: an empty tag in a list matches the snapshots without tags.
	{name: 'keep-tag of the empty tag', policy: {tags: [['']]}, keep: ['s1', 's3', 's4', 's5', 's6', 's8'].map((id) => [id, ['has tags []']])},
	// Every distinct day, unlimited: only s2 shares its day with a newer snapshot.
	{name: 'unlimited daily', policy: {daily: -1}, keep: ['s1', 's3', 's4', 's5', 's6', 's7', 's8', 's9'].map((id) => [id, ['daily snapshot']]), counters: {s1: {daily: -1}, s9: {daily: -1}}},
	// Reasons come in restic's order: tags, within, counts, within-buckets.
	{
		name: 'tags, within and last together', policy: {latest: 1, tags: [['important']], within: d('1d')},
		keep: [['s1', ['within 1d', 'last snapshot']], ['s2', ['within 1d']], ['s3', ['within 1d']], ['s7', ['has tags [important]']], ['s9', ['has tags [important]']]],
	},
	// Cut-off 2023-03-10: everything is within a year; months 2024-03, 02, 01, 2023-12, 06 each get one.
	{
		name: '2 monthly and monthly within 1y', policy: {monthly: 2, withinMonthly: d('1y')},
		keep: [
			['s1', ['monthly snapshot', 'monthly within 1y']], ['s6', ['monthly snapshot', 'monthly within 1y']],
			['s7', ['monthly within 1y']], ['s8', ['monthly within 1y']], ['s9', ['monthly within 1y']],
		],
	},
	{name: 'an empty policy keeps everything', policy: {}, keep: all.map((id) => [id, ['policy is empty']])},
];

describe('applyPolicy', () => {
	it.each(cases)('$name', ({policy, keep, counters}) => {
		const result = applyPolicy(timeline, policy, {timeZone: 'UTC'});
		expect(result.decisions.map((x) => x.snapshot.id)).toEqual(all);
		expect(result.decisions.filter((x) => x.keep).map((x) => [x.snapshot.id, x.reasons])).toEqual(keep);
		expect(result.keep.map((s) => s.id)).toEqual(keep.map(([id]) => id));
		expect(result.remove.map((s) => s.id)).toEqual(all.filter((id) => !keep.some(([k]) => k === id)));
		for (const x of result.decisions) if (!x.keep) expect(x.reasons).toEqual([]);
		for (const [id, expected] of Object.entries(counters ?? {})) {
			expect(result.decisions.find((x) => x.snapshot.id === id)!.counters, id).toEqual(expected);
		}
	});

	it('returns nothing for no snapshots', () => {
		expect(applyPolicy([], {daily: 3})).toEqual({decisions: [], keep: [], remove: []});
	});

	it('keeps snapshots at the same time in the order given', () => {
		const a = {id: 'a', time: '2024-01-01T00:00:00Z'};
		const b = {id: 'b', time: '2024-01-01T00:00:00Z'};
		expect(applyPolicy([a, b], {latest: 1}).keep.map((s) => s.id)).toEqual(['a']);
		expect(applyPolicy([b, a], {latest: 1}).keep.map((s) => s.id)).toEqual(['b']);
		expect(applyPolicy([b, a], {daily: 2}).keep.map((s) => s.id)).toEqual(['b']);
	});

	it('buckets by the wall clock each snapshot was recorded in', () => {
		// 01:30 at +02:00 on Mar 10 is Mar 9 23:30 UTC; recorded on Mar 10, so it is not the same day as Mar 9 22:00 UTC.
		const east = {id: 'east', time: '2024-03-10T01:30:00+02:00'};
		const utc = {id: 'utc', time: '2024-03-09T22:00:00Z'};
		expect(applyPolicy([utc, east], {daily: 5}, {timeZone: 'UTC'}).keep.map((s) => s.id)).toEqual(['east', 'utc']);
		// Recorded at the same UTC wall clock day, the older one loses.
		const utc2 = {id: 'utc2', time: '2024-03-09T23:30:00Z'};
		expect(applyPolicy([utc, utc2], {daily: 5}, {timeZone: 'Europe/Berlin'}).keep.map((s) => s.id)).toEqual(['utc2']);
	});

	it('puts both occurrences of a repeated hour in one hourly bucket', () => {
		// Berlin, 2021-10-31: 02:30 summer time (00:30 UTC), then 02:10 winter time (01:10 UTC), both hour 02.
		const snaps = [
			{id: 'first-0230', time: '2021-10-31T02:30:00+02:00'},
			{id: 'second-0210', time: '2021-10-31T02:10:00+01:00'},
			{id: 'at-0150', time: '2021-10-31T01:50:00+02:00'},
		];
		const result = applyPolicy(snaps, {hourly: 5}, {timeZone: 'Europe/Berlin'});
		expect(result.keep.map((s) => s.id)).toEqual(['second-0210', 'at-0150']);
		expect(result.remove.map((s) => s.id)).toEqual(['first-0230']);
	});

	it('computes keep-within in the local zone when the newest snapshot was recorded in it', () => {
		// Newest 2021-12-01 12:00 CET; two months earlier is 2021-10-01 12:00 CEST = 10:00 UTC.
		const snaps = [
			{id: 'newest', time: '2021-12-01T12:00:00+01:00'},
			{id: 'at-1030z', time: '2021-10-01T12:30:00+02:00'},
			{id: 'at-1000z', time: '2021-10-01T12:00:00+02:00'},
			{id: 'at-0930z', time: '2021-10-01T11:30:00+02:00'},
		];
		expect(applyPolicy(snaps, {within: d('2m')}, {timeZone: 'Europe/Berlin'}).keep.map((s) => s.id)).toEqual(['newest', 'at-1030z']);
		// With UTC as the local zone, +01:00 is a fixed zone: the cut-off is 12:00 +01:00 = 11:00 UTC.
		expect(applyPolicy(snaps, {within: d('2m')}, {timeZone: 'UTC'}).keep.map((s) => s.id)).toEqual(['newest']);
	});

	it('counts keep-within from the newest snapshot before now, when now is given', () => {
		const snaps = [{id: 'future', time: '2030-01-01T00:00:00Z'}, {id: 'recent', time: '2024-01-10T00:00:00Z'}, {id: 'old', time: '2024-01-01T00:00:00Z'}];
		const now = Date.parse('2024-06-01T00:00:00Z');
		expect(applyPolicy(snaps, {within: d('20d')}, {now}).keep.map((s) => s.id)).toEqual(['future', 'recent', 'old']);
		expect(applyPolicy(snaps, {within: d('5d')}, {now}).keep.map((s) => s.id)).toEqual(['future', 'recent']);
		// Without now, the snapshot in the future is the newest.
		expect(applyPolicy(snaps, {within: d('5d')}).keep.map((s) => s.id)).toEqual(['future']);
		// All in the future: everything is within.
		expect(applyPolicy(snaps, {within: d('1d')}, {now: Date.parse('2000-01-01T00:00:00Z')}).keep).toHaveLength(3);
	});

	it('names a snapshot time it cannot read, and refuses invalid policies', () => {
		expect(() => applyPolicy([{time: 'last Tuesday'}], {daily: 1})).toThrow(/invalid snapshot time "last Tuesday"/);
		expect(() => applyPolicy([s1], {daily: -3})).toThrow(/--keep-daily -3/);
	});
});
