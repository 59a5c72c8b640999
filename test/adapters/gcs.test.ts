/**
 * The GCS adapter against a fake Google Cloud Storage server (test/helpers/fakes/gcs-server.ts)
 * that follows the documented JSON API, driven through the real @google-cloud/storage SDK with a
 * generated service-account key.
 */
import {randomBytes} from 'node:crypto';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {gcsAdapter} from '../../adapters/gcs/adapter.js';
import {readGoogleCredentials} from '../../adapters/gcs/credentials.js';
import {createGcsStorage, type GcsStorageSettings} from '../../adapters/gcs/gcs-storage.js';
import {parseRepositoryLocation, registerAdapter} from '../../adapters/registry.js';
import {isDeleteRefusedError} from '../../adapters/shared/storage-errors.js';
import {AlreadyExistsError, AuthError, NotFoundError, PermanentError, TransientError, pathOf, type Storage} from '../../adapters/storage.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {FakeGcsServer, makeGcsErrorBody} from '../helpers/fakes/gcs-server.js';
import {makeServiceAccount, writeKeyFile, type FakeServiceAccount} from '../helpers/fakes/service-account.js';

const MiB = 1024 * 1024;

let fake: FakeGcsServer;
let account: FakeServiceAccount;
let keyFile: string;
let directory: string;

const ready = (async () => {
	directory = await mkdtemp(join(tmpdir(), 'cairn-gcs-'));
	fake = await new FakeGcsServer().start();
	account = makeServiceAccount('cairn-backup');
	fake.addAccount(account);
	keyFile = await writeKeyFile(account, join(directory, 'key.json'));
})();

afterAll(async () => {
	await ready;
	await fake.stop();
	await rm(directory, {recursive: true, force: true});
});

/** A new empty bucket on the fake. */
function makeBucket(): string {
	const name = `bucket-${randomBytes(6).toString('hex')}`;
	fake.addBucket(name);
	return name;
}

/** A GCS storage on the fake, in a new bucket unless one is given. */
async function openStorage(overrides: Partial<GcsStorageSettings> = {}): Promise<Storage> {
	await ready;
	return createGcsStorage({
		bucket: overrides.bucket ?? makeBucket(),
		prefix: 'backups/laptop',
		credentials: await readGoogleCredentials(keyFile, 'gs.credentials-file'),
		endpoint: fake.url,
		// Small thresholds, so that the suite's 20 and 40 MiB files take the resumable path in chunks.
		resumableThreshold: 8 * MiB,
		chunkSize: 4 * MiB,
		...overrides,
	});
}

runStorageConformance('gcs', async () => ({storage: await openStorage()}));

