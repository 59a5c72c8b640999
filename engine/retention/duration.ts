/**
 * Calendar durations for keep-within policies: years, months, days and hours, written like
 * restic's `2y5m7d3h`.
 */

/** A calendar duration. All fields are whole numbers of at least 0. */
export interface RetentionDuration {
	readonly years: number;
	readonly months: number;
	readonly days: number;
	readonly hours: number;
}

const UNITS: Record<string, keyof RetentionDuration> = {y: 'years', m: 'months', d: 'days', h: 'hours'};

/** Thrown for a duration that cannot be read; the message says what is wrong and shows the syntax. */
export class DurationSyntaxError extends Error {
	constructor(message: string) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'DurationSyntaxError', enumerable: false});
	}
}

/**
 * Parses `1y`, `30d`, `1y2m`, `2y5m7d3h` (units y, m, d, h, each at most once, in any order).
 * `m` is months; there are no minutes. Throws DurationSyntaxError for anything else, including
 * negative numbers and an empty text.
 */
export function parseRetentionDuration(text: string): RetentionDuration {
	const trimmed = text.trim();
	const help = 'write a number followed by a unit, y (years), m (months), d (days) or h (hours), such as 30d, 1y2m or 2y5m7d3h';
	if (trimmed === '') throw new DurationSyntaxError(`empty duration: ${help}`);
	const result = {years: 0, months: 0, days: 0, hours: 0};
	const seen = new Set<string>();
	const pattern = /(\d+)([a-zA-Z]?)/y;
	let position = 0;
	while (position < trimmed.length) {
		pattern.lastIndex = position;
		const match = pattern.exec(trimmed);
		if (!match) throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: unexpected ${JSON.stringify(trimmed.slice(position))}; ${help}`);
		const [whole, digits, unit] = match;
		if (!unit) throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: no unit after ${digits}; ${help}`);
		const field = UNITS[unit];
		if (!field) throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: unknown unit ${JSON.stringify(unit)}; ${help}`);
		if (seen.has(unit)) throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: the unit ${unit} appears twice; ${help}`);
		seen.add(unit);
		const value = Number(digits);
		if (!Number.isSafeInteger(value) || value > 1_000_000) throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: ${digits} is too large`);
		result[field] = value;
		position += whole!.length;
	}
	return result;
}

/** Formats a duration as restic does: `1y2m`, `30d`, zero fields left out. */
export function formatRetentionDuration(duration: RetentionDuration): string {
	let text = '';
	if (duration.years) text += `${duration.years}y`;
	if (duration.months) text += `${duration.months}m`;
	if (duration.days) text += `${duration.days}d`;
	if (duration.hours) text += `${duration.hours}h`;
	return text;
}

/** True when every field is 0 (the duration keeps nothing). */
export function isZeroDuration(duration: RetentionDuration | undefined): boolean {
	return !duration || (duration.years === 0 && duration.months === 0 && duration.days === 0 && duration.hours === 0);
}
