/**
 * The calendar arithmetic retention needs, done the way restic (Go's `time` package) does it:
 * snapshot times keep the UTC offset they were written with, buckets use that wall clock,
 * ISO weeks, and Go's `AddDate` in a time zone (with its rules for wall times that a daylight
 * saving change skips or repeats). Pure: no clock, no I/O.
 */

const NS_PER_S = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400;

/** A snapshot time as written: the instant and the UTC offset it was recorded in. */
export interface RecordedTime {
	/** Nanoseconds since the Unix epoch. */
	readonly ns: bigint;
	/** The recorded UTC offset in seconds (east positive); 0 for `Z`. */
	readonly offset: number;
	/** True when the time was written with `Z` (Go then puts it in UTC, not in the local zone). */
	readonly utc: boolean;
}

/** The wall-clock fields of a time in some offset. */
export interface WallClock {
	year: number;
	/** 1 to 12. */
	month: number;
	/** 1 to 31. */
	day: number;
	hour: number;
	minute: number;
	second: number;
}

/**
 * A time zone: tells the UTC offset in effect at an instant. Implementations must be pure
 * functions of the instant.
 */
export interface TimeZone {
	/** A name for messages (an IANA name, or `local`). */
	readonly name: string;
	/** The UTC offset in seconds (east positive) in effect at `unixSeconds`. */
	offsetAt(unixSeconds: number): number;
}

const RFC3339 = /^(-?\d{4,})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 snapshot time (as restic and cairn write them) keeping its offset.
 * Throws an Error naming the text when it is not one.
 */
export function parseRecordedTime(text: string): RecordedTime {
	const match = RFC3339.exec(text);
	if (!match) throw new Error(`invalid snapshot time ${JSON.stringify(text)}: expected RFC 3339 like 2024-01-02T15:04:05+01:00`);
	const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
	let offset = 0;
	const utc = zone === 'Z' || zone === 'z';
	if (!utc) {
		const sign = zone!.startsWith('-') ? -1 : 1;
		offset = sign * (Number(zone!.slice(1, 3)) * 3600 + Number(zone!.slice(4, 6)) * 60);
	}
	const wall = daysFromCivil(Number(year), Number(month), Number(day)) * SECONDS_PER_DAY + Number(hour) * 3600 + Number(minute) * 60 + Number(second);
	const ns = BigInt(wall - offset) * NS_PER_S + BigInt(fraction.padEnd(9, '0') || '0');
	return {ns, offset, utc};
}

/** Days since 1970-01-01 of a proleptic Gregorian date (any month and day, also out of range). */
export function daysFromCivil(year: number, month: number, day: number): number {
	const y = month <= 2 ? year - 1 : year;
	const era = Math.floor(y / 400);
	const yoe = y - era * 400;
	const mp = (month + 9) % 12;
	const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
	const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
	return era * 146_097 + doe - 719_468;
}

