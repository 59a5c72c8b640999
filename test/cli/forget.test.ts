/**
 * `cairn forget` end to end: policy and usage errors, dry runs that change nothing, removal of
 * exactly the snapshots applyPolicy removes, restic's JSON shape, the exclusive lock, refusing to
 * empty a group, forgetting by ID, filters, unreadable snapshot files, and --prune.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import '../../adapters/index.js';
import {openRepositoryStorage} from '../../adapters/registry.js';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {Repository} from '../../engine/repository/repository.js';
import {listSnapshots, saveSnapshot} from '../../engine/repository/snapshots.js';
import {planRetention} from '../../engine/retention/plan.js';
import {parseGroupBy} from '../../engine/retention/group.js';
import type {RetentionPolicy} from '../../engine/retention/policy.js';
import {describeRun, listPacks, listRepoFiles, makeTempDir, runCairn, runRestic, type RunResult} from '../helpers/cli.js';

const PASSWORD = 'forget password';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD, TZ: 'UTC'};

let base: string;
let template: string;
let tree: string;
let counter = 0;

interface Planned {
	time: string;
	hostname?: string;
	paths?: string[];
	tags?: string[];
}

/** Ten days of one daily snapshot on host alpha, three on beta, one tagged. */
const TIMELINE: Planned[] = [
	...Array.from({length: 10}, (_, i) => ({time: `2024-01-${String(i + 1).padStart(2, '0')}T12:00:00Z`})),
	{time: '2024-01-10T18:00:00Z', tags: ['manual']},
	{time: '2024-01-05T12:00:00Z', hostname: 'beta'},
	{time: '2024-01-06T12:00:00Z', hostname: 'beta'},
	{time: '2024-01-07T12:00:00Z', hostname: 'beta'},
];

async function withRepo<T>(repoPath: string, fn: (repo: Repository) => Promise<T>): Promise<T> {
	const repo = await Repository.open(await openRepositoryStorage(repoPath), PASSWORD);
	try {
		return await fn(repo);
	} finally {
		await repo.close();
	}
}

/** A copy of the template repository (one real backup's data, no snapshots) with the timeline's snapshots. */
async function makeRepo(timeline: Planned[] = TIMELINE): Promise<{repo: string; snapshots: Snapshot[]}> {
	const repo = path.join(base, `repo-${++counter}`);
	await fs.cp(template, repo, {recursive: true});
	const snapshots = await withRepo(repo, async (r) => {
		let n = 0;
		for (const p of timeline) {
			await saveSnapshot(r, {time: p.time, tree, paths: p.paths ?? ['/data'], hostname: p.hostname ?? 'alpha', username: `user${n++}`, tags: p.tags});
		}
		return listSnapshots(r);
	});
	return {repo, snapshots};
}

async function cairn(args: string[], expectedCode = 0): Promise<RunResult> {
	const result = await runCairn(args, {env});
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result;
}

/** What applyPolicy removes, derived in this process (the CLI must do the same). */
function expectedRemovals(snapshots: Snapshot[], policy: RetentionPolicy, groupBy = 'host,paths'): string[] {
	return planRetention(snapshots, policy, {groupBy: parseGroupBy(groupBy), timeZone: 'UTC'}).flatMap((g) => g.remove.map((s) => s.id)).sort();
}

