/**
 * Retention policies: which snapshots to keep. The field names are Kopia's (`keep-latest`,
 * `keep-annual`); restic's names are accepted as aliases. Parsing and describing policies lives
 * here so the CLI, the TUI and saved settings share one vocabulary.
 */
import {DurationSyntaxError, formatRetentionDuration, isZeroDuration, parseRetentionDuration, type RetentionDuration} from './duration.js';

/** A count of snapshots to keep: a whole number of at least 0, or -1 for no limit. */
export type KeepCount = number;

/** The count fields of a policy, in the order restic evaluates them. */
export const COUNT_FIELDS = ['latest', 'hourly', 'daily', 'weekly', 'monthly', 'annual'] as const;
/** The keep-within-* fields of a policy. */
export const WITHIN_FIELDS = ['withinHourly', 'withinDaily', 'withinWeekly', 'withinMonthly', 'withinAnnual'] as const;

/** A count field name. */
export type CountField = typeof COUNT_FIELDS[number];
/** A keep-within-* field name. */
export type WithinField = typeof WITHIN_FIELDS[number];

/**
 * A retention policy. Every field is optional; a policy with no field set keeps everything and
 * must not be applied (see {@link isEmptyPolicy}).
 *
 * - `latest` … `annual`: keep the newest snapshot of each of the last N hours, days, ISO weeks,
 *   months or years that have snapshots (`latest` keeps the last N snapshots); -1 means no limit.
 * - `within`: keep every snapshot younger than the duration, counted back from the newest snapshot.
 * - `withinHourly` … `withinAnnual`: keep the newest snapshot of each hour, day, … within the duration.
 * - `tags`: keep every snapshot that has all tags of at least one of the lists.
 */
export interface RetentionPolicy {
	latest?: KeepCount;
	hourly?: KeepCount;
	daily?: KeepCount;
	weekly?: KeepCount;
	monthly?: KeepCount;
	annual?: KeepCount;
	within?: RetentionDuration;
	withinHourly?: RetentionDuration;
	withinDaily?: RetentionDuration;
	withinWeekly?: RetentionDuration;
	withinMonthly?: RetentionDuration;
	withinAnnual?: RetentionDuration;
	tags?: string[][];
}

/** Thrown for a policy option that cannot be used; the message names the option and the fix. */
export class PolicyError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'PolicyError', enumerable: false});
	}
}

/** The option names (as on the command line, without dashes) of each field: the first is the main name. */
export const POLICY_OPTION_NAMES: Record<CountField | WithinField | 'within' | 'tags', readonly string[]> = {
	latest: ['keep-latest', 'keep-last'],
	hourly: ['keep-hourly'],
	daily: ['keep-daily'],
	weekly: ['keep-weekly'],
	monthly: ['keep-monthly'],
	annual: ['keep-annual', 'keep-yearly'],
	within: ['keep-within'],
	withinHourly: ['keep-within-hourly'],
	withinDaily: ['keep-within-daily'],
	withinWeekly: ['keep-within-weekly'],
	withinMonthly: ['keep-within-monthly'],
	withinAnnual: ['keep-within-annual', 'keep-within-yearly'],
	tags: ['keep-tag'],
};

/** Finds the policy field of an option name such as `keep-last` or `--keep-yearly`; undefined when it is none. */
export function findPolicyField(option: string): keyof RetentionPolicy | undefined {
	const name = option.replace(/^--/, '');
	for (const [field, names] of Object.entries(POLICY_OPTION_NAMES)) {
		if (names.includes(name)) return field as keyof RetentionPolicy;
	}
	return undefined;
}

/**
 * Parses a keep count: a whole number of at least 0, or `-1`, `unlimited` or `all` for no limit.
 * Throws PolicyError naming the option.
 */
export function parseKeepCount(text: string, option = 'keep count'): KeepCount {
	const trimmed = text.trim();
	if (trimmed === 'unlimited' || trimmed === 'all' || trimmed === '-1') return -1;
	if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
		throw new PolicyError(`invalid --${option} ${JSON.stringify(text)}: give a whole number of snapshots (0 or more), or "unlimited" to keep all of them`);
	}
	return Number(trimmed);
}

/** Parses a keep-within duration, naming the option in the error. */
export function parseWithinDuration(text: string, option = 'keep-within'): RetentionDuration {
	try {
		return parseRetentionDuration(text);
	} catch (error) {
		if (error instanceof DurationSyntaxError) throw new PolicyError(`--${option}: ${error.message}`, {cause: error});
		throw error;
	}
}

/** Splits a keep-tag value `a,b` into its tags (spaces around each tag dropped), as restic does. */
export function parseTagList(text: string): string[] {
	return text.split(',').map((tag) => tag.trim());
}

