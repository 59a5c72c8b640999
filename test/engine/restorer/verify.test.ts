/**
 * restore --verify: a restored file that matches passes; one changed byte, or a changed size, is
 * reported with the file's place.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {randomBytes} from 'node:crypto';
import {createMemoryStorage} from '../../../adapters/memory.js';
import {Repository} from '../../../engine/repository/repository.js';
import {runBackup} from '../../../engine/archiver/archiver.js';
import {runRestore} from '../../../engine/restorer/restorer.js';
import {verifyFile} from '../../../engine/restorer/verify.js';
import {resolvePath} from '../../../engine/restorer/walk.js';
import {loadSnapshot} from '../../../engine/repository/snapshots.js';

let work: string;
let repo: Repository;
let snapshotId: string;
let source: string;

beforeAll(async () => {
	work = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-verify-'));
	source = path.join(work, 'src');
	await fs.mkdir(source);
	await fs.writeFile(path.join(source, 'big.bin'), randomBytes(3 * 1024 * 1024));
	await fs.writeFile(path.join(source, 'small.txt'), 'small\n');
	repo = await Repository.init(createMemoryStorage(), 'secret');
	snapshotId = (await runBackup(repo, {paths: [source], workers: 1})).snapshot_id;
});

afterAll(async () => {
	await fs.rm(work, {recursive: true, force: true});
});

describe('verify', () => {
	it('counts the files it read back after a restore, and finds nothing wrong', async () => {
		const target = path.join(work, 'ok');
		const summary = await runRestore(repo, snapshotId, target, {verify: true});
		expect(summary.errors).toEqual([]);
		expect(summary.filesVerified).toBe(2);
	});

	it('reports a changed byte and a changed size', async () => {
		const target = path.join(work, 'changed');
		await runRestore(repo, snapshotId, target);
		const snapshot = await loadSnapshot(repo, snapshotId);
		const big = (await resolvePath(repo, snapshot.tree, path.join(source, 'big.bin')))!.node!;
		const restored = path.join(target, source, 'big.bin');
		expect(await verifyFile(repo, restored, big)).toBeUndefined();
		const handle = await fs.open(restored, 'r+');
		await handle.write(Buffer.from([0x55]), 0, 1, 2 * 1024 * 1024);
		await handle.close();
		expect(await verifyFile(repo, restored, big)).toMatch(/Unexpected content .* at offset \d+/);
		await fs.truncate(restored, 100);
		expect(await verifyFile(repo, restored, big)).toMatch(/Invalid file size/);
	});
});
