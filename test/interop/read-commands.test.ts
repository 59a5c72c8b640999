/**
 * The read-only restic commands (diff, find, dump, stats, cat, list) against restic 0.14 as the
 * oracle, on the same repositories (snapshots written by restic and by cairn), on a local
 * repository and on a REST server (rclone serve restic): output equal to restic's, dumps equal
 * byte for byte (tar and zip compared by listing and extracting), and restic's locks honoured.
 */
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {createReadStream, openSync, closeSync} from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CLI, RESTIC, cleanEnv, compareTrees, describeRun, makeTempDir, makeVariedTree, runCairn, runRestic, type RunResult} from '../helpers/cli.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';
import {runProgram} from '../helpers/servers/processes.js';
import '../../adapters/index.js';
import {openRepositoryStorage} from '../../adapters/registry.js';
import {Repository} from '../../engine/repository/repository.js';
import {acquireLock} from '../../engine/repository/lock.js';

const PASSWORD = 'read commands ü';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD, TZ: 'Europe/Berlin'};

let base: string;
let src: string;
let rest: RcloneServer;

async function cairnOut(repo: string, args: string[]): Promise<RunResult> {
	return runCairn(['--no-cache', '-r', repo, ...args], {env});
}

async function resticOut(repo: string, args: string[]): Promise<RunResult> {
	return runRestic(['-r', repo, ...args], {env});
}

/** Runs both and expects the same exit code and stdout; returns restic's result. */
async function expectSame(repo: string, args: string[], normalize: (text: string) => unknown = (t) => t): Promise<RunResult> {
	const [theirs, ours] = await Promise.all([resticOut(repo, args), cairnOut(repo, args)]);
	expect(ours.code, `cairn ${args.join(' ')}\n${describeRun(ours)}\nrestic:\n${describeRun(theirs)}`).toBe(theirs.code);
	expect(normalize(ours.stdout), `cairn ${args.join(' ')}`).toEqual(normalize(theirs.stdout));
	return theirs;
}

/** Runs a program with stdout into a file (binary-safe); resolves with the exit code. */
function runToFile(program: 'restic' | 'cairn', args: string[], file: string): Promise<number | null> {
	const fd = openSync(file, 'w');
	const [command, argv] = program === 'restic' ? [RESTIC, ['--no-cache', ...args]] : [process.execPath, [CLI, '--no-cache', ...args]];
	const child = spawn(command, argv, {env: cleanEnv(env), stdio: ['ignore', fd, 'pipe']});
	let stderr = '';
	child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
	return new Promise((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code) => {
			closeSync(fd);
			if (code !== 0) process.stderr.write(`${program} ${args.join(' ')}: ${stderr}\n`);
			resolve(code);
		});
	});
}

async function sha256(file: string): Promise<string> {
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
	return hash.digest('hex');
}

/** The central directory of a zip file: name, sizes, CRC, attributes and times of each entry. */
async function listZip(file: string): Promise<Array<Record<string, unknown>>> {
	const bytes = await fs.readFile(file);
	const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
	let count = bytes.readUInt16LE(eocd + 10);
	let offset = bytes.readUInt32LE(eocd + 16);
	if (offset === 0xffffffff || count === 0xffff) {
		const record = Number(bytes.readBigUInt64LE(eocd - 20 + 8));
		count = Number(bytes.readBigUInt64LE(record + 32));
		offset = Number(bytes.readBigUInt64LE(record + 48));
	}
	const entries: Array<Record<string, unknown>> = [];
	for (let i = 0; i < count; i++) {
		expect(bytes.readUInt32LE(offset)).toBe(0x02014b50);
		const nameLength = bytes.readUInt16LE(offset + 28);
		const extraLength = bytes.readUInt16LE(offset + 30);
		const commentLength = bytes.readUInt16LE(offset + 32);
		entries.push({
			name: bytes.subarray(offset + 46, offset + 46 + nameLength).toString('utf8'), method: bytes.readUInt16LE(offset + 10),
			time: bytes.readUInt16LE(offset + 12), date: bytes.readUInt16LE(offset + 14), crc: bytes.readUInt32LE(offset + 16),
			size: bytes.readUInt32LE(offset + 24), attrs: bytes.readUInt32LE(offset + 38),
		});
		offset += 46 + nameLength + extraLength + commentLength;
	}
	return entries;
}

