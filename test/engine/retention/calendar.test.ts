import {describe, expect, it} from 'vitest';
import {
	civilFromDays, daysFromCivil, findTimeZone, fixedZone, isoWeekOf, LOCAL_ZONE, locationOf, parseRecordedTime, subtractCalendar, wallClockOf,
} from '../../../engine/retention/calendar.js';

const NS = 1_000_000_000n;
const zero = {years: 0, months: 0, days: 0, hours: 0};
/** ns of a UTC time given as ISO text. */
const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

describe('day numbers', () => {
	it('agree with Date.UTC for every day from 1899 to 2101', () => {
		for (let days = daysFromCivil(1899, 1, 1); days <= daysFromCivil(2101, 12, 31); days++) {
			const date = new Date(days * 86_400_000);
			expect(civilFromDays(days)).toEqual({year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate()});
		}
		expect(daysFromCivil(1970, 1, 1)).toBe(0);
	});

	it('normalise days outside the month (as Go\'s time.Date does)', () => {
		expect(civilFromDays(daysFromCivil(2023, 2, 31))).toEqual({year: 2023, month: 3, day: 3});
		expect(civilFromDays(daysFromCivil(2024, 3, 0))).toEqual({year: 2024, month: 2, day: 29});
	});
});

describe('ISO weeks', () => {
	it.each([
		// 2020 has 53 ISO weeks: Thursday 2020-12-31 is in week 53, and so are Friday to Sunday after it.
		[2020, 12, 31, 2020, 53],
		[2021, 1, 1, 2020, 53],
		[2021, 1, 3, 2020, 53],
		[2021, 1, 4, 2021, 1],
		// Monday 2019-12-30 belongs to the first week of 2020 (its Thursday is 2020-01-02).
		[2019, 12, 30, 2020, 1],
		[2019, 12, 29, 2019, 52],
		// Monday 2024-12-30 is in 2025-W01; Sunday 2023-12-31 in 2023-W52.
		[2024, 12, 30, 2025, 1],
		[2023, 12, 31, 2023, 52],
		[2024, 3, 4, 2024, 10],
		[2024, 3, 3, 2024, 9],
	])('%i-%i-%i is in %i week %i', (y, m, d, wy, w) => {
		expect(isoWeekOf(y, m, d)).toEqual({year: wy, week: w});
	});
});

describe('recorded times', () => {
	it('keep the offset they were written with', () => {
		const t = parseRecordedTime('2024-03-10T01:30:00.25+02:00');
		expect(t).toEqual({ns: at('2024-03-09T23:30:00.250Z'), offset: 7200, utc: false});
		expect(wallClockOf(t.ns, t.offset)).toEqual({year: 2024, month: 3, day: 10, hour: 1, minute: 30, second: 0});
		expect(parseRecordedTime('2024-03-09T23:30:00Z')).toEqual({ns: at('2024-03-09T23:30:00Z'), offset: 0, utc: true});
		expect(parseRecordedTime('2015-01-02T18:10:50.895208559-05:30').ns).toBe(at('2015-01-02T23:40:50Z') + 895_208_559n);
	});

	it('refuse text that is not RFC 3339 with an offset', () => {
		expect(() => parseRecordedTime('2024-03-10 01:30:00')).toThrow(/invalid snapshot time/);
	});
});

