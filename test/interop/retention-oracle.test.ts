/**
 * Retention against the oracle: restic 0.14's `forget --dry-run --json` and cairn's applyPolicy
 * (and `cairn forget`) must make the same decisions, with the same reasons and counters, on the
 * same repository. The repository holds one real backup's tree and over a hundred snapshot files
 * written through the engine at chosen times over two years: bursts within an hour, two
 * snapshots at the same instant, New Year and ISO week 53, both daylight saving changes in
 * Europe/Berlin (the zone both sides run in), times recorded in UTC and in other offsets,
 * several hosts, path sets and tags.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import '../../adapters/index.js';
import {openRepositoryStorage} from '../../adapters/registry.js';
import {Repository} from '../../engine/repository/repository.js';
import {listSnapshots, saveSnapshot} from '../../engine/repository/snapshots.js';
import type {Snapshot, SnapshotJson} from '../../engine/format/snapshot.js';
import {daysFromCivil, findTimeZone, parseRecordedTime} from '../../engine/retention/calendar.js';
import {parseGroupBy} from '../../engine/retention/group.js';
import {planRetention} from '../../engine/retention/plan.js';
import {readPolicyOptions} from '../../engine/retention/policy.js';
import {describeRun, makeTempDir, runCairn, runRestic} from '../helpers/cli.js';

const PASSWORD = 'retention oracle';
const ZONE = 'Europe/Berlin';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD, TZ: ZONE};
const berlinZone = findTimeZone(ZONE);

/** A wall time in Berlin (`YYYY-MM-DD HH:MM[:SS]`) as RFC 3339 with Berlin's offset then; `second` picks the later of a repeated hour. */
function berlin(text: string, occurrence: 'first' | 'second' = 'first'): string {
	const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
	if (!m) throw new Error(`bad test time ${text}`);
	const wall = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) * 86_400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6] ?? 0);
	const fits = [3600, 7200].filter((offset) => berlinZone.offsetAt(wall - offset) === offset).sort((a, b) => b - a);
	if (fits.length === 0) throw new Error(`${text} does not exist in Berlin`);
	const offset = occurrence === 'second' ? fits.at(-1)! : fits[0]!;
	return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}+0${offset / 3600}:00`;
}

/** A seeded generator (mulberry32), so the timeline is the same on every run. */
function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

interface Planned {
	time: string;
	hostname: string;
	paths: string[];
	tags?: string[];
}

function pad(n: number): string {
	return String(n).padStart(2, '0');
}

/** The timeline: what each snapshot tests is said next to it. */
function makeTimeline(): Planned[] {
	const out: Planned[] = [];
	const alpha = (time: string, tags?: string[]): void => {
		out.push({time, hostname: 'alpha', paths: ['/data'], tags});
	};
	// About 75 snapshots every 3 to 17 days from March 2020 to March 2022, at random hours, some tagged.
	const random = seededRandom(20_200_301);
	for (let day = daysFromCivil(2020, 3, 1); day < daysFromCivil(2022, 3, 20); day += 3 + Math.floor(random() * 15)) {
		const date = new Date(day * 86_400_000);
		const wall = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(Math.floor(random() * 24))}:${pad(Math.floor(random() * 60))}`;
		let time: string;
		try {
			time = berlin(wall);
		} catch {
			continue; // a wall time skipped by the spring change
		}
		const r = random();
		alpha(time, r < 0.1 ? ['manual'] : r < 0.15 ? ['important', 'manual'] : r < 0.3 ? ['monthly-report'] : undefined);
	}
	// A burst on one day, with two snapshots at the very same instant (a tie).
	for (const t of ['2021-06-15 09:00', '2021-06-15 09:00', '2021-06-15 09:20', '2021-06-15 10:05', '2021-06-15 14:00', '2021-06-15 23:59', '2021-06-16 00:01']) alpha(berlin(t));
	// New Year: 2020 has 53 ISO weeks (Thu 2020-12-31 to Sun 2021-01-03); 2021-12-31/2022-01-01 are both in 2021-W52.
	for (const t of ['2020-12-31 23:30', '2021-01-01 00:30', '2021-01-03 23:00', '2021-01-04 00:10', '2021-12-31 23:59:59', '2022-01-01 00:00:01']) alpha(berlin(t));
	// Daylight saving: spring gaps (02:00-03:00 skipped) and autumn repeats (02:00-03:00 twice).
	for (const t of ['2020-03-29 01:30', '2020-03-29 03:30', '2021-03-28 01:59', '2021-03-28 03:00']) alpha(berlin(t));
	alpha(berlin('2020-10-25 02:30', 'first'));
	alpha(berlin('2020-10-25 02:45', 'first'), ['manual']);
	alpha(berlin('2020-10-25 02:10', 'second'));
	alpha(berlin('2020-10-25 02:40', 'second'));
	alpha(berlin('2021-10-31 02:30', 'first'));
	alpha(berlin('2021-10-31 02:30', 'second'));
	// The last week, over the spring change of 2022, ending on a Monday (a new ISO week).
	for (let d = 21; d <= 27; d++) alpha(berlin(`2022-03-${d} 21:00`));
	for (const t of ['2022-03-27 01:59', '2022-03-27 03:01', '2022-03-28 08:00']) alpha(berlin(t));

	// beta: newest 2021-12-01 02:30 CET. A month and a day back is 2021-10-31 02:30, which happens twice;
	// restic (Go) takes the later one (01:30 UTC). Two months back is 2021-10-01 02:30 summer time.
	const beta = (time: string, tags?: string[]): void => {
		out.push({time, hostname: 'beta', paths: ['/data'], tags});
	};
	beta(berlin('2021-12-01 02:30'));
	for (const t of ['2021-11-15 12:00', '2021-10-30 12:00', '2021-10-01 02:31', '2021-10-01 02:29', '2021-09-01 12:00']) beta(berlin(t));
	beta(berlin('2021-10-31 02:30', 'first'), ['manual']);
	beta(berlin('2021-10-31 02:29', 'second'));
	beta(berlin('2021-10-31 02:30', 'second'));
	beta(berlin('2021-10-31 02:31', 'second'));

	// gamma: newest 2021-04-28 02:30 CEST. A month back is 2021-03-28 02:30, which never happened;
	// Go makes it 03:30 summer time (01:30 UTC).
	const gamma = (time: string): void => {
		out.push({time, hostname: 'gamma', paths: ['/data']});
	};
	for (const t of ['2021-04-28 02:30', '2021-04-01 12:00', '2021-03-28 03:31', '2021-03-28 03:30', '2021-03-28 03:29', '2021-03-28 01:59', '2021-03-27 12:00']) gamma(berlin(t));

	// alpha with two paths (given in either order: one group), times recorded in UTC and at -05:00.
	// Buckets use the recorded wall clock; keep-within from a newest snapshot at -05:00 is computed
	// in that fixed offset, not in Berlin: a month before 2021-04-01 22:30 -05:00 is 2021-03-02 03:30 UTC.
	const delta = (time: string, paths: string[]): void => {
		out.push({time, hostname: 'alpha', paths});
	};
	delta('2021-04-01T22:30:00-05:00', ['/etc', '/data']);
	delta('2021-03-02T03:45:00Z', ['/data', '/etc']);
	delta('2021-03-02T03:15:00Z', ['/etc', '/data']);
	delta('2021-03-01T23:30:00Z', ['/data', '/etc']);
	delta('2021-03-01T20:00:00Z', ['/etc', '/data']);
	delta('2021-02-28T19:30:00-05:00', ['/etc', '/data']);
	delta(berlin('2021-02-28 12:00'), ['/data', '/etc']);
	delta('2021-01-03T23:30:00-05:00', ['/etc', '/data']); // Sunday 2020-W53 as recorded; Monday 2021-W01 in Berlin
	delta(berlin('2021-01-04 01:00'), ['/etc', '/data']);
	return out;
}