describe('gcs adapter', () => {
	beforeAll(async () => {
		await ready;
	});

	it('stores objects under the prefix in restic\'s layout', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		await storage.create();
		const id = makeId('ab');
		await storage.save({type: 'data', name: id}, makeRandomData(10));
		await storage.save({type: 'config', name: ''}, makeRandomData(5));
		expect([...fake.buckets.get(bucket)!.keys()].sort()).toEqual(['backups/laptop/config', `backups/laptop/data/ab/${id}`]);
		expect(storage.location).toBe('gs:' + bucket + ':/backups/laptop');
	});

	it('uploads small files in one multipart request and large ones in a resumable session of chunks', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		const small = {type: 'index' as const, name: makeId()};
		const large = {type: 'data' as const, name: makeId()};
		const before = fake.log.length;
		await storage.save(small, makeRandomData(1000));
		await storage.save(large, makeRandomData(10 * MiB + 3));
		const objects = fake.buckets.get(bucket)!;
		expect(objects.get(`backups/laptop/${pathOf(small)}`)!.uploadType).toBe('multipart');
		expect(objects.get(`backups/laptop/${pathOf(large)}`)!.uploadType).toBe('resumable');
		const puts = fake.log.slice(before).filter((line) => line.startsWith('PUT ') && line.includes('upload_id='));
		// 10 MiB + 3 bytes in 4 MiB chunks: two full chunks answered 308, then the last one.
		expect(puts.map((line) => line.split(' ').at(-1))).toEqual(['308', '308', '200']);
	});

	it('asks for byte ranges only', async () => {
		const storage = await openStorage();
		const handle = {type: 'data' as const, name: makeId()};
		const data = makeRandomData(5000);
		await storage.save(handle, data);
		const before = fake.log.length;
		expect(isSameBytes(await storage.load(handle, {offset: 100, length: 50}), data.subarray(100, 150))).toBe(true);
		expect(isSameBytes(await storage.load(handle, {offset: 4990}), data.subarray(4990))).toBe(true);
		expect(fake.log.slice(before).map((line) => line.split(' ').at(-1))).toEqual(['206', '206']);
	});

	it('follows .storageconfig: each kind of file gets its storage class', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		await storage.create();
		expect(storage.storageConfig?.classes).toEqual(['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE']);
		expect(storage.storageConfig?.coldClasses).toEqual([]);
		expect(await storage.storageConfig!.read()).toBeUndefined();
		const config = JSON.stringify({blobOptions: [{prefix: 'data/', storageClass: 'ARCHIVE'}, {prefix: 'index/', storageClass: 'nearline'}, {storageClass: 'STANDARD'}]});
		await storage.storageConfig!.write(new TextEncoder().encode(config));
		expect(new TextDecoder().decode(await storage.storageConfig!.read())).toBe(config);

		const data = {type: 'data' as const, name: makeId()};
		const index = {type: 'index' as const, name: makeId()};
		const key = {type: 'keys' as const, name: makeId()};
		const large = {type: 'data' as const, name: makeId()};
		for (const handle of [data, index, key]) await storage.save(handle, makeRandomData(100));
		await storage.save(large, makeRandomData(9 * MiB));
		const classOf = (handle: {type: 'data' | 'index' | 'keys'; name: string}) => fake.buckets.get(bucket)!.get(`backups/laptop/${pathOf(handle)}`)!.storageClass;
		expect([classOf(data), classOf(index), classOf(key), classOf(large)]).toEqual(['ARCHIVE', 'NEARLINE', 'STANDARD', 'ARCHIVE']);
		// ARCHIVE objects stay readable at once in GCS.
		expect((await storage.load(data)).byteLength).toBe(100);

		// A second Storage reads the file written by the first.
		const reopened = await openStorage({bucket});
		const later = {type: 'data' as const, name: makeId()};
		await reopened.save(later, makeRandomData(10));
		expect(classOf(later)).toBe('ARCHIVE');
		// The file does not count as repository content.
		expect(await collect(reopened.list('config'))).toEqual([]);
	});

	it('refuses a storage class GCS does not have, and writes nothing', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		await storage.storageConfig!.write(new TextEncoder().encode('{"blobOptions":[{"prefix":"data/","storageClass":"DEEP_ARCHIVE"}]}'));
		const handle = {type: 'data' as const, name: makeId()};
		const error = await catchRejection(storage.save(handle, makeRandomData(10)));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/DEEP_ARCHIVE.*STANDARD, NEARLINE, COLDLINE, ARCHIVE/);
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
		// Other kinds still go to the default class.
		await storage.save({type: 'keys', name: makeId()}, makeRandomData(10));
	});

	it('reports a damaged .storageconfig on save, saying how to fix it', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		fake.buckets.get(bucket)!.set('backups/laptop/.storageconfig', {
			name: 'backups/laptop/.storageconfig', data: Buffer.from('{not json'), generation: '1', storageClass: 'STANDARD', contentType: 'application/json', created: new Date().toISOString(), uploadType: 'multipart',
		});
		const error = await catchRejection(storage.save({type: 'keys', name: makeId()}, makeRandomData(10)));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/\.storageconfig.*not valid JSON.*cairn storageconfig set/);
	});

	it('creates in a folder that holds only .storageconfig, and refuses a folder with other objects', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		await storage.storageConfig!.write(new TextEncoder().encode('{"blobOptions":[]}'));
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(10));
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(AlreadyExistsError);
		expect((error as Error).message).toContain('"config"');
		expect((error as Error).message).toContain('a repository already exists there');
	});

	it('says that a missing bucket must be created first', async () => {
		const storage = await openStorage({bucket: 'no-such-bucket'});
		for (const attempt of [storage.create(), storage.save({type: 'keys', name: makeId()}, makeRandomData(1))]) {
			const error = await catchRejection(attempt);
			expect(error).toBeInstanceOf(NotFoundError);
			expect((error as Error).message).toMatch(/bucket "no-such-bucket" does not exist.*cairn does not create buckets/);
		}
	});

	it('names the IAM permission the account lacks', async () => {
		const limited = makeServiceAccount('read-only');
		fake.addAccount(limited, ['storage.buckets.get', 'storage.objects.list', 'storage.objects.get']);
		const path = await writeKeyFile(limited, join(directory, 'read-only.json'));
		const storage = await openStorage({credentials: await readGoogleCredentials(path, 'gs.credentials-file')});
		await storage.create();
		for (const size of [10, 9 * MiB]) {
			const error = await catchRejection(storage.save({type: 'data', name: makeId()}, makeRandomData(size)));
			expect(error).toBeInstanceOf(AuthError);
			expect((error as Error).message).toContain('read-only@cairn-test-project.iam.gserviceaccount.com lacks the IAM permission storage.objects.create');
			expect((error as Error).message).toContain('roles/storage.objectAdmin');
		}
	});

	it('needs storage.objects.delete to replace an object, as GCS does', async () => {
		const noDelete = makeServiceAccount('no-delete');
		fake.addAccount(noDelete, ['storage.buckets.get', 'storage.objects.list', 'storage.objects.get', 'storage.objects.create']);
		const storage = await openStorage({credentials: await readGoogleCredentials(await writeKeyFile(noDelete, join(directory, 'no-delete.json')), 'gs.credentials-file')});
		const handle = {type: 'locks' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		const error = await catchRejection(storage.save(handle, makeRandomData(10)));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toContain('storage.objects.delete');
	});

	it('reports refused credentials as an AuthError without quoting the key', async () => {
		const stranger = makeServiceAccount('stranger');
		const path = await writeKeyFile(stranger, join(directory, 'stranger.json'));
		const storage = await openStorage({credentials: await readGoogleCredentials(path, 'gs.credentials-file')});
		const error = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toMatch(/refused the credentials.*gs.credentials-file/);
		expect((error as Error).message).not.toContain('PRIVATE KEY');
	});

	it('maps 429 and 5xx to TransientError and leaves retrying to the wrapper (one request each)', async () => {
		const storage = await openStorage();
		const handle = {type: 'snapshots' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		for (const [status, method, urlIncludes, run] of [
			[429, 'GET', '/o/', () => storage.load(handle)],
			[503, 'POST', 'uploadType=multipart', () => storage.save(handle, makeRandomData(10))],
			[500, 'GET', '/o/', () => storage.stat(handle)],
			[502, 'DELETE', '/o/', () => storage.remove(handle)],
			[503, 'GET', '/o?', () => collect(storage.list('snapshots'))],
		] as const) {
			fake.addFault({method, urlIncludes, status, body: makeGcsErrorBody(status, 'backend error', 'backendError')});
			const before = fake.log.length;
			const error = await catchRejection(run());
			expect(error, `${status} ${method}`).toBeInstanceOf(TransientError);
			expect((error as Error).message).toContain('a retry may succeed');
			expect(fake.log.slice(before).filter((line) => line.startsWith(method))).toHaveLength(1);
		}
		expect(await storage.stat(handle)).toMatchObject({size: 10});
	});

	it('reports a delete refused by a retention policy as DeleteRefusedError and keeps the object', async () => {
		const storage = await openStorage();
		expect(storage.capabilities.mayRefuseDelete).toBe(true);
		const handle = {type: 'data' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		const message = `Object 'b/${pathOf(handle)}' is subject to bucket's retention policy or object retention and cannot be deleted or overwritten until 2030-01-01T00:00:00Z`;
		fake.addFault({method: 'DELETE', urlIncludes: '/o/', status: 403, body: makeGcsErrorBody(403, message, 'retentionPolicyNotMet')});
		const error = await catchRejection(storage.remove(handle));
		expect(isDeleteRefusedError(error)).toBe(true);
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/retention policy.*left in place/);
		expect(await storage.stat(handle)).toMatchObject({size: 10});
	});

	it('maps a 400 to PermanentError with Google\'s message', async () => {
		const storage = await openStorage();
		fake.addFault({method: 'GET', urlIncludes: '/o/', status: 400, body: makeGcsErrorBody(400, 'Invalid argument.', 'invalid')});
		const error = await catchRejection(storage.stat({type: 'keys', name: makeId()}));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toContain('Invalid argument.');
	});

	it('cancels the resumable session when a large save is aborted', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket, chunkSize: 1 * MiB, resumableThreshold: 1 * MiB});
		const controller = new AbortController();
		const handle = {type: 'data' as const, name: makeId()};
		const saving = storage.save(handle, makeRandomData(30 * MiB), {signal: controller.signal});
		// Abort once the session has taken a chunk or two.
		while (!fake.log.some((line) => line.startsWith('PUT ') && line.includes(bucket) && line.endsWith(' 308'))) await new Promise((resolve) => setTimeout(resolve, 5));
		controller.abort();
		expect(((await catchRejection(saving)) as Error).name).toBe('AbortError');
		for (let i = 0; i < 200 && fake.countOpenSessions() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
		expect(fake.countOpenSessions()).toBe(0);
		expect(fake.buckets.get(bucket)!.size).toBe(0);
	});

	it('explains a host name that does not resolve (DNS) as permanent', async () => {
		const storage = await openStorage({endpoint: 'http://storage.cairn-test.invalid'});
		const error = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/Google Cloud Storage at http:\/\/storage\.cairn-test\.invalid: its host name does not resolve \(DNS\)/);
	});

	it('reports an unreachable endpoint as a transient failure naming it', async () => {
		const storage = await openStorage({endpoint: 'http://127.0.0.1:9'});
		const error = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(error).toBeInstanceOf(TransientError);
		expect((error as Error).message).toContain('http://127.0.0.1:9');
	});
});

