/**
 * File times from `lstat` as tree nodes write them, fast: the same text as
 * {@link formatGoTime} (Go's RFC 3339 with nanoseconds in the local zone), without a Date, a
 * time-zone look-up and string padding for every time. A backup formats three times per entry,
 * and an unchanged tree is mostly this and `lstat`.
 *
 * The zone's offset is looked up once per UTC hour and used only when it is the same at the
 * hour's first and last second (no zone changes its offset twice within an hour) and a whole
 * number of minutes; the calendar date is worked out once per local day. Anything else (before
 * 1970, after 9999, an hour with a change of offset, offsets in seconds of old local mean times)
 * goes to {@link formatGoTime} itself.
 */
import {formatGoTime} from '../format/time.js';

const NS_PER_S = 1_000_000_000n;
/** 10000-01-01T00:00:00Z in nanoseconds: later years have more than four digits. */
const LAST_NS = 253_402_300_800n * NS_PER_S;
/** Entries kept in each cache before it starts again. */
const CACHE_LIMIT = 4096;

const TWO_DIGITS = Array.from({length: 60}, (_, i) => String(i).padStart(2, '0'));

/** Offsets (seconds east of UTC) of the local zone by UTC hour; NaN: no single whole-minute offset. */
const offsets = new Map<number, number>();
/** `YYYY-MM-DDT` by local day number. */
const days = new Map<number, string>();
/** The zone suffix (`Z`, `+02:00`) by offset in seconds. */
const zones = new Map<number, string>();

function findHourOffset(hour: number): number {
	let offset = offsets.get(hour);
	if (offset !== undefined) return offset;
	const first = -new Date(hour * 3_600_000).getTimezoneOffset();
	const last = -new Date(hour * 3_600_000 + 3_599_000).getTimezoneOffset();
	offset = first === last && Number.isInteger(first) ? first * 60 : Number.NaN;
	if (offsets.size >= CACHE_LIMIT) offsets.clear();
	offsets.set(hour, offset);
	return offset;
}

function findDayText(day: number): string {
	let text = days.get(day);
	if (text !== undefined) return text;
	const date = new Date(day * 86_400_000);
	text = `${String(date.getUTCFullYear()).padStart(4, '0')}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]}T`;
	if (days.size >= CACHE_LIMIT) days.clear();
	days.set(day, text);
	return text;
}

function findZoneText(offsetSeconds: number): string {
	let text = zones.get(offsetSeconds);
	if (text !== undefined) return text;
	const minutes = offsetSeconds / 60;
	const abs = Math.abs(minutes);
	text = minutes === 0 ? 'Z' : `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
	zones.set(offsetSeconds, text);
	return text;
}

/** The nanoseconds of a second as Go writes them: 9 digits, trailing zeros dropped. */
function formatFraction(fraction: number): string {
	let digits = 9;
	while (fraction % 10 === 0) {
		fraction /= 10;
		digits--;
	}
	return '.' + String(fraction).padStart(digits, '0');
}

/**
 * Forgets the cached offsets and dates. V8 reads the time zone again when process.env.TZ is
 * assigned; each backup starts with this, so that it formats with the zone V8 uses then.
 */
export function resetStatTimes(): void {
	offsets.clear();
	days.clear();
}

/** Formats nanoseconds since the epoch exactly as `formatGoTime(ns)` does (local zone). */
export function formatStatTime(ns: bigint): string {
	if (ns < 0n || ns >= LAST_NS) return formatGoTime(ns);
	const seconds = Number(ns / NS_PER_S);
	const fraction = Number(ns % NS_PER_S);
	const offset = findHourOffset(Math.floor(seconds / 3600));
	if (Number.isNaN(offset)) return formatGoTime(ns);
	const local = seconds + offset;
	const day = Math.floor(local / 86_400);
	const secondOfDay = local - day * 86_400;
	let text = findDayText(day) + TWO_DIGITS[Math.floor(secondOfDay / 3600)] + ':' + TWO_DIGITS[Math.floor(secondOfDay / 60) % 60] + ':' + TWO_DIGITS[secondOfDay % 60];
	if (fraction !== 0) text += formatFraction(fraction);
	return text + findZoneText(offset);
}
