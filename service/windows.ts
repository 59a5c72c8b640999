/**
 * Maintenance windows in Incus OS's system-update format: `{start_day_of_week?, start_hour,
 * start_minute, end_day_of_week?, end_hour, end_minute}`. Without days a window is daily; with
 * both days it is weekly. A window whose end is not after its start crosses midnight (daily) or
 * the end of the week (weekly). Times are wall-clock times in the system's time zone.
 * Pure: the time is always passed in.
 */

/** One window, with days as numbers (0 = Sunday … 6 = Saturday, as Go's time.Weekday). */
export interface MaintenanceWindow {
	readonly start_day_of_week?: number;
	readonly start_hour: number;
	readonly start_minute: number;
	readonly end_day_of_week?: number;
	readonly end_hour: number;
	readonly end_minute: number;
}

/** Whether a backup may start now, and the edges of the window around now. */
export interface WindowDescription {
	/** True inside a window, or when no window is configured (no restriction). */
	readonly open: boolean;
	/** When closed: the start of the next window. */
	readonly opensAt?: Date;
	/** When open inside a window: when it (and any window overlapping it) ends. */
	readonly closesAt?: Date;
}

export const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/**
 * Reads a day of the week: a name (`monday`, `Mon`, any case) or a number (0 or 7 = Sunday,
 * 1 = Monday … 6 = Saturday). Undefined when it is neither.
 */
export function parseDayOfWeek(value: unknown): number | undefined {
	if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 7 ? value % 7 : undefined;
	if (typeof value !== 'string') return undefined;
	const text = value.trim().toLowerCase();
	if (/^[0-7]$/.test(text)) return Number(text) % 7;
	if (text.length < 3) return undefined;
	const index = DAY_NAMES.findIndex((name) => name.startsWith(text));
	return index < 0 ? undefined : index;
}

/**
 * Checks a window's values; returns a problem as `[field, expected]` pairs (empty when valid).
 * Hours are 0–23 (an end of 24:00 is accepted for "until midnight"), minutes 0–59, and days are
 * given both or neither.
 */
export function checkWindow(window: MaintenanceWindow): Array<[keyof MaintenanceWindow | 'window', string]> {
	const problems: Array<[keyof MaintenanceWindow | 'window', string]> = [];
	const isWhole = (n: unknown, min: number, max: number) => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
	if (!isWhole(window.start_hour, 0, 23)) problems.push(['start_hour', 'a whole hour from 0 to 23']);
	if (!isWhole(window.start_minute, 0, 59)) problems.push(['start_minute', 'a whole minute from 0 to 59']);
	if (!isWhole(window.end_hour, 0, 24)) problems.push(['end_hour', 'a whole hour from 0 to 24']);
	if (!isWhole(window.end_minute, 0, 59) || (window.end_hour === 24 && window.end_minute !== 0)) problems.push(['end_minute', 'a whole minute from 0 to 59 (0 after end_hour 24)']);
	const hasStartDay = window.start_day_of_week !== undefined;
	const hasEndDay = window.end_day_of_week !== undefined;
	if (hasStartDay !== hasEndDay) problems.push([hasStartDay ? 'end_day_of_week' : 'start_day_of_week', 'both start_day_of_week and end_day_of_week (a weekly window) or neither (a daily window)']);
	if (problems.length === 0 && !hasStartDay && window.start_hour * 60 + window.start_minute === (window.end_hour % 24) * 60 + window.end_minute) {
		problems.push(['window', 'an end time different from the start time (a daily window from 02:00 to 02:00 would be empty; leave maintenance_windows out to allow any time)']);
	}
	return problems;
}

/** A local date (midnight) `days` after the local date of `base`, at hour:minute. */
function atLocal(base: Date, days: number, hour: number, minute: number): Date {
	return new Date(base.getFullYear(), base.getMonth(), base.getDate() + days, hour, minute, 0, 0);
}

/** The occurrences of a window that start within a week or so before or after `now`. */
function listOccurrences(window: MaintenanceWindow, now: Date): Array<{start: Date; end: Date}> {
	const startMin = window.start_hour * 60 + window.start_minute;
	const endMin = window.end_hour * 60 + window.end_minute;
	const result: Array<{start: Date; end: Date}> = [];
	if (window.start_day_of_week === undefined || window.end_day_of_week === undefined) {
		const length = endMin > startMin ? 0 : 1;
		for (let day = -1; day <= 1; day++) {
			result.push({start: atLocal(now, day, window.start_hour, window.start_minute), end: atLocal(now, day + length, window.end_hour, window.end_minute)});
		}
		return result;
	}
	let span = (window.end_day_of_week - window.start_day_of_week + 7) % 7;
	if (span === 0 && endMin <= startMin) span = 7;
	const toStart = (window.start_day_of_week - now.getDay() + 7) % 7;
	for (const week of [-14, -7, 0, 7]) {
		const first = toStart + week;
		result.push({start: atLocal(now, first, window.start_hour, window.start_minute), end: atLocal(now, first + span, window.end_hour, window.end_minute)});
	}
	return result;
}

/**
 * Tells whether `now` is inside one of the windows. No window at all means no restriction
 * (`open: true`, no edges). When open, `closesAt` is the end of the window around now, extended
 * through windows that overlap or touch it; when closed, `opensAt` is the next window's start.
 */
export function describeWindow(windows: readonly MaintenanceWindow[], now: Date): WindowDescription {
	if (windows.length === 0) return {open: true};
	const occurrences = windows.flatMap((window) => listOccurrences(window, now)).sort((a, b) => a.start.getTime() - b.start.getTime());
	const t = now.getTime();
	const around = occurrences.filter((o) => o.start.getTime() <= t && t < o.end.getTime());
	if (around.length === 0) {
		const next = occurrences.find((o) => o.start.getTime() > t);
		return next === undefined ? {open: false} : {open: false, opensAt: next.start};
	}
	let closes = Math.max(...around.map((o) => o.end.getTime()));
	for (let grew = true; grew; ) {
		grew = false;
		for (const o of occurrences) {
			if (o.start.getTime() <= closes && o.end.getTime() > closes) {
				closes = o.end.getTime();
				grew = true;
			}
		}
	}
	return {open: true, closesAt: new Date(closes)};
}

/** A window as people read it: `daily 22:00-02:00` or `saturday 22:00 - monday 02:00`. */
export function formatWindow(window: MaintenanceWindow): string {
	const time = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
	if (window.start_day_of_week === undefined || window.end_day_of_week === undefined) return `daily ${time(window.start_hour, window.start_minute)}-${time(window.end_hour, window.end_minute)}`;
	return `${DAY_NAMES[window.start_day_of_week]} ${time(window.start_hour, window.start_minute)} - ${DAY_NAMES[window.end_day_of_week]} ${time(window.end_hour, window.end_minute)}`;
}
