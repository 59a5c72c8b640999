/**
 * The CLI facing bad input and damage: wrong passwords, wrong locations, damaged repositories,
 * unreadable sources, a full target disk, Ctrl-C, usage errors and overwrite rules. Every case
 * checks the exit code and that the message names what went wrong and says what to do next.
 */
import {execFile} from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {openBytes, sealBytes} from '../../engine/crypto/cipher.js';
import {openMasterKey} from '../../engine/repository/keys.js';
import {
	compareTrees, describeRun, flipBit, jsonLines, listFilesBelow, listPacks, listRepoFiles, makeTempDir, packPath,
	readIndexWithRestic, restoredPath, runCairn, runRestic, startCairn, waitFor, writeSeededFile, type IndexPack, type RunResult,
} from '../helpers/cli.js';

const PASSWORD = 'bad input password';
const env = {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

const run = promisify(execFile);

let base: string;
let counter = 0;

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

async function cairn(args: string[], expectedCode = 0): Promise<RunResult> {
	const result = await runCairn(args, {env});
	expect(result.code, describeRun(result)).toBe(expectedCode);
	return result;
}

/** Messages about a damaged repository must point to a way forward. */
const REPAIR_ADVICE = /cairn check|rebuild|repair/i;

/** A repository with one snapshot of `source`. */
async function makeRepo(source: string, extraArgs: string[] = []): Promise<string> {
	const repo = fresh('repo');
	await cairn(['init', '--repo', repo]);
	await cairn(['backup', '-q', '--repo', repo, ...extraArgs, source]);
	return repo;
}

async function copyRepo(repo: string): Promise<string> {
	const copy = fresh('repo-copy');
	await fs.cp(repo, copy, {recursive: true});
	return copy;
}

async function exists(file: string): Promise<boolean> {
	return fs.lstat(file).then(() => true, () => false);
}

beforeAll(async () => {
	base = await makeTempDir('cairn-bad-input-');
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('passwords and locations', () => {
	let source: string;
	let repo: string;

	beforeAll(async () => {
		source = fresh('src');
		await fs.mkdir(source);
		await fs.writeFile(path.join(source, 'file.txt'), 'content\n');
		repo = await makeRepo(source);
	});

	it('a wrong password exits 12 and says which settings carry the password', async () => {
		const result = await runCairn(['snapshots', '--repo', repo], {env: {CAIRN_PASSWORD: 'not the password'}});
		expect(result.code, describeRun(result)).toBe(12);
		expect(result.stderr).toMatch(/wrong password/i);
		expect(result.stderr).toMatch(/CAIRN_PASSWORD|--password-file/);
		expect(result.stdout).toBe('');
	});

	it('no password at all (and no terminal) exits 1 and lists the ways to give one', async () => {
		const result = await runCairn(['snapshots', '--repo', repo]);
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toMatch(/no password given/);
		expect(result.stderr).toMatch(/CAIRN_PASSWORD/);
	});

	it('init in a non-empty directory exits 1, names the entries and asks for an empty directory', async () => {
		const dir = fresh('not-empty');
		await fs.mkdir(dir);
		await fs.writeFile(path.join(dir, 'notes.txt'), 'mine\n');
		await fs.mkdir(path.join(dir, 'photos'));
		const result = await runCairn(['init', '--repo', dir], {env});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain('notes.txt');
		expect(result.stderr).toContain('photos');
		expect(result.stderr).toMatch(/empty or new directory/);
		expect((await fs.readdir(dir)).sort()).toEqual(['notes.txt', 'photos']);
	});

	it('a directory that is not a repository exits 10 (not 12) and suggests init', async () => {
		const dir = fresh('plain-dir');
		await fs.mkdir(dir);
		await fs.writeFile(path.join(dir, 'something'), 'x');
		const result = await runCairn(['snapshots', '--repo', dir], {env});
		expect(result.code, describeRun(result)).toBe(10);
		expect(result.stderr).toContain(dir);
		expect(result.stderr).toMatch(/no repository/);
		expect(result.stderr).toMatch(/cairn init/);
	});

	it('a path that does not exist exits 10 and suggests checking it or running init', async () => {
		const missing = path.join(fresh('nowhere'), 'deeper');
		const result = await runCairn(['snapshots', '--repo', missing], {env});
		expect(result.code, describeRun(result)).toBe(10);
		expect(result.stderr).toContain(missing);
		expect(result.stderr).toMatch(/Check the location|cairn init/);
		expect(await exists(missing)).toBe(false);
	});

	it('a repository of an unknown format version is refused with a message naming the version', async () => {
		const copy = await copyRepo(repo);
		const storage = createLocalStorage(copy);
		const {master} = await openMasterKey(storage, PASSWORD);
		const configFile = path.join(copy, 'config');
		const config = JSON.parse(openBytes(master, await fs.readFile(configFile)).toString('utf8')) as Record<string, unknown>;
		expect(config.version).toBe(2);
		await fs.chmod(configFile, 0o600);
		await fs.writeFile(configFile, sealBytes(master, Buffer.from(JSON.stringify({...config, version: 99}))));
		await storage.close();
		const result = await runCairn(['snapshots', '--repo', copy], {env});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toMatch(/version 99/);
		expect(result.stderr).toMatch(/not supported/);
		expect(result.stderr).toMatch(/upgrade/i);
	});
});

describe('damaged repositories', () => {
	let source: string;
	let repo: string;
	/** The pack holding only second.bin's data. */
	let secondPack: IndexPack;

	beforeAll(async () => {
		source = fresh('src');
		await fs.mkdir(source);
		await writeSeededFile(path.join(source, 'first.bin'), 'first', 300_000);
		await fs.writeFile(path.join(source, 'note.txt'), 'a note\n');
		repo = await makeRepo(source);
		const before = new Set((await readIndexWithRestic(repo, PASSWORD)).map((p) => p.id));
		// A second backup adds second.bin: its data lands in a pack of its own.
		await writeSeededFile(path.join(source, 'second.bin'), 'second', 400_000);
		await cairn(['backup', '-q', '--repo', repo, source]);
		const added = (await readIndexWithRestic(repo, PASSWORD)).filter((p) => !before.has(p.id) && p.blobs.some((b) => b.type === 'data'));
		expect(added).toHaveLength(1);
		secondPack = added[0]!;
	});

	/** Restores the latest snapshot of a damaged copy; checks that every undamaged file came back intact. */
	async function restoreDamaged(copy: string): Promise<{result: RunResult; target: string}> {
		const target = fresh('target');
		const result = await runCairn(['restore', 'latest', '--repo', copy, '--target', target], {env});
		const restored = restoredPath(target, source);
		for (const name of ['first.bin', 'note.txt']) {
			expect(await fs.readFile(path.join(restored, name))).toEqual(await fs.readFile(path.join(source, name)));
		}
		expect((await listFilesBelow(target)).filter((f) => path.basename(f).startsWith('.cairn-restore'))).toEqual([]);
		return {result, target};
	}

	it('a truncated pack: restore exits non-zero, names the file it could not restore, restores the rest', async () => {
		const copy = await copyRepo(repo);
		const blob = secondPack.blobs.find((b) => b.type === 'data')!;
		const file = packPath(copy, secondPack.id);
		await fs.chmod(file, 0o600);
		await fs.truncate(file, blob.offset + Math.floor(blob.length / 2));
		const {result, target} = await restoreDamaged(copy);
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain('second.bin');
		expect(result.stderr).toContain(secondPack.id);
		expect(result.stderr).toMatch(/could not be restored/);
		expect(await exists(path.join(restoredPath(target, source), 'second.bin'))).toBe(false);
		// Checked last, so that a missing hint does not hide the results of the checks above.
		expect(result.stderr).toMatch(REPAIR_ADVICE);
	});

	it('a bit flipped in a pack: restore exits non-zero and names the damaged file and pack', async () => {
		const copy = await copyRepo(repo);
		const blob = secondPack.blobs.find((b) => b.type === 'data')!;
		const file = packPath(copy, secondPack.id);
		await fs.chmod(file, 0o600);
		await flipBit(file, blob.offset + Math.floor(blob.length / 2), 3);
		const {result, target} = await restoreDamaged(copy);
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain('second.bin');
		expect(result.stderr).toContain(secondPack.id);
		expect(result.stderr).toMatch(/damaged/);
		expect(await exists(path.join(restoredPath(target, source), 'second.bin'))).toBe(false);
		// Checked last, so that a missing hint does not hide the results of the checks above.
		expect(result.stderr).toMatch(REPAIR_ADVICE);
	});

	it('a missing pack: restore exits non-zero and names the pack', async () => {
		const copy = await copyRepo(repo);
		await fs.rm(packPath(copy, secondPack.id));
		const {result, target} = await restoreDamaged(copy);
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain('second.bin');
		expect(result.stderr).toContain(secondPack.id);
		expect(await exists(path.join(restoredPath(target, source), 'second.bin'))).toBe(false);
		// Checked last, so that a missing hint does not hide the results of the checks above.
		expect(result.stderr).toMatch(REPAIR_ADVICE);
	});

	it('a bit-flipped index file: a clear message naming the file and what to do', async () => {
		const copy = await copyRepo(repo);
		const indexId = (await listRepoFiles(copy, 'index'))[0]!;
		const file = path.join(copy, 'index', indexId);
		await fs.chmod(file, 0o600);
		await flipBit(file, Math.floor((await fs.stat(file)).size / 2));
		// Without the local cache: it holds a sound copy of this index file (the copy shares the original's repository ID).
		const result = await runCairn(['restore', 'latest', '--no-cache', '--repo', copy, '--target', fresh('target')], {env});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain(`index/${indexId}`);
		expect(result.stderr).toMatch(/damaged/);
		// Checked last, so that a missing hint does not hide the results of the checks above.
		expect(result.stderr).toMatch(REPAIR_ADVICE);
	});

	it('a truncated snapshot file: snapshots and restore name the file and say what to do', async () => {
		const copy = await copyRepo(repo);
		const snapshotId = (await listRepoFiles(copy, 'snapshots'))[0]!;
		const file = path.join(copy, 'snapshots', snapshotId);
		await fs.chmod(file, 0o600);
		await fs.truncate(file, Math.floor((await fs.stat(file)).size / 2));

		// Without the local cache: it holds the original's sound snapshots (the copy shares its repository ID).
		const listed = await runCairn(['snapshots', '--no-cache', '--repo', copy], {env});
		expect(listed.code, describeRun(listed)).toBe(1);
		expect(listed.stderr).toContain(snapshotId.slice(0, 8));
		expect(listed.stderr).toContain(`snapshots/${snapshotId}`);
		expect(listed.stdout).toMatch(/^1 snapshot$/m);

		const restore = await runCairn(['restore', snapshotId, '--no-cache', '--repo', copy, '--target', fresh('target')], {env});
		expect(restore.code, describeRun(restore)).toBe(1);
		expect(restore.stderr).toContain(`snapshots/${snapshotId}`);
		expect(restore.stderr).toMatch(/damaged/);
		// Checked last, so that a missing hint does not hide the results of the checks above.
		expect(listed.stderr).toMatch(REPAIR_ADVICE);
		expect(restore.stderr).toMatch(REPAIR_ADVICE);
	});
});

describe('bad sources', () => {
	it('an unreadable source file: backup exits 3, saves a snapshot without it and names it', async () => {
		const dir = fresh('nobody');
		await fs.mkdir(dir);
		const source = path.join(dir, 'src');
		await fs.mkdir(source);
		await fs.writeFile(path.join(source, 'readable.txt'), 'everyone may read this\n');
		await fs.writeFile(path.join(source, 'secret.txt'), 'nobody may read this\n');
		const repo = path.join(dir, 'repo');
		await cairn(['init', '--repo', repo]);
		// cairn runs as nobody: the repository must be writable and the source readable to it, except one file.
		await fs.chmod(base, 0o755);
		await fs.chmod(dir, 0o777);
		await fs.chmod(source, 0o755);
		await fs.chmod(path.join(source, 'readable.txt'), 0o644);
		await fs.chmod(path.join(source, 'secret.txt'), 0o000);
		await run('chmod', ['-R', 'a+rwX', repo]);

		const result = await runCairn(['backup', '--repo', repo, source], {env, asNobody: true});
		expect(result.code, describeRun(result)).toBe(3);
		expect(result.stderr).toContain(path.join(source, 'secret.txt'));
		expect(result.stderr).toMatch(/permission denied|EACCES/i);
		expect(result.stdout).toMatch(/could not be read/);
		expect(await listRepoFiles(repo, 'snapshots')).toHaveLength(1);
		const listing = (await cairn(['ls', 'latest', '--repo', repo])).stdout.split('\n');
		expect(listing).toContain(path.join(source, 'readable.txt'));
		expect(listing).not.toContain(path.join(source, 'secret.txt'));
		const check = await runRestic(['-r', repo, 'check'], {env});
		expect(check.code, describeRun(check)).toBe(0);
	});

	it('a source path that does not exist, alone: exit 1, a clear message, no snapshot', async () => {
		const source = fresh('src');
		await fs.mkdir(source);
		await fs.writeFile(path.join(source, 'file.txt'), 'x');
		const repo = fresh('repo');
		await cairn(['init', '--repo', repo]);
		const missing = path.join(source, 'not-here');
		const result = await runCairn(['backup', '--repo', repo, missing], {env});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toContain(missing);
		expect(result.stderr).toMatch(/nothing to back up/);
		expect(result.stderr).toMatch(/Check the paths/);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual([]);
	});

	it('a missing source path next to a good one: exit 3, a warning naming it, and a snapshot of the good one', async () => {
		const source = fresh('src');
		await fs.mkdir(source);
		await fs.writeFile(path.join(source, 'file.txt'), 'x');
		const repo = fresh('repo');
		await cairn(['init', '--repo', repo]);
		const missing = fresh('not-here');
		const result = await runCairn(['backup', '--json', '--repo', repo, missing, source], {env});
		expect(result.code, describeRun(result)).toBe(3);
		expect(result.stderr).toContain(missing);
		const summary = jsonLines(result.stdout).at(-1)!;
		expect(summary.message_type).toBe('summary');
		expect(await listRepoFiles(repo, 'snapshots')).toEqual([summary.snapshot_id]);
		const snapshots = JSON.parse((await cairn(['snapshots', '--json', '--repo', repo])).stdout) as Array<{paths: string[]}>;
		expect(snapshots[0]!.paths).toEqual([source]);
	});
});

describe('a full disk at the restore target', () => {
	let mountPoint: string | undefined;

	afterAll(async () => {
		if (mountPoint) await run('umount', [mountPoint]).catch(() => undefined);
	});

	it('exits non-zero, says there is no space, names the files, and leaves no partial files', async () => {
		const source = fresh('src');
		await fs.mkdir(source);
		const small: string[] = [];
		for (let i = 0; i < 8; i++) {
			const name = `a-small-${i}.bin`;
			await writeSeededFile(path.join(source, name), `small-${i}`, 64 * 1024);
			small.push(name);
		}
		for (let i = 0; i < 2; i++) await writeSeededFile(path.join(source, `z-large-${i}.bin`), `large-${i}`, 2304 * 1024);
		const repo = await makeRepo(source);

		mountPoint = fresh('tmpfs');
		await fs.mkdir(mountPoint);
		await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
		const target = path.join(mountPoint, 'target');

		const result = await runCairn(['restore', 'latest', '--repo', repo, '--target', target], {env});
		expect(result.code, describeRun(result)).not.toBe(0);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/no space/i);
		const restored = restoredPath(target, source);
		const present = await listFilesBelow(restored);
		// Nothing half-written: no temporary files, and every file that has its name is complete.
		expect(present.filter((f) => !/^[az]-(small|large)-\d\.bin$/.test(f))).toEqual([]);
		for (const name of present) {
			expect(await fs.readFile(path.join(restored, name)), name).toEqual(await fs.readFile(path.join(source, name)));
		}
		expect(present.length).toBeGreaterThan(0);
		// Every file that is missing is named in the messages.
		const missing = (await fs.readdir(source)).filter((name) => !present.includes(name));
		expect(missing.length).toBeGreaterThan(0);
		for (const name of missing) expect(result.stderr).toContain(name);
		for (const name of missing) expect(result.stderr).toMatch(new RegExp(`${name.replace(/\./g, '\\.')}: no space`));
	});
});

describe('Ctrl-C during a backup', () => {
	it('exits 130 without a snapshot, leaves a sound repository, and the next backup reuses the uploaded packs', async () => {
		const source = fresh('src');
		await fs.mkdir(source);
		const sizes = [120, 100, 80].map((mib) => mib * 1024 * 1024);
		for (const [i, size] of sizes.entries()) await writeSeededFile(path.join(source, `random-${i}.bin`), `ctrl-c-${i}`, size);
		const sourceBytes = sizes.reduce((a, b) => a + b, 0);
		const repo = fresh('repo');
		await cairn(['init', '--repo', repo]);

		const backup = startCairn(['backup', '--pack-size', '4', '--repo', repo, source], {env});
		await waitFor(async () => ((await listPacks(repo)).size > 0 ? true : undefined), 60_000, 5);
		backup.child.kill('SIGINT');
		const interrupted = await backup.done;
		expect(interrupted.code, describeRun(interrupted)).toBe(130);
		expect(interrupted.stderr).toMatch(/interrupted/);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual([]);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);

		const packsAfterInterrupt = await listPacks(repo);
		const interruptedPackBytes = [...packsAfterInterrupt.values()].reduce((a, b) => a + b, 0);
		expect(packsAfterInterrupt.size).toBeGreaterThan(0);
		// Only whole packs are left behind: every pack file is in an index, and nothing else is in data/.
		const index = await readIndexWithRestic(repo, PASSWORD);
		const indexed = new Map(index.map((p) => [p.id, p]));
		for (const id of packsAfterInterrupt.keys()) expect(indexed.has(id), `pack ${id} is not indexed`).toBe(true);
		expect((await listFilesBelow(path.join(repo, 'data'))).map((f) => path.basename(f)).sort()).toEqual([...packsAfterInterrupt.keys()].sort());
		const interruptedBlobBytes = index.flatMap((p) => p.blobs).reduce((sum, b) => sum + b.length, 0);
		expect(interruptedBlobBytes).toBeGreaterThan(0);
		expect(interruptedBlobBytes).toBeLessThanOrEqual(interruptedPackBytes);

		const check = await runCairn(['check', '--repo', repo], {env});
		expect(check.code, describeRun(check)).toBe(0);
		const resticCheck = await runRestic(['-r', repo, 'check'], {env});
		expect(resticCheck.code, describeRun(resticCheck)).toBe(0);
		expect(resticCheck.stdout).toContain('no errors were found');

		const next = await cairn(['backup', '--json', '--pack-size', '4', '--repo', repo, source]);
		const summary = jsonLines(next.stdout).at(-1)!;
		expect(summary.message_type).toBe('summary');
		const dataAdded = summary.data_added_packed as number;
		// The total the snapshot needs: every blob stored in the repository now.
		const blobs = new Map<string, number>();
		for (const pack of await readIndexWithRestic(repo, PASSWORD)) for (const blob of pack.blobs) blobs.set(`${blob.type}:${blob.id}`, blob.length);
		const total = [...blobs.values()].reduce((a, b) => a + b, 0);
		const packHeaders = interruptedPackBytes - interruptedBlobBytes;
		console.log(`Ctrl-C figures: source ${sourceBytes} B; ${packsAfterInterrupt.size} packs (${interruptedPackBytes} B, of which ${interruptedBlobBytes} B blobs) uploaded before the interrupt; next backup data_added_packed ${dataAdded} B; repository blobs total ${total} B`);
		expect(dataAdded).toBeLessThanOrEqual(total - interruptedBlobBytes);
		expect(dataAdded).toBeLessThanOrEqual(total - interruptedPackBytes + packHeaders);
		expect(dataAdded).toBeLessThan(sourceBytes);
		for (const id of packsAfterInterrupt.keys()) expect(await exists(packPath(repo, id))).toBe(true);
		const finalCheck = await runRestic(['-r', repo, 'check'], {env});
		expect(finalCheck.code, describeRun(finalCheck)).toBe(0);
		expect(finalCheck.stdout).not.toMatch(/additional files were found/);
	});
});

describe('usage errors and overwrite rules', () => {
	let source: string;
	let repo: string;

	beforeAll(async () => {
		source = fresh('src');
		await fs.mkdir(source);
		await fs.writeFile(path.join(source, 'keep.txt'), 'from the snapshot\n');
		await fs.writeFile(path.join(source, 'other.txt'), 'another file\n');
		// Whole seconds: times that survive Node's utimes exactly (see the sub-millisecond case below).
		for (const [i, name] of ['keep.txt', 'other.txt'].entries()) await fs.utimes(path.join(source, name), 1_600_000_000 + i, 1_600_000_000 + i);
		repo = await makeRepo(source);
	});

	it('an unknown command exits 2 and shows the commands', async () => {
		const result = await runCairn(['frobnicate', '--repo', repo], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/unknown command 'frobnicate'/);
		expect(result.stderr).toMatch(/Commands:/);
	});

	it('a bad --overwrite exits 2 and lists the choices', async () => {
		const result = await runCairn(['restore', 'latest', '--repo', repo, '--target', fresh('t'), '--overwrite', 'sometimes'], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/sometimes/);
		expect(result.stderr).toMatch(/never/);
		expect(result.stderr).toMatch(/if-changed/);
		expect(result.stderr).toMatch(/always/);
	});

	it('a bad --time exits 2 with the expected format and no snapshot', async () => {
		const before = await listRepoFiles(repo, 'snapshots');
		const result = await runCairn(['backup', '--repo', repo, '--time', 'yesterday', source], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/--time/);
		expect(result.stderr).toMatch(/YYYY-MM-DD HH:MM:SS/);
		expect(await listRepoFiles(repo, 'snapshots')).toEqual(before);
		const impossible = await runCairn(['backup', '--repo', repo, '--time', '2021-02-30 10:00:00', source], {env});
		expect(impossible.code, describeRun(impossible)).toBe(2);
	});

	it('restore without --target exits 2 and asks for one', async () => {
		const result = await runCairn(['restore', 'latest', '--repo', repo], {env});
		expect(result.code, describeRun(result)).toBe(2);
		expect(result.stderr).toMatch(/--target/);
	});

	it('restore leaves an existing file alone by default and says how to replace it; --overwrite always replaces it', async () => {
		const target = fresh('target');
		await cairn(['restore', 'latest', '--repo', repo, '--target', target]);
		const file = path.join(restoredPath(target, source), 'keep.txt');
		await fs.writeFile(file, 'changed locally\n');
		const again = await cairn(['restore', 'latest', '--repo', repo, '--target', target]);
		expect(await fs.readFile(file, 'utf8')).toBe('changed locally\n');
		expect(again.stderr).toMatch(/left untouched/);
		expect(again.stderr).toContain('keep.txt');
		expect(again.stderr).toMatch(/--overwrite/);
		await cairn(['restore', 'latest', '--repo', repo, '--target', target, '--overwrite', 'always']);
		expect(await fs.readFile(file, 'utf8')).toBe('from the snapshot\n');
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	});

	it('--overwrite if-changed skips identical files and replaces changed ones', async () => {
		const target = fresh('target');
		await cairn(['restore', 'latest', '--repo', repo, '--target', target]);
		const restored = restoredPath(target, source);
		const inodes = new Map<string, number>();
		for (const name of ['keep.txt', 'other.txt']) inodes.set(name, (await fs.stat(path.join(restored, name))).ino);
		const same = await cairn(['restore', 'latest', '--json', '--repo', repo, '--target', target, '--overwrite', 'if-changed']);
		const summary = jsonLines(same.stdout).at(-1)!;
		expect(summary.files_skipped).toBe(2);
		expect(summary.files_restored).toBe(0);
		for (const [name, ino] of inodes) expect((await fs.stat(path.join(restored, name))).ino).toBe(ino);

		await fs.writeFile(path.join(restored, 'keep.txt'), 'a different length\n');
		const changed = await cairn(['restore', 'latest', '--json', '--repo', repo, '--target', target, '--overwrite', 'if-changed']);
		const second = jsonLines(changed.stdout).at(-1)!;
		expect(second.files_restored).toBe(1);
		expect(second.files_skipped).toBe(1);
		expect(await compareTrees(source, restored)).toEqual([]);
	});

	it('--overwrite if-changed skips identical files whatever their sub-millisecond mtimes', async () => {
		// Files restored by cairn itself must count as unchanged: their times went through utimes,
		// which takes seconds as a double, so they can come back a microsecond off the snapshot.
		const dir = fresh('src-times');
		await fs.mkdir(dir);
		const count = 40;
		for (let i = 0; i < count; i++) {
			const file = path.join(dir, `file-${i}.txt`);
			await fs.writeFile(file, `file ${i}\n`);
			const seconds = 1_600_000_000 + i * 1.234567;
			await fs.utimes(file, seconds, seconds);
		}
		const timesRepo = await makeRepo(dir);
		const target = fresh('target');
		await cairn(['restore', 'latest', '--repo', timesRepo, '--target', target]);
		expect(await compareTrees(dir, restoredPath(target, dir))).toEqual([]);
		const again = await cairn(['restore', 'latest', '--json', '--repo', timesRepo, '--target', target, '--overwrite', 'if-changed']);
		const summary = jsonLines(again.stdout).at(-1)!;
		expect(summary.files_restored).toBe(0);
		expect(summary.files_skipped).toBe(count);
	});
});
