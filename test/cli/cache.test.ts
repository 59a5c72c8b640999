/**
 * The local cache from the command line: --cache-dir, CAIRN_CACHE_DIR, XDG_CACHE_HOME, --no-cache,
 * check without the cache, and a snapshot that restic forgets leaving the cache on the next run.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {describeRun, listRepoFiles, makeTempDir, runCairn, runRestic, type RunResult} from '../helpers/cli.js';

const PASSWORD = 'cache password';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

let base: string;
let source: string;
let repo: string;
let counter = 0;

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function cairn(args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
	const result = await runCairn(args, {env: {...env, ...extraEnv}});
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

async function exists(file: string): Promise<boolean> {
	return fs.stat(file).then(() => true, () => false);
}

/** The one repository directory in a cache base directory (beside it: the tag, and the key hint of the location). */
async function findRepositoryCache(cacheBase: string): Promise<string> {
	const hints = await fs.readdir(path.join(cacheBase, 'key-hints'));
	expect(hints).toHaveLength(1);
	expect(hints[0]).toMatch(/^[0-9a-f]{64}$/);
	expect((await fs.stat(path.join(cacheBase, 'key-hints', hints[0]!))).mode & 0o777).toBe(0o600);
	const entries = (await fs.readdir(cacheBase)).filter((name) => name !== 'CACHEDIR.TAG' && name !== 'key-hints');
	expect(entries).toHaveLength(1);
	expect(entries[0]).toMatch(/^[0-9a-f]{64}$/);
	return path.join(cacheBase, entries[0]!);
}

/** The IDs cached of a type, in restic's layout (`<type>/<first two hex chars>/<id>`). */
async function listCached(dir: string, type: 'snapshots' | 'index'): Promise<string[]> {
	const names: string[] = [];
	for (const sub of await fs.readdir(path.join(dir, type))) {
		expect(sub).toMatch(/^[0-9a-f]{2}$/);
		for (const name of await fs.readdir(path.join(dir, type, sub))) {
			expect(name.startsWith(sub) && /^[0-9a-f]{64}$/.test(name)).toBe(true);
			names.push(name);
		}
	}
	return names.sort();
}

