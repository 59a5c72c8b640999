/**
 * Timestamps as restic writes them: Go's RFC 3339 with nanoseconds
 * (`2006-01-02T15:04:05.999999999Z07:00`, trailing zeros of the fraction dropped),
 * in the local time zone. Internally a time is a bigint of nanoseconds since the epoch,
 * so file times survive a round trip without losing precision.
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

function pad(value: number, width = 2): string {
	return String(value).padStart(width, '0');
}

/** Formats nanoseconds since the epoch like Go's time.RFC3339Nano in the local zone (or UTC when `utc`). */
export function formatGoTime(ns: bigint, utc = false): string {
	let seconds = ns / NS_PER_S;
	let fraction = ns % NS_PER_S;
	if (fraction < 0n) {
		fraction += NS_PER_S;
		seconds -= 1n;
	}
	const ms = Number(seconds) * 1000;
	const offsetMinutes = utc ? 0 : -new Date(ms).getTimezoneOffset();
	const local = new Date(ms + offsetMinutes * 60_000);
	let text = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
	if (fraction !== 0n) text += '.' + fraction.toString().padStart(9, '0').replace(/0+$/, '');
	if (offsetMinutes === 0) return text + 'Z';
	const sign = offsetMinutes < 0 ? '-' : '+';
	const abs = Math.abs(offsetMinutes);
	return `${text}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const GO_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/** Whether two RFC 3339 times name the same instant; an unparsable time equals only the identical text. */
export function sameGoTime(a: string, b: string): boolean {
	if (a === b) return true;
	try {
		return parseGoTime(a) === parseGoTime(b);
	} catch {
		return false;
	}
}

/** Parses an RFC 3339 time (any fraction length, Z or an offset) into nanoseconds since the epoch. */
export function parseGoTime(text: string): bigint {
	const match = GO_TIME.exec(text);
	if (!match) throw new Error(`invalid time ${JSON.stringify(text)}: expected RFC 3339 like 2024-01-02T15:04:05Z`);
	const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
	let ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
	if (Number(year) < 100 && Number(year) >= 0) {
		const d = new Date(ms);
		d.setUTCFullYear(Number(year));
		ms = d.getTime();
	}
	if (zone !== 'Z' && zone !== 'z') {
		const sign = zone.startsWith('-') ? -1 : 1;
		const digits = zone.slice(1).replace(':', '');
		ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
	}
	return BigInt(ms) * NS_PER_MS + BigInt(fraction.padEnd(9, '0') || '0');
}

/** Converts nanoseconds since the epoch to a Date (millisecond precision). */
export function toDate(ns: bigint): Date {
	return new Date(Number(ns / NS_PER_MS));
}

/** The current time in nanoseconds since the epoch (microsecond precision). */
export function nowNs(): bigint {
	return BigInt(Date.now()) * NS_PER_MS + BigInt(Math.floor((performance.now() % 1) * 1000)) * 1000n;
}

/**
 * Parses a user-given local time `YYYY-MM-DD HH:MM:SS` (as `backup --time` takes it) into nanoseconds.
 * Returns undefined when the text does not have that shape or names an impossible date.
 */
export function parseLocalDateTime(text: string): bigint | undefined {
	const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
	if (!match) return undefined;
	const [y, mo, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
	const date = new Date(y, mo - 1, d, h, mi, s);
	if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d || date.getHours() !== h) return undefined;
	return BigInt(date.getTime()) * NS_PER_MS;
}