/**
 * Builds a policy from option values keyed by option name (`keep-daily`, `keep-last`, …, each a
 * string, or a list of strings for `keep-tag`). Aliases are folded into the main names; giving a
 * field twice under different names with different values is a PolicyError, as is any bad value.
 */
export function readPolicyOptions(values: Readonly<Record<string, string | readonly string[] | undefined>>): RetentionPolicy {
	const policy: RetentionPolicy = {};
	const given = new Map<keyof RetentionPolicy, {option: string; text: string}>();
	for (const [option, value] of Object.entries(values)) {
		if (value === undefined) continue;
		const field = findPolicyField(option);
		if (!field) throw new PolicyError(`unknown retention option --${option}: use ${Object.values(POLICY_OPTION_NAMES).map((names) => `--${names[0]}`).join(', ')}`);
		if (field === 'tags') {
			const lists = typeof value === 'string' ? [value] : value;
			policy.tags = [...(policy.tags ?? []), ...lists.map(parseTagList)];
			continue;
		}
		if (typeof value !== 'string') throw new PolicyError(`--${option} takes one value`);
		const earlier = given.get(field);
		if (earlier && earlier.text.trim() !== value.trim()) {
			throw new PolicyError(`--${earlier.option} ${earlier.text} and --${option} ${value} set the same thing (${option} is another name for ${POLICY_OPTION_NAMES[field][0]}): give only one`);
		}
		given.set(field, {option, text: value});
		if ((COUNT_FIELDS as readonly string[]).includes(field)) policy[field as CountField] = parseKeepCount(value, option);
		else policy[field as 'within' | WithinField] = parseWithinDuration(value, option);
	}
	return policy;
}

/** True when the policy sets nothing: no count other than 0, no non-zero duration, no keep-tag. */
export function isEmptyPolicy(policy: RetentionPolicy): boolean {
	if (policy.tags && policy.tags.length > 0) return false;
	if (COUNT_FIELDS.some((field) => (policy[field] ?? 0) !== 0)) return false;
	return isZeroDuration(policy.within) && WITHIN_FIELDS.every((field) => isZeroDuration(policy[field]));
}

/** Checks the values of a policy built in code; throws PolicyError for a negative count other than -1 or a bad duration. */
export function validatePolicy(policy: RetentionPolicy): RetentionPolicy {
	for (const field of COUNT_FIELDS) {
		const value = policy[field];
		if (value !== undefined && (!Number.isInteger(value) || value < -1)) {
			throw new PolicyError(`invalid --${POLICY_OPTION_NAMES[field][0]} ${value}: give a whole number of snapshots (0 or more), or -1 (unlimited)`);
		}
	}
	for (const field of ['within', ...WITHIN_FIELDS] as const) {
		const value = policy[field];
		if (value && [value.years, value.months, value.days, value.hours].some((n) => !Number.isInteger(n) || n < 0)) {
			throw new PolicyError(`invalid --${POLICY_OPTION_NAMES[field][0]}: durations are whole numbers of years, months, days and hours, none negative`);
		}
	}
	return policy;
}

const COUNT_WORDS: Record<CountField, string> = {latest: 'latest', hourly: 'hourly', daily: 'daily', weekly: 'weekly', monthly: 'monthly', annual: 'annual'};
const WITHIN_WORDS: Record<WithinField, string> = {withinHourly: 'hourly', withinDaily: 'daily', withinWeekly: 'weekly', withinMonthly: 'monthly', withinAnnual: 'annual'};

/** Describes a policy in one sentence for people, e.g. `keep 7 daily, 4 weekly snapshots and all snapshots within 30d of the newest`. */
export function describePolicy(policy: RetentionPolicy): string {
	const counts = COUNT_FIELDS.filter((field) => (policy[field] ?? 0) !== 0)
		.map((field) => `${policy[field] === -1 ? 'all' : policy[field]} ${COUNT_WORDS[field]}`);
	const withins = WITHIN_FIELDS.filter((field) => !isZeroDuration(policy[field]))
		.map((field) => `${WITHIN_WORDS[field]} snapshots within ${formatRetentionDuration(policy[field]!)}`);
	const parts: string[] = [];
	if (counts.length) parts.push(`${counts.join(', ')} snapshots`);
	if (withins.length) parts.push(withins.join(', '));
	let text = parts.join(', ');
	if (policy.tags?.length) text += `${text ? ' and ' : ''}all snapshots with tags ${policy.tags.map((list) => `[${list.join(', ')}]`).join(' or ')}`;
	if (!isZeroDuration(policy.within)) text += `${text ? ' and ' : ''}all snapshots within ${formatRetentionDuration(policy.within!)} of the newest`;
	return text ? `keep ${text}` : 'keep everything (no policy)';
}
