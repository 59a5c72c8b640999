/**
 * The repository-changing commands (tag, rewrite, copy, migrate, repair index/snapshots/packs)
 * with restic 0.14 as the oracle: what cairn writes passes `restic check` (with --read-data where
 * data moved), shows in `restic snapshots`, and restores byte for byte as the source. Runs on
 * local repositories and on a REST server (rclone serve restic).
 */
import * as fs from 'node:fs/promises';
import {spawn} from 'node:child_process';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
	cleanEnv, compareTrees, describeRun, flipBit, jsonLines, listPacks, listRepoFiles, makeTempDir, makeVariedTree, packPath,
	readIndexWithRestic, RESTIC, restoredPath, runCairn, runRestic, startCairn, waitFor, writeSeededFile,
} from '../helpers/cli.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';

const PASSWORD = 'write commands';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

let base: string;
let src: string;
let other: string;
let rest: RcloneServer;
let counter = 0;

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function cairn(args: string[], expectedCode = 0, extraEnv: Record<string, string | undefined> = env): Promise<string> {
	const result = await runCairn(args, {env: extraEnv, cwd: base});
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result.stdout;
}

async function restic(args: string[], expectedCode = 0, extraEnv: Record<string, string | undefined> = env): Promise<string> {
	const result = await runRestic(args, {env: extraEnv});
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result.stdout;
}

interface ResticSnapshot {
	id: string;
	short_id: string;
	tree: string;
	time: string;
	paths: string[];
	tags?: string[];
	original?: string;
	parent?: string;
}

async function resticSnapshots(repo: string): Promise<ResticSnapshot[]> {
	return JSON.parse(await restic(['-r', repo, 'snapshots', '--json'])) as ResticSnapshot[];
}

/** A restic repository with one snapshot of `src` and one of `other` (tagged `other`). */
async function makeResticRepo(options: {version?: 1 | 2; location?: string} = {}): Promise<string> {
	const repo = options.location ?? fresh('restic-repo');
	await restic(['-r', repo, 'init', '--repository-version', String(options.version ?? 2)]);
	await restic(['-r', repo, '--pack-size', '4', 'backup', src]);
	await restic(['-r', repo, '--pack-size', '4', 'backup', '--tag', 'other', other]);
	return repo;
}

async function expectRestoredByRestic(repo: string, snapshot: string, source: string): Promise<void> {
	const target = fresh('restore');
	await restic(['-r', repo, 'restore', snapshot, '--target', target]);
	expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	await fs.rm(target, {recursive: true, force: true});
}

async function resticPaths(repo: string, snapshot: string): Promise<string[]> {
	return (await restic(['-r', repo, 'ls', snapshot])).split('\n').filter((line) => line.startsWith('/'));
}

beforeAll(async () => {
	base = await makeTempDir('cairn-write-');
	src = path.join(base, 'src');
	other = path.join(base, 'other');
	await makeVariedTree(src, {seed: 'write', bigFileSize: 9 * 1024 * 1024});
	await makeVariedTree(other, {seed: 'other', bigFileSize: 1024 * 1024});
	await fs.writeFile(path.join(src, 'debug.log'), 'log line\n');
	await fs.writeFile(path.join(src, 'nested', 'a', 'trace.log'), 'trace\n');
	rest = await startRcloneServer('restic');
}, 120_000);

