/**
 * Fidelity against restic 0.14 on the same trees and repositories: extended attributes and
 * nanosecond times in both directions, `backup --stdin` read back by `restic dump`, each backup
 * selection flag and each restore filter giving the same file set as restic's, `--dry-run`
 * writing nothing, and the warnings (not failures) where extended attributes cannot be kept.
 */
import {execFile} from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CLI, NOBODY, RESTIC, describeRun, jsonLines, makeTempDir, restoredPath, runCairn, runRestic, seededBytes} from '../helpers/cli.js';
import {requireBinary} from '../helpers/servers/processes.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'fidelity';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

let base: string;
let src: string;
let repo: string;
let counter = 0;

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function cairn(args: string[], options: {input?: string; env?: Record<string, string>; code?: number} = {}): Promise<{stdout: string; stderr: string}> {
	const result = await runCairn(args, {env: {...env, ...options.env}, input: options.input});
	expect(result.code, describeRun(result)).toBe(options.code ?? 0);
	return result;
}

async function restic(args: string[], code = 0): Promise<string> {
	const result = await runRestic(args, {env});
	expect(result.code, describeRun(result)).toBe(code);
	return result.stdout;
}

/** `getfattr` of every entry below `dir` (symlinks not followed), keyed by path relative to `dir`. */
async function readXattrs(dir: string): Promise<Record<string, string>> {
	const {stdout} = await execFileAsync('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir], {maxBuffer: 1 << 24});
	const out: Record<string, string> = {};
	for (const block of stdout.split('\n\n')) {
		const lines = block.trim().split('\n');
		const first = lines.shift();
		if (!first?.startsWith('# file: ')) continue;
		out[path.relative(dir, first.slice('# file: '.length))] = lines.sort().join('\n');
	}
	return out;
}

/** mtime and atime in nanoseconds of every entry below `dir` (lstat), keyed by relative path. */
async function readTimes(dir: string, which: 'mtimeNs' | 'atimeNs' = 'mtimeNs'): Promise<Record<string, bigint>> {
	const out: Record<string, bigint> = {};
	const walk = async (d: string): Promise<void> => {
		for (const entry of await fs.readdir(d, {withFileTypes: true})) {
			const p = path.join(d, entry.name);
			out[path.relative(dir, p)] = (await fs.lstat(p, {bigint: true}))[which];
			if (entry.isDirectory()) await walk(p);
		}
	};
	await walk(dir);
	return out;
}

/** Every entry below `dir`, relative, sorted. */
async function listEntries(dir: string): Promise<string[]> {
	return Object.keys(await readTimes(dir)).sort();
}

/** The paths a snapshot holds, as restic lists them. */
async function listSnapshot(id: string): Promise<string[]> {
	const lines = jsonLines(await restic(['-r', repo, 'ls', '--json', id]));
	return lines.filter((l) => l.struct_type === 'node').map((l) => l.path as string).sort();
}

function snapshotIdOf(stdout: string): string {
	const summary = jsonLines(stdout).find((l) => l.message_type === 'summary');
	expect(summary, stdout).toBeDefined();
	return summary!.snapshot_id as string;
}

/** Sets a time with nanoseconds through touch (which calls utimensat). */
async function touchNs(p: string, seconds: number, nanos: number, symlink = false): Promise<void> {
	const stamp = `@${seconds}.${String(nanos).padStart(9, '0')}`;
	await execFileAsync('touch', [...(symlink ? ['-h'] : []), '-d', stamp, p]);
}

beforeAll(async () => {
	await requireBinary(RESTIC, 'install restic 0.14 (apt install restic)');
	await requireBinary('/usr/bin/setfattr', 'install attr (apt install attr)');
	base = await makeTempDir('cairn-fidelity-');
	src = path.join(base, 'src');
	repo = path.join(base, 'repo');
	const files: Record<string, Buffer | string> = {
		'docs/report.txt': 'quarterly report\n',
		'docs/README.TXT': 'read me\n',
		'docs/notes.Log': 'log lines\n',
		'docs/star*name': 'a literal star\n',
		'photos/big.bin': seededBytes('big', 300 * 1024),
		'photos/small.jpg': seededBytes('small', 1024),
		'cache/CACHEDIR.TAG': 'Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n',
		'cache/blob': 'cached\n',
		'fakecache/CACHEDIR.TAG': 'Signature: not the right one\n',
		'fakecache/blob': 'kept\n',
		'skipme/.nobackup': '',
		'skipme/data': 'skipped\n',
		'marked/MARK': 'magic header and more\n',
		'marked/x': 'skipped\n',
		'badmark/MARK': 'wrong header\n',
		'badmark/y': 'kept\n',
	};
	for (const [rel, content] of Object.entries(files)) {
		await fs.mkdir(path.dirname(path.join(src, rel)), {recursive: true});
		await fs.writeFile(path.join(src, rel), content);
	}
	await fs.symlink('docs/report.txt', path.join(src, 'link'));
	const report = path.join(src, 'docs/report.txt');
	await execFileAsync('setfattr', ['-n', 'user.author', '-v', 'ana', report]);
	await execFileAsync('setfattr', ['-n', 'user.binary', '-v', '0x00ff10', report]);
	await execFileAsync('setfattr', ['-n', 'user.empty', report]);
	await execFileAsync('setfattr', ['-n', 'user.dir', '-v', 'docs folder', path.join(src, 'docs')]);
	await execFileAsync('setfattr', ['-n', 'user.photo', '-v', 'x'.repeat(3000), path.join(src, 'photos/small.jpg')]);
	// Times with digits below the microsecond, deepest first (setting a child's time leaves the parent's).
	let n = 0;
	for (const rel of [...Object.keys(files), 'link'].sort().reverse()) await touchNs(path.join(src, rel), 1_600_000_000 + ++n * 1000, 123_456_789 + n, rel === 'link');
	for (const dir of ['docs', 'photos', 'cache', 'fakecache', 'skipme', 'marked', 'badmark', '.']) await touchNs(path.join(src, dir), 1_500_000_000 + ++n, 987_654_321 - n);
	await cairn(['init', '--repo', repo]);
}, 60_000);

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('extended attributes and nanosecond times', () => {
	it('the source really has sub-microsecond digits and attributes to keep', async () => {
		const times = await readTimes(src);
		expect(Object.values(times).every((t) => t % 1000n !== 0n)).toBe(true);
		expect((await readXattrs(src))['docs/report.txt']).toMatch(/user\.binary=0x00ff10/);
	});

	it('cairn backs up, restic restores: the same attributes and times to the nanosecond', async () => {
		const id = snapshotIdOf((await cairn(['backup', '--json', '--repo', repo, src])).stdout);
		const target = fresh('restic-restore');
		await restic(['-r', repo, 'restore', id, '--target', target]);
		const restored = restoredPath(target, src);
		// atimes first (listing a directory later sets its atime): cairn's restore of the same snapshot sets exactly what restic's sets.
		const theirAtimes = await readTimes(restored, 'atimeNs');
		const own = fresh('cairn-restore');
		await cairn(['restore', id, '--repo', repo, '--target', own]);
		expect(await readTimes(restoredPath(own, src), 'atimeNs')).toEqual(theirAtimes);
		expect(await readXattrs(restored)).toEqual(await readXattrs(src));
		expect(await readTimes(restored)).toEqual(await readTimes(src));
	});

	it('restic backs up, cairn restores: the same attributes and times to the nanosecond', async () => {
		const id = snapshotIdOf(await restic(['-r', repo, 'backup', '--json', src]));
		const target = fresh('cairn-restore');
		await cairn(['restore', id, '--repo', repo, '--target', target]);
		const restored = restoredPath(target, src);
		const ourAtimes = await readTimes(restored, 'atimeNs');
		const theirs = fresh('restic-restore');
		await restic(['-r', repo, 'restore', id, '--target', theirs]);
		expect(ourAtimes).toEqual(await readTimes(restoredPath(theirs, src), 'atimeNs'));
		expect(await readXattrs(restored)).toEqual(await readXattrs(src));
		expect(await readTimes(restored)).toEqual(await readTimes(src));
	});

	it('a user who is not root gets user.* attributes back on a read-only file', async () => {
		const work = fresh('as-nobody');
		await fs.chmod(base, 0o755);
		await fs.mkdir(path.join(work, 'src'), {recursive: true});
		const file = path.join(work, 'src', 'ro.txt');
		await fs.writeFile(file, 'read only\n');
		await execFileAsync('setfattr', ['-n', 'user.kept', '-v', 'yes', file]);
		await fs.chmod(file, 0o444);
		await execFileAsync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, work]);
		const asNobody = async (args: string[]): Promise<void> => {
			const result = await runCairn(['--no-cache', '--repo', path.join(work, 'repo'), ...args], {env, asNobody: true});
			expect(result.code, describeRun(result)).toBe(0);
			expect(result.stderr).not.toMatch(/extended attribute/);
		};
		await asNobody(['init']);
		await asNobody(['backup', path.join(work, 'src')]);
		await asNobody(['restore', 'latest', '--target', path.join(work, 'out')]);
		const restored = restoredPath(path.join(work, 'out'), file);
		expect((await readXattrs(path.dirname(restored)))['ro.txt']).toBe('user.kept=0x796573');
		expect((await fs.stat(restored)).mode & 0o777).toBe(0o444);
	});

	it('without the native calls: one warning, no attributes, times to the microsecond, exit 0', async () => {
		const noNative = {CAIRN_NO_NATIVE: '1'};
		const backup = await cairn(['backup', '--json', '--repo', repo, src], {env: noNative});
		expect(backup.stderr.match(/extended attributes are not backed up/g)).toHaveLength(1);
		const id = snapshotIdOf(backup.stdout);
		const target = fresh('restic-restore');
		await restic(['-r', repo, 'restore', id, '--target', target]);
		expect(Object.values(await readXattrs(restoredPath(target, src))).every((attrs) => attrs === '')).toBe(true);
		// Restoring a snapshot with attributes where they cannot be set: one warning, files restored.
		const withXattrs = snapshotIdOf((await cairn(['backup', '--json', '--repo', repo, src])).stdout);
		const own = fresh('cairn-restore');
		const restore = await cairn(['restore', withXattrs, '--repo', repo, '--target', own], {env: noNative});
		expect(restore.stderr.match(/extended attributes cannot be restored here/g)).toHaveLength(1);
		const expected = await readTimes(src);
		const got = await readTimes(restoredPath(own, src));
		for (const [rel, time] of Object.entries(expected)) expect(Number(got[rel]! - time), rel).toBeLessThanOrEqual(1000);
	});
});

