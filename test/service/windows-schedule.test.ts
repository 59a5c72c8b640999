/**
 * Maintenance windows (Incus OS's system-update format) and schedules, as pure functions with the
 * time passed in. Times are built with local-time constructors: windows and cron use the
 * system's time zone, so the expectations hold in any zone.
 */
import {describe, expect, it} from 'vitest';
import {checkWindow, describeWindow, formatWindow, parseDayOfWeek, type MaintenanceWindow} from '../../service/windows.js';
import {computeNextRun, isDue, parseInterval, parseSchedule, ScheduleSyntaxError} from '../../service/schedule.js';

/** 2026-12-05 is a Saturday; `at(dayOffset, h, m)` is a local time that many days later. */
function at(days: number, hour: number, minute = 0): Date {
	return new Date(2026, 11, 5 + days, hour, minute, 0, 0);
}
const SAT = 0;
const SUN = 1;
const MON = 2;
const WED = 4;

const nightly: MaintenanceWindow = {start_hour: 22, start_minute: 0, end_hour: 6, end_minute: 0};
const earlyMorning: MaintenanceWindow = {start_hour: 1, start_minute: 30, end_hour: 3, end_minute: 15};
const weekend: MaintenanceWindow = {start_day_of_week: 6, start_hour: 22, start_minute: 0, end_day_of_week: 1, end_hour: 2, end_minute: 0};
const wednesday: MaintenanceWindow = {start_day_of_week: 3, start_hour: 10, start_minute: 0, end_day_of_week: 3, end_hour: 12, end_minute: 0};

describe('maintenance windows', () => {
	it('has no restriction without windows', () => {
		expect(describeWindow([], at(SAT, 12))).toEqual({open: true});
	});

	it('daily, within one day: open inside, and the next start when outside', () => {
		expect(describeWindow([earlyMorning], at(SAT, 2))).toEqual({open: true, closesAt: at(SAT, 3, 15)});
		expect(describeWindow([earlyMorning], at(SAT, 1, 29))).toEqual({open: false, opensAt: at(SAT, 1, 30)});
		expect(describeWindow([earlyMorning], at(SAT, 3, 15))).toEqual({open: false, opensAt: at(SUN, 1, 30)});
		expect(describeWindow([earlyMorning], at(SAT, 23))).toEqual({open: false, opensAt: at(SUN, 1, 30)});
	});

	it('daily, crossing midnight: open on both sides of midnight', () => {
		expect(describeWindow([nightly], at(SAT, 23))).toEqual({open: true, closesAt: at(SUN, 6)});
		expect(describeWindow([nightly], at(SAT, 0, 30))).toEqual({open: true, closesAt: at(SAT, 6)});
		expect(describeWindow([nightly], at(SAT, 5, 59))).toEqual({open: true, closesAt: at(SAT, 6)});
		expect(describeWindow([nightly], at(SAT, 6))).toEqual({open: false, opensAt: at(SAT, 22)});
		expect(describeWindow([nightly], at(SAT, 12))).toEqual({open: false, opensAt: at(SAT, 22)});
	});

	it('weekly, across the end of the week (Saturday 22:00 to Monday 02:00)', () => {
		expect(describeWindow([weekend], at(SAT, 21, 59))).toEqual({open: false, opensAt: at(SAT, 22)});
		expect(describeWindow([weekend], at(SAT, 22))).toEqual({open: true, closesAt: at(MON, 2)});
		expect(describeWindow([weekend], at(SUN, 12))).toEqual({open: true, closesAt: at(MON, 2)});
		expect(describeWindow([weekend], at(MON, 1, 59))).toEqual({open: true, closesAt: at(MON, 2)});
		expect(describeWindow([weekend], at(MON, 2))).toEqual({open: false, opensAt: at(SAT + 7, 22)});
		expect(describeWindow([weekend], at(WED, 12))).toEqual({open: false, opensAt: at(SAT + 7, 22)});
	});

	it('weekly, within one day, and a week-long window whose end is before its start', () => {
		expect(describeWindow([wednesday], at(WED, 11))).toEqual({open: true, closesAt: at(WED, 12)});
		expect(describeWindow([wednesday], at(WED, 12))).toEqual({open: false, opensAt: at(WED + 7, 10)});
		expect(describeWindow([wednesday], at(SAT, 12))).toEqual({open: false, opensAt: at(WED, 10)});
		const almostAlways: MaintenanceWindow = {start_day_of_week: 0, start_hour: 3, start_minute: 0, end_day_of_week: 0, end_hour: 2, end_minute: 0};
		expect(describeWindow([almostAlways], at(SAT, 12))).toEqual({open: true, closesAt: at(SUN, 2)});
		expect(describeWindow([almostAlways], at(SUN, 2, 30))).toEqual({open: false, opensAt: at(SUN, 3)});
	});

	it('joins overlapping windows for the closing time and picks the earliest opening', () => {
		expect(describeWindow([nightly, earlyMorning, weekend], at(SUN, 23))).toEqual({open: true, closesAt: at(MON, 6)});
		expect(describeWindow([wednesday, earlyMorning], at(SAT, 12))).toEqual({open: false, opensAt: at(SUN, 1, 30)});
	});

	it('checks values and names the field', () => {
		expect(checkWindow(nightly)).toEqual([]);
		expect(checkWindow({...nightly, start_hour: 25}).map(([field]) => field)).toEqual(['start_hour']);
		expect(checkWindow({...nightly, end_minute: 60}).map(([field]) => field)).toEqual(['end_minute']);
		expect(checkWindow({...nightly, start_day_of_week: 1}).map(([field]) => field)).toEqual(['end_day_of_week']);
		expect(checkWindow({start_hour: 2, start_minute: 0, end_hour: 2, end_minute: 0}).map(([field]) => field)).toEqual(['window']);
	});

	it('reads days by name or number (0 and 7 are Sunday) and formats windows', () => {
		expect([parseDayOfWeek('monday'), parseDayOfWeek('Sat'), parseDayOfWeek(0), parseDayOfWeek(7), parseDayOfWeek('3')]).toEqual([1, 6, 0, 0, 3]);
		expect([parseDayOfWeek('mo'), parseDayOfWeek('funday'), parseDayOfWeek(8), parseDayOfWeek(1.5)]).toEqual([undefined, undefined, undefined, undefined]);
		expect(formatWindow(nightly)).toBe('daily 22:00-06:00');
		expect(formatWindow(weekend)).toBe('saturday 22:00 - monday 02:00');
	});
});