describe('the fake GCS server refuses what GCS documents as wrong', () => {
	it('checks credentials, multipart bodies and resumable chunk sizes', async () => {
		await ready;
		const bucket = makeBucket();
		expect((await fetch(`${fake.url}/storage/v1/b/${bucket}/o`)).status).toBe(401);
		const storage = new (await import('@google-cloud/storage')).Storage({apiEndpoint: fake.url, useAuthWithCustomEndpoint: true, credentials: account.keyJson as never});
		(storage.authClient as unknown as {useJWTAccessWithScope: boolean}).useJWTAccessWithScope = true;
		const authorization = ((await storage.authClient.getRequestHeaders()) as Record<string, string>)['Authorization']!;
		const plain = await fetch(`${fake.url}/upload/storage/v1/b/${bucket}/o?uploadType=multipart&name=x`, {method: 'POST', headers: {authorization, 'content-type': 'application/octet-stream'}, body: 'x'});
		expect(plain.status).toBe(400);
		const start = await fetch(`${fake.url}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=x`, {method: 'POST', headers: {authorization, 'content-type': 'application/json'}, body: '{}'});
		const session = start.headers.get('location')!;
		const tiny = await fetch(session, {method: 'PUT', headers: {'content-range': 'bytes 0-9/*'}, body: new Uint8Array(10)});
		expect(tiny.status).toBe(400);
		expect(((await tiny.json()) as {error: {message: string}}).error.message).toContain('equal or greater than 262144');
		expect(fake.buckets.get(bucket)!.size).toBe(0);
	});
});

