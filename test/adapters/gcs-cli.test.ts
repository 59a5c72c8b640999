/**
 * A full CLI round trip on Google Cloud Storage: `cairn init`, `storageconfig set`, `backup`,
 * `check --read-data` and `restore` with a `gs:` location, against the fake GCS server, compared
 * byte for byte, with each object's storage class checked.
 */
import {randomBytes} from 'node:crypto';
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunResult} from '../helpers/cli.js';
import {FakeGcsServer} from '../helpers/fakes/gcs-server.js';
import {makeServiceAccount, writeKeyFile} from '../helpers/fakes/service-account.js';

let base: string;
let fake: FakeGcsServer;
let keyFile: string;

beforeAll(async () => {
	base = await makeTempDir('cairn-gcs-cli-');
	fake = await new FakeGcsServer().start();
	const account = makeServiceAccount('cli');
	fake.addAccount(account);
	keyFile = await writeKeyFile(account, join(base, 'key.json'));
});

afterAll(async () => {
	await fake?.stop();
	if (base) await rm(base, {recursive: true, force: true});
});

async function cairn(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
	const result = await runCairn(args, {env: {CAIRN_PASSWORD: 'gcs round trip', ...env}});
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

describe('cairn on gs:', () => {
	it('init, backup, check and restore give back the same tree', async () => {
		const source = join(base, 'source');
		await makeVariedTree(source, {seed: 'gcs', bigFileSize: 6 * 1024 * 1024});
		const bucket = `cli-${randomBytes(4).toString('hex')}`;
		fake.addBucket(bucket);
		const repo = ['--repo', `gs:${bucket}:/backups/cli`, '-o', `gs.endpoint=${fake.url}`];

		await cairn(['init', ...repo, '-o', `gs.credentials-file=${keyFile}`]);
		// Credentials from the environment, as with restic.
		const env = {GOOGLE_APPLICATION_CREDENTIALS: keyFile};
		await cairn(['storageconfig', 'set', '--data', 'COLDLINE', '--default', 'STANDARD', ...repo], env);
		const shown = await cairn(['storageconfig', 'show', '--json', ...repo], env);
		expect(JSON.parse(shown.stdout)).toMatchObject({present: true, warnings: []});
		await cairn(['backup', ...repo, source], env);
		await cairn(['check', '--read-data', ...repo], env);
		const target = join(base, 'target');
		await cairn(['restore', 'latest', '--target', target, ...repo], env);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);

		const keys = [...fake.buckets.get(bucket)!.keys()];
		expect(keys.every((key) => key.startsWith('backups/cli/'))).toBe(true);
		expect(keys.filter((key) => key.startsWith('backups/cli/data/')).length).toBeGreaterThan(0);
		expect(keys.filter((key) => key.startsWith('backups/cli/snapshots/'))).toHaveLength(1);
		// Each object went to the class .storageconfig gives its kind.
		for (const [key, object] of fake.buckets.get(bucket)!) {
			const expected = key.startsWith('backups/cli/data/') ? 'COLDLINE' : 'STANDARD';
			if (key !== 'backups/cli/.storageconfig') expect(object.storageClass, key).toBe(expected);
		}
	});

	it('explains a missing bucket and missing credentials in words', async () => {
		const missing = await runCairn(['init', '--repo', 'gs:absent-bucket:/x', '-o', `gs.endpoint=${fake.url}`, '-o', `gs.credentials-file=${keyFile}`], {env: {CAIRN_PASSWORD: 'x'}});
		expect(missing.code).not.toBe(0);
		expect(missing.stderr).toMatch(/bucket "absent-bucket" does not exist.*cairn does not create buckets/);

		const noKey = await runCairn(['init', '--repo', 'gs:absent-bucket:/x', '-o', `gs.credentials-file=${join(base, 'nope.json')}`], {env: {CAIRN_PASSWORD: 'x'}});
		expect(noKey.code).not.toBe(0);
		expect(noKey.stderr).toMatch(/nope\.json \(it does not exist\)/);
	});
});