/** The policies: restic's option names, as given to both programs. */
const POLICIES: string[][] = [
	['--keep-last', '5', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '3'],
	['--keep-hourly', '40', '--group-by', ''],
	['--keep-weekly', '80', '--group-by', 'host'],
	['--keep-within', '1m1d', '--keep-last', '1'],
	['--keep-within', '1m', '--keep-daily', '2'],
	['--keep-within-daily', '10d', '--keep-within-weekly', '2m', '--keep-within-monthly', '1y', '--keep-within-yearly', '2y'],
	['--keep-within-hourly', '3d', '--keep-tag', 'manual', '--keep-tag', 'manual,important', '--keep-last', '1'],
	['--keep-tag', '', '--keep-tag', 'monthly-report', '--keep-monthly', '6', '--group-by', 'tags'],
	['--keep-daily', '3', '--keep-within', '1y5m7d3h', '--group-by', 'host,paths,tags'],
	['--keep-yearly', '10', '--keep-monthly', '100', '--group-by', ''],
	['--keep-within', '1y2m', '--keep-last', '2', '--group-by', 'paths'],
	['--keep-within', '2m', '--keep-weekly', '3', '--keep-within-hourly', '1d'],
];

/** Splits policy arguments into the policy's option values and the group-by text. */
function splitArgs(args: string[]): {values: Record<string, string | string[]>; groupBy: string} {
	const values: Record<string, string | string[]> = {};
	let groupBy = 'host,paths';
	for (let i = 0; i < args.length; i += 2) {
		const name = args[i]!.replace(/^--/, '');
		const value = args[i + 1]!;
		if (name === 'group-by') groupBy = value;
		else if (name === 'keep-tag') values[name] = [...((values[name] as string[] | undefined) ?? []), value];
		else values[name] = value;
	}
	return {values, groupBy};
}

