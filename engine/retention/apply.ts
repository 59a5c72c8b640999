/**
 * applyPolicy: the pure heart of retention. Given the snapshots of one group and a policy it
 * decides, for every snapshot, keep or remove, and why — the same decisions, reasons and
 * counters as restic 0.14's `forget` (bucket rules, ISO weeks, keep-within measured from the
 * newest snapshot, the wall clock each snapshot was recorded in). No clock, no I/O.
 */
import {findTimeZone, isoWeekOf, LOCAL_ZONE, locationOf, parseRecordedTime, subtractCalendar, wallClockOf, type RecordedTime, type TimeZone, type WallClock} from './calendar.js';
import {formatRetentionDuration, isZeroDuration, type RetentionDuration} from './duration.js';
import {isEmptyPolicy, validatePolicy, type RetentionPolicy} from './policy.js';

/** The fields of a snapshot a policy looks at. */
export interface PolicySnapshot {
	/** RFC 3339 time with its offset, as in the snapshot file. */
	time: string;
	tags?: readonly string[];
}

/**
 * Bucket counters after a kept snapshot was evaluated, as restic reports them: how many of each
 * count are left (-1 for an unlimited count); counts the policy does not use are left out.
 */
export interface KeepCounters {
	last?: number;
	hourly?: number;
	daily?: number;
	weekly?: number;
	monthly?: number;
	yearly?: number;
}

/** The decision for one snapshot. */
export interface SnapshotDecision<S> {
	snapshot: S;
	keep: boolean;
	/** Why it is kept, in restic's words ("daily snapshot", "within 30d", "has tags [a, b]", …); empty when removed. */
	reasons: string[];
	/** The counters after this snapshot (for kept snapshots, as restic prints them). */
	counters: KeepCounters;
}

/** The result of applying a policy to one group. */
export interface PolicyResult<S> {
	/** Every snapshot, newest first (ties in the order given), with its decision. */
	decisions: SnapshotDecision<S>[];
	/** The kept snapshots, newest first. */
	keep: S[];
	/** The removed snapshots, newest first. */
	remove: S[];
}

/** Options of {@link applyPolicy}. */
export interface ApplyPolicyOptions {
	/**
	 * The zone that plays the part of restic's local zone: keep-within cut-offs are computed in it
	 * (daylight saving included) when the newest snapshot was recorded in it. A TimeZone, an IANA
	 * name, or `local` (the default: the process's zone). Buckets always use the wall clock each
	 * snapshot was recorded with, as restic's do.
	 */
	timeZone?: TimeZone | string;
	/**
	 * Snapshots later than this (ms since the epoch) are not taken as the newest snapshot that
	 * keep-within counts back from, as restic skips snapshots in the future. Default: none skipped.
	 */
	now?: number;
}

type Bucketer = (wall: WallClock, nr: number) => number;

const byHour: Bucketer = (w) => w.year * 1_000_000 + w.month * 10_000 + w.day * 100 + w.hour;
const byDay: Bucketer = (w) => w.year * 10_000 + w.month * 100 + w.day;
const byWeek: Bucketer = (w) => {
	const iso = isoWeekOf(w.year, w.month, w.day);
	return iso.year * 100 + iso.week;
};
const byMonth: Bucketer = (w) => w.year * 100 + w.month;
const byYear: Bucketer = (w) => w.year;
const each: Bucketer = (_w, nr) => nr;

interface ParsedSnapshot<S> {
	snapshot: S;
	time: RecordedTime;
	wall: WallClock;
	index: number;
}

function parseAll<S extends PolicySnapshot>(snapshots: readonly S[]): ParsedSnapshot<S>[] {
	return snapshots.map((snapshot, index) => {
		const time = parseRecordedTime(snapshot.time);
		return {snapshot, time, wall: wallClockOf(time.ns, time.offset), index};
	});
}

/** True when the snapshot has every tag of the list (restic's rule: an empty tag matches an untagged snapshot). */
export function hasTags(snapshot: {readonly tags?: readonly string[]}, list: readonly string[]): boolean {
	const tags = snapshot.tags ?? [];
	for (const tag of list) {
		if (tag === '' && tags.length === 0) return true;
		if (!tags.includes(tag)) return false;
	}
	return true;
}

function resolveZone(zone: TimeZone | string | undefined): TimeZone {
	if (zone === undefined) return LOCAL_ZONE;
	return typeof zone === 'string' ? findTimeZone(zone) : zone;
}

/**
 * Decides for every snapshot of one group whether the policy keeps it, and why.
 *
 * - Snapshots are taken newest first (a stable sort, so equal times keep the order given).
 * - `latest` keeps the first N. `hourly` … `annual` keep the newest snapshot of each of the first
 *   N distinct hours, days, ISO weeks, months or years; -1 means no limit.
 * - keep-within durations count back from the newest snapshot (not the clock); a snapshot is
 *   within when it is strictly later than the cut-off.
 * - keep-tag keeps every snapshot carrying all tags of one of the lists.
 * - A policy that sets nothing keeps everything with the reason "policy is empty".
 *
 * Throws an Error naming the snapshot time when one cannot be parsed, and PolicyError for a
 * policy with invalid values.
 */
