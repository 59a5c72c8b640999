/**
 * `cairn check` on damaged repositories, end to end: each kind of damage is reported precisely
 * (the repository file, and what is wrong with it), the exit code is 1 whenever anything is
 * wrong, restic 0.14 agrees that the repository is damaged, and --read-data-subset reads the
 * slices restic's rules define.
 */
import {createHash} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {decodeIndexFile, type PackEntry} from '../../engine/format/index-file.js';
import {Repository} from '../../engine/repository/repository.js';
import {jsonLines, listPacks, listRepoFiles, makeTempDir, packPath, runCairn, runRestic, writeSeededFile, type RunOptions} from '../helpers/cli.js';
import {cairnOk} from './lifecycle-helpers.js';

const PASSWORD = 'check password';
const env: RunOptions = {env: {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD}};
const MiB = 1024 * 1024;

let base: string;
let template: string;
let source: string;
/** Snapshot IDs in the order they were made. */
let snapshots: string[] = [];
let copies = 0;

/** Copies the template repository; each test damages its own copy. */
async function copyTemplate(): Promise<string> {
	const dir = path.join(base, `copy-${++copies}`);
	await fs.cp(template, dir, {recursive: true});
	return dir;
}

/** Every index file's packs, through the engine. */
async function readIndex(repo: string): Promise<Map<string, PackEntry[]>> {
	const opened = await Repository.open(createLocalStorage(repo), PASSWORD);
	try {
		const out = new Map<string, PackEntry[]>();
		for (const id of await opened.listIds('index')) out.set(id, decodeIndexFile(await opened.loadJson('index', id), id).packs);
		return out;
	} finally {
		await opened.close();
	}
}

async function findPacks(repo: string, type: 'data' | 'tree'): Promise<PackEntry[]> {
	return [...(await readIndex(repo)).values()].flat().filter((p) => p.blobs.every((b) => b.type === type));
}

async function flipByte(file: string, offset: number): Promise<void> {
	const bytes = await fs.readFile(file);
	bytes[offset]! ^= 0x40;
	await fs.writeFile(file, bytes);
}

async function truncate(file: string, keep: number): Promise<void> {
	await fs.truncate(file, keep);
}

/** Runs `cairn check` and returns its problem lines (stderr), expecting the exit code. */
async function check(repo: string, args: string[], code: number): Promise<{problems: string[]; stdout: string}> {
	const result = await cairnOk(['check', ...args, '--repo', repo], env, code);
	return {problems: result.stderr.split('\n').filter((line) => /^(error|warning): /.test(line)), stdout: result.stdout};
}

async function resticFails(repo: string, args: string[] = []): Promise<void> {
	const result = await runRestic(['-r', repo, 'check', ...args], env);
	expect(result.code, result.stdout + result.stderr).not.toBe(0);
}