describe('backup --stdin', () => {
	it('saves standard input as one file that restic dumps back, in restic\'s layout', async () => {
		const input = seededBytes('dump', 200_000).toString('base64');
		const {stdout} = await cairn(['backup', '--json', '--repo', repo, '--stdin', '--stdin-filename', 'db/dump.sql', '--tag', 'db'], {input});
		const id = snapshotIdOf(stdout);
		expect(await restic(['-r', repo, 'dump', id, '/db/dump.sql'])).toBe(input);
		expect(await listSnapshot(id)).toEqual(['/db', '/db/dump.sql']);
		const snapshot = JSON.parse(await restic(['-r', repo, 'cat', 'snapshot', id])) as {paths: string[]; tags: string[]};
		expect(snapshot.paths).toEqual(['/db/dump.sql']);
		expect(snapshot.tags).toEqual(['db']);
		await restic(['-r', repo, 'check', '--read-data']);
	});

	it('refuses paths given beside --stdin', async () => {
		const result = await runCairn(['backup', '--repo', repo, '--stdin', src], {env, input: 'x'});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/--stdin/);
	});
});

describe('backup selection flags give restic\'s file set', () => {
	const cases: Array<[string, () => Promise<string[]>]> = [
		['--exclude-caches', async () => ['--exclude-caches']],
		['--exclude-if-present NAME', async () => ['--exclude-if-present', '.nobackup']],
		['--exclude-if-present NAME:HEADER', async () => ['--exclude-if-present', 'MARK:magic header']],
		['--exclude-larger-than', async () => ['--exclude-larger-than', '100k']],
		['--iexclude', async () => ['--iexclude', '*.txt', '--iexclude', 'PHOTOS/BIG.*']],
		['--iexclude-file', async () => {
			const file = fresh('iexclude');
			await fs.writeFile(file, '# comment\n\n*.LOG\n  star*  \n');
			return ['--iexclude-file', file];
		}],
		['--exclude with a negation', async () => ['--exclude', '*.txt', '--exclude', '!report.txt']],
		['--files-from (globs, comments)', async () => {
			const file = fresh('files-from');
			await fs.writeFile(file, `# listed\n${src}/docs/*.txt\n\n${src}/photos\n${src}/no-such-*\n`);
			return ['--files-from', file];
		}],
		['--files-from-verbatim', async () => {
			const file = fresh('verbatim');
			await fs.writeFile(file, `${src}/docs/star*name\n${src}/cache\n`);
			return ['--files-from-verbatim', file];
		}],
		['--files-from-raw', async () => {
			const file = fresh('raw');
			await fs.writeFile(file, `${src}/marked\0${src}/link\0`);
			return ['--files-from-raw', file];
		}],
	];

	it.each(cases)('%s', async (_name, makeArgs) => {
		const args = await makeArgs();
		const takesPaths = !args.some((a) => a.startsWith('--files-from'));
		const ours = snapshotIdOf((await cairn(['backup', '--json', '--repo', repo, ...args, ...(takesPaths ? [src] : [])])).stdout);
		const theirs = snapshotIdOf(await restic(['-r', repo, 'backup', '--json', ...args, ...(takesPaths ? [src] : [])]));
		const listed = await listSnapshot(ours);
		expect(listed).toEqual(await listSnapshot(theirs));
		expect(listed.length).toBeGreaterThan(0);
	});

	it('--dry-run reads everything, reports what it would add and writes nothing', async () => {
		await fs.writeFile(path.join(src, 'photos/new.bin'), seededBytes('new', 50_000));
		const before = await listFilesRecursively(repo);
		const {stdout} = await cairn(['backup', '--json', '--dry-run', '--repo', repo, src]);
		const summary = jsonLines(stdout).find((l) => l.message_type === 'summary')!;
		expect(summary.dry_run).toBe(true);
		expect(summary.data_added as number).toBeGreaterThanOrEqual(50_000);
		expect(await listFilesRecursively(repo)).toEqual(before);
		const text = await cairn(['backup', '-n', '--repo', repo, src]);
		expect(text.stdout).toMatch(/Would add to the repository/);
		expect(text.stdout).not.toMatch(/snapshot .* saved/);
		await fs.rm(path.join(src, 'photos/new.bin'));
	});
});