interface JsonSnapshot extends SnapshotJson {
	id: string;
}

interface JsonGroup {
	tags: string[] | null;
	host: string;
	paths: string[] | null;
	keep: JsonSnapshot[] | null;
	remove: JsonSnapshot[] | null;
	reasons: Array<{snapshot: SnapshotJson; matches: string[]; counters: Record<string, number>}> | null;
}

/** One decision, independent of which of two snapshots at the same instant got it. */
interface Entry {
	time: string;
	keep: boolean;
	matches: string[];
	counters: Record<string, number>;
	snapshot?: SnapshotJson;
}

/** A group boiled down for comparison. */
interface NormalGroup {
	/** Every decision, newest first (entries at the same instant in a fixed order). */
	entries: Entry[];
	/** Kept and removed IDs of snapshots that share their instant with no other. */
	keep: string[];
	remove: string[];
}

let base: string;
let repoPath: string;
let snapshots: Snapshot[];
/** IDs of snapshots that share their instant with another (restic orders those at random). */
const tied = new Set<string>();

function sortEntries(entries: Entry[]): Entry[] {
	const ns = (e: Entry): bigint => parseRecordedTime(e.time).ns;
	return entries.sort((a, b) => {
		const d = ns(b) - ns(a);
		if (d !== 0n) return d > 0n ? 1 : -1;
		const ja = JSON.stringify(a);
		const jb = JSON.stringify(b);
		return ja < jb ? -1 : ja > jb ? 1 : 0;
	});
}

function groupKey(key: {host: string; paths: string[] | null; tags: string[] | null}): string {
	return JSON.stringify([key.host, key.paths, key.tags]);
}

/** Normalises restic's (or cairn's) `forget --json` output. */
function normaliseJson(groups: JsonGroup[], withSnapshots: boolean): Map<string, NormalGroup> {
	const out = new Map<string, NormalGroup>();
	for (const group of groups) {
		const keep = group.keep ?? [];
		const remove = group.remove ?? [];
		const reasons = group.reasons ?? [];
		expect(reasons.length).toBe(keep.length);
		const entries: Entry[] = [
			...keep.map((s, i) => ({time: s.time, keep: true, matches: reasons[i]!.matches, counters: reasons[i]!.counters, ...(withSnapshots ? {snapshot: reasons[i]!.snapshot} : {})})),
			...remove.map((s) => ({time: s.time, keep: false, matches: [], counters: {}})),
		];
		out.set(groupKey(group), {
			entries: sortEntries(entries),
			keep: keep.map((s) => s.id).filter((id) => !tied.has(id)).sort(),
			remove: remove.map((s) => s.id).filter((id) => !tied.has(id)).sort(),
		});
	}
	return out;
}

