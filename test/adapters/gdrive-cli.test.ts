/**
 * A full CLI round trip on Google Drive (experimental): `cairn init`, `backup`, `check
 * --read-data` and `restore` with a `gdrive:` location, against the fake Drive server, compared
 * byte for byte.
 */
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunResult} from '../helpers/cli.js';
import {FakeDriveServer} from '../helpers/fakes/drive-server.js';
import {makeServiceAccount, writeKeyFile, type FakeServiceAccount} from '../helpers/fakes/service-account.js';

let base: string;
let fake: FakeDriveServer;
let account: FakeServiceAccount;
let keyFile: string;

beforeAll(async () => {
	base = await makeTempDir('cairn-gdrive-cli-');
	fake = await new FakeDriveServer().start();
	account = makeServiceAccount('cli');
	fake.addAccount(account);
	keyFile = await writeKeyFile(account, join(base, 'key.json'));
});

afterAll(async () => {
	await fake?.stop();
	if (base) await rm(base, {recursive: true, force: true});
});

async function cairn(args: string[]): Promise<RunResult> {
	const result = await runCairn(args, {env: {CAIRN_PASSWORD: 'drive round trip', GOOGLE_APPLICATION_CREDENTIALS: keyFile}});
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

describe('cairn on gdrive:', () => {
	it('init, backup, check and restore give back the same tree', async () => {
		const source = join(base, 'source');
		await makeVariedTree(source, {seed: 'gdrive', bigFileSize: 8 * 1024 * 1024});
		const folderId = fake.addFolder('cairn backups', {[account.email]: 'organizer'});
		const repo = ['--repo', `gdrive:${folderId}`, '-o', `gdrive.endpoint=${fake.url}`];

		await cairn(['init', ...repo]);
		await cairn(['backup', ...repo, source]);
		await cairn(['check', '--read-data', ...repo]);
		const target = join(base, 'target');
		await cairn(['restore', 'latest', '--target', target, ...repo]);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);

		expect(fake.listChildren(folderId).map((child) => child.name).sort()).toEqual(['config', 'data', 'index', 'keys', 'locks', 'snapshots']);
		expect(fake.listChildren(fake.findByPath(folderId, ['snapshots'])!.id)).toHaveLength(1);
		// Backups and restores leave no lock behind.
		expect(fake.listChildren(fake.findByPath(folderId, ['locks'])!.id)).toEqual([]);
	});

	it('explains a folder that is not shared with the service account', async () => {
		const folderId = fake.addFolder('private', {'someone@example.com': 'organizer'});
		const result = await runCairn(['init', '--repo', `gdrive:${folderId}`, '-o', `gdrive.endpoint=${fake.url}`], {env: {CAIRN_PASSWORD: 'x', GOOGLE_APPLICATION_CREDENTIALS: keyFile}});
		expect(result.code).not.toBe(0);
		expect(result.stderr).toContain(`share the folder with ${account.email}`);
	});
});