describe('time zones', () => {
	it('find offsets by IANA name, daylight saving included', () => {
		const berlin = findTimeZone('Europe/Berlin');
		expect(berlin.offsetAt(Date.parse('2021-07-01T00:00:00Z') / 1000)).toBe(7200);
		expect(berlin.offsetAt(Date.parse('2021-12-01T00:00:00Z') / 1000)).toBe(3600);
		// Summer time ends at 01:00 UTC on the last Sunday of October.
		expect(berlin.offsetAt(Date.parse('2021-10-31T00:59:59Z') / 1000)).toBe(7200);
		expect(berlin.offsetAt(Date.parse('2021-10-31T01:00:00Z') / 1000)).toBe(3600);
		expect(findTimeZone('America/St_Johns').offsetAt(Date.parse('2021-12-01T00:00:00Z') / 1000)).toBe(-(3 * 3600 + 1800));
		expect(() => findTimeZone('Mars/Olympus_Mons')).toThrow(/unknown time zone/);
	});

	it('the local zone follows the process (Date)', () => {
		const seconds = Date.parse('2021-07-01T12:00:00Z') / 1000;
		expect(LOCAL_ZONE.offsetAt(seconds)).toBe(-new Date(seconds * 1000).getTimezoneOffset() * 60);
	});

	it('put a time in the local zone only when the zone had its offset then, as Go does', () => {
		const berlin = findTimeZone('Europe/Berlin');
		expect(locationOf(parseRecordedTime('2021-07-01T12:00:00+02:00'), berlin)).toBe(berlin);
		expect(locationOf(parseRecordedTime('2021-07-01T12:00:00+01:00'), berlin).offsetAt(0)).toBe(3600);
		expect(locationOf(parseRecordedTime('2021-07-01T12:00:00Z'), findTimeZone('UTC')).offsetAt(0)).toBe(0);
	});
});

describe('subtracting calendar durations (Go AddDate, then hours)', () => {
	const berlin = findTimeZone('Europe/Berlin');

	it('counts months on the calendar and overflows short months forward', () => {
		// 2023-03-31 minus one month is "2023-02-31", which Go normalises to 2023-03-03.
		expect(subtractCalendar(at('2023-03-31T12:00:00Z'), fixedZone(0), {...zero, months: 1})).toBe(at('2023-03-03T12:00:00Z'));
		// In a leap year "2024-02-31" is 2024-03-02.
		expect(subtractCalendar(at('2024-03-31T12:00:00Z'), fixedZone(0), {...zero, months: 1})).toBe(at('2024-03-02T12:00:00Z'));
		expect(subtractCalendar(at('2024-02-29T12:00:00Z'), fixedZone(0), {...zero, years: 1})).toBe(at('2023-03-01T12:00:00Z'));
		expect(subtractCalendar(at('2024-01-15T00:00:00Z'), fixedZone(0), {years: 1, months: 2, days: 20, hours: 5})).toBe(at('2022-10-25T19:00:00Z'));
	});

	it('keeps the wall clock across a daylight saving change', () => {
		// 2021-12-01 12:00 CET minus 2 months is 2021-10-01 12:00 CEST, 10:00 UTC (not 11:00).
		expect(subtractCalendar(at('2021-12-01T11:00:00Z'), berlin, {...zero, months: 2})).toBe(at('2021-10-01T10:00:00Z'));
		// Days are calendar days: one day before 2021-03-28 12:00 CEST is 2021-03-27 12:00 CET, 23 hours earlier.
		expect(subtractCalendar(at('2021-03-28T10:00:00Z'), berlin, {...zero, days: 1})).toBe(at('2021-03-27T11:00:00Z'));
		// Hours are absolute.
		expect(subtractCalendar(at('2021-03-28T10:00:00Z'), berlin, {...zero, hours: 24})).toBe(at('2021-03-27T10:00:00Z'));
	});

	it('resolves a repeated wall time to the later (standard time) instant, as Go does', () => {
		// 2021-10-31 02:30 happens twice in Berlin (00:30 and 01:30 UTC).
		expect(subtractCalendar(at('2021-12-01T01:30:00Z'), berlin, {...zero, months: 1, days: 1})).toBe(at('2021-10-31T01:30:00Z'));
	});

	it('resolves a skipped wall time as Go does (02:30 that never happened becomes 03:30 summer time)', () => {
		expect(subtractCalendar(at('2021-04-28T00:30:00Z'), berlin, {...zero, months: 1})).toBe(at('2021-03-28T01:30:00Z'));
	});

	it('keeps nanoseconds', () => {
		expect(subtractCalendar(at('2021-01-10T00:00:00Z') + 123n, fixedZone(0), {...zero, days: 1})).toBe(at('2021-01-09T00:00:00Z') + 123n);
		expect(subtractCalendar(-NS / 2n, fixedZone(0), {...zero, hours: 1})).toBe(-3600n * NS - NS / 2n);
	});
});