/** cairn's pure plan, normalised the same way. */
function planWithCairn(args: string[]): Map<string, NormalGroup> {
	const {values, groupBy} = splitArgs(args);
	const plan = planRetention(snapshots, readPolicyOptions(values), {groupBy: parseGroupBy(groupBy), timeZone: ZONE});
	const out = new Map<string, NormalGroup>();
	for (const group of plan) {
		out.set(groupKey({host: group.key.hostname, paths: group.key.paths, tags: group.key.tags}), {
			entries: sortEntries(group.decisions.map((d) => ({time: d.snapshot.time, keep: d.keep, matches: d.keep ? d.reasons : [], counters: d.keep ? {...d.counters} : {}}))),
			keep: group.keep.map((s) => s.id).filter((id) => !tied.has(id)).sort(),
			remove: group.remove.map((s) => s.id).filter((id) => !tied.has(id)).sort(),
		});
	}
	return out;
}

async function resticForget(args: string[]): Promise<JsonGroup[]> {
	const result = await runRestic(['-r', repoPath, 'forget', '--dry-run', '--json', ...args], {env});
	expect(result.code, describeRun(result)).toBe(0);
	return JSON.parse(result.stdout) as JsonGroup[];
}

/** The same policy with cairn's own names where cairn has them (restic's are aliases). */
function withCairnNames(args: string[]): string[] {
	const names: Record<string, string> = {'--keep-last': '--keep-latest', '--keep-yearly': '--keep-annual', '--keep-within-yearly': '--keep-within-annual'};
	return args.map((arg) => names[arg] ?? arg);
}