/** Changes the source between the two restic snapshots: every kind of change diff reports. */
async function changeSource(root: string): Promise<void> {
	await fs.appendFile(path.join(root, 'small.txt'), 'changed\n');
	await fs.rm(path.join(root, 'nested/a/random-1.bin'));
	await fs.mkdir(path.join(root, 'added/deeper'), {recursive: true});
	await fs.writeFile(path.join(root, 'added/deeper/new.txt'), 'new file\n');
	await fs.writeFile(path.join(root, 'added/other.TXT'), 'upper-case extension\n');
	await fs.chmod(path.join(root, 'modes/read-only.txt'), 0o600);
	await fs.rm(path.join(root, 'link-to-small'));
	await fs.writeFile(path.join(root, 'link-to-small'), 'now a file\n');
	const long = path.join(root, 'long', 'a'.repeat(60), 'b'.repeat(60));
	await fs.mkdir(long, {recursive: true});
	await fs.writeFile(path.join(long, `${'c'.repeat(80)}.txt`), 'a path longer than 100 bytes\n');
	await fs.rm(path.join(root, 'empty-dir'), {recursive: true});
}

interface Setup {
	repo: string;
	/** Snapshot IDs: A and B written by restic, C by cairn (of the same source as B). */
	a: string;
	b: string;
	c: string;
}

async function makeRepository(repo: string): Promise<Setup> {
	const init = await resticOut(repo, ['init']);
	expect(init.code, describeRun(init)).toBe(0);
	const snap = async (program: 'restic' | 'cairn', tag: string): Promise<string> => {
		const result = program === 'restic'
			? await resticOut(repo, ['backup', '--json', '--tag', tag, '--host', 'interop', src])
			: await cairnOut(repo, ['backup', '--json', '--tag', tag, '--host', 'cairnhost', src]);
		expect(result.code, describeRun(result)).toBe(0);
		const summary = result.stdout.split('\n').filter((l) => l.includes('"summary"')).map((l) => JSON.parse(l) as {snapshot_id: string}).at(-1);
		expect(summary?.snapshot_id).toMatch(/^[0-9a-f]{8,64}$/);
		// restic 0.14 reports a short ID: take the full one from the list.
		const list = JSON.parse((await resticOut(repo, ['snapshots', '--json'])).stdout) as Array<{id: string}>;
		return list.find((item) => item.id.startsWith(summary!.snapshot_id))!.id;
	};
	const a = await snap('restic', 'first');
	await changeSource(src);
	const b = await snap('restic', 'second');
	const c = await snap('cairn', 'third');
	return {repo, a, b, c};
}

beforeAll(async () => {
	base = await makeTempDir('cairn-read-');
	rest = await startRcloneServer('restic');
});

afterAll(async () => {
	await rest?.stop();
	if (base) await fs.rm(base, {recursive: true, force: true});
});

const backends: Array<[string, () => string]> = [
	['local', () => path.join(base, 'repo-local')],
	['rest', () => `rest:${rest.url}repo/`],
];