afterAll(async () => {
	await rest?.stop();
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('tag', () => {
	it('adds, removes and sets tags on a restic repository: a new snapshot file with original, the old one removed', async () => {
		const repo = await makeResticRepo();
		const [first] = await resticSnapshots(repo);
		const before = await listRepoFiles(repo, 'snapshots');
		const out = await cairn(['tag', '--repo', repo, '--add', 'keep,important', first!.id.slice(0, 8)]);
		expect(out).toContain('modified tags on 1 snapshots');
		let snapshots = await resticSnapshots(repo);
		const tagged = snapshots.find((s) => s.original === first!.id)!;
		expect(tagged.tags).toEqual(['keep', 'important']);
		expect(tagged.tree).toBe(first!.tree);
		expect(await listRepoFiles(repo, 'snapshots')).not.toContain(first!.id);
		expect((await listRepoFiles(repo, 'snapshots')).length).toBe(before.length);

		// --remove and the filters (no ID: every snapshot passing --tag).
		await cairn(['tag', '--repo', repo, '--tag', 'keep', '--remove', 'important']);
		snapshots = await resticSnapshots(repo);
		const removed = snapshots.find((s) => s.original === first!.id)!;
		expect(removed.tags).toEqual(['keep']);
		// The original stays the first snapshot's ID across changes.
		expect(removed.original).toBe(first!.id);

		// --set with --json prints restic's messages; --set '' clears.
		const host = JSON.parse(await restic(['-r', repo, 'cat', 'snapshot', removed.id])) as {hostname: string};
		const json = jsonLines(await cairn(['tag', '--repo', repo, '--json', '--host', host.hostname, '--set', 'a', '--set', 'b']));
		expect(json.filter((m) => m.message_type === 'changed')).toHaveLength(2);
		expect(json.at(-1)).toEqual({message_type: 'summary', changed_snapshots: 2});
		for (const s of await resticSnapshots(repo)) expect(s.tags).toEqual(['a', 'b']);
		await cairn(['tag', '--repo', repo, '--set', '', 'latest']);
		expect((await resticSnapshots(repo)).filter((s) => !s.tags?.length)).toHaveLength(1);

		// Nothing to change: no new file.
		const files = await listRepoFiles(repo, 'snapshots');
		expect(await cairn(['tag', '--repo', repo, '--remove', 'absent'])).toContain('no snapshots were modified');
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(files);

		// An ID that names no snapshot is ignored with a warning (as restic); the others change; exit 1.
		const partly = await runCairn(['tag', '--repo', repo, '--add', 'z', 'ffffffff', 'latest'], {env});
		expect(partly.code, describeRun(partly)).toBe(1);
		expect(partly.stderr).toContain('Ignoring "ffffffff"');
		expect((await resticSnapshots(repo)).filter((s) => s.tags?.includes('z'))).toHaveLength(1);
		expect(await restic(['-r', repo, 'check'])).toContain('no errors were found');
	});

	it('refuses a bad combination with exit 2, and a live restic lock stops it (exit 11, nothing changed)', async () => {
		const repo = await makeResticRepo();
		const usage = await runCairn(['tag', '--repo', repo, '--set', 'x', '--add', 'y'], {env});
		expect(usage.code).toBe(2);
		expect(usage.stderr).toMatch(/--set and --add\/--remove cannot be given at the same time/);
		expect((await runCairn(['tag', '--repo', repo], {env})).code).toBe(2);

		// restic backup --stdin holds a lock while its input stays open.
		const child = spawn(RESTIC, ['--no-cache', '-r', repo, 'backup', '--stdin', '--stdin-filename', 'held'], {env: cleanEnv(env), stdio: ['pipe', 'ignore', 'ignore']});
		try {
			await waitFor(async () => ((await listRepoFiles(repo, 'locks')).length > 0 ? true : undefined));
			const snapshots = await listRepoFiles(repo, 'snapshots');
			const locked = await runCairn(['tag', '--repo', repo, '--add', 'x'], {env});
			expect(locked.code, describeRun(locked)).toBe(11);
			expect(locked.stderr).toMatch(/locked/);
			expect(await listRepoFiles(repo, 'snapshots')).toEqual(snapshots);
		} finally {
			child.stdin.end('done\n');
			await new Promise((resolve) => child.on('close', resolve));
		}
	});
});

describe('rewrite', () => {
	it('drops excluded files into new snapshots tagged rewrite; --forget removes the originals; --dry-run changes nothing', async () => {
		const repo = await makeResticRepo();
		const excludeFile = path.join(base, 'excludes.txt');
		await fs.writeFile(excludeFile, '# logs\n\n*.log\n');
		const before = await resticSnapshots(repo);
		const files = await listRepoFiles(repo, 'snapshots');

		const packs = await listPacks(repo);
		const dry = await cairn(['rewrite', '--repo', repo, '--exclude-file', excludeFile, '--exclude', 'big.bin', '--dry-run']);
		expect(dry).toContain('would modify 2 snapshots');
		expect(dry).toContain(`excluding ${src}/debug.log`);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(files);
		expect(await listPacks(repo)).toEqual(packs);

		await cairn(['rewrite', '--repo', repo, '--exclude-file', excludeFile, '--exclude', 'big.bin']);
		const after = await resticSnapshots(repo);
		expect(after).toHaveLength(4);
		const original = before.find((s) => s.paths.includes(src))!;
		const rewritten = after.find((s) => s.original === original.id)!;
		expect(rewritten.tags).toEqual(['rewrite']);
		expect(rewritten.time).toBe(original.time);
		const paths = await resticPaths(repo, rewritten.id);
		expect(paths.filter((p) => p.endsWith('.log') || p.endsWith('big.bin'))).toEqual([]);
		const originalPaths = await resticPaths(repo, original.id);
		expect(paths).toEqual(originalPaths.filter((p) => !p.endsWith('.log') && !p.endsWith('/big.bin')));
		// An exclude that matches nothing changes nothing.
		expect(await cairn(['rewrite', '--repo', repo, '--exclude', '*.nothing'])).toContain('no snapshots were modified');
		expect(await resticSnapshots(repo)).toHaveLength(4);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');

		// --forget: exclusive lock, no tag, the old snapshot goes.
		await cairn(['rewrite', '--repo', repo, '--forget', '--exclude', 'modes', rewritten.id]);
		const final = await resticSnapshots(repo);
		expect(final.map((s) => s.id)).not.toContain(rewritten.id);
		const forgotten = final.find((s) => s.original === rewritten.id)!;
		expect(forgotten.tags).toEqual(['rewrite']);
		expect((await resticPaths(repo, forgotten.id)).some((p) => p.includes('/modes'))).toBe(false);
		expect(await restic(['-r', repo, 'check'])).toContain('no errors were found');
		expect((await runCairn(['rewrite', '--repo', repo], {env})).code).toBe(2);
	});
});

describe('copy', () => {
	it('copies restic → cairn on REST and back to a restic repository, only what is missing, restoring byte for byte', async () => {
		const source = await makeResticRepo({version: 1});
		const sourceSnapshots = await resticSnapshots(source);
		const remote = `rest:${rest.url}copy-dest/`;
		await cairn(['init', '--repo', remote]);
		const passwordFile = path.join(base, 'source-password');
		await fs.writeFile(passwordFile, `${PASSWORD}\n`);

		// Into cairn's REST repository, the source password from --from-password-file, the destination's from CAIRN_PASSWORD.
		const out = await cairn(['copy', '--repo', remote, '--from-repo', source, '--from-password-file', passwordFile], 0, {CAIRN_PASSWORD: PASSWORD});
		expect(out.match(/ saved/g)).toHaveLength(2);
		const copied = await resticSnapshots(remote);
		expect(copied.map((s) => s.original).sort()).toEqual(sourceSnapshots.map((s) => s.id).sort());
		expect(copied.map((s) => s.tree).sort()).toEqual(sourceSnapshots.map((s) => s.tree).sort());
		expect(await restic(['-r', remote, 'check', '--read-data'])).toContain('no errors were found');
		const fromSrc = copied.find((s) => s.paths.includes(src))!;
		await expectRestoredByRestic(remote, fromSrc.id, src);
		await expectRestoredByRestic(remote, copied.find((s) => s.paths.includes(other))!.id, other);

		// A second copy (source password from RESTIC_FROM_PASSWORD) skips both and uploads nothing.
		const packs = await listPacks(path.join(rest.root, 'copy-dest'));
		const again = await cairn(['copy', '--repo', remote, '--from-repo', source], 0, {CAIRN_PASSWORD: PASSWORD, RESTIC_FROM_PASSWORD: PASSWORD});
		expect(again.match(/skipping source snapshot/g)).toHaveLength(2);
		expect(await listPacks(path.join(rest.root, 'copy-dest'))).toEqual(packs);
		expect(await resticSnapshots(remote)).toHaveLength(2);
		// restic agrees these are copies of its snapshots.
		const resticAgain = await runRestic(['-r', remote, 'copy', '--from-repo', source, '--from-password-file', passwordFile], {env});
		expect(resticAgain.code, describeRun(resticAgain)).toBe(0);
		expect(resticAgain.stdout.match(/skipping source snapshot/g)).toHaveLength(2);

		// A new snapshot in the source: only its new data is copied (with the filters: --tag other picks none).
		const srcTimes = await fs.stat(src);
		await fs.writeFile(path.join(src, 'added.txt'), 'new file\n');
		try {
			await restic(['-r', source, 'backup', src]);
			const filtered = await cairn(['copy', '--repo', remote, '--from-repo', source, '--tag', 'other'], 0, {CAIRN_PASSWORD: PASSWORD, CAIRN_FROM_PASSWORD: PASSWORD});
			expect(filtered).not.toContain(' saved');
			const packsBefore = (await listPacks(path.join(rest.root, 'copy-dest'))).size;
			await cairn(['copy', '--repo', remote, '--from-repo', source, 'latest'], 0, {CAIRN_PASSWORD: PASSWORD, CAIRN_FROM_PASSWORD: PASSWORD});
			// The new snapshot shares all but a file and the trees above it: a data pack and a tree pack at most, not a copy of everything.
			const added = (await listPacks(path.join(rest.root, 'copy-dest'))).size - packsBefore;
			expect(added).toBeGreaterThan(0);
			expect(added).toBeLessThanOrEqual(2);
			expect(await resticSnapshots(remote)).toHaveLength(3);
			expect(await restic(['-r', remote, 'check', '--read-data'])).toContain('no errors were found');
		} finally {
			await fs.rm(path.join(src, 'added.txt'));
			await fs.utimes(src, srcTimes.atime, srcTimes.mtime);
		}

		// Back from cairn's REST repository into a new restic repository (other chunker parameters), via CAIRN_FROM_REPOSITORY.
		const back = fresh('restic-back');
		await restic(['-r', back, 'init']);
		await cairn(['copy', '--repo', back], 0, {CAIRN_PASSWORD: PASSWORD, CAIRN_FROM_REPOSITORY: remote, CAIRN_FROM_PASSWORD: PASSWORD});
		const returned = await resticSnapshots(back);
		expect(returned).toHaveLength(3);
		expect(await restic(['-r', back, 'check', '--read-data'])).toContain('no errors were found');
		await expectRestoredByRestic(back, returned.find((s) => s.original === fromSrc.original)!.id, src);
		// The persistent ID survives two hops, so restic skips copying the original snapshots again.
		const resticSkip = await runRestic(['-r', back, 'copy', '--from-repo', source, '--from-password-file', passwordFile], {env});
		expect(resticSkip.stdout.match(/skipping source snapshot/g)).toHaveLength(3);
	});

	it('copies a cairn-made repository into a restic-made one and restic sees the copies', async () => {
		const source = fresh('cairn-src');
		await cairn(['init', '--repo', source]);
		await cairn(['backup', '--repo', source, other, '--tag', 'c']);
		const dest = await makeResticRepo();
		const out = await cairn(['copy', '--repo', dest, '--from-repo', source], 0, {CAIRN_PASSWORD: PASSWORD, CAIRN_FROM_PASSWORD_COMMAND: `printf '%s' '${PASSWORD}'`});
		expect(out).toContain(' saved');
		const copied = (await resticSnapshots(dest)).find((s) => s.tags?.includes('c'))!;
		expect(await restic(['-r', dest, 'check', '--read-data'])).toContain('no errors were found');
		await expectRestoredByRestic(dest, copied.id, other);
		const missing = await runCairn(['copy', '--repo', dest], {env});
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/--from-repo/);
	});
});

describe('an interrupted copy', () => {
	it('stops cleanly on SIGINT with no snapshot and a sound destination; the next run uploads only the rest', async () => {
		const data = fresh('big-source');
		await fs.mkdir(data);
		for (let i = 0; i < 4; i++) await writeSeededFile(path.join(data, `part-${i}.bin`), `interrupt-${i}`, 20 * 1024 * 1024);
		const source = fresh('restic-big');
		await restic(['-r', source, 'init']);
		await restic(['-r', source, 'backup', data]);
		const dest = fresh('cairn-dest');
		await cairn(['init', '--repo', dest]);
		const copyEnv = {CAIRN_PASSWORD: PASSWORD, CAIRN_FROM_PASSWORD: PASSWORD};
		const running = startCairn(['copy', '--repo', dest, '--from-repo', source], {env: copyEnv});
		// Interrupt once the first pack is stored.
		await waitFor(async () => ((await listPacks(dest)).size > 0 ? true : undefined), 100_000, 20);
		running.child.kill('SIGINT');
		const stopped = await running.done;
		expect(stopped.code, describeRun(stopped)).toBe(130);
		expect(await listRepoFiles(dest, 'snapshots')).toEqual([]);
		expect(await listRepoFiles(dest, 'locks')).toEqual([]);
		expect(await restic(['-r', dest, 'check'])).toContain('no errors were found');
		const kept = await listPacks(dest);
		expect(kept.size).toBeGreaterThan(0);

		await cairn(['copy', '--repo', dest, '--from-repo', source], 0, copyEnv);
		// The packs stored before the interruption were indexed and kept; no blob is stored twice.
		const after = await listPacks(dest);
		for (const id of kept.keys()) expect(after.has(id)).toBe(true);
		const blobs = (await readIndexWithRestic(dest, PASSWORD)).flatMap((pack) => pack.blobs.map((blob) => blob.id));
		expect(new Set(blobs).size).toBe(blobs.length);
		expect(await restic(['-r', dest, 'check', '--read-data'])).toContain('no errors were found');
		await expectRestoredByRestic(dest, 'latest', data);
		await fs.rm(data, {recursive: true, force: true});
	});
});

describe('migrate', () => {
	it('upgrades a restic-made version 1 repository to version 2', async () => {
		const repo = await makeResticRepo({version: 1});
		expect(await cairn(['migrate', '--repo', repo])).toContain('upgrade_repo_v2');
		const out = await cairn(['migrate', '--repo', repo, 'upgrade_repo_v2']);
		expect(out).toContain('migration upgrade_repo_v2: success');
		const config = JSON.parse(await restic(['-r', repo, 'cat', 'config'])) as {version: number};
		expect(config.version).toBe(2);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');
		// restic now writes compressed data into it, and cairn lists nothing more to do.
		await restic(['-r', repo, 'backup', '--compression', 'max', other]);
		expect(await restic(['-r', repo, 'check'])).toContain('no errors were found');
		expect(await cairn(['migrate', '--repo', repo])).toContain('no migrations found');
		const again = await runCairn(['migrate', '--repo', repo, 'upgrade_repo_v2'], {env});
		expect(again.stderr).toContain('cannot be applied: check failed');
	});
});

describe('on a REST server', () => {
	it('migrate, tag and rewrite a restic-made version 1 repository served by rclone serve restic', async () => {
		const location = `rest:${rest.url}rest-v1/`;
		await makeResticRepo({version: 1, location});
		await cairn(['migrate', '--repo', location, 'upgrade_repo_v2']);
		expect((JSON.parse(await restic(['-r', location, 'cat', 'config'])) as {version: number}).version).toBe(2);
		await cairn(['tag', '--repo', location, '--tag', 'other', '--add', 'remote']);
		const tagged = (await resticSnapshots(location)).find((s) => s.tags?.includes('remote'))!;
		expect(tagged.tags).toEqual(['other', 'remote']);
		await cairn(['rewrite', '--repo', location, '--forget', '--exclude', '*.bin', tagged.id]);
		const rewritten = (await resticSnapshots(location)).find((s) => s.original === tagged.id)!;
		expect((await resticPaths(location, rewritten.id)).filter((p) => p.endsWith('.bin'))).toEqual([]);
		expect(await resticSnapshots(location)).toHaveLength(2);
		expect(await restic(['-r', location, 'check', '--read-data'])).toContain('no errors were found');
	});
});

describe('repair', () => {
	for (const backend of ['local', 'rest'] as const) {
		it(`repair index rebuilds deleted index files (${backend}), also with --read-all-packs`, async () => {
			const name = `repair-index-${++counter}`;
			const location = backend === 'local' ? fresh('repo') : `rest:${rest.url}${name}/`;
			const dir = backend === 'local' ? location : path.join(rest.root, name);
			await makeResticRepo({location});
			const packsBefore = await readIndexWithRestic(location, PASSWORD);
			for (const id of await listRepoFiles(dir, 'index')) await fs.rm(path.join(dir, 'index', id));
			expect((await runRestic(['-r', location, 'check'], {env})).code).not.toBe(0);
			const result = await runCairn(['repair', 'index', '--repo', location], {env});
			expect(result.code, describeRun(result)).toBe(0);
			expect(result.stderr).toContain('adding pack file to index');
			expect(await restic(['-r', location, 'check', '--read-data'])).toContain('no errors were found');
			const rebuilt = await readIndexWithRestic(location, PASSWORD);
			expect(rebuilt.map((p) => p.id).sort()).toEqual(packsBefore.map((p) => p.id).sort());
			await cairn(['rebuild-index', '--repo', location, '--read-all-packs']);
			expect(await restic(['-r', location, 'check', '--read-data'])).toContain('no errors were found');
			await expectRestoredByRestic(location, 'latest', other);
		});
	}

	it('repair snapshots after a deleted pack: missing content removed, tagged repaired; forgetting the damaged originals leaves a sound repository', async () => {
		const repo = await makeResticRepo();
		const srcSnapshot = (await resticSnapshots(repo)).find((s) => s.paths.includes(src))!;
		const listed = await resticPaths(repo, srcSnapshot.id);
		const index = await readIndexWithRestic(repo, PASSWORD);
		// The largest data pack: part of big.bin of `src`.
		const victim = index.filter((p) => p.blobs.every((b) => b.type === 'data')).sort((a, b) => b.blobs.reduce((s, x) => s + x.length, 0) - a.blobs.reduce((s, x) => s + x.length, 0))[0]!;
		await fs.rm(packPath(repo, victim.id));
		await cairn(['repair', 'index', '--repo', repo]);
		expect((await runRestic(['-r', repo, 'check'], {env})).code).not.toBe(0);

		const dry = await cairn(['repair', 'snapshots', '--repo', repo, '--dry-run']);
		expect(dry).toContain('removed missing content');
		const affected = dry.match(/would save new snapshot/g)?.length ?? 0;
		expect(affected).toBeGreaterThan(0);
		expect(dry).toContain(`would modify ${affected} snapshots`);
		expect((await resticSnapshots(repo)).some((s) => s.tags?.includes('repaired'))).toBe(false);
		const out = await cairn(['repair', 'snapshots', '--repo', repo]);
		expect(out).toMatch(/file ".*big\.bin": removed missing content/);
		const all = await resticSnapshots(repo);
		const repairedOnes = all.filter((s) => s.tags?.includes('repaired'));
		expect(repairedOnes).toHaveLength(affected);
		const repaired = repairedOnes.find((s) => s.original === srcSnapshot.id)!;
		// The damaged originals stay until forgotten (restic's rule without --forget).
		await cairn(['forget', '--repo', repo, ...repairedOnes.map((s) => s.original!)]);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');
		// Every file is still listed (damaged ones shortened), and restic restores the snapshot.
		expect(await resticPaths(repo, repaired.id)).toEqual(listed);
		const target = fresh('restore');
		await restic(['-r', repo, 'restore', repaired.id, '--target', target]);
		const differences = await compareTrees(src, restoredPath(target, src));
		expect(differences.some((d) => d.startsWith('big.bin'))).toBe(true);
	});

	it('repair packs salvages the intact blobs of a damaged pack; repair snapshots --forget then leaves a sound repository', async () => {
		const repo = await makeResticRepo();
		const index = await readIndexWithRestic(repo, PASSWORD);
		const victim = index.filter((p) => p.blobs.length >= 2 && p.blobs.every((b) => b.type === 'data'))[0]!;
		// Damage the first blob only.
		await flipBit(packPath(repo, victim.id), victim.blobs.find((b) => b.offset === 0)!.offset + 40);
		expect((await runRestic(['-r', repo, 'check', '--read-data'], {env})).code).not.toBe(0);
		const result = await runCairn(['repair', 'packs', '--repo', repo, victim.id], {env, cwd: base});
		expect(result.code, describeRun(result)).toBe(0);
		expect(result.stdout).toContain(`salvaged ${victim.blobs.length - 1} blobs, lost 1`);
		await expect(fs.stat(path.join(base, `pack-${victim.id}`))).resolves.toBeTruthy();
		expect(await listPacks(repo)).not.toContain(victim.id);
		const salvaged = (await readIndexWithRestic(repo, PASSWORD)).flatMap((p) => p.blobs.map((b) => b.id));
		for (const blob of victim.blobs.filter((b) => b.offset !== 0)) expect(salvaged).toContain(blob.id);
		await cairn(['repair', 'snapshots', '--repo', repo, '--forget']);
		expect(await restic(['-r', repo, 'check', '--read-data'])).toContain('no errors were found');
		expect((await runCairn(['repair', 'packs', '--repo', repo], {env})).code).toBe(2);
	});
});