beforeAll(async () => {
	base = await makeTempDir('cairn-retention-');
	repoPath = path.join(base, 'repo');
	const src = path.join(base, 'src');
	await fs.mkdir(src);
	await fs.writeFile(path.join(src, 'file.txt'), 'retention oracle\n');
	for (const args of [['init', '--repo', repoPath], ['backup', '--repo', repoPath, src, '--json']]) {
		const result = await runCairn(args, {env});
		expect(result.code, describeRun(result)).toBe(0);
	}
	const repo = await Repository.open(await openRepositoryStorage(repoPath), PASSWORD);
	try {
		const [real] = await listSnapshots(repo);
		await repo.storage.remove({type: 'snapshots', name: real!.id});
		const timeline = makeTimeline();
		let n = 0;
		for (const planned of timeline) {
			await saveSnapshot(repo, {...planned, tree: real!.tree, username: `user${n++}`});
		}
		snapshots = await listSnapshots(repo);
	} finally {
		await repo.close();
	}
	const byInstant = new Map<bigint, string[]>();
	for (const s of snapshots) {
		const ns = parseRecordedTime(s.time).ns;
		byInstant.set(ns, [...(byInstant.get(ns) ?? []), s.id]);
	}
	for (const ids of byInstant.values()) if (ids.length > 1) for (const id of ids) tied.add(id);
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('the timeline', () => {
	it('has at least 60 snapshots of one host and paths over two years, and the edge cases', () => {
		const alpha = snapshots.filter((s) => s.hostname === 'alpha' && s.paths.length === 1);
		expect(alpha.length).toBeGreaterThanOrEqual(60);
		const times = alpha.map((s) => parseRecordedTime(s.time).ns);
		const span = Number(times.reduce((a, b) => (a > b ? a : b)) - times.reduce((a, b) => (a < b ? a : b))) / 1e9 / 86_400;
		expect(span).toBeGreaterThan(730);
		// The two snapshots of the burst at 09:00 share their instant.
		const burst = snapshots.filter((s) => s.time === berlin('2021-06-15 09:00'));
		expect(burst).toHaveLength(2);
		for (const s of burst) expect(tied.has(s.id)).toBe(true);
		// Both offsets of Berlin, UTC and -05:00 are recorded.
		for (const suffix of ['+01:00', '+02:00', 'Z', '-05:00']) expect(snapshots.some((s) => s.time.endsWith(suffix)), suffix).toBe(true);
		// The repeated hour of 2021-10-31 is there in both of its occurrences.
		expect(snapshots.filter((s) => s.time.startsWith('2021-10-31T02:30:00')).map((s) => s.time.slice(-6)).sort()).toEqual(['+01:00', '+01:00', '+02:00', '+02:00']);
	});
});

describe('applyPolicy agrees with restic forget --dry-run --json', () => {
	it.each(POLICIES.map((args) => [args.join(' ') || '(none)', args] as const))('%s', async (_name, args) => {
		const restic = normaliseJson(await resticForget(args), false);
		const cairn = planWithCairn(args);
		expect([...cairn.keys()].sort()).toEqual([...restic.keys()].sort());
		for (const [key, group] of restic) {
			const mine = cairn.get(key)!;
			expect(mine.entries, key).toEqual(group.entries);
			expect(mine.keep, key).toEqual(group.keep);
			expect(mine.remove, key).toEqual(group.remove);
		}
		// The policy must decide something interesting: some snapshots go, some stay.
		const all = [...restic.values()].flatMap((g) => g.entries);
		expect(all.some((e) => e.keep)).toBe(true);
		expect(all.some((e) => !e.keep)).toBe(true);
	});
});

describe('cairn forget', () => {
	it.each([POLICIES[0]!, POLICIES[7]!, POLICIES[11]!].map((args) => [args.join(' '), args] as const))('--dry-run --json prints what restic prints: %s', async (_name, args) => {
		const before = snapshots.length;
		const result = await runCairn(['forget', '--repo', repoPath, '--dry-run', '--json', ...withCairnNames(args)], {env});
		expect(result.code, describeRun(result)).toBe(0);
		const mineJson = JSON.parse(result.stdout) as JsonGroup[];
		const resticJson = await resticForget(args);
		const mine = normaliseJson(mineJson, true);
		const theirs = normaliseJson(resticJson, true);
		expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
		for (const [key, group] of theirs) expect(mine.get(key), key).toEqual(group);
		// Every snapshot object (keep and remove) is printed as restic prints it.
		const objects = (groups: JsonGroup[]): Map<string, unknown> => new Map(groups.flatMap((g) => [...(g.keep ?? []), ...(g.remove ?? [])]).map((s) => [s.id, s]));
		expect(objects(mineJson)).toEqual(objects(resticJson));
		const listed = await runRestic(['-r', repoPath, 'snapshots', '--json'], {env});
		expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(before);
	});

	it('removes what restic would remove, and then restic finds nothing more to remove', async () => {
		const args = POLICIES[0]!;
		const expected = normaliseJson(await resticForget(args), false);
		const result = await runCairn(['forget', '--repo', repoPath, ...withCairnNames(args)], {env});
		expect(result.code, describeRun(result)).toBe(0);
		const removedCount = [...expected.values()].reduce((n, g) => n + g.entries.filter((e) => !e.keep).length, 0);
		expect(result.stdout).toContain(`removed ${removedCount} snapshots`);

		const listed = await runRestic(['-r', repoPath, 'snapshots', '--json'], {env});
		expect(listed.code, describeRun(listed)).toBe(0);
		const remaining = (JSON.parse(listed.stdout) as JsonSnapshot[]);
		const keptCount = [...expected.values()].reduce((n, g) => n + g.entries.filter((e) => e.keep).length, 0);
		expect(remaining.length).toBe(keptCount);
		const remainingIds = new Set(remaining.map((s) => s.id));
		for (const group of expected.values()) {
			for (const id of group.keep) expect(remainingIds.has(id), id).toBe(true);
			for (const id of group.remove) expect(remainingIds.has(id), id).toBe(false);
		}
		// cairn lists the same snapshots.
		const mine = await runCairn(['snapshots', '--repo', repoPath, '--json'], {env});
		expect((JSON.parse(mine.stdout) as JsonSnapshot[]).map((s) => s.id).sort()).toEqual([...remainingIds].sort());
		// The same policy again removes nothing, by restic's reckoning too.
		const again = await resticForget(args);
		expect(again.flatMap((g) => g.remove ?? [])).toEqual([]);
		const check = await runRestic(['-r', repoPath, 'check'], {env});
		expect(check.code, describeRun(check)).toBe(0);
		// No lock is left behind.
		expect(await fs.readdir(path.join(repoPath, 'locks'))).toEqual([]);
	});
});
