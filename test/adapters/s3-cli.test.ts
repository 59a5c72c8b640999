/**
 * The built CLI on S3: an `init → backup → restore` round trip against s3rver under a
 * `.storageconfig` (each object's class checked with HeadObject), and against a server answering
 * as the S3 API documents: the cold-storage restore (`restore --thaw`), object lock on every
 * upload, `retention extend`, and a prune whose deletes the lock refuses.
 */
import {randomBytes} from 'node:crypto';
import {rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

import {HeadObjectCommand, ListObjectsV2Command} from '@aws-sdk/client-s3';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';

import {createS3Client} from '../../adapters/s3/index.js';
import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunResult} from '../helpers/cli.js';
import {S3RVER_CREDENTIALS, startS3rver, type RunningS3rver} from '../helpers/servers/s3rver.js';
import {startS3Emulator, type RunningS3Emulator} from '../helpers/servers/s3-emulator.js';

let base: string;
let source: string;
let small: string;

beforeAll(async () => {
	base = await makeTempDir('cairn-s3-cli-');
	source = join(base, 'source');
	// A 21 MiB file makes packs above the 8 MiB multipart threshold.
	await makeVariedTree(source, {seed: 's3', bigFileSize: 21 * 1024 * 1024});
	small = join(base, 'small');
	await makeVariedTree(small, {seed: 's3-small', bigFileSize: 0});
});

afterAll(async () => {
	if (base) await rm(base, {recursive: true, force: true});
});

const CREDENTIALS = {AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, CAIRN_PASSWORD: 's3 round trip'};

/**
 * Runs the CLI with S3 credentials in the environment, without the local cache: these tests are
 * about what the repository itself serves (with the cache, trees come from local copies and
 * need no thaw).
 */
function cairn(args: string[]): Promise<RunResult> {
	return runCairn([...args, '--no-cache'], {env: CREDENTIALS});
}

/** Runs the CLI and expects exit code 0. */
async function cairnOk(args: string[]): Promise<RunResult> {
	const result = await cairn(args);
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

describe('cairn on s3: with s3rver', () => {
	let server: RunningS3rver;
	beforeAll(async () => {
		server = await startS3rver(['cli']);
	});
	afterAll(async () => {
		await server?.close();
	});

	it('init, storageconfig, backup and restore give back the same tree, each object in its class', async () => {
		const prefix = `backups/${randomBytes(4).toString('hex')}`;
		const repo = ['--repo', `s3:${server.endpoint}/cli/${prefix}`];
		await cairnOk(['init', ...repo]);
		// A cold class for index/ is refused without --force.
		const refused = await cairn(['storageconfig', 'set', ...repo, '{"blobOptions":[{"prefix":"index/","storageClass":"GLACIER"}]}']);
		expect(refused.code, describeRun(refused)).toBe(2);
		expect(refused.stderr).toMatch(/warning: rule 1 \(prefix "index\/"\) puts index\/ files into GLACIER/);
		await cairnOk(['storageconfig', 'set', ...repo, '--data', 'STANDARD_IA', '--default', 'REDUCED_REDUNDANCY']);
		const shown = await cairnOk(['storageconfig', 'show', '--json', ...repo]);
		expect(JSON.parse(shown.stdout)).toMatchObject({present: true, config: {blobOptions: [{prefix: 'data/', storageClass: 'STANDARD_IA'}, {prefix: '', storageClass: 'REDUCED_REDUNDANCY'}]}});

		await cairnOk(['backup', ...repo, source]);
		await cairnOk(['check', '--read-data', ...repo]);
		const target = join(base, 'target-s3rver');
		await cairnOk(['restore', 'latest', '--target', target, ...repo]);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);

		// Objects written after the .storageconfig have its classes; config and keys predate it.
		const client = createS3Client({endpoint: server.endpoint, bucket: 'cli', ...S3RVER_CREDENTIALS});
		const listed = await client.send(new ListObjectsV2Command({Bucket: 'cli', Prefix: `${prefix}/`}));
		const keys = (listed.Contents ?? []).map((item) => item.Key!.slice(prefix.length + 1));
		const packs = keys.filter((key) => key.startsWith('data/'));
		expect(packs.length).toBeGreaterThan(1);
		expect(keys.filter((key) => key.startsWith('snapshots/'))).toHaveLength(1);
		for (const key of keys) {
			const head = await client.send(new HeadObjectCommand({Bucket: 'cli', Key: `${prefix}/${key}`}));
			const expected = key.startsWith('data/') ? 'STANDARD_IA' : key === 'config' || key.startsWith('keys/') || key === '.storageconfig' ? 'STANDARD' : 'REDUCED_REDUNDANCY';
			expect(head.StorageClass ?? 'STANDARD', key).toBe(expected);
		}
		client.destroy();
	});

	it('takes credentials from a profile of the shared credentials file, and says when there are none', async () => {
		const prefix = `profiles/${randomBytes(4).toString('hex')}`;
		const file = join(base, 'aws-credentials');
		await writeFile(file, `[cairn]\naws_access_key_id = ${S3RVER_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${S3RVER_CREDENTIALS.secretAccessKey}\n[stale]\naws_access_key_id = DELETEDKEY\naws_secret_access_key = x\n`);
		const env = {CAIRN_PASSWORD: 'profiles', AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: join(base, 'no-config'), AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: undefined};
		const repo = ['--repo', `s3:${server.endpoint}/cli/${prefix}`];
		const init = await runCairn(['init', ...repo, '-o', 's3.profile=cairn'], {env});
		expect(init.code, describeRun(init)).toBe(0);
		const stale = await runCairn(['snapshots', ...repo], {env: {...env, AWS_PROFILE: 'stale'}});
		expect(stale.code).toBe(1);
		expect(stale.stderr).toMatch(/does not know the access key ID given/);
		const none = await runCairn(['snapshots', ...repo], {env: {...env, AWS_SHARED_CREDENTIALS_FILE: join(base, 'no-credentials')}});
		expect(none.code).toBe(1);
		expect(none.stderr).toMatch(/no AWS credentials found .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .*AWS_PROFILE or -o s3.profile/);
	});

	it('says what is wrong with a missing bucket and a local repository', async () => {
		const missing = await cairn(['init', '--repo', `s3:${server.endpoint}/absent-bucket/x`]);
		expect(missing.code).toBe(1);
		expect(missing.stderr).toMatch(/bucket "absent-bucket" does not exist .*cairn does not create buckets.*s3:GetBucketLocation/);
		const local = await cairn(['storageconfig', 'show', '--repo', join(base, 'no-repo')]);
		expect(local.code).toBe(2);
		expect(local.stderr).toMatch(/has no storage classes/);
	});
});

