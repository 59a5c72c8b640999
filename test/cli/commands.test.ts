/**
 * The scriptable commands end to end: keys, JSON output of backup, snapshots and ls, snapshot
 * metadata flags, excludes, partial restores, where the repository and password come from, and
 * parent snapshots.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
	compareTrees, describeRun, jsonLines, listRepoFiles, makeTempDir, makeVariedTree, restoredPath, runCairn, runRestic,
	type RunOptions, type RunResult, type TreeInfo,
} from '../helpers/cli.js';

const PASSWORD = 'commands password';
const env = {CAIRN_PASSWORD: PASSWORD};

let base: string;
let src: string;
let tree: TreeInfo;
let counter = 0;

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function cairn(args: string[], options: RunOptions = {env}, expectedCode = 0): Promise<RunResult> {
	const result = await runCairn(args, options);
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result;
}

async function newRepo(): Promise<string> {
	const repo = fresh('repo');
	await cairn(['init', '--repo', repo]);
	return repo;
}

function summaryOf(result: RunResult): Record<string, unknown> {
	const summary = jsonLines(result.stdout).at(-1)!;
	expect(summary.message_type).toBe('summary');
	return summary;
}

async function snapshotsJson(repo: string, options: RunOptions = {env}): Promise<Array<Record<string, unknown>>> {
	return JSON.parse((await cairn(['snapshots', '--json', '--repo', repo], options)).stdout) as Array<Record<string, unknown>>;
}

beforeAll(async () => {
	base = await makeTempDir('cairn-commands-');
	src = path.join(base, 'src');
	tree = await makeVariedTree(src, {seed: 'commands', bigFileSize: 2 * 1024 * 1024});
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('key', () => {
	it('list, add, remove and passwd: a round trip of passwords', async () => {
		const repo = await newRepo();
		const as = (password: string): RunOptions => ({env: {CAIRN_PASSWORD: password}});
		const keys = async (password: string): Promise<Array<{current: boolean; id: string; userName: string; hostName: string; created: string}>> =>
			JSON.parse((await cairn(['key', 'list', '--json', '--repo', repo], as(password))).stdout);

		const first = await keys(PASSWORD);
		expect(first).toHaveLength(1);
		expect(first[0]).toMatchObject({current: true, userName: os.userInfo().username, hostName: os.hostname()});
		expect(Number.isNaN(Date.parse(first[0]!.created))).toBe(false);
		const firstId = first[0]!.id;
		const fullFirstId = (await listRepoFiles(repo, 'keys'))[0]!;
		expect(fullFirstId.startsWith(firstId)).toBe(true);

		// add: the new password comes from CAIRN_NEW_PASSWORD; both passwords open the repository.
		const added = await cairn(['key', 'add', '--repo', repo, '--host', 'elsewhere', '--user', 'someone'], {env: {CAIRN_PASSWORD: PASSWORD, CAIRN_NEW_PASSWORD: 'second password'}});
		const addedId = /saved new key ([0-9a-f]{8})/.exec(added.stdout)?.[1];
		expect(addedId, added.stdout).toBeDefined();
		const two = await keys('second password');
		expect(two.map((k) => k.id).sort()).toEqual([firstId, addedId!].sort());
		expect(two.find((k) => k.id === addedId)).toMatchObject({current: true, userName: 'someone', hostName: 'elsewhere'});
		expect(two.find((k) => k.id === firstId)!.current).toBe(false);
		const resticWithSecond = await runRestic(['-r', repo, 'snapshots'], {env: {RESTIC_PASSWORD: 'second password'}});
		expect(resticWithSecond.code, describeRun(resticWithSecond)).toBe(0);

		// add without a new password and without a terminal is a usage error.
		const noNew = await runCairn(['key', 'add', '--repo', repo], as(PASSWORD));
		expect(noNew.code, describeRun(noNew)).toBe(2);
		expect(noNew.stderr).toMatch(/CAIRN_NEW_PASSWORD|--new-password-file/);

		// remove: the key in use cannot be removed; another one can.
		const refused = await runCairn(['key', 'remove', firstId, '--repo', repo], as(PASSWORD));
		expect(refused.code, describeRun(refused)).toBe(1);
		expect(refused.stderr).toMatch(/refusing to remove/);
		expect(refused.stderr).toMatch(/currently used/);
		expect(await keys(PASSWORD)).toHaveLength(2);
		const removed = await cairn(['key', 'remove', firstId, '--repo', repo], as('second password'));
		expect(removed.stdout).toContain(firstId);
		const gone = await runCairn(['snapshots', '--repo', repo], as(PASSWORD));
		expect(gone.code, describeRun(gone)).toBe(12);

		// passwd: the new password from --new-password-file replaces the old one.
		const newPasswordFile = path.join(base, `new-password-${++counter}`);
		await fs.writeFile(newPasswordFile, 'third password\n');
		const changed = await cairn(['key', 'passwd', '--repo', repo, '--new-password-file', newPasswordFile], as('second password'));
		expect(changed.stdout).toMatch(/password changed/);
		const old = await runCairn(['snapshots', '--repo', repo], as('second password'));
		expect(old.code, describeRun(old)).toBe(12);
		const last = await keys('third password');
		expect(last).toHaveLength(1);
		expect(last[0]!.current).toBe(true);
		expect(last[0]!.id).not.toBe(addedId);
		const resticWithThird = await runRestic(['-r', repo, 'key', 'list', '--json'], {env: {RESTIC_PASSWORD: 'third password'}});
		expect(resticWithThird.code, describeRun(resticWithThird)).toBe(0);
		expect((JSON.parse(resticWithThird.stdout) as Array<{id: string}>).map((k) => k.id)).toEqual([last[0]!.id]);
	});

	it('an unknown key action is a usage error', async () => {
		const repo = await newRepo();
		const result = await runCairn(['key', 'rotate', '--repo', repo], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/list, add, remove or passwd/);
	});
});

describe('backup, snapshots and ls output', () => {
	let repo: string;
	let first: RunResult;
	let firstSummary: Record<string, unknown>;

	beforeAll(async () => {
		repo = await newRepo();
		first = await cairn(['backup', '--json', '--repo', repo, '--tag', 'alpha', '--tag', 'beta,gamma', '--host', 'test-host', src]);
		firstSummary = summaryOf(first);
	});

	it('backup --json prints status lines and then one summary with the snapshot ID', () => {
		const lines = jsonLines(first.stdout);
		expect(first.stdout.trim().split('\n')).toHaveLength(lines.length);
		const statuses = lines.slice(0, -1);
		expect(statuses.length).toBeGreaterThan(0);
		for (const status of statuses) {
			expect(status.message_type).toBe('status');
			expect(typeof status.percent_done).toBe('number');
			expect(typeof status.files_done).toBe('number');
			expect(typeof status.bytes_done).toBe('number');
		}
		expect(lines.filter((l) => l.message_type === 'summary')).toHaveLength(1);
		expect(firstSummary.snapshot_id).toMatch(/^[0-9a-f]{64}$/);
		expect(firstSummary.files_new).toBe(tree.files.size);
		expect(firstSummary.total_files_processed).toBe(tree.files.size);
		expect(firstSummary.total_bytes_processed).toBe(tree.bytes);
		expect(firstSummary.data_blobs).toBeGreaterThan(0);
		expect(firstSummary.data_added).toBeGreaterThan(0);
		expect(firstSummary.parent).toBeUndefined();
	});

	it('snapshots --json has restic\'s fields plus id and short_id; --tag and --host are recorded', async () => {
		const listed = await snapshotsJson(repo);
		expect(listed).toHaveLength(1);
		const snapshot = listed[0]!;
		expect(snapshot.id).toBe(firstSummary.snapshot_id);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual([snapshot.id]);
		expect(snapshot.short_id).toBe((snapshot.id as string).slice(0, 8));
		expect(snapshot.tree).toMatch(/^[0-9a-f]{64}$/);
		expect(snapshot.paths).toEqual([src]);
		expect(snapshot.hostname).toBe('test-host');
		expect(snapshot.username).toBe(os.userInfo().username);
		expect(snapshot.tags).toEqual(['alpha', 'beta', 'gamma']);
		expect(Math.abs(Date.parse(snapshot.time as string) - Date.now())).toBeLessThan(5 * 60_000);
		const theirs = (JSON.parse((await runRestic(['-r', repo, 'snapshots', '--json'], {env: {RESTIC_PASSWORD: PASSWORD}})).stdout) as Array<Record<string, unknown>>)[0]!;
		for (const field of ['id', 'short_id', 'time', 'tree', 'paths', 'hostname', 'username', 'tags']) expect(snapshot[field], field).toEqual(theirs[field]);
		// Filters.
		expect(await snapshotsJson(repo)).toHaveLength(1);
		expect(JSON.parse((await cairn(['snapshots', '--json', '--repo', repo, '--host', 'other-host'])).stdout)).toEqual([]);
		expect(JSON.parse((await cairn(['snapshots', '--json', '--repo', repo, '--tag', 'alpha,gamma'])).stdout)).toHaveLength(1);
		expect(JSON.parse((await cairn(['snapshots', '--json', '--repo', repo, '--tag', 'delta'])).stdout)).toEqual([]);
	});

	it('ls --json prints the snapshot and then one node per entry with its metadata', async () => {
		const result = await cairn(['ls', '--json', 'latest', '--repo', repo]);
		const [head, ...nodes] = jsonLines(result.stdout);
		expect(head).toMatchObject({struct_type: 'snapshot', id: firstSummary.snapshot_id, short_id: (firstSummary.snapshot_id as string).slice(0, 8), paths: [src], hostname: 'test-host'});
		for (const node of nodes) expect(node.struct_type).toBe('node');
		const byPath = new Map(nodes.map((n) => [n.path as string, n]));
		for (const [rel, size] of tree.files) {
			const node = byPath.get(path.join(src, rel));
			expect(node, rel).toBeDefined();
			expect(node).toMatchObject({type: 'file', size, name: path.basename(rel)});
			// Exact milliseconds from the nanoseconds: mtimeMs is a double, which Node 24 may round up.
			const stats = await fs.lstat(path.join(src, rel), {bigint: true});
			expect(Date.parse(node!.mtime as string), rel).toBe(Number(stats.mtimeNs / 1_000_000n));
			expect((node!.mode as number) % 0o1000).toBe(Number(stats.mode & 0o777n));
		}
		for (const [rel, target] of tree.symlinks) expect(byPath.get(path.join(src, rel)), rel).toMatchObject({type: 'symlink', linktarget: target});
		for (const rel of tree.dirs) expect(byPath.get(path.join(src, rel)), rel).toMatchObject({type: 'dir'});
		expect(byPath.get(path.join(src, 'modes/script.sh'))!.permissions).toBe('-rwxr-x---');
		expect(byPath.get(path.join(src, 'modes/read-only.txt'))!.permissions).toBe('-r--------');
		const inTree = [...tree.files.keys(), ...tree.symlinks.keys(), ...tree.dirs].map((rel) => path.join(src, rel));
		const ancestors = src.split('/').filter(Boolean).map((_, i, parts) => '/' + parts.slice(0, i + 1).join('/'));
		expect([...byPath.keys()].sort()).toEqual([...ancestors, ...inTree].sort());
	});

	it('ls with a path lists that directory, and --recursive everything below it', async () => {
		const dir = path.join(src, 'nested');
		const flat = (await cairn(['ls', 'latest', dir, '--repo', repo])).stdout.split('\n').filter(Boolean);
		const entries = await fs.readdir(dir);
		expect(flat.sort()).toEqual([dir, ...entries.map((e) => path.join(dir, e))].sort());
		const deep = (await cairn(['ls', 'latest', dir, '--recursive', '--repo', repo])).stdout.split('\n').filter(Boolean);
		const below = [...tree.files.keys(), ...tree.symlinks.keys(), ...tree.dirs].filter((rel) => rel.startsWith('nested/')).map((rel) => path.join(src, rel));
		expect(deep.sort()).toEqual([dir, ...below].sort());
		const missing = await runCairn(['ls', 'latest', path.join(src, 'no-such-dir'), '--repo', repo], {env});
		expect(missing.code, describeRun(missing)).toBe(1);
		expect(missing.stderr).toMatch(/is not in snapshot/);
	});

	it('a second backup with the parent reports unchanged files and stores no data', async () => {
		const second = summaryOf(await cairn(['backup', '--json', '--repo', repo, '--host', 'test-host', src]));
		expect(second.parent).toBe(firstSummary.snapshot_id);
		expect(second.files_unmodified).toBe(tree.files.size);
		expect(second.files_new).toBe(0);
		expect(second.files_changed).toBe(0);
		expect(second.data_blobs).toBe(0);
		expect(second.total_files_processed).toBe(tree.files.size);
		// --force ignores the parent: every file is read again, and still nothing new is stored.
		const third = summaryOf(await cairn(['backup', '--json', '--repo', repo, '--host', 'test-host', '--force', src]));
		expect(third.parent).toBeUndefined();
		expect(third.files_new).toBe(tree.files.size);
		expect(third.data_blobs).toBe(0);
	});
});

describe('backup flags', () => {
	it('--time sets the snapshot time, read in the local time zone (restic agrees)', async () => {
		const repo = await newRepo();
		const zone = 'Asia/Tokyo';
		await cairn(['backup', '-q', '--repo', repo, '--time', '2020-01-02 03:04:05', src], {env: {...env, TZ: zone}});
		// 03:04:05 in Tokyo (UTC+9, no daylight saving) is 18:04:05 UTC the day before.
		const expected = Date.UTC(2020, 0, 1, 18, 4, 5);
		const ours = await snapshotsJson(repo);
		expect(Date.parse(ours[0]!.time as string)).toBe(expected);
		expect(ours[0]!.time).toBe('2020-01-02T03:04:05+09:00');
		const theirs = JSON.parse((await runRestic(['-r', repo, 'snapshots', '--json'], {env: {RESTIC_PASSWORD: PASSWORD}})).stdout) as Array<{time: string}>;
		expect(Date.parse(theirs[0]!.time)).toBe(expected);
		const utc = await newRepo();
		await cairn(['backup', '-q', '--repo', utc, '--time', '2020-01-02 03:04:05', src], {env: {...env, TZ: 'UTC'}});
		expect(Date.parse((await snapshotsJson(utc))[0]!.time as string)).toBe(Date.UTC(2020, 0, 2, 3, 4, 5));
	});

	it('--exclude takes globs (*.log) and directory names', async () => {
		const source = fresh('exclude-src');
		await fs.mkdir(path.join(source, 'cache', 'deep'), {recursive: true});
		await fs.mkdir(path.join(source, 'keep', 'cache-not'), {recursive: true});
		await fs.mkdir(path.join(source, 'keep', 'cache'), {recursive: true});
		const files = {
			'a.txt': 'keep', 'a.log': 'drop', 'keep/b.log': 'drop', 'keep/b.txt': 'keep', 'keep/log.txt': 'keep', 'cache/c.txt': 'drop',
			'cache/deep/d.txt': 'drop', 'keep/cache-not/e.txt': 'keep', 'keep/cache/f.txt': 'drop',
		};
		for (const [rel, content] of Object.entries(files)) await fs.writeFile(path.join(source, rel), content);
		const repo = await newRepo();
		await cairn(['backup', '-q', '--repo', repo, '--exclude', '*.log', '--exclude', 'cache', source]);
		const listed = jsonLines((await cairn(['ls', '--json', 'latest', '--repo', repo])).stdout).slice(1).map((n) => n.path as string);
		const kept = Object.entries(files).filter(([, c]) => c === 'keep').map(([rel]) => path.join(source, rel));
		const dropped = Object.entries(files).filter(([, c]) => c === 'drop').map(([rel]) => path.join(source, rel));
		for (const p of kept) expect(listed, p).toContain(p);
		for (const p of dropped) expect(listed, p).not.toContain(p);
		expect(listed).not.toContain(path.join(source, 'cache'));
		expect(listed).not.toContain(path.join(source, 'keep', 'cache'));
		expect(listed).toContain(path.join(source, 'keep', 'cache-not'));
		const snapshot = (await snapshotsJson(repo))[0]!;
		expect(snapshot.excludes).toEqual(['*.log', 'cache']);
	});
});

describe('restore --include', () => {
	it('restores only the given subpath (and the directories leading to it)', async () => {
		const repo = await newRepo();
		await cairn(['backup', '-q', '--repo', repo, src]);
		const target = fresh('target');
		const sub = path.join(src, 'nested', 'a');
		const result = await cairn(['restore', 'latest', '--json', '--repo', repo, '--target', target, '--include', sub]);
		const summary = summaryOf(result);
		const expectedFiles = [...tree.files.keys()].filter((rel) => rel.startsWith('nested/a/'));
		expect(summary.files_restored).toBe(expectedFiles.length);
		expect(await compareTrees(sub, restoredPath(target, sub))).toEqual([]);
		// Only the path to the included directory exists beside it.
		expect(await fs.readdir(restoredPath(target, src))).toEqual(['nested']);
		expect(await fs.readdir(restoredPath(target, path.join(src, 'nested')))).toEqual(['a']);

		const none = await runCairn(['restore', 'latest', '--repo', repo, '--target', fresh('target'), '--include', path.join(src, 'no-such-thing')], {env});
		expect(none.code, describeRun(none)).toBe(1);
		expect(none.stderr).toMatch(/nothing matched --include/);
	});
});

describe('where the repository and the password come from', () => {
	let repo: string;
	let snapshotId: string;

	beforeAll(async () => {
		repo = await newRepo();
		snapshotId = summaryOf(await cairn(['backup', '--json', '--repo', repo, path.join(src, 'nested')])).snapshot_id as string;
	});

	async function expectOpens(options: RunOptions, args: string[] = []): Promise<void> {
		const result = await runCairn(['snapshots', '--json', ...args], options);
		expect(result.code, describeRun(result)).toBe(0);
		expect((JSON.parse(result.stdout) as Array<{id: string}>).map((s) => s.id)).toEqual([snapshotId]);
	}

	it('CAIRN_REPOSITORY instead of --repo', async () => {
		await expectOpens({env: {CAIRN_PASSWORD: PASSWORD, CAIRN_REPOSITORY: repo}});
	});

	it('RESTIC_REPOSITORY and RESTIC_PASSWORD as fallbacks', async () => {
		await expectOpens({env: {RESTIC_PASSWORD: PASSWORD, RESTIC_REPOSITORY: repo}});
	});

	it('--repo wins over CAIRN_REPOSITORY, and CAIRN_REPOSITORY over RESTIC_REPOSITORY', async () => {
		const elsewhere = fresh('not-a-repo');
		await expectOpens({env: {CAIRN_PASSWORD: PASSWORD, CAIRN_REPOSITORY: elsewhere}}, ['--repo', repo]);
		await expectOpens({env: {CAIRN_PASSWORD: PASSWORD, CAIRN_REPOSITORY: repo, RESTIC_REPOSITORY: elsewhere}});
	});

	it('no repository at all is a usage error that names the flag and the variable', async () => {
		const result = await runCairn(['snapshots'], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/--repo/);
		expect(result.stderr).toMatch(/CAIRN_REPOSITORY/);
	});

	it('--password-file (with a trailing newline)', async () => {
		const file = path.join(base, `password-${++counter}`);
		await fs.writeFile(file, `${PASSWORD}\n`);
		await expectOpens({}, ['--repo', repo, '--password-file', file]);
		await expectOpens({env: {CAIRN_PASSWORD_FILE: file}}, ['--repo', repo]);
		const missing = await runCairn(['snapshots', '--repo', repo, '--password-file', `${file}-missing`]);
		expect(missing.code, describeRun(missing)).toBe(1);
		expect(missing.stderr).toContain(`${file}-missing`);
	});

	it('--password-command', async () => {
		const file = path.join(base, `password-${++counter}`);
		await fs.writeFile(file, PASSWORD);
		await expectOpens({}, ['--repo', repo, '--password-command', `cat '${file}'`]);
		await expectOpens({env: {CAIRN_PASSWORD_COMMAND: `printf '%s\\n' '${PASSWORD}'`}}, ['--repo', repo]);
		const failing = await runCairn(['snapshots', '--repo', repo, '--password-command', 'echo oops >&2; exit 3']);
		expect(failing.code, describeRun(failing)).toBe(1);
		expect(failing.stderr).toMatch(/password command failed/);
		expect(failing.stderr).toContain('oops');
	});
});