beforeAll(async () => {
	base = await makeTempDir('cairn-cache-cli-');
	source = path.join(base, 'src');
	await fs.mkdir(path.join(source, 'sub'), {recursive: true});
	await fs.writeFile(path.join(source, 'a.txt'), 'a\n');
	await fs.writeFile(path.join(source, 'sub', 'b.txt'), 'b\n');
	repo = fresh('repo');
	await cairn(['init', '--repo', repo, '--no-cache']);
	for (let i = 0; i < 2; i++) {
		await fs.writeFile(path.join(source, 'a.txt'), `a ${i}\n`);
		await cairn(['backup', '-q', '--no-cache', '--repo', repo, source]);
	}
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('cairn and the local cache', () => {
	it('--cache-dir: snapshots and ls fill it in restic\'s layout, with a CACHEDIR.TAG', async () => {
		const cacheBase = fresh('cache');
		await cairn(['snapshots', '--repo', repo, '--cache-dir', cacheBase]);
		const listed = await cairn(['ls', 'latest', '--repo', repo, '--cache-dir', cacheBase]);
		expect(listed.stdout).toContain('b.txt');
		const dir = await findRepositoryCache(cacheBase);
		// Listed snapshots are kept as one sealed list, not a file each.
		expect(await listCached(dir, 'snapshots')).toEqual([]);
		expect((await fs.stat(path.join(dir, 'snapshot-list'))).mode & 0o777).toBe(0o600);
		expect(await fs.readFile(path.join(dir, 'version'), 'utf8')).toBe('1');
		expect(await listCached(dir, 'index')).toEqual(await listRepoFiles(repo, 'index'));
		const packDirs = (await fs.readdir(path.join(dir, 'data'))).filter((name) => /^[0-9a-f]{2}$/.test(name));
		expect(packDirs.length).toBeGreaterThan(0);
		expect(await fs.readFile(path.join(cacheBase, 'CACHEDIR.TAG'), 'utf8')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55/);
		expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
		const index = (await listCached(dir, 'index'))[0]!;
		expect((await fs.stat(path.join(dir, 'index', index.slice(0, 2), index))).mode & 0o777).toBe(0o600);
	});

	it('CAIRN_CACHE_DIR and XDG_CACHE_HOME name the cache when --cache-dir is not given', async () => {
		const fromEnv = fresh('cache-env');
		await cairn(['snapshots', '--repo', repo], {CAIRN_CACHE_DIR: fromEnv});
		expect(await exists(path.join(await findRepositoryCache(fromEnv), 'snapshot-list'))).toBe(true);

		const xdg = fresh('xdg');
		await cairn(['snapshots', '--repo', repo], {XDG_CACHE_HOME: xdg, HOME: fresh('home')});
		expect(await exists(path.join(await findRepositoryCache(path.join(xdg, 'cairn')), 'snapshot-list'))).toBe(true);
	});

	it('--no-cache uses no cache, even with a cache directory named', async () => {
		const cacheBase = fresh('cache-none');
		await cairn(['snapshots', '--repo', repo, '--no-cache', '--cache-dir', cacheBase], {CAIRN_CACHE_DIR: cacheBase});
		await cairn(['ls', 'latest', '--repo', repo, '--no-cache'], {CAIRN_CACHE_DIR: cacheBase});
		expect(await exists(cacheBase)).toBe(false);
	});

	it('check reads the repository, not the cache', async () => {
		const cacheBase = fresh('cache-check');
		await cairn(['check', '--repo', repo, '--cache-dir', cacheBase]);
		expect(await exists(cacheBase)).toBe(false);
	});

	it('a backup through the cache leaves its snapshot and index in it; restic reads the repository as before', async () => {
		const cacheBase = fresh('cache-backup');
		const copy = fresh('repo-copy');
		await fs.cp(repo, copy, {recursive: true});
		await fs.writeFile(path.join(source, 'a.txt'), 'a after\n');
		await cairn(['backup', '-q', '--repo', copy, '--cache-dir', cacheBase, source]);
		const dir = await findRepositoryCache(cacheBase);
		const stored = await listRepoFiles(copy, 'snapshots');
		expect(stored).toHaveLength(3);
		const before = await listRepoFiles(repo, 'snapshots');
		const added = stored.filter((id) => !before.includes(id));
		expect(added).toHaveLength(1);
		// The snapshot written is cached as a file; those read (to find the parent) are in the list.
		expect(await listCached(dir, 'snapshots')).toEqual(added);
		expect(await listCached(dir, 'index')).toEqual(await listRepoFiles(copy, 'index'));
		const checked = await runRestic(['-r', copy, 'check'], {env});
		expect(checked.code, describeRun(checked)).toBe(0);
	});

	it('drops a snapshot that restic forgot on the next run', async () => {
		const cacheBase = fresh('cache-forget');
		const copy = fresh('repo-copy');
		await fs.cp(repo, copy, {recursive: true});
		const before = await listRepoFiles(copy, 'snapshots');
		await fs.writeFile(path.join(source, 'a.txt'), 'a to forget\n');
		// A backup through the cache leaves its snapshot file there; the listing keeps the others in its list.
		await cairn(['backup', '-q', '--repo', copy, '--cache-dir', cacheBase, source]);
		const dir = await findRepositoryCache(cacheBase);
		const [added] = (await listRepoFiles(copy, 'snapshots')).filter((id) => !before.includes(id));
		expect(await listCached(dir, 'snapshots')).toEqual([added]);
		const all = await cairn(['snapshots', '--json', '--repo', copy, '--cache-dir', cacheBase]);
		expect((JSON.parse(all.stdout) as Array<{id: string}>).map((s) => s.id).sort()).toEqual([...before, added!].sort());
		const forgot = await runRestic(['-r', copy, 'forget', added!, before[0]!], {env});
		expect(forgot.code, describeRun(forgot)).toBe(0);
		const listed = await cairn(['snapshots', '--json', '--repo', copy, '--cache-dir', cacheBase]);
		expect((JSON.parse(listed.stdout) as Array<{id: string}>).map((s) => s.id)).toEqual([before[1]]);
		expect(await listCached(dir, 'snapshots')).toEqual([]);
	});
});