describe('cairn on s3: with a server answering as the S3 API documents', () => {
	let emulator: RunningS3Emulator;
	afterEach(async () => {
		await emulator?.close();
	});

	it('restores from DEEP_ARCHIVE with --thaw: trees first, then file contents, each pack asked once', async () => {
		emulator = await startS3Emulator({buckets: ['cold']});
		const repo = ['--repo', `s3:${emulator.endpoint}/cold/repo`];
		await cairnOk(['init', ...repo]);
		await cairnOk(['storageconfig', 'set', ...repo, '--data', 'DEEP_ARCHIVE']);
		await cairnOk(['backup', ...repo, small]);
		const objects = emulator.buckets.get('cold')!;
		const packs = [...objects.keys()].filter((key) => key.startsWith('repo/data/'));
		expect(packs.length).toBeGreaterThan(1);
		for (const key of packs) expect(objects.get(key)!.storageClass).toBe('DEEP_ARCHIVE');

		// Without --thaw: a clear error, nothing requested.
		const target = join(base, 'target-cold');
		const plain = await cairn(['restore', 'latest', '--target', target, ...repo]);
		expect(plain.code, describeRun(plain)).toBe(1);
		expect(plain.stderr).toMatch(/DEEP_ARCHIVE storage class .*cairn restore --thaw/);
		expect(emulator.requests.filter((request) => request.query.has('restore'))).toHaveLength(0);

		// --no-wait: the tree packs are requested first, their status shown, nothing restored.
		const first = await cairn(['restore', 'latest', '--target', target, '--thaw', '--no-wait', ...repo]);
		expect(first.code, describeRun(first)).toBe(1);
		expect(first.stderr).toMatch(/thaw: \d+ packs? \(.*\) holding directory trees (is|are) needed; \d+ of them (is|are) in cold storage/);
		expect(first.stderr).toMatch(/Thawing asks the provider for a temporary readable copy/);
		expect(first.stderr).toMatch(/still thawing \(directory trees\):\n {2}data\//);
		const treeRequests = emulator.requests.filter((request) => request.query.has('restore')).map((request) => request.key);
		expect(treeRequests.length).toBeGreaterThan(0);
		expect(treeRequests.length).toBeLessThan(packs.length);

		// Waiting: polls until the trees, then the contents, are readable; then restores.
		const second = await cairn(['restore', 'latest', '--target', target, '--thaw', '--thaw-poll', '0.01', ...repo]);
		expect(second.code, describeRun(second)).toBe(0);
		expect(second.stderr).toMatch(/thaw: (the pack|all \d+ packs) holding file contents (is|are) readable/);
		expect(await compareTrees(small, restoredPath(target, small))).toEqual([]);
		const requested = emulator.requests.filter((request) => request.query.has('restore')).map((request) => request.key);
		expect(new Set(requested).size).toBe(requested.length);
		expect(new Set(requested)).toEqual(new Set(packs));
		for (const request of emulator.requests.filter((r) => r.query.has('restore'))) expect(request.headers['content-type'] ?? '').toMatch(/xml/);
	});

	it('locks every object it writes, extends the locks, and survives a prune whose deletes are refused', async () => {
		emulator = await startS3Emulator({buckets: ['locked']});
		const lock = ['-o', 's3.retention-mode=GOVERNANCE', '-o', 's3.retention-period=2d'];
		const repo = ['--repo', `s3:${emulator.endpoint}/locked/repo`, ...lock];
		const started = Date.now();
		await cairnOk(['init', ...repo]);
		await cairnOk(['backup', ...repo, small]);
		const uploads = emulator.requests.filter((request) => (request.method === 'PUT' && !request.query.has('partNumber')) || (request.method === 'POST' && request.query.has('uploads')));
		const lockUploads = uploads.filter((request) => request.key.startsWith('repo/locks/'));
		const others = uploads.filter((request) => !request.key.startsWith('repo/locks/'));
		expect(lockUploads.length).toBeGreaterThan(0);
		expect(others.length).toBeGreaterThan(4);
		for (const request of others) {
			expect(request.headers['x-amz-object-lock-mode'], request.key).toBe('GOVERNANCE');
			const until = Date.parse(request.headers['x-amz-object-lock-retain-until-date'] as string);
			expect(until).toBeGreaterThanOrEqual(started + 2 * 86_400_000 - 1000);
		}
		// Lock files stay deletable, so commands can remove their own locks.
		for (const request of lockUploads) expect(request.headers['x-amz-object-lock-mode']).toBeUndefined();
		expect([...emulator.buckets.get('locked')!.keys()].filter((key) => key.startsWith('repo/locks/'))).toEqual([]);

		// Without a retention mode there is nothing to extend with: one clear error, not one per file.
		const modeless = await cairn(['retention', 'extend', '--period', '30d', '--repo', `s3:${emulator.endpoint}/locked/repo`]);
		expect(modeless.code).toBe(1);
		expect(modeless.stderr).toMatch(/^Fatal: cannot extend retention: no retention mode is set; pass -o s3.retention-mode=GOVERNANCE/m);
		expect(modeless.stderr).not.toMatch(/^error:/m);
		const extended = await cairnOk(['retention', 'extend', '--period', '30d', ...repo]);
		expect(extended.stdout).toMatch(/locked \d+ files until .*; 0 were already locked longer; 0 failed/);
		const objects = emulator.buckets.get('locked')!;
		for (const [key, object] of objects) {
			expect(object.retainUntil!.getTime(), key).toBeGreaterThanOrEqual(started + 30 * 86_400_000 - 1000);
		}

		// A second backup of other data, forget the first snapshot, prune: the lock refuses the deletes.
		const other = join(base, 'other');
		await makeVariedTree(other, {seed: 's3-other', bigFileSize: 0});
		await cairnOk(['backup', ...repo, other]);
		const firstId = JSON.parse((await cairnOk(['snapshots', '--json', ...repo])).stdout).find((s: {paths: string[]}) => s.paths.includes(small)).id as string;
		// forget cannot remove a locked snapshot: it says so and the snapshot stays.
		const refused = await cairn(['forget', firstId, ...repo]);
		expect(refused.code, describeRun(refused)).not.toBe(0);
		expect(refused.stderr).toMatch(/object lock/);
		expect(JSON.parse((await cairnOk(['snapshots', '--json', ...repo])).stdout)).toHaveLength(2);
		// Once the snapshot's own lock has lapsed, forget works; its packs are still locked.
		objects.get(`repo/snapshots/${firstId}`)!.retainUntil = new Date(Date.now() - 1000);
		await cairnOk(['forget', firstId, ...repo]);
		const before = new Set(objects.keys());
		const pruned = await cairn(['prune', ...repo]);
		expect(pruned.code, describeRun(pruned)).not.toBe(0);
		expect(`${pruned.stdout}${pruned.stderr}`).toMatch(/sound/);
		// Nothing locked went away, and the repository is consistent and restorable.
		for (const key of before) if (!key.startsWith('repo/locks/') && !key.startsWith('repo/snapshots/')) expect(objects.has(key), key).toBe(true);
		await cairnOk(['check', '--read-data', ...repo]);
		const target = join(base, 'target-locked');
		await cairnOk(['restore', 'latest', '--target', target, ...repo]);
		expect(await compareTrees(other, restoredPath(target, other))).toEqual([]);
	});
});