beforeAll(async () => {
	base = await makeTempDir('cairn-forget-');
	template = path.join(base, 'template');
	const src = path.join(base, 'src');
	await fs.mkdir(src);
	await fs.writeFile(path.join(src, 'file.txt'), 'forget me not\n');
	await cairn(['init', '--repo', template]);
	await cairn(['backup', '--repo', template, src, '-q']);
	await withRepo(template, async (r) => {
		const [real] = await listSnapshots(r);
		tree = real!.tree;
		await r.storage.remove({type: 'snapshots', name: real!.id});
	});
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('bad input', () => {
	let shared: {repo: string; snapshots: Snapshot[]};
	beforeAll(async () => {
		shared = await makeRepo();
	});

	it.each([
		[[], /no policy given, so no snapshot would be removed: give at least one --keep-\* option/],
		[['--keep-daily', '-2'], /invalid --keep-daily "-2": give a whole number of snapshots \(0 or more\), or "unlimited"/],
		[['--keep-within', '2w'], /--keep-within: invalid duration "2w": unknown unit "w"/],
		[['--keep-within-daily', '7'], /--keep-within-daily: invalid duration "7": no unit after 7/],
		[['--keep-daily', '1', '--group-by', 'host,user'], /unknown grouping "user"/],
		[['--keep-last', '1', '--keep-latest', '2'], /set the same thing \(keep-last is another name for keep-latest\): give only one/],
		[['--keep-daily', '1', '--max-unused', '5'], /--max-unused only applies with --prune/],
		[['--keep-daily', '1', 'abcdef12'], /give either snapshot IDs or --keep-\* options, not both/],
	])('%j is refused with exit 2 and nothing changes', async (args, message) => {
		const {repo, snapshots} = shared;
		const result = await cairn(['forget', '--repo', repo, ...args], 2);
		expect(result.stderr).toMatch(message);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(snapshots.map((s) => s.id).sort());
	});
});

describe('policies', () => {
	it('--dry-run shows the plan with reasons and changes nothing', async () => {
		const {repo, snapshots} = await makeRepo();
		const result = await cairn(['forget', '--repo', repo, '--keep-daily', '3', '--keep-tag', 'manual', '--dry-run']);
		const removals = expectedRemovals(snapshots, {daily: 3, tags: [['manual']]});
		expect(removals.length).toBeGreaterThan(0);
		expect(result.stdout).toContain('Applying policy: keep 3 daily snapshots and all snapshots with tags [manual]');
		expect(result.stdout).toContain('snapshots of host alpha, paths /data:');
		expect(result.stdout).toContain('snapshots of host beta, paths /data:');
		const alphaKept = planRetention(snapshots, {daily: 3, tags: [['manual']]}, {timeZone: 'UTC'}).find((g) => g.key.hostname === 'alpha')!.keep.length;
		expect(result.stdout).toMatch(new RegExp(`host alpha, paths /data:\\nkeep ${alphaKept} snapshots:\\nID\\s+Time\\s+Host\\s+Tags\\s+Reasons\\s+Paths\\n-+\\n`));
		// The tagged snapshot of Jan 10 is both the daily one and tagged: two reason lines.
		expect(result.stdout).toMatch(/2024-01-10 18:00:00 {2}alpha {2}manual {2}has tags \[manual\] {2}\/data\n {40,}daily snapshot\n/);
		expect(result.stdout).toContain(`would remove ${removals.length} snapshots`);
		expect(result.stdout).toContain('(dry run: nothing was changed)');
		for (const id of removals) expect(result.stdout).toContain(id.slice(0, 8));
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(snapshots.map((s) => s.id).sort());
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
	});

	it('removes exactly the snapshot files applyPolicy removes, and leaves no lock', async () => {
		const {repo, snapshots} = await makeRepo();
		const policy = ['--keep-latest', '2', '--keep-weekly', '1'];
		const removals = expectedRemovals(snapshots, {latest: 2, weekly: 1});
		const result = await cairn(['forget', '--repo', repo, ...policy]);
		expect(result.stdout).toContain(`removed ${removals.length} snapshots; run \`cairn prune\` to free the space only they used`);
		const remaining = await listRepoFiles(repo, 'snapshots');
		expect(remaining).toEqual(snapshots.map((s) => s.id).filter((id) => !removals.includes(id)).sort());
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
		// The data is untouched (only prune removes it), and restic finds the repository sound.
		const check = await runRestic(['-r', repo, 'check'], {env});
		expect(check.code, describeRun(check)).toBe(0);
		// Applying the same policy again removes nothing.
		const again = await cairn(['forget', '--repo', repo, ...policy]);
		expect(again.stdout).toContain('no snapshot removed');
	});

	it('--json prints restic\'s shape: groups with tags, host, paths, keep, remove and reasons', async () => {
		const {repo, snapshots} = await makeRepo();
		const result = await cairn(['forget', '--repo', repo, '--keep-last', '1', '--group-by', 'host,tags', '--dry-run', '--json']);
		const groups = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
		const plan = planRetention(snapshots, {latest: 1}, {groupBy: parseGroupBy('host,tags'), timeZone: 'UTC'});
		expect(groups).toHaveLength(plan.length);
		for (const [i, group] of groups.entries()) {
			expect(Object.keys(group)).toEqual(['tags', 'host', 'paths', 'keep', 'remove', 'reasons']);
			expect(group.host).toBe(plan[i]!.key.hostname);
			expect(group.tags).toEqual(plan[i]!.key.tags);
			expect(group.paths).toBeNull();
			const keep = group.keep as Array<Record<string, unknown>>;
			expect(keep.map((s) => s.id)).toEqual(plan[i]!.keep.map((s) => s.id));
			for (const s of keep) expect(s.short_id).toBe((s.id as string).slice(0, 8));
			const remove = group.remove as Array<Record<string, unknown>> | null;
			expect(remove?.map((s) => s.id) ?? []).toEqual(plan[i]!.remove.map((s) => s.id));
			const reasons = group.reasons as Array<{snapshot: Record<string, unknown>; matches: string[]; counters: Record<string, number>}>;
			expect(reasons.map((r) => r.matches)).toEqual(keep.map(() => ['last snapshot']));
			expect(reasons.map((r) => r.counters)).toEqual(keep.map(() => ({})));
			for (const [j, r] of reasons.entries()) {
				expect(r.snapshot.id).toBeUndefined();
				expect(r.snapshot.time).toBe(keep[j]!.time);
			}
		}
		// The tagged snapshot is a group of its own.
		expect(groups.map((g) => [g.host, g.tags])).toContainEqual(['alpha', ['manual']]);
	});

	it('refuses to remove every snapshot of a group, and removes nothing then', async () => {
		const {repo, snapshots} = await makeRepo();
		const result = await cairn(['forget', '--repo', repo, '--keep-tag', 'manual'], 1);
		expect(result.stderr).toMatch(/refusing to remove every snapshot of a group \(host beta, paths \/data\): the policy "keep all snapshots with tags \[manual\]" keeps none of them/);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(snapshots.map((s) => s.id).sort());
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
	});

	it('--host, --tag and --path only consider matching snapshots', async () => {
		const {repo, snapshots} = await makeRepo([...TIMELINE, {time: '2024-01-03T00:00:00Z', paths: ['/other']}]);
		await cairn(['forget', '--repo', repo, '--keep-last', '1', '--host', 'beta']);
		const beta = snapshots.filter((s) => s.hostname === 'beta');
		const remaining = new Set(await listRepoFiles(repo, 'snapshots'));
		const newestBeta = beta.at(-1)!.id;
		for (const s of snapshots) expect(remaining.has(s.id), `${s.hostname} ${s.time}`).toBe(s.hostname !== 'beta' || s.id === newestBeta);
		expect(beta.length).toBe(3);
		// --path: only the /other snapshot is considered, and the newest of its group stays.
		await cairn(['forget', '--repo', repo, '--keep-last', '1', '--path', '/other']);
		expect(new Set(await listRepoFiles(repo, 'snapshots'))).toEqual(remaining);
		// --tag: only the tagged snapshot is considered; keep-last 1 keeps it.
		const tagged = await cairn(['forget', '--repo', repo, '--keep-last', '1', '--tag', 'manual', '--dry-run']);
		expect(tagged.stdout).toContain('no snapshot would be removed');
	});
});

describe('forgetting by ID', () => {
	it('removes exactly the snapshots named (by unique prefix) and refuses unknown ones', async () => {
		const {repo, snapshots} = await makeRepo();
		const [first, second] = snapshots;
		const result = await cairn(['forget', '--repo', repo, first!.id.slice(0, 10), second!.id]);
		expect(result.stdout).toContain('removed 2 snapshots');
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(snapshots.slice(2).map((s) => s.id).sort());
		const unknown = await cairn(['forget', '--repo', repo, first!.id.slice(0, 12)], 1);
		expect(unknown.stderr).toMatch(/no snapshot with ID/);
	});
});

describe('locks and damage', () => {
	it('takes an exclusive lock, as restic does: a live lock of another process stops it, dry run included', async () => {
		const {repo, snapshots} = await makeRepo();
		await withRepo(repo, async (r) => {
			const lock = await acquireLock(r, {exclusive: false, recheckDelayMs: 0});
			try {
				for (const extra of [[], ['--dry-run']]) {
					const result = await cairn(['forget', '--repo', repo, '--keep-last', '1', ...extra], 11);
					expect(result.stderr).toMatch(new RegExp(`is locked: a shared lock [0-9a-f]{8} held by .*\\(PID ${process.pid}\\)`));
				}
			} finally {
				await lock.release();
			}
		});
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(snapshots.map((s) => s.id).sort());
	});

	it('leaves an unreadable snapshot file alone, says so, and exits 1', async () => {
		const {repo, snapshots} = await makeRepo();
		const damaged = snapshots[0]!.id;
		await fs.writeFile(path.join(repo, 'snapshots', damaged), 'not a snapshot');
		const result = await cairn(['forget', '--repo', repo, '--keep-last', '1'], 1);
		expect(result.stderr).toContain(`error: snapshot ${damaged.slice(0, 8)} cannot be read and is left alone`);
		const remaining = await listRepoFiles(repo, 'snapshots');
		expect(remaining).toContain(damaged);
		// The readable ones were still handled: alpha and beta keep one each.
		expect(remaining).toHaveLength(3);
	});

	it('treats a snapshot whose time cannot be read as unreadable', async () => {
		const {repo, snapshots} = await makeRepo([...TIMELINE, {time: 'yesterday at noon'}]);
		const odd = snapshots.find((s) => s.time === 'yesterday at noon')!;
		const result = await cairn(['forget', '--repo', repo, '--keep-last', '1'], 1);
		expect(result.stderr).toContain(`error: snapshot ${odd.id.slice(0, 8)} cannot be read and is left alone: invalid snapshot time "yesterday at noon"`);
		expect(await listRepoFiles(repo, 'snapshots')).toContain(odd.id);
	});
});

describe('--prune', () => {
	it('prunes after removing snapshots, under the same lock; restic check --read-data passes', async () => {
		// Two backups of different content, so the older one has data only it uses.
		const repo = path.join(base, `prune-${++counter}`);
		const src = path.join(base, `prune-src-${counter}`);
		await fs.mkdir(src);
		await cairn(['init', '--repo', repo]);
		await fs.writeFile(path.join(src, 'old.bin'), Buffer.alloc(200_000, 7));
		await cairn(['backup', '--repo', repo, src, '-q', '--time', '2024-01-01 10:00:00']);
		await fs.rm(path.join(src, 'old.bin'));
		await fs.writeFile(path.join(src, 'new.txt'), 'new\n');
		await cairn(['backup', '--repo', repo, src, '-q', '--time', '2024-01-02 10:00:00']);
		const before = await listPacks(repo);

		const dry = await cairn(['forget', '--repo', repo, '--keep-last', '1', '--prune', '--dry-run']);
		expect(dry.stdout).toContain('--prune with --dry-run: the prune is not simulated');
		expect(await listPacks(repo)).toEqual(before);
		expect(await listRepoFiles(repo, 'snapshots')).toHaveLength(2);

		const result = await cairn(['forget', '--repo', repo, '--keep-last', '1', '--prune', '--max-unused', '0']);
		expect(result.stdout).toContain('removed 1 snapshot\npruning the repository');
		expect(result.stdout).toMatch(/done: deleted [1-9]\d* pack files/);
		const after = await listPacks(repo);
		const bytes = (packs: Map<string, number>): number => [...packs.values()].reduce((a, b) => a + b, 0);
		expect(bytes(after)).toBeLessThan(bytes(before));
		expect(await listRepoFiles(repo, 'snapshots')).toHaveLength(1);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
		const check = await runRestic(['-r', repo, 'check', '--read-data'], {env});
		expect(check.code, describeRun(check)).toBe(0);
	});
});

describe('--quiet', () => {
	it('prints nothing on success', async () => {
		const {repo} = await makeRepo();
		const result = await cairn(['forget', '--repo', repo, '--keep-daily', '2', '-q']);
		expect(result.stdout).toBe('');
		expect(result.stderr).toBe('');
	});
});