describe.each(backends)('on a %s repository', (_name, location) => {
	let s: Setup;

	beforeAll(async () => {
		src = path.join(base, `src-${_name}`);
		await makeVariedTree(src, {seed: 'read', bigFileSize: 6 * 1024 * 1024 + 12345});
		s = await makeRepository(location());
	}, 120_000);

	it('diff prints the same changes and statistics as restic (text, --metadata, --json)', async () => {
		for (const [x, y] of [[s.a, s.b], [s.b, s.a], [s.b, s.c], [s.a, s.c]] as const) {
			const text = await expectSame(s.repo, ['diff', x.slice(0, 8), y.slice(0, 10)]);
			expect(text.stdout).toContain('Files:');
			await expectSame(s.repo, ['diff', '--metadata', x, y]);
			await expectSame(s.repo, ['--json', 'diff', x.slice(0, 8), y]);
			await expectSame(s.repo, ['--quiet', 'diff', x, y]);
		}
		const changes = (await cairnOut(s.repo, ['--json', 'diff', s.a, s.b])).stdout;
		for (const expected of ['"modifier":"M"', '"modifier":"+"', '"modifier":"-"', '"modifier":"T"']) expect(changes).toContain(expected);
		await expectSame(s.repo, ['diff', s.a]);
		await expectSame(s.repo, ['diff', s.a, 'ffffffff']);
	}, 120_000);

	it('find prints the same matches as restic for patterns, case, times, long and JSON output', async () => {
		const queries = [
			['*.txt'], ['-i', '*.txt'], ['--long', 'nested'], ['a/b'], ['**/deeper/*'], [`${src}/nested/*`], ['ü*'],
			['--newest', '2021-03-20', '*'], ['--oldest', '2021-03-10 00:00', '--newest', '2021-04-01 12:00:00', '*.bin'],
			['-l', '*link*'], ['does-not-exist'], ['*.bin', 'small.txt'],
		];
		// Every query on B (written by restic), a few on A and on C (written by cairn).
		for (const [id, subset] of [[s.b, queries], [s.a, queries.slice(0, 4)], [s.c, queries.slice(3, 8)]] as const) {
			for (const [i, query] of subset.entries()) {
				await expectSame(s.repo, ['find', '--snapshot', id.slice(0, 8), ...query]);
				if (i % 2 === 0) await expectSame(s.repo, ['--json', 'find', '-s', id, ...query], (t) => JSON.parse(t));
			}
		}
		// Across snapshots restic's order of snapshots varies between runs: compare the groups.
		const bySnapshot = (t: string): unknown => Object.fromEntries((JSON.parse(t) as Array<{snapshot: string}>).map((g) => [g.snapshot, g]));
		await expectSame(s.repo, ['--json', 'find', '*.txt'], bySnapshot);
		await expectSame(s.repo, ['--json', 'find', '--host', 'interop', '--tag', 'second', '*'], bySnapshot);
		await expectSame(s.repo, ['find']);
	}, 180_000);

	it('find --tree, --blob and --pack report the same places as restic', async () => {
		const tree = JSON.parse((await resticOut(s.repo, ['cat', 'snapshot', s.a])).stdout) as {tree: string};
		const root = JSON.parse((await resticOut(s.repo, ['cat', 'blob', tree.tree])).stdout) as {nodes: Array<{name: string; type: string; subtree?: string; content?: string[]}>};
		const dir = root.nodes.find((n) => n.type === 'dir')!;
		const sourceDir = JSON.parse((await resticOut(s.repo, ['cat', 'blob', dir.subtree!])).stdout) as typeof root;
		let nodes = sourceDir.nodes;
		while (!nodes.some((n) => n.name === 'big.bin')) nodes = (JSON.parse((await resticOut(s.repo, ['cat', 'blob', nodes.find((n) => n.type === 'dir')!.subtree!])).stdout) as typeof root).nodes;
		const big = nodes.find((n) => n.name === 'big.bin')!;
		const nested = nodes.find((n) => n.name === 'nested')!;
		for (const id of [s.a, s.b, s.c]) {
			await expectSame(s.repo, ['find', '-s', id, '--tree', nested.subtree!]);
			await expectSame(s.repo, ['find', '-s', id, '--tree', nested.subtree!.slice(0, 8)]);
			await expectSame(s.repo, ['find', '-s', id, '--blob', big.content![0]!, big.content![1]!.slice(0, 8)]);
			await expectSame(s.repo, ['--json', 'find', '-s', id, '--blob', big.content![0]!], (t) => JSON.parse(t));
		}
		const sortedLines = (t: string): string[] => t.split('\n').sort();
		await expectSame(s.repo, ['find', '-s', s.b, '--show-pack-id', '--blob', big.content![0]!], sortedLines);
		const pack = (await resticOut(s.repo, ['find', '-s', s.a, '--show-pack-id', '--blob', big.content![0]!])).stdout.match(/Object belongs to pack ([0-9a-f]{64})/)![1]!;
		await expectSame(s.repo, ['find', '-s', s.a, '--pack', pack]);
		await expectSame(s.repo, ['find', '-s', s.c, '--pack', pack.slice(0, 8)]);
		await expectSame(s.repo, ['find', '--pack', 'ffffffff']);
	}, 180_000);

	it('stats gives the same totals as restic in every mode, for all and for chosen snapshots', async () => {
		for (const mode of ['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data']) {
			await expectSame(s.repo, ['stats', '--mode', mode]);
			await expectSame(s.repo, ['--json', 'stats', '--mode', mode, s.a.slice(0, 8), 'latest'], (t) => JSON.parse(t));
			await expectSame(s.repo, ['--json', 'stats', '--mode', mode, '--host', 'interop'], (t) => JSON.parse(t));
		}
		await expectSame(s.repo, ['--json', 'stats'], (t) => JSON.parse(t));
		await expectSame(s.repo, ['stats', '--mode', 'nonsense']);
	}, 180_000);

	it('dump writes the same file bytes, tar and zip archives as restic', async () => {
		const out = await makeTempDir('cairn-dump-');
		try {
			const files = [[s.a, `${src}/big.bin`], [s.b, `${src}/small.txt`], [s.c, `${src}/ünïcødé 目录/ファイル.bin`], [s.a, `${src}/empty.txt`]] as const;
			for (const [id, file] of files) {
				expect(await runToFile('restic', ['-r', s.repo, 'dump', id, file], path.join(out, 'r'))).toBe(0);
				expect(await runToFile('cairn', ['-r', s.repo, 'dump', id, file], path.join(out, 'c'))).toBe(0);
				expect(await sha256(path.join(out, 'c'))).toBe(await sha256(path.join(out, 'r')));
			}
			for (const [id, dir] of [[s.b, '/'], [s.c, src], [s.a, `${src}/nested`]] as const) {
				expect(await runToFile('restic', ['-r', s.repo, 'dump', id, dir], path.join(out, 'r.tar'))).toBe(0);
				expect(await runToFile('cairn', ['-r', s.repo, 'dump', id, dir], path.join(out, 'c.tar'))).toBe(0);
				const list = async (file: string): Promise<string> => runProgram('tar', ['--list', '--verbose', '--full-time', '--numeric-owner', '-f', file], {env: cleanEnv(env)});
				expect(await list(path.join(out, 'c.tar'))).toBe(await list(path.join(out, 'r.tar')));
				for (const side of ['r', 'c']) {
					await fs.mkdir(path.join(out, `x-${side}`));
					await runProgram('tar', ['-xpf', path.join(out, `${side}.tar`), '-C', path.join(out, `x-${side}`)]);
					// The directory dumped and those above it are not entries of the archive (tar makes them).
					await fs.utimes(path.join(out, `x-${side}`, dir), 0, 0);
				}
				expect(await compareTrees(path.join(out, 'x-r', dir), path.join(out, 'x-c', dir))).toEqual([]);
				await fs.rm(path.join(out, 'x-r'), {recursive: true});
				await fs.rm(path.join(out, 'x-c'), {recursive: true});
				expect(await runToFile('restic', ['-r', s.repo, 'dump', '--archive', 'zip', id, dir], path.join(out, 'r.zip'))).toBe(0);
				expect(await runToFile('cairn', ['-r', s.repo, 'dump', '--archive', 'zip', id, dir], path.join(out, 'c.zip'))).toBe(0);
				expect(await listZip(path.join(out, 'c.zip'))).toEqual(await listZip(path.join(out, 'r.zip')));
			}
			// What cannot be dumped fails with restic's exit codes.
			for (const [id, p] of [[s.a, '/no/such/file'], [s.a, `${src}/small.txt/below`], [s.a, `${src}/link-to-small`]] as const) {
				const [theirs, ours] = await Promise.all([resticOut(s.repo, ['dump', id, p]), cairnOut(s.repo, ['dump', id, p])]);
				expect(ours.code, describeRun(ours)).toBe(theirs.code);
			}
			expect((await cairnOut(s.repo, ['dump', 'ffffffff', '/'])).code).toBe((await resticOut(s.repo, ['dump', 'ffffffff', '/'])).code);
		} finally {
			await fs.rm(out, {recursive: true, force: true});
		}
	}, 180_000);

	it('cat and list show the same objects as restic', async () => {
		const sorted = (t: string): string[] => t.split('\n').filter(Boolean).sort();
		for (const type of ['snapshots', 'index', 'packs', 'keys', 'blobs', 'locks']) await expectSame(s.repo, ['list', type], sorted);
		await expectSame(s.repo, ['cat', 'config']);
		await expectSame(s.repo, ['cat', 'masterkey']);
		await expectSame(s.repo, ['cat', 'snapshot', s.a.slice(0, 8)]);
		await expectSame(s.repo, ['cat', 'snapshot', s.b]);
		const firstOf = async (type: string): Promise<string> => sorted((await resticOut(s.repo, ['list', type])).stdout)[0]!;
		await expectSame(s.repo, ['cat', 'index', await firstOf('index')]);
		await expectSame(s.repo, ['cat', 'key', await firstOf('keys')]);
		const [blobType, blobId] = (await firstOf('blobs')).split(' ');
		expect(['data', 'tree']).toContain(blobType);
		const out = await makeTempDir('cairn-cat-');
		try {
			for (const args of [['cat', 'blob', blobId!], ['cat', 'pack', await firstOf('packs')]]) {
				expect(await runToFile('restic', ['-r', s.repo, ...args], path.join(out, 'r'))).toBe(0);
				expect(await runToFile('cairn', ['-r', s.repo, ...args], path.join(out, 'c'))).toBe(0);
				expect(await sha256(path.join(out, 'c'))).toBe(await sha256(path.join(out, 'r')));
			}
		} finally {
			await fs.rm(out, {recursive: true, force: true});
		}
		const tree = JSON.parse((await cairnOut(s.repo, ['cat', 'tree', `${s.a.slice(0, 8)}:${src}`])).stdout) as {nodes: Array<{name: string}>};
		expect(tree.nodes.map((n) => n.name)).toContain('big.bin');
		for (const args of [['cat', 'blob', 'f'.repeat(64)], ['cat', 'nonsense', 'x'], ['cat', 'index'], ['list', 'nonsense'], ['list']]) {
			const [theirs, ours] = await Promise.all([resticOut(s.repo, args), cairnOut(s.repo, args)]);
			expect(ours.code, `${args.join(' ')}: ${describeRun(ours)}`).toBe(theirs.code);
		}
	}, 120_000);

	it('honours an exclusive lock as restic does (exit 11), and --no-lock reads anyway', async () => {
		const storage = await openRepositoryStorage(s.repo, {});
		const repo = await Repository.open(storage, PASSWORD);
		const lock = await acquireLock(repo, {exclusive: true, recheckDelayMs: 0});
		try {
			for (const args of [['diff', s.a, s.b], ['find', '*.txt'], ['stats'], ['dump', s.a, `${src}/small.txt`], ['cat', 'config'], ['list', 'snapshots']]) {
				const [theirs, ours] = await Promise.all([resticOut(s.repo, args), cairnOut(s.repo, args)]);
				expect(theirs.code, describeRun(theirs)).not.toBe(0);
				expect(ours.code, describeRun(ours)).toBe(11);
				expect(ours.stderr).toMatch(/locked/);
				const unlocked = await cairnOut(s.repo, [args[0]!, '--no-lock', ...args.slice(1)]);
				expect(unlocked.code, describeRun(unlocked)).toBe(0);
			}
			// restic does not lock to list locks, and neither does cairn.
			await expectSame(s.repo, ['list', 'locks']);
		} finally {
			await lock.release();
			await repo.close();
		}
	}, 120_000);
});
