/**
 * When the service's jobs are due: `@every 6h`, `@hourly`, `@daily`, … or a five- or six-field
 * cron expression (parsed by croner). Pure: the time is always passed in. Cron expressions use
 * the system's time zone, as the maintenance windows do.
 */
import {Cron} from 'croner';

/** A parsed schedule. */
export type Schedule =
	/** A fixed interval after the last run. */
	| {readonly kind: 'every'; readonly text: string; readonly ms: number}
	/** A cron expression (nicknames such as `@daily` are turned into one). */
	| {readonly kind: 'cron'; readonly text: string; readonly expression: string};

/** A schedule that cannot be used; the message says what is expected. */
export class ScheduleSyntaxError extends Error {
	constructor(message: string) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'ScheduleSyntaxError', enumerable: false});
	}
}

const NICKNAMES: Readonly<Record<string, string>> = {
	'@yearly': '0 0 1 1 *',
	'@annually': '0 0 1 1 *',
	'@monthly': '0 0 1 * *',
	'@weekly': '0 0 * * 0',
	'@daily': '0 0 * * *',
	'@midnight': '0 0 * * *',
	'@hourly': '0 * * * *',
};

/** Words accepted without `@` where a period is expected (`prune: weekly`). */
const PERIOD_WORDS = new Set(['yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly']);

const UNIT_MS: Readonly<Record<string, number>> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000};

/** What a schedule may look like, for messages. */
export const SCHEDULE_EXPECTED = '"@every 6h" (units ms, s, m, h, d, w; e.g. 1h30m), "@hourly", "@daily", "@weekly", "@monthly", "@yearly", or a cron expression such as "30 2 * * *"';

/**
 * Parses a Go-style duration such as `6h`, `1h30m`, `90s` or `2d` into milliseconds.
 * Throws ScheduleSyntaxError for anything else or for a zero duration.
 */
export function parseInterval(text: string): number {
	const trimmed = text.trim();
	if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(trimmed)) throw new ScheduleSyntaxError(`"${text}" is not a duration: write a number and a unit (ms, s, m, h, d, w), e.g. 6h, 1h30m, 90s`);
	let ms = 0;
	for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) ms += Number(match[1]) * UNIT_MS[match[2]!]!;
	if (!(ms >= 1000)) throw new ScheduleSyntaxError(`"${text}" is too short: the interval must be at least 1s`);
	return Math.round(ms);
}

/**
 * Parses a schedule. `allowPeriodWords` also accepts `daily`, `weekly`, … without the `@`
 * (for `prune` and `check`). Throws ScheduleSyntaxError saying what is expected.
 */
export function parseSchedule(text: string, options: {allowPeriodWords?: boolean} = {}): Schedule {
	const trimmed = text.trim().replace(/\s+/g, ' ');
	if (trimmed === '') throw new ScheduleSyntaxError(`the schedule is empty: use ${SCHEDULE_EXPECTED}`);
	const lower = trimmed.toLowerCase();
	if (lower.startsWith('@every')) {
		const rest = trimmed.slice('@every'.length).trim();
		if (rest === '') throw new ScheduleSyntaxError('"@every" needs a duration, e.g. "@every 6h"');
		return {kind: 'every', text: trimmed, ms: parseInterval(rest)};
	}
	const word = options.allowPeriodWords && PERIOD_WORDS.has(lower) ? `@${lower}` : lower;
	const nickname = NICKNAMES[word];
	if (nickname !== undefined) return {kind: 'cron', text: trimmed, expression: nickname};
	if (trimmed.startsWith('@')) throw new ScheduleSyntaxError(`unknown schedule "${trimmed}": use ${SCHEDULE_EXPECTED}`);
	const fields = trimmed.split(' ').length;
	if (fields < 5 || fields > 6) throw new ScheduleSyntaxError(`"${trimmed}" is not a cron expression (it has ${fields} field${fields === 1 ? '' : 's'}, a cron expression has 5: minute hour day-of-month month day-of-week); use ${SCHEDULE_EXPECTED}`);
	try {
		// Paused: nothing is scheduled, the object only computes times.
		new Cron(trimmed, {paused: true});
	} catch (error) {
		throw new ScheduleSyntaxError(`"${trimmed}" is not a valid cron expression (${error instanceof Error ? error.message : String(error)}); use ${SCHEDULE_EXPECTED}`);
	}
	return {kind: 'cron', text: trimmed, expression: trimmed};
}

/** The first time after `after` that a cron expression names (system time zone). */
export function findNextCronTime(expression: string, after: Date): Date | undefined {
	return new Cron(expression, {paused: true}).nextRun(after) ?? undefined;
}

/**
 * When the job is due next.
 *
 * - With no last run, it is due now (`now`): a service that has never backed up should do so at once.
 * - `@every D`: the last run plus D.
 * - cron: the first time the expression names after the last run. A time already past (a run
 *   missed while the machine was off or the window closed) makes the job due at once.
 *
 * The result may be earlier than or equal to `now`: the job is then due.
 */
export function computeNextRun(schedule: Schedule | string, lastRun: Date | string | null | undefined, now: Date): Date {
	const parsed = typeof schedule === 'string' ? parseSchedule(schedule, {allowPeriodWords: true}) : schedule;
	if (lastRun === null || lastRun === undefined) return new Date(now.getTime());
	const last = typeof lastRun === 'string' ? new Date(lastRun) : lastRun;
	if (Number.isNaN(last.getTime())) return new Date(now.getTime());
	if (parsed.kind === 'every') return new Date(last.getTime() + parsed.ms);
	return findNextCronTime(parsed.expression, last) ?? new Date(8.64e15);
}

/** True when the job is due at `now` (see {@link computeNextRun}). */
export function isDue(schedule: Schedule | string, lastRun: Date | string | null | undefined, now: Date): boolean {
	return computeNextRun(schedule, lastRun, now).getTime() <= now.getTime();
}
