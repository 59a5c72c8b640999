/**
 * A full CLI round trip on Backblaze B2: `cairn init`, `backup`, `check --read-data` and
 * `restore` with a `b2:` location, against the fake B2 server, compared byte for byte.
 */
import {randomBytes} from 'node:crypto';
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunResult} from '../helpers/cli.js';
import {ALL_B2_CAPABILITIES, FakeB2Server} from '../helpers/fakes/b2-server.js';

const KEY = {keyId: '0012a3b4c5d6e7f0000000099', applicationKey: `K001${randomBytes(14).toString('base64url')}`, capabilities: ALL_B2_CAPABILITIES};

let base: string;
let fake: FakeB2Server;

beforeAll(async () => {
	base = await makeTempDir('cairn-b2-cli-');
	fake = await new FakeB2Server().start();
	// Parts of 5 MB, so that the 16 MiB packs go up as large files.
	fake.recommendedPartSize = 5_000_000;
	fake.addKey(KEY);
});

afterAll(async () => {
	await fake?.stop();
	if (base) await rm(base, {recursive: true, force: true});
});

async function cairn(args: string[], env: Record<string, string>): Promise<RunResult> {
	const result = await runCairn(args, {env: {CAIRN_PASSWORD: 'b2 round trip', ...env}});
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

describe('cairn on b2:', () => {
	it('init, backup, check and restore give back the same tree', async () => {
		const source = join(base, 'source');
		await makeVariedTree(source, {seed: 'b2', bigFileSize: 12 * 1024 * 1024});
		const bucket = `cli-${randomBytes(4).toString('hex')}`;
		fake.addBucket(bucket);
		const repo = ['--repo', `b2:${bucket}:/backups/cli`, '-o', `b2.endpoint=${fake.url}`];
		const env = {B2_ACCOUNT_ID: KEY.keyId, B2_ACCOUNT_KEY: KEY.applicationKey};

		await cairn(['init', ...repo], env);
		const backup = await cairn(['backup', ...repo, source], env);
		await cairn(['check', '--read-data', ...repo], env);
		const target = join(base, 'target');
		await cairn(['restore', 'latest', '--target', target, ...repo], env);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);

		const versions = fake.listVersions(bucket);
		expect(versions.every((version) => version.fileName.startsWith('backups/cli/'))).toBe(true);
		expect(versions.some((version) => version.via === 'large file')).toBe(true);
		// The application key is never printed.
		expect(backup.stdout + backup.stderr).not.toContain(KEY.applicationKey);
	});

	it('says what is missing when the key is not given, without running anything', async () => {
		const result = await runCairn(['init', '--repo', 'b2:some-bucket:/x'], {env: {CAIRN_PASSWORD: 'x'}});
		expect(result.code).not.toBe(0);
		expect(result.stderr).toMatch(/b2\.account-id.*B2_ACCOUNT_ID/);
		expect(result.stderr).toMatch(/b2\.account-key.*B2_ACCOUNT_KEY/);
	});
});
