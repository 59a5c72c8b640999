/**
 * Test repositories for the checker: a small source tree backed up once into a template
 * repository, which each test copies and then damages.
 */
import {createHash, randomBytes} from 'node:crypto';
import {cp, mkdir, mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createLocalStorage} from '../../../adapters/local.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {decodeIndexFile, type PackEntry} from '../../../engine/format/index-file.js';
import {Repository} from '../../../engine/repository/repository.js';

export const PASSWORD = 'check me';

/** Files of the source tree, by relative path. Each is smaller than the chunker's minimum, so it is one blob. */
export const SOURCE_FILES: ReadonlyMap<string, Buffer> = new Map([
	['hello.txt', Buffer.from('hello, checker\n')],
	['empty.txt', Buffer.alloc(0)],
	['docs/notes.md', Buffer.from('# notes\n\nsome text that compresses well well well well well\n')],
	['docs/deep/random.bin', randomBytes(48 * 1024)],
	['other/random2.bin', randomBytes(40 * 1024)],
]);

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A template repository made once per test file. */
export interface Template {
	readonly root: string;
	readonly repoDir: string;
	readonly sourceDir: string;
	readonly snapshotId: string;
}

/** Writes the source tree and backs it up into a new repository with small packs (several data packs). */
export async function buildTemplate(): Promise<Template> {
	const root = await mkdtemp(join(tmpdir(), 'cairn-check-'));
	const sourceDir = join(root, 'source');
	for (const [relative, content] of SOURCE_FILES) {
		const path = join(sourceDir, relative);
		await mkdir(join(path, '..'), {recursive: true});
		await writeFile(path, content);
	}
	const repoDir = join(root, 'template');
	const repo = await Repository.init(createLocalStorage(repoDir), PASSWORD, {packSize: 16 * 1024});
	const summary = await runBackup(repo, {paths: [sourceDir], noLock: true, host: 'test-host'});
	await repo.close();
	return {root, repoDir, sourceDir, snapshotId: summary.snapshot_id};
}

let copies = 0;

/** Copies the template repository into a fresh directory; returns its path. */
export async function copyTemplate(template: Template): Promise<string> {
	copies++;
	const dir = join(template.root, `copy-${copies}`);
	await cp(template.repoDir, dir, {recursive: true});
	return dir;
}

/** Opens a repository directory (without loading its index). */
export async function openRepository(dir: string): Promise<Repository> {
	return Repository.open(createLocalStorage(dir), PASSWORD);
}

/** The path of a repository file inside a repository directory. */
export function filePath(dir: string, type: 'data' | 'index' | 'snapshots', id: string): string {
	return type === 'data' ? join(dir, 'data', id.slice(0, 2), id) : join(dir, type, id);
}

/** IDs of the files of a type in a repository directory. */
export async function listFileIds(dir: string, type: 'data' | 'index' | 'snapshots' | 'locks'): Promise<string[]> {
	if (type !== 'data') return (await readdir(join(dir, type))).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
	const ids: string[] = [];
	for (const sub of await readdir(join(dir, 'data'))) ids.push(...(await readdir(join(dir, 'data', sub))).filter((name) => /^[0-9a-f]{64}$/.test(name)));
	return ids.sort();
}

/** Reads every index file of a repository (through the engine) and returns its packs. */
export async function readIndexedPacks(dir: string): Promise<PackEntry[]> {
	const repo = await openRepository(dir);
	const packs: PackEntry[] = [];
	for (const id of await repo.listIds('index')) packs.push(...decodeIndexFile(await repo.loadJson('index', id), id).packs);
	return packs;
}

/** Finds the pack and position of a blob. */
export async function locateBlob(dir: string, type: 'data' | 'tree', id: string): Promise<{packId: string; offset: number; length: number}> {
	for (const pack of await readIndexedPacks(dir)) {
		const blob = pack.blobs.find((b) => b.type === type && b.id === id);
		if (blob) return {packId: pack.packId, offset: blob.offset, length: blob.length};
	}
	throw new Error(`${type} blob ${id} is not indexed`);
}

/** Flips one bit of a file in place. */
export async function flipByte(path: string, position: number): Promise<void> {
	const bytes = await readFile(path);
	bytes[position]! ^= 0x01;
	await writeFile(path, bytes);
}

/** Cuts a file down to its first `keep` bytes. */
export async function truncateFile(path: string, keep: number): Promise<void> {
	const bytes = await readFile(path);
	await writeFile(path, bytes.subarray(0, keep));
}