export function applyPolicy<S extends PolicySnapshot>(snapshots: readonly S[], policy: RetentionPolicy, options: ApplyPolicyOptions = {}): PolicyResult<S> {
	validatePolicy(policy);
	const list = parseAll(snapshots).sort((a, b) => (a.time.ns > b.time.ns ? -1 : a.time.ns < b.time.ns ? 1 : a.index - b.index));
	const result: PolicyResult<S> = {decisions: [], keep: [], remove: []};
	if (isEmptyPolicy(policy)) {
		for (const item of list) {
			result.decisions.push({snapshot: item.snapshot, keep: true, reasons: ['policy is empty'], counters: {}});
			result.keep.push(item.snapshot);
		}
		return result;
	}
	if (list.length === 0) return result;

	const buckets = [
		{count: policy.latest ?? 0, bucket: each, last: -1, reason: 'last snapshot'},
		{count: policy.hourly ?? 0, bucket: byHour, last: -1, reason: 'hourly snapshot'},
		{count: policy.daily ?? 0, bucket: byDay, last: -1, reason: 'daily snapshot'},
		{count: policy.weekly ?? 0, bucket: byWeek, last: -1, reason: 'weekly snapshot'},
		{count: policy.monthly ?? 0, bucket: byMonth, last: -1, reason: 'monthly snapshot'},
		{count: policy.annual ?? 0, bucket: byYear, last: -1, reason: 'yearly snapshot'},
	];
	const withinBuckets = ([
		[policy.withinHourly, byHour, 'hourly within'],
		[policy.withinDaily, byDay, 'daily within'],
		[policy.withinWeekly, byWeek, 'weekly within'],
		[policy.withinMonthly, byMonth, 'monthly within'],
		[policy.withinAnnual, byYear, 'yearly within'],
	] as const).filter(([duration]) => !isZeroDuration(duration)).map(([duration, bucket, reason]) => ({duration: duration!, bucket, last: -1, reason}));

	const cutOff = makeCutOff(list, resolveZone(options.timeZone), options.now);
	const within = isZeroDuration(policy.within) ? undefined : {duration: policy.within!, after: cutOff(policy.within!)};
	const withinCutOffs = withinBuckets.map((b) => cutOff(b.duration));

	list.forEach((item, nr) => {
		const reasons: string[] = [];
		for (const tagList of policy.tags ?? []) {
			if (hasTags(item.snapshot, tagList)) reasons.push(`has tags [${tagList.join(', ')}]`);
		}
		if (within && item.time.ns > within.after) reasons.push(`within ${formatRetentionDuration(within.duration)}`);
		for (const bucket of buckets) {
			if (bucket.count > 0 || bucket.count === -1) {
				const value = bucket.bucket(item.wall, nr);
				if (value !== bucket.last) {
					bucket.last = value;
					if (bucket.count > 0) bucket.count--;
					reasons.push(bucket.reason);
				}
			}
		}
		withinBuckets.forEach((bucket, i) => {
			if (item.time.ns > withinCutOffs[i]!) {
				const value = bucket.bucket(item.wall, nr);
				if (value !== bucket.last) {
					bucket.last = value;
					reasons.push(`${bucket.reason} ${formatRetentionDuration(bucket.duration)}`);
				}
			}
		});
		const keep = reasons.length > 0;
		const counters: KeepCounters = {};
		const names = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
		buckets.forEach((bucket, i) => {
			if (bucket.count !== 0) counters[names[i]!] = bucket.count;
		});
		result.decisions.push({snapshot: item.snapshot, keep, reasons, counters});
		(keep ? result.keep : result.remove).push(item.snapshot);
	});
	return result;
}

/**
 * The newest snapshot that keep-within counts back from (restic: the first, newest-first, that is
 * strictly later than those before it and earlier than now), and a function giving the cut-off
 * for a duration.
 */
function makeCutOff<S>(list: readonly ParsedSnapshot<S>[], zone: TimeZone, now: number | undefined): (duration: RetentionDuration) => bigint {
	const nowNs = now === undefined ? undefined : BigInt(Math.floor(now)) * 1_000_000n;
	let latest: RecordedTime | undefined;
	for (const item of list) {
		if ((latest === undefined || item.time.ns > latest.ns) && (nowNs === undefined || item.time.ns < nowNs)) latest = item.time;
	}
	if (!latest) {
		// Every snapshot is in the future: restic counts back from the year 1, so all are within.
		return () => -(2n ** 62n);
	}
	const from = latest;
	const location = locationOf(from, zone);
	return (duration) => subtractCalendar(from.ns, location, duration);
}
