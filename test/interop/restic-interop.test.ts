/**
 * Interoperability of the cairn CLI with restic 0.14 on real repositories: each side reads,
 * checks and restores what the other wrote, in format versions 2 and 1, with every compression
 * mode, and both honour each other's locks.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
	compareTrees, describeRun, jsonLines, listRepoFiles, makeTempDir, makeVariedTree, readIndexWithRestic, restoredPath,
	runCairn, runRestic, seededBytes, startCairn, waitFor, type TreeInfo,
} from '../helpers/cli.js';

const PASSWORD = 'interop password ü';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

let base: string;
let src: string;
let tree: TreeInfo;
let counter = 0;

/** A new path below the suite's temporary directory. */
function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function cairn(args: string[], expectedCode = 0): Promise<string> {
	const result = await runCairn(args, {env});
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result.stdout;
}

async function restic(args: string[], expectedCode = 0): Promise<string> {
	const result = await runRestic(args, {env});
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result.stdout;
}

/** Every entry below the source, as absolute paths, plus the directories leading to it (what `ls` shows). */
function expectedLsPaths(sources: string[]): string[] {
	const paths = new Set<string>();
	for (const source of sources) {
		const parts = source.split('/').filter(Boolean);
		for (let i = 1; i <= parts.length; i++) paths.add('/' + parts.slice(0, i).join('/'));
	}
	for (const rel of [...tree.files.keys(), ...tree.dirs, ...tree.symlinks.keys()]) paths.add(path.join(src, rel));
	return [...paths].sort();
}

async function expectRestoredByCairn(repo: string, snapshot: string): Promise<void> {
	const target = fresh('cairn-restore');
	await cairn(['restore', snapshot, '--repo', repo, '--target', target]);
	expect(await compareTrees(src, restoredPath(target, src))).toEqual([]);
	await fs.rm(target, {recursive: true, force: true});
}

async function expectRestoredByRestic(repo: string, snapshot: string, sources: string[] = [src]): Promise<void> {
	const target = fresh('restic-restore');
	await restic(['-r', repo, 'restore', snapshot, '--target', target]);
	for (const source of sources) expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	await fs.rm(target, {recursive: true, force: true});
}

