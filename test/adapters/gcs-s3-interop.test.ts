/**
 * The S3-interoperability route to Google Cloud Storage (HMAC keys, `s3:https://storage.googleapis.com/BUCKET`),
 * as docs/backends-cloud-gcs-b2-gdrive.md describes it: the location is read as an S3-compatible
 * endpoint (path-style requests, checksums only where required, which GCS's XML API needs), and
 * the same command line, pointed at s3rver, makes a full `init → backup → restore` round trip.
 */
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {readS3StorageOptions, resolveChecksumPolicy} from '../../adapters/s3/index.js';
import {parseRepositoryLocation, redactValues} from '../../adapters/registry.js';
import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunResult} from '../helpers/cli.js';
import {S3RVER_CREDENTIALS, startS3rver, type RunningS3rver} from '../helpers/servers/s3rver.js';

/** An HMAC key as Google shows it (made up). */
const HMAC = {AWS_ACCESS_KEY_ID: 'GOOG1EXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE123', AWS_SECRET_ACCESS_KEY: 'bGoa+V7g/yqDXvKRqq+JTFn4uQZbPiQJo4pf9RzJ'};

describe('GCS through the S3 adapter (XML API interoperability)', () => {
	it('reads s3:https://storage.googleapis.com/BUCKET/PREFIX as an S3-compatible endpoint with HMAC keys', () => {
		const {adapter, values} = parseRepositoryLocation('s3:https://storage.googleapis.com/my-gcs-bucket/backups/laptop', {'s3.region': 'auto'}, HMAC);
		expect(adapter.scheme).toBe('s3');
		const options = readS3StorageOptions(values);
		expect(options).toMatchObject({endpoint: 'https://storage.googleapis.com', bucket: 'my-gcs-bucket', prefix: 'backups/laptop', region: 'auto', accessKeyId: HMAC.AWS_ACCESS_KEY_ID});
		// GCS's XML API does not take aws-chunked uploads: checksums only where S3 requires them.
		expect(resolveChecksumPolicy(options)).toBe('when_required');
		expect(redactValues(values, adapter)['secret-access-key']).toBe('***');
	});

	describe('the same command line against s3rver', () => {
		let base: string;
		let server: RunningS3rver;
		beforeAll(async () => {
			base = await makeTempDir('cairn-gcs-interop-');
			server = await startS3rver(['my-gcs-bucket']);
		});
		afterAll(async () => {
			await server?.close();
			if (base) await rm(base, {recursive: true, force: true});
		});

		async function cairn(args: string[]): Promise<RunResult> {
			const result = await runCairn(args, {env: {CAIRN_PASSWORD: 'interop', AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey}});
			expect(result.code, describeRun(result)).toBe(0);
			return result;
		}

		it('init, backup and restore give back the same tree', async () => {
			const source = join(base, 'source');
			await makeVariedTree(source, {seed: 'gcs-interop', bigFileSize: 3 * 1024 * 1024});
			// Only the host differs from the documented form: s3:https://storage.googleapis.com/my-gcs-bucket/backups/laptop
			const repo = ['--repo', `s3:${server.endpoint}/my-gcs-bucket/backups/laptop`, '-o', 's3.region=auto'];
			await cairn(['init', ...repo]);
			await cairn(['backup', ...repo, source]);
			const target = join(base, 'target');
			await cairn(['restore', 'latest', '--target', target, ...repo]);
			expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
		});
	});
});