beforeAll(async () => {
	base = await makeTempDir('cairn-check-cli-');
	source = path.join(base, 'src');
	template = path.join(base, 'template');
	await fs.mkdir(path.join(source, 'docs', 'deep'), {recursive: true});
	for (let i = 0; i < 3; i++) await writeSeededFile(path.join(source, `big-${i}.bin`), `check-${i}`, 3 * MiB);
	await fs.writeFile(path.join(source, 'docs', 'notes.txt'), 'notes\n'.repeat(1000));
	await fs.writeFile(path.join(source, 'docs', 'deep', 'leaf.txt'), 'a leaf\n');
	await cairnOk(['init', '--repo', template], env);
	await cairnOk(['backup', '--pack-size', '4', '--repo', template, source], env);
	snapshots = await listRepoFiles(template, 'snapshots');
	await writeSeededFile(path.join(source, 'later.bin'), 'later', 2 * MiB);
	await cairnOk(['backup', '--pack-size', '4', '--repo', template, source], env);
	const all = await listRepoFiles(template, 'snapshots');
	snapshots.push(all.find((id) => id !== snapshots[0])!);
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('cairn check', () => {
	it('passes a sound repository, with and without --read-data', async () => {
		const repo = await copyTemplate();
		const plain = await check(repo, [], 0);
		expect(plain.problems).toEqual([]);
		expect(plain.stdout).toMatch(/checked 2 snapshots, \d+ trees, \d+ packs\nno errors were found\n/);
		const packs = (await listPacks(repo)).size;
		const json = jsonLines((await cairnOk(['check', '--read-data', '--json', '--repo', repo], env)).stdout).at(-1)!;
		expect(json).toMatchObject({message_type: 'summary', ok: true, errors: 0, warnings: 0, snapshots: 2, packs, packs_read: packs});
	});

	it('a flipped byte in a pack: found with --read-data, naming the pack and the blob', async () => {
		const repo = await copyTemplate();
		// A blob long enough that byte 100 is its own (the workers pack small files in any order, so
		// a pack's first blob can be a tiny one).
		const pack = (await findPacks(repo, 'data')).find((entry) => entry.blobs.some((b) => b.length > 200));
		const blob = pack!.blobs.find((b) => b.length > 200)!;
		await flipByte(packPath(repo, pack!.packId), blob.offset + 100);
		// Without reading data the damage cannot be seen: sizes and the index still agree.
		expect((await check(repo, [], 0)).problems).toEqual([]);
		const {problems} = await check(repo, ['--read-data'], 1);
		const file = `data/${pack!.packId.slice(0, 2)}/${pack!.packId}`;
		expect(problems).toContain(`error: ${file}: the file's content does not match its name: its SHA-256 is ${problems[0]!.match(/[0-9a-f]{64}$/)?.[0]}`);
		expect(problems.some((line) => line.startsWith(`error: ${file}: data blob ${blob.id} is damaged: `) && line.endsWith(`(offset ${blob.offset}, ${blob.length} bytes)`))).toBe(true);
		expect(problems).toHaveLength(2);
		await resticFails(repo, ['--read-data']);
	});

	it('a missing pack: names the pack and every file that can no longer be restored', async () => {
		const repo = await copyTemplate();
		const [pack] = await findPacks(repo, 'data');
		await fs.rm(packPath(repo, pack!.packId));
		const {problems} = await check(repo, [], 1);
		expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^error: data/${pack!.packId.slice(0, 2)}/${pack!.packId}: pack ${pack!.packId} is in the index but missing from storage`)));
		const lostFiles = problems.filter((line) => /cannot be restored: \d+ of its data blobs .* are only in packs missing from storage$/.test(line));
		expect(lostFiles.length).toBeGreaterThan(0);
		for (const line of lostFiles) expect(line).toMatch(new RegExp(`^error: tree [0-9a-f]{64}: file "${source}/[^"]+" \\(snapshot [0-9a-f]{8}\\)`));
		// Which pack the small files landed in depends on which worker packed them: each (one blob,
		// its SHA-256) is reported lost, once per snapshot, exactly when its blob was in the pack.
		const packBlobs = new Set(pack!.blobs.map((blob) => blob.id));
		for (const small of [path.join(source, 'docs', 'notes.txt'), path.join(source, 'docs', 'deep', 'leaf.txt')]) {
			const id = createHash('sha256').update(await fs.readFile(small)).digest('hex');
			const reported = lostFiles.filter((line) => line.includes(`file "${small}"`));
			expect(reported, small).toHaveLength(packBlobs.has(id) ? 2 : 0);
		}
		await resticFails(repo);
	});

	it('a missing index file: the trees and blobs it listed are reported missing from the index', async () => {
		const repo = await copyTemplate();
		const index = await readIndex(repo);
		expect(index.size).toBe(2);
		// The second backup's index file (the newer one) lists the packs of later.bin and of the second snapshot's trees.
		const times = await Promise.all([...index.keys()].map(async (id) => ({id, time: (await fs.stat(path.join(repo, 'index', id))).mtimeMs})));
		const second = times.sort((a, b) => a.time - b.time).at(-1)!.id;
		await fs.rm(path.join(repo, 'index', second));
		const {problems} = await check(repo, [], 1);
		const unreferenced = problems.filter((line) => /^warning: data\/.*is not referenced by any index/.test(line));
		expect(unreferenced.length).toBe(index.get(second)!.length);
		expect(problems.some((line) => /^error: tree [0-9a-f]{64}: referenced by snapshot [0-9a-f]{8} \(path \/\) is missing from the index$/.test(line))).toBe(true);
		await resticFails(repo);
	});

	it('a missing tree: a lost tree pack and a snapshot whose tree does not exist are named', async () => {
		const repo = await copyTemplate();
		const treePacks = await findPacks(repo, 'tree');
		expect(treePacks.length).toBeGreaterThan(0);
		for (const pack of treePacks) await fs.rm(packPath(repo, pack.packId));
		const {problems} = await check(repo, [], 1);
		for (const id of snapshots) {
			expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^error: tree [0-9a-f]{64}: referenced by snapshot ${id.slice(0, 8)} \\(path /\\) is lost: its pack data/[0-9a-f]{2}/[0-9a-f]{64} is missing from storage$`)));
		}
		// (restic 0.14 agrees, but only after retrying each missing pack for most of a minute.)

		const other = await copyTemplate();
		const opened = await Repository.open(createLocalStorage(other), PASSWORD);
		const ghost = 'ab'.repeat(32);
		const snapshot = await opened.saveUnpacked('snapshots', Buffer.from(JSON.stringify({time: '2024-01-02T03:04:05Z', tree: ghost, paths: ['/nowhere'], hostname: 'h', username: 'u'})));
		await opened.close();
		const ghostly = await check(other, [], 1);
		expect(ghostly.problems).toEqual([`error: tree ${ghost}: referenced by snapshot ${snapshot.slice(0, 8)} (path /) is missing from the index`]);
		await resticFails(other);
	});

	it('truncated files: a pack, a snapshot and an index file are each named with what is wrong', async () => {
		const repo = await copyTemplate();
		const [pack] = await findPacks(repo, 'data');
		const packFile = packPath(repo, pack!.packId);
		const size = (await fs.stat(packFile)).size;
		await truncate(packFile, size - 1000);
		const [snapshot] = snapshots;
		await truncate(path.join(repo, 'snapshots', snapshot!), 50);
		const [indexFile] = await listRepoFiles(repo, 'index');
		await truncate(path.join(repo, 'index', indexFile), 40);
		const {problems} = await check(repo, [], 1);
		expect(problems).toContain(`error: snapshots/${snapshot}: is damaged: its content does not match its name (SHA-256 mismatch; 50 bytes)`);
		expect(problems).toContain(`error: index/${indexFile}: is damaged: its content does not match its name (SHA-256 mismatch; 40 bytes); the index file was not used`);
		await resticFails(repo);

		// A truncated pack on its own: its size no longer fits the index.
		const alone = await copyTemplate();
		await truncate(packPath(alone, pack!.packId), size - 1000);
		const truncated = await check(alone, [], 1);
		expect(truncated.problems).toEqual([expect.stringMatching(new RegExp(`^error: data/${pack!.packId.slice(0, 2)}/${pack!.packId}: is truncated: the file has ${size - 1000} bytes, the index \\(listed by index [0-9a-f]{8}\\) implies ${size}$`))]);
		await resticFails(alone);
	});

	it('--read-data-subset: n/m slices cover every pack once, and only the slice holding the damage fails, as with restic', async () => {
		const repo = await copyTemplate();
		const packs = await listPacks(repo);
		const [pack] = await findPacks(repo, 'data');
		await flipByte(packPath(repo, pack!.packId), pack!.blobs[0]!.offset + 10);
		const damagedSlice = (Number.parseInt(pack!.packId.slice(0, 2), 16) % 2) + 1;
		let read = 0;
		for (const n of [1, 2]) {
			const failing = n === damagedSlice;
			const result = await cairnOk(['check', '--read-data-subset', `${n}/2`, '--json', '--repo', repo], env, failing ? 1 : 0);
			const summary = jsonLines(result.stdout).at(-1)!;
			const expectedPacks = [...packs.keys()].filter((id) => Number.parseInt(id.slice(0, 2), 16) % 2 === n - 1).length;
			expect(summary.packs_read).toBe(expectedPacks);
			read += summary.packs_read as number;
			const problems = jsonLines(result.stdout).filter((line) => line.message_type === 'problem');
			expect(problems.some((p) => String(p.file).endsWith(pack!.packId))).toBe(failing);
			const restic = await runRestic(['-r', repo, 'check', '--read-data-subset', `${n}/2`], env);
			expect(restic.code === 0, restic.stdout + restic.stderr).toBe(!failing);
		}
		expect(read).toBe(packs.size);

		const all = jsonLines((await cairnOk(['check', '--read-data-subset', '100%', '--json', '--repo', repo], env, 1)).stdout).at(-1)!;
		expect(all.packs_read).toBe(packs.size);
		// Half of the packs, chosen at random: it fails only when it meets the damaged pack.
		const halfRun = await runCairn(['check', '--read-data-subset', '50%', '--json', '--repo', repo], env);
		const half = jsonLines(halfRun.stdout).at(-1)!;
		expect(half.packs_read).toBe(Math.max(1, Math.floor(packs.size / 2)));
		const metDamage = jsonLines(halfRun.stdout).some((line) => line.message_type === 'problem');
		expect(halfRun.code).toBe(metDamage ? 1 : 0);
	});

	it('rejects a malformed --read-data-subset (exit 2)', async () => {
		for (const subset of ['0/2', '3/2', '1/0', 'half', '0%', '101%']) {
			const result = await cairnOk(['check', '--read-data-subset', subset, '--repo', template], env, 2);
			expect(result.stderr).toMatch(/invalid --read-data-subset.*N\/M.*percentage/);
		}
	});
});