describe('schedules', () => {
	it('parses @every durations, nicknames and cron expressions', () => {
		expect(parseSchedule('@every 6h')).toEqual({kind: 'every', text: '@every 6h', ms: 6 * 3_600_000});
		expect(parseInterval('1h30m')).toBe(5_400_000);
		expect(parseInterval('2s')).toBe(2000);
		expect(parseSchedule('@daily')).toMatchObject({kind: 'cron', expression: '0 0 * * *'});
		expect(parseSchedule('30 2 * * 1-5')).toMatchObject({kind: 'cron', expression: '30 2 * * 1-5'});
		expect(parseSchedule('weekly', {allowPeriodWords: true})).toMatchObject({kind: 'cron', expression: '0 0 * * 0'});
		expect(() => parseSchedule('weekly')).toThrow(ScheduleSyntaxError);
	});

	it('refuses bad schedules saying what is expected', () => {
		for (const text of ['@every', '@every 0s', '@every 6 hours', '@sometimes', '61 * * * *', '* * *', '']) {
			expect(() => parseSchedule(text), text).toThrow(ScheduleSyntaxError);
		}
		expect(() => parseSchedule('@sometimes')).toThrow(/@every 6h/);
	});

	it('is due at once without a last run', () => {
		const now = at(SAT, 12);
		expect(computeNextRun('@every 6h', null, now)).toEqual(now);
		expect(isDue('@daily', undefined, now)).toBe(true);
	});

	it('@every counts from the last run', () => {
		expect(computeNextRun('@every 6h', at(SAT, 1), at(SAT, 2))).toEqual(at(SAT, 7));
		expect(isDue('@every 6h', at(SAT, 1), at(SAT, 6, 59))).toBe(false);
		expect(isDue('@every 6h', at(SAT, 1), at(SAT, 7))).toBe(true);
	});

	it('cron takes the first time after the last run; a missed time is due at once', () => {
		expect(computeNextRun('@hourly', at(SAT, 10, 15), at(SAT, 10, 20))).toEqual(at(SAT, 11));
		expect(computeNextRun('@daily', at(SAT, 10), at(SAT, 11))).toEqual(at(SUN, 0));
		expect(computeNextRun('30 2 * * *', at(SAT, 2, 30), at(SAT, 3))).toEqual(at(SUN, 2, 30));
		expect(isDue('30 2 * * *', at(SAT, 2, 30), at(SUN, 2, 0))).toBe(false);
		expect(isDue('30 2 * * *', at(SAT, 2, 30), at(SUN, 2, 30))).toBe(true);
		// Off for three days: due at once, not at the next 02:30.
		expect(isDue('30 2 * * *', at(SAT, 2, 30), at(SAT + 3, 12))).toBe(true);
	});
});