/** The date of a day number (days since 1970-01-01). */
export function civilFromDays(days: number): {year: number; month: number; day: number} {
	const z = days + 719_468;
	const era = Math.floor(z / 146_097);
	const doe = z - era * 146_097;
	const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
	const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
	const mp = Math.floor((5 * doy + 2) / 153);
	const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
	const month = mp < 10 ? mp + 3 : mp - 9;
	return {year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

function floorDivNs(ns: bigint): number {
	let seconds = ns / NS_PER_S;
	if (ns % NS_PER_S < 0n) seconds -= 1n;
	return Number(seconds);
}

/** The wall clock of an instant (ns since the epoch) in a fixed offset (seconds). */
export function wallClockOf(ns: bigint, offset: number): WallClock {
	const local = floorDivNs(ns) + offset;
	const days = Math.floor(local / SECONDS_PER_DAY);
	const rest = local - days * SECONDS_PER_DAY;
	return {...civilFromDays(days), hour: Math.floor(rest / 3600), minute: Math.floor((rest % 3600) / 60), second: rest % 60};
}

/** The ISO 8601 week (year and week number) of a date, as Go's `Time.ISOWeek`. */
export function isoWeekOf(year: number, month: number, day: number): {year: number; week: number} {
	const days = daysFromCivil(year, month, day);
	const mondayBased = (((days + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday
	const thursday = days - mondayBased + 3;
	const isoYear = civilFromDays(thursday).year;
	return {year: isoYear, week: Math.floor((thursday - daysFromCivil(isoYear, 1, 1)) / 7) + 1};
}

/** The process's local time zone (as Node's Date sees it, so `TZ` is honoured). */
export const LOCAL_ZONE: TimeZone = {
	name: 'local',
	offsetAt(unixSeconds: number): number {
		return -new Date(unixSeconds * 1000).getTimezoneOffset() * 60;
	},
};

const zoneCache = new Map<string, TimeZone>();

/**
 * A time zone by IANA name (`Europe/Berlin`), `UTC`, or `local` for the process's zone.
 * Throws an Error naming the zone when it is unknown.
 */
export function findTimeZone(name: string): TimeZone {
	if (name === 'local') return LOCAL_ZONE;
	const cached = zoneCache.get(name);
	if (cached) return cached;
	let format: Intl.DateTimeFormat;
	try {
		format = new Intl.DateTimeFormat('en-US', {
			timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
		});
	} catch (error) {
		throw new Error(`unknown time zone ${JSON.stringify(name)}: give an IANA name such as Europe/Berlin or UTC`, {cause: error});
	}
	const zone: TimeZone = {
		name,
		offsetAt(unixSeconds: number): number {
			const parts: Record<string, string> = {};
			for (const part of format.formatToParts(new Date(unixSeconds * 1000))) parts[part.type] = part.value;
			let year = Number(parts.year);
			if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
			const wall = daysFromCivil(year, Number(parts.month), Number(parts.day)) * SECONDS_PER_DAY + Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
			return wall - unixSeconds;
		},
	};
	zoneCache.set(name, zone);
	return zone;
}

/**
 * Where Go puts a parsed time: `Z` times in UTC; a numeric offset in the local zone when that zone
 * had exactly this offset at that instant, otherwise in a fixed zone of that offset.
 * Returns the zone to do calendar arithmetic in.
 */
export function locationOf(time: RecordedTime, local: TimeZone): TimeZone {
	if (time.utc) return fixedZone(0);
	if (local.offsetAt(floorDivNs(time.ns)) === time.offset) return local;
	return fixedZone(time.offset);
}

/** A zone with one fixed offset (seconds east of UTC). */
export function fixedZone(offset: number): TimeZone {
	return {name: `UTC${offset < 0 ? '-' : '+'}${Math.abs(offset) / 3600}`, offsetAt: () => offset};
}

/**
 * Subtracts a calendar duration from an instant as restic does for keep-within:
 * Go's `t.AddDate(-years, -months, -days)` in `zone` (month and day overflow normalised, a wall
 * time skipped or repeated by a daylight saving change resolved as Go resolves it), then
 * `Add(-hours)` in absolute time. Returns nanoseconds since the epoch.
 */
export function subtractCalendar(ns: bigint, zone: TimeZone, duration: {years: number; months: number; days: number; hours: number}): bigint {
	const seconds = floorDivNs(ns);
	const fraction = ns - BigInt(seconds) * NS_PER_S;
	const wall = wallClockOf(ns, zone.offsetAt(seconds));
	const monthIndex = wall.month - 1 - duration.months;
	const year = wall.year - duration.years + Math.floor(monthIndex / 12);
	const month = ((monthIndex % 12) + 12) % 12 + 1;
	const days = daysFromCivil(year, month, 1) + wall.day - 1 - duration.days;
	const unixLocal = days * SECONDS_PER_DAY + wall.hour * 3600 + wall.minute * 60 + wall.second;
	// Go's Date: look up the offset at the wall time read as UTC, then at the instant that gives.
	const offset = zone.offsetAt(unixLocal - zone.offsetAt(unixLocal));
	return BigInt(unixLocal - offset) * NS_PER_S + fraction - BigInt(duration.hours) * 3600n * NS_PER_S;
}
