/**
 * `cairn prune` end to end, with restic 0.14 as the oracle: a dry run changes nothing and says what
 * it would free; a prune leaves a repository that `restic check --read-data` accepts and whose
 * snapshots restore byte for byte with cairn and with restic; a repository made by restic prunes
 * as well; damage makes prune refuse without touching anything.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {jsonLines, listPacks, listRepoFiles, makeTempDir, packPath, writeSeededFile, type RunOptions} from '../helpers/cli.js';
import {cairnOk, expectRestores, hashTree, listRepository, listSnapshotIds, resticOk} from './lifecycle-helpers.js';

const PASSWORD = 'prune password';
const env: RunOptions = {env: {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD}};
const MiB = 1024 * 1024;

let base: string;
let counter = 0;

function fresh(name: string): string {
	return path.join(base, `${name}-${++counter}`);
}

/** Writes one state of a source tree: seeded files by name and size (undefined deletes). */
async function writeState(source: string, files: Record<string, number | string | undefined>): Promise<void> {
	for (const [name, spec] of Object.entries(files)) {
		const file = path.join(source, name);
		await fs.mkdir(path.dirname(file), {recursive: true});
		if (spec === undefined) await fs.rm(file, {force: true});
		else if (typeof spec === 'string') await fs.writeFile(file, spec);
		else await writeSeededFile(file, `${name}:${spec}:${counter}`, spec);
	}
}

/** A repository built by `tool` from three states of a source, with the first snapshot forgotten. */
interface History {
	repo: string;
	source: string;
	/** Expected file hashes of the snapshots that remain. */
	expected: Map<string, Map<string, string>>;
}

async function buildHistory(tool: 'cairn' | 'restic'): Promise<History> {
	const repo = fresh(`${tool}-repo`);
	const source = fresh('src');
	if (tool === 'cairn') await cairnOk(['init', '--repo', repo], env);
	else await resticOk(['-r', repo, 'init'], env);
	const states: Array<Record<string, number | string | undefined>> = [
		{'a.bin': 3 * MiB, 'b.bin': 2.5 * MiB, 'c.bin': 2 * MiB, 'text/notes.txt': 'notes that compress well\n'.repeat(20_000), 'small.txt': 'small\n'},
		{'a.bin': undefined, 'd.bin': 3 * MiB, 'text/notes.txt': 'other notes\n'.repeat(30_000)},
		{'c.bin': 2 * MiB + 17, 'e.bin': 1.5 * MiB},
	];
	const expected = new Map<string, Map<string, string>>();
	for (const state of states) {
		await writeState(source, state);
		const before = new Set(await listRepoFiles(repo, 'snapshots'));
		if (tool === 'cairn') await cairnOk(['backup', '--pack-size', '4', '--repo', repo, source], env);
		else await resticOk(['-r', repo, 'backup', source], env);
		const id = (await listRepoFiles(repo, 'snapshots')).find((s) => !before.has(s))!;
		expected.set(id, await hashTree(source));
	}
	const first = [...expected.keys()][0]!;
	await resticOk(['-r', repo, 'forget', first], env);
	expected.delete(first);
	return {repo, source, expected};
}

function summaryOf(stdout: string): Record<string, any> {
	const summary = jsonLines(stdout).at(-1)!;
	expect(summary.message_type).toBe('summary');
	return summary;
}

beforeAll(async () => {
	base = await makeTempDir('cairn-prune-');
});

afterAll(async () => {
	if (base) await fs.rm(base, {recursive: true, force: true});
});