beforeAll(async () => {
	base = await makeTempDir('cairn-interop-');
	src = path.join(base, 'src');
	tree = await makeVariedTree(src, {seed: 'interop'});
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('the varied source tree', () => {
	it('has every kind of entry the interop checks rely on', async () => {
		expect(tree.files.get('big.bin')).toBeGreaterThan(20 * 1024 * 1024);
		expect([...tree.files.values()].filter((size) => size === 0).length).toBeGreaterThanOrEqual(2);
		expect(tree.emptyDirs.length).toBeGreaterThanOrEqual(1);
		for (const dir of tree.emptyDirs) expect(await fs.readdir(path.join(src, dir))).toEqual([]);
		expect(tree.files.has('ü ñ 日本.txt')).toBe(true);
		// The sparse file really has holes: it occupies fewer blocks than its size.
		const sparse = await fs.stat(path.join(src, 'sparse.img'));
		expect(sparse.blocks * 512).toBeLessThan(sparse.size);
		expect((await fs.stat(path.join(src, 'modes/script.sh'))).mode & 0o777).toBe(0o750);
		expect((await fs.stat(path.join(src, 'modes/read-only.txt'))).mode & 0o777).toBe(0o400);
		await expect(fs.stat(path.join(src, 'dangling'))).rejects.toThrow(/ENOENT/);
		expect(await fs.readlink(path.join(src, 'link-to-small'))).toBe('small.txt');
	});
});

describe('(a) cairn writes, restic reads', () => {
	it('restic check --read-data passes and restic restores an identical tree', async () => {
		const repo = fresh('repo-a');
		await cairn(['init', '--repo', repo]);
		const lines = jsonLines(await cairn(['backup', '--json', '--repo', repo, src]));
		const summary = lines.at(-1)!;
		expect(summary.message_type).toBe('summary');
		expect(summary.total_files_processed).toBe(tree.files.size);
		expect(summary.total_bytes_processed).toBe(tree.bytes);

		const check = await restic(['-r', repo, 'check', '--read-data']);
		expect(check).toContain('no errors were found');
		const snapshots = JSON.parse(await restic(['-r', repo, 'snapshots', '--json'])) as Array<Record<string, unknown>>;
		expect(snapshots.map((s) => s.id)).toEqual([summary.snapshot_id]);
		expect(snapshots[0]!.paths).toEqual([src]);
		await expectRestoredByRestic(repo, 'latest');
	});
});

describe('(b, c) restic writes, cairn reads and adds to it', () => {
	let repo: string;
	let resticSnapshot: Record<string, unknown>;

	beforeAll(async () => {
		repo = fresh('repo-b');
		await restic(['-r', repo, 'init']);
		await restic(['-r', repo, 'backup', '--tag', 'first', '--tag', 'second', src]);
		resticSnapshot = (JSON.parse(await restic(['-r', repo, 'snapshots', '--json'])) as Array<Record<string, unknown>>)[0]!;
	});

	it('(b) snapshots --json shows restic\'s snapshot with the same fields', async () => {
		const listed = JSON.parse(await cairn(['snapshots', '--json', '--repo', repo])) as Array<Record<string, unknown>>;
		expect(listed).toHaveLength(1);
		const snapshot = listed[0]!;
		expect(snapshot.id).toBe(resticSnapshot.id);
		expect(snapshot.id).toMatch(/^[0-9a-f]{64}$/);
		expect(snapshot.short_id).toBe((resticSnapshot.id as string).slice(0, 8));
		expect(snapshot.short_id).toBe(resticSnapshot.short_id);
		expect(new Date(snapshot.time as string).getTime()).toBe(new Date(resticSnapshot.time as string).getTime());
		expect(snapshot.time).toBe(resticSnapshot.time);
		expect(snapshot.tree).toBe(resticSnapshot.tree);
		expect(snapshot.paths).toEqual([src]);
		expect(snapshot.hostname).toBe(os.hostname());
		expect(snapshot.username).toBe(os.userInfo().username);
		expect(snapshot.tags).toEqual(['first', 'second']);
	});

	it('(b) ls lists the same paths as restic ls', async () => {
		const ours = (await cairn(['ls', 'latest', '--repo', repo])).split('\n').filter(Boolean).sort();
		const theirs = (await restic(['-r', repo, 'ls', 'latest'])).split('\n').filter((l) => l.startsWith('/')).sort();
		expect(ours).toEqual(theirs);
		expect(ours).toEqual(expectedLsPaths([src]));
	});

	it('(b) restore gives an identical tree', async () => {
		await expectRestoredByCairn(repo, resticSnapshot.id as string);
	});

	it('(c) a cairn backup of the same tree adds no data blobs and restic check passes after', async () => {
		// --force reads and chunks every file again: no new data blob means the chunker cuts exactly as restic's.
		const forced = jsonLines(await cairn(['backup', '--json', '--force', '--repo', repo, src])).at(-1)!;
		expect(forced.message_type).toBe('summary');
		expect(forced.data_blobs).toBe(0);
		expect(forced.files_new).toBe(tree.files.size);
		// Without --force, restic's snapshot (or the one just made) is the parent.
		const plain = jsonLines(await cairn(['backup', '--json', '--repo', repo, src])).at(-1)!;
		expect(plain.data_blobs).toBe(0);
		expect(plain.files_unmodified).toBe(tree.files.size);
		expect(plain.parent).toBe(forced.snapshot_id);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');
		await expectRestoredByRestic(repo, plain.snapshot_id as string);
	});
});

describe('(d) restic compression modes', () => {
	for (const mode of ['off', 'max'] as const) {
		it(`reads and restores a backup made with --compression ${mode}`, async () => {
			const repo = fresh(`repo-compression-${mode}`);
			await restic(['-r', repo, 'init']);
			await restic(['-r', repo, 'backup', '--compression', mode, src]);
			const packs = await readIndexWithRestic(repo, PASSWORD);
			const compressed = packs.flatMap((p) => p.blobs).filter((b) => b.type === 'data' && (b.uncompressed_length ?? 0) > 0);
			// The repository really is in the mode under test.
			if (mode === 'off') expect(compressed).toEqual([]);
			else expect(compressed.length).toBeGreaterThan(0);
			const listed = JSON.parse(await cairn(['snapshots', '--json', '--repo', repo])) as Array<Record<string, unknown>>;
			expect(listed).toHaveLength(1);
			await expectRestoredByCairn(repo, 'latest');
		});
	}
});

describe('(e) format version 1', () => {
	it('reads, restores and extends a restic v1 repository that restic still checks', async () => {
		const repo = fresh('repo-v1');
		await restic(['-r', repo, 'init', '--repository-version', '1']);
		expect(JSON.parse(await restic(['-r', repo, 'cat', 'config'])).version).toBe(1);
		await restic(['-r', repo, 'backup', src]);

		const listed = JSON.parse(await cairn(['snapshots', '--json', '--repo', repo])) as Array<Record<string, unknown>>;
		expect(listed).toHaveLength(1);
		expect(listed[0]!.paths).toEqual([src]);
		expect((await cairn(['ls', 'latest', '--repo', repo])).split('\n').filter(Boolean).sort()).toEqual(expectedLsPaths([src]));
		await expectRestoredByCairn(repo, listed[0]!.id as string);

		// New data in a v1 repository: blobs must go uncompressed into v1 packs.
		const extra = fresh('extra');
		await fs.mkdir(extra);
		await fs.writeFile(path.join(extra, 'new.bin'), seededBytes('v1-extra', 300_000));
		await fs.writeFile(path.join(extra, 'text.txt'), 'compressible text\n'.repeat(10_000));
		const summary = jsonLines(await cairn(['backup', '--json', '--repo', repo, src, extra])).at(-1)!;
		expect(summary.message_type).toBe('summary');
		expect(summary.data_blobs).toBeGreaterThan(0);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');
		expect(JSON.parse(await restic(['-r', repo, 'cat', 'config'])).version).toBe(1);
		await expectRestoredByRestic(repo, summary.snapshot_id as string, [src, extra]);
	});

	it('cairn init --repository-version 1 makes a v1 repository restic checks', async () => {
		const repo = fresh('repo-cairn-v1');
		await cairn(['init', '--repository-version', '1', '--repo', repo]);
		expect(JSON.parse(await restic(['-r', repo, 'cat', 'config'])).version).toBe(1);
		const summary = jsonLines(await cairn(['backup', '--json', '--repo', repo, src])).at(-1)!;
		expect(summary.data_blobs).toBeGreaterThan(0);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');
		await expectRestoredByRestic(repo, 'latest');
	});
});

describe('(f) locks', () => {
	it('restic sees a live cairn lock: lists it, does not remove it, and prune refuses to run', async () => {
		const repo = fresh('repo-lock');
		await cairn(['init', '--repo', repo]);
		const backup = startCairn(['backup', '--force', '--repo', repo, src], {env, detached: true});
		let stopped = false;
		try {
			const lockId = await waitFor(async () => (await listRepoFiles(repo, 'locks'))[0]);
			// Freeze cairn while it holds the lock, so that restic's view of it is deterministic.
			backup.child.kill('SIGSTOP');
			stopped = true;
			expect((await restic(['-r', repo, 'list', 'locks'])).split('\n')).toContain(lockId);
			const lock = JSON.parse(await restic(['-r', repo, 'cat', 'lock', lockId])) as Record<string, unknown>;
			expect(lock).toMatchObject({exclusive: false, hostname: os.hostname(), pid: backup.child.pid});
			// restic 0.14 decides whether a lock of this host is stale by sending SIGHUP to its PID.
			await restic(['-r', repo, 'unlock']);
			expect(await listRepoFiles(repo, 'locks')).toContain(lockId);
			const prune = await runRestic(['-r', repo, 'prune'], {env});
			expect(prune.code, describeRun(prune)).not.toBe(0);
			expect(prune.stderr).toMatch(/already locked/);
			expect(prune.stderr).toContain(`PID ${backup.child.pid}`);
		} finally {
			if (stopped) backup.child.kill('SIGCONT');
		}
		const result = await backup.done;
		expect(result.signal, `cairn must survive the SIGHUP restic sends to probe a lock holder\n${describeRun(result)}`).toBeNull();
		expect(result.code, describeRun(result)).toBe(0);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
		expect(await restic(['-r', repo, 'check'])).toContain('no errors were found');
	});

	it('a running cairn backup survives SIGHUP (restic 0.14 probes lock holders with it) and saves its snapshot', async () => {
		const repo = fresh('repo-sighup');
		await cairn(['init', '--repo', repo]);
		const backup = startCairn(['backup', '--json', '--force', '--repo', repo, src], {env});
		await waitFor(async () => (await listRepoFiles(repo, 'locks'))[0]);
		backup.child.kill('SIGHUP');
		const result = await backup.done;
		expect(result.signal, describeRun(result)).toBeNull();
		expect(result.code, describeRun(result)).toBe(0);
		expect(await listRepoFiles(repo, 'snapshots')).toHaveLength(1);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
	});
});
