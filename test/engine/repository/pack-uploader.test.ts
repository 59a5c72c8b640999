/**
 * The pack uploader lays blobs out in one buffer per open pack, as they come: packs end at the
 * pack size (or before, when the next blob and the header would not fit the buffer), a blob
 * larger than a pack gets a pack of its own, and every pack is one restic reads back.
 */
import {execFile} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../../adapters/local.js';
import {Repository} from '../../../engine/repository/repository.js';

const run = promisify(execFile);
const PASSWORD = 'pack uploader';
let work: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-pack-uploader-'));
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

describe('PackUploader', () => {
	it('fills packs up to the pack size, gives an oversized blob its own pack, and writes packs restic checks', async () => {
		const repoDir = path.join(work, 'repo');
		const packSize = 64 * 1024;
		const repo = await Repository.init(createLocalStorage(repoDir), PASSWORD, {packSize, compression: 'off'});
		// Random (incompressible) blobs of several sizes, one larger than a pack.
		const blobs = [...Array.from({length: 300}, (_, i) => randomBytes(100 + (i * 37) % 3000)), randomBytes(3 * packSize), randomBytes(500)];
		for (const blob of blobs) await repo.saveBlob('data', blob);
		await repo.flush();
		const count = repo.index.count();
		expect(count.data).toBe(blobs.length);
		const sizes: number[] = [];
		for await (const info of repo.storage.list('data')) sizes.push(info.size);
		// Every pack but the last and the oversized one holds at least a pack's worth, and none
		// exceeds the pack size by more than a blob and the header.
		expect(sizes.length).toBeGreaterThan(4);
		expect(sizes.filter((size) => size >= packSize).length).toBeGreaterThanOrEqual(sizes.length - 1);
		expect(sizes.filter((size) => size > 3 * packSize)).toHaveLength(1);
		expect(sizes.filter((size) => size <= 3 * packSize).every((size) => size < packSize + 4000)).toBe(true);
		for (const blob of blobs) {
			const id = createHash('sha256').update(blob).digest('hex');
			expect((await repo.loadBlob('data', id)).equals(blob)).toBe(true);
		}
		await repo.close();
		const env = {...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(work, 'restic-cache')};
		expect((await run('restic', ['-r', repoDir, 'check', '--read-data'], {env})).stdout).toContain('no errors were found');
	}, 60_000);
});