describe('cairn prune', () => {
	let history: History;

	beforeAll(async () => {
		history = await buildHistory('cairn');
	});

	it('--dry-run changes nothing and reports what would go and how much it frees', async () => {
		const before = await listRepository(history.repo);
		const dry = summaryOf((await cairnOk(['prune', '--dry-run', '--json', '--repo', history.repo], env)).stdout);
		expect(dry.dry_run).toBe(true);
		expect(dry.snapshots).toBe(2);
		expect(dry.blobs.unused).toBeGreaterThan(0);
		expect(dry.bytes.remove_total).toBeGreaterThan(MiB);
		expect(dry.bytes.remove_total).toBe(dry.bytes.remove + dry.bytes.repack_remove + dry.bytes.unreferenced);
		expect(dry.packfiles.remove_total).toBe(dry.removed_packs.length);
		expect(dry.packs_written).toBe(0);
		expect(await listRepository(history.repo)).toEqual(before);

		const human = await cairnOk(['prune', '--dry-run', '--repo', history.repo], env);
		expect(human.stdout).toMatch(/dry run: nothing was changed\. Prune would free [\d.]+ MiB by deleting \d+ pack files/);
		expect(human.stdout).toMatch(/total prune:\s+\d+ blobs/);
		expect(await listRepository(history.repo)).toEqual(before);
	});

	it('removes unused data; restic check --read-data passes and every snapshot restores with cairn and restic', async () => {
		const packsBefore = await listPacks(history.repo);
		const bytesBefore = [...packsBefore.values()].reduce((a, b) => a + b, 0);
		const summary = summaryOf((await cairnOk(['prune', '--json', '--max-unused', '0', '--repo', history.repo], env)).stdout);
		expect(summary.dry_run).toBe(false);
		expect(summary.removed_packs.length).toBeGreaterThan(0);
		const packsAfter = await listPacks(history.repo);
		for (const id of summary.removed_packs) expect(packsAfter.has(id), id).toBe(false);
		const bytesAfter = [...packsAfter.values()].reduce((a, b) => a + b, 0);
		expect(bytesAfter).toBeLessThan(bytesBefore);
		// What it said it freed is what left the disk, give or take the headers of rewritten packs.
		expect(Math.abs(bytesBefore - bytesAfter - summary.bytes.remove_total)).toBeLessThan(64 * 1024);
		expect(await listRepoFiles(history.repo, 'locks')).toEqual([]);

		const check = await resticOk(['-r', history.repo, 'check', '--read-data'], env);
		expect(check.stdout).toContain('no errors were found');
		expect(check.stdout).not.toMatch(/additional files|not referenced|duplicate/i);
		const cairnCheck = await cairnOk(['check', '--read-data', '--repo', history.repo], env);
		expect(cairnCheck.stdout).toMatch(/no errors were found\n/);
		expect(await listSnapshotIds(history.repo, env)).toEqual([...history.expected.keys()].sort());
		for (const [id, files] of history.expected) {
			await expectRestores('cairn', history.repo, id, history.source, files, env);
			await expectRestores('restic', history.repo, id, history.source, files, env);
		}

		// Nothing is left to remove.
		const again = summaryOf((await cairnOk(['prune', '--json', '--max-unused', '0', '--repo', history.repo], env)).stdout);
		expect(again.packfiles.remove_total).toBe(0);
		expect(again.blobs.unused + again.blobs.duplicate).toBe(0);
		expect(again.index_files_written).toBe(0);
	});

	it('refuses to run when a pack a snapshot needs is missing, and changes nothing', async () => {
		const repo = fresh('damaged');
		await fs.cp(history.repo, repo, {recursive: true});
		const [victim] = [...(await listPacks(repo)).keys()];
		await fs.rm(packPath(repo, victim!));
		const before = await listRepository(repo);
		const result = await cairnOk(['prune', '--repo', repo], env, 1);
		expect(result.stderr).toContain(victim!);
		expect(result.stderr).toMatch(/missing from storage.*prune stopped before changing anything.*cairn check/);
		expect(await listRepository(repo)).toEqual(before);
	});

	it('refuses to run when an index file is damaged, naming it', async () => {
		const repo = fresh('bad-index');
		await fs.cp(history.repo, repo, {recursive: true});
		const [index] = await listRepoFiles(repo, 'index');
		const file = path.join(repo, 'index', index!);
		const bytes = await fs.readFile(file);
		bytes[bytes.length - 3]! ^= 0x10;
		await fs.writeFile(file, bytes);
		const before = await listRepository(repo);
		// Without the local cache: it holds a sound copy of this index file (the copy shares the original's repository ID).
		const result = await cairnOk(['prune', '--no-cache', '--repo', repo], env, 1);
		expect(result.stderr).toMatch(new RegExp(`index/${index} cannot be read.*cairn check`));
		expect(await listRepository(repo)).toEqual(before);
	});

	it('rejects a --max-unused that is not a percentage below 100 (exit 2)', async () => {
		for (const value of ['100', '150%', 'lots', '-1']) {
			const result = await cairnOk(['prune', '--max-unused', value, '--repo', history.repo], env, 2);
			expect(result.stderr).toMatch(/invalid --max-unused.*percentage/);
		}
	});
});

describe('cairn prune on a repository restic made', () => {
	it('prunes it so that restic check --read-data passes and restic restores every snapshot', async () => {
		const history = await buildHistory('restic');
		const summary = summaryOf((await cairnOk(['prune', '--json', '--max-unused', '0', '--repo', history.repo], env)).stdout);
		expect(summary.blobs.unused).toBeGreaterThan(0);
		expect(summary.packfiles.remove_total).toBeGreaterThan(0);
		const check = await resticOk(['-r', history.repo, 'check', '--read-data'], env);
		expect(check.stdout).toContain('no errors were found');
		for (const [id, files] of history.expected) await expectRestores('restic', history.repo, id, history.source, files, env);
		// restic finds nothing more to prune either.
		const resticPrune = await resticOk(['-r', history.repo, 'prune', '--dry-run', '--max-unused', '0'], env);
		expect(resticPrune.stdout).toMatch(/total prune:\s+0 blobs/);
	});
});