describe('gcs credentials files', () => {
	it('explains a missing, non-JSON or foreign file without quoting its content', async () => {
		await ready;
		const missing = await catchRejection(readGoogleCredentials(join(directory, 'absent.json'), 'gs.credentials-file'));
		expect(missing).toBeInstanceOf(AuthError);
		expect((missing as Error).message).toMatch(/absent\.json \(it does not exist\).*gs\.credentials-file/);

		const broken = join(directory, 'broken.json');
		await writeFile(broken, account.keyJson['private_key']!.slice(0, 200));
		const notJson = await catchRejection(readGoogleCredentials(broken, 'gs.credentials-file'));
		expect(notJson).toBeInstanceOf(AuthError);
		expect((notJson as Error).message).toContain('is not valid JSON');
		expect((notJson as Error).message).not.toContain('PRIVATE');

		const foreign = join(directory, 'foreign.json');
		await writeFile(foreign, JSON.stringify({hello: 'world'}));
		expect(((await catchRejection(readGoogleCredentials(foreign, 'gs.credentials-file'))) as Error).message).toMatch(/not a Google credentials file/);
	});
});

describe('gs: locations and options', () => {
	registerAdapter(gcsAdapter);

	it.each([
		['my-bucket:/backups/laptop', {bucket: 'my-bucket', prefix: 'backups/laptop'}],
		['my-bucket:/', {bucket: 'my-bucket'}],
		['my-bucket', {bucket: 'my-bucket'}],
		['my-bucket:backups//laptop/', {bucket: 'my-bucket', prefix: 'backups/laptop'}],
		['my.bucket.example.com:/x', {bucket: 'my.bucket.example.com', prefix: 'x'}],
	])('parses gs:%s', (rest, expected) => {
		expect(gcsAdapter.parseLocation(rest)).toEqual(expected);
		expect(gcsAdapter.parseLocation(gcsAdapter.formatLocation(expected))).toEqual(expected);
	});

	it('rejects malformed locations and bucket names with a reason', () => {
		expect(() => gcsAdapter.parseLocation(':/x')).toThrow(/no bucket name/);
		expect(() => gcsAdapter.parseLocation('bucket/x')).toThrow(/colon between the bucket and the folder/);
		expect(() => gcsAdapter.parseLocation('bucket:/a/../b')).toThrow(/\.\./);
		expect(() => parseRepositoryLocation('gs:Bad_Bucket:/x', {}, {})).toThrow(/Bucket \(gs\.bucket\) "Bad_Bucket" must be a Google Cloud Storage bucket name/);
	});

	it('takes the credentials file and project from the environment, and -o options', () => {
		const {values} = parseRepositoryLocation('gs:b-1:/p', {'gs.endpoint': 'http://127.0.0.1:1234', 'gs.connections': '8'}, {GOOGLE_APPLICATION_CREDENTIALS: '/k.json', GOOGLE_PROJECT_ID: 'proj'});
		expect(values).toEqual({bucket: 'b-1', prefix: 'p', 'credentials-file': '/k.json', 'project-id': 'proj', endpoint: 'http://127.0.0.1:1234', connections: '8'});
	});

	it('opens through the registry with the options the CLI passes', async () => {
		await ready;
		const bucket = makeBucket();
		const {adapter, values} = parseRepositoryLocation(`gs:${bucket}:/via/registry`, {'gs.endpoint': fake.url, 'gs.credentials-file': keyFile}, {});
		const storage = await adapter.open(values);
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(3));
		expect(fake.buckets.get(bucket)!.has('via/registry/config')).toBe(true);
		expect(storage.capabilities.concurrency).toBe(5);
	});
});