async function listFilesRecursively(dir: string): Promise<string[]> {
	const entries = await fs.readdir(dir, {recursive: true});
	return entries.sort();
}

describe('restore filters give restic\'s file set', () => {
	let snapshot: string;

	beforeAll(async () => {
		snapshot = snapshotIdOf(await restic(['-r', repo, 'backup', '--json', src]));
	});

	it.each([
		[['--include', 'docs']],
		[['--include', '/SRC/photos/small.jpg']],
		[['--iinclude', '*.TXT']],
		[['--include', '*.jpg', '--iinclude', 'MARK']],
		[['--exclude', 'photos']],
		[['--exclude', '*.txt', '--exclude', '!report.txt']],
		[['--iexclude', '*.LOG', '--iexclude', 'CACHE']],
	])('%j', async (args) => {
		const ours = fresh('cairn-restore');
		const theirs = fresh('restic-restore');
		const resolved = args.map((a) => a.replace('/SRC', src));
		await cairn(['restore', snapshot, '--repo', repo, '--target', ours, ...resolved]);
		await restic(['-r', repo, 'restore', snapshot, '--target', theirs, ...resolved]);
		const listed = await listEntries(ours);
		expect(listed).toEqual(await listEntries(theirs));
		expect(listed.length).toBeGreaterThan(0);
	});

	it('refuses includes together with excludes, as restic does', async () => {
		const result = await runCairn(['restore', snapshot, '--repo', repo, '--target', fresh('t'), '--include', 'a', '--exclude', 'b'], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/mutually exclusive/);
	});

	it('--verify reads every restored file back', async () => {
		const target = fresh('verify');
		const {stdout} = await cairn(['restore', snapshot, '--repo', repo, '--target', target, '--verify', '--json']);
		const summary = jsonLines(stdout).find((l) => l.message_type === 'summary')!;
		let files = 0;
		for (const rel of await listEntries(target)) if ((await fs.lstat(path.join(target, rel))).isFile()) files++;
		expect(summary.files_verified).toBe(files);
		expect(summary.files_restored).toBe(files);
	});
});

describe('file systems without extended attributes, and other file systems', () => {
	it('restores into ramfs with one warning, and --one-file-system leaves a mount\'s contents out as restic does', async () => {
		const work = fresh('ns');
		await fs.mkdir(path.join(work, 'mnt'), {recursive: true});
		const inner = path.join(src, 'mounted');
		await fs.mkdir(inner);
		try {
			// A private mount namespace: the mounts vanish with it, whatever happens.
			const script = [
				'set -e',
				`mount -t ramfs ramfs "${inner}"`,
				`echo inside > "${inner}/file"`,
				`"${process.execPath}" "${CLI}" backup --json --one-file-system --repo "${repo}" "${src}" > "${work}/ours.json"`,
				`"${RESTIC}" --no-cache -r "${repo}" backup --json --one-file-system "${src}" > "${work}/theirs.json"`,
				`mount -t ramfs ramfs "${work}/mnt"`,
				`"${process.execPath}" "${CLI}" restore latest --repo "${repo}" --target "${work}/mnt/out" --include "${src}/docs" 2> "${work}/restore.err"`,
				`cat "${work}/mnt/out${src}/docs/report.txt" > "${work}/restored.txt"`,
			].join('\n');
			await execFileAsync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], {env: {...process.env, ...env}});
			const ours = snapshotIdOf(await fs.readFile(path.join(work, 'ours.json'), 'utf8'));
			const theirs = snapshotIdOf(await fs.readFile(path.join(work, 'theirs.json'), 'utf8'));
			const listed = await listSnapshot(ours);
			expect(listed).toContain(inner);
			expect(listed).not.toContain(`${inner}/file`);
			expect(listed).toEqual(await listSnapshot(theirs));
			const errors = await fs.readFile(path.join(work, 'restore.err'), 'utf8');
			expect(errors.match(/extended attributes cannot be restored here/g), errors).toHaveLength(1);
			expect(await fs.readFile(path.join(work, 'restored.txt'), 'utf8')).toBe('quarterly report\n');
		} finally {
			await fs.rm(inner, {recursive: true, force: true});
		}
	});
});
