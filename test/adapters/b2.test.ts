/**
 * The B2 adapter against a fake B2 server (test/helpers/fakes/b2-server.ts) that follows the
 * documented native API: authorization, upload URLs, large files, listings, versions, ranged
 * downloads, capabilities and key restrictions.
 */
import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {createServer} from 'node:https';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';

import {afterAll, describe, expect, it} from 'vitest';

import {b2Adapter} from '../../adapters/b2/adapter.js';
import {createB2Storage, type B2StorageSettings} from '../../adapters/b2/b2-storage.js';
import {B2Client} from '../../adapters/b2/client.js';
import {parseRepositoryLocation, redactValues, registerAdapter} from '../../adapters/registry.js';
import {AlreadyExistsError, AuthError, NotFoundError, PermanentError, TransientError, pathOf, type Storage} from '../../adapters/storage.js';
import {withRetry} from '../../adapters/wrappers/retry.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {ALL_B2_CAPABILITIES, FakeB2Server, makeB2ErrorBody, type FakeB2Key} from '../helpers/fakes/b2-server.js';

const MiB = 1024 * 1024;
const KEY: FakeB2Key = {keyId: '0012a3b4c5d6e7f0000000001', applicationKey: `K001${randomBytes(14).toString('base64url')}`, capabilities: ALL_B2_CAPABILITIES};

let fake: FakeB2Server;

const ready = (async () => {
	fake = await new FakeB2Server().start();
	// Small parts, so that the suite's 20 and 40 MiB files go up as large files.
	fake.recommendedPartSize = 5_000_000;
	fake.addKey(KEY);
})();

afterAll(async () => {
	await ready;
	await fake.stop();
});

function makeBucket(): string {
	const name = `cairn-${randomBytes(5).toString('hex')}`;
	fake.addBucket(name);
	return name;
}

async function openStorage(overrides: Partial<B2StorageSettings> = {}): Promise<Storage> {
	await ready;
	return createB2Storage({bucket: overrides.bucket ?? makeBucket(), prefix: 'backups/laptop', keyId: KEY.keyId, applicationKey: KEY.applicationKey, endpoint: fake.url, ...overrides});
}

/** A key with other capabilities or limits. */
function addKey(overrides: Partial<FakeB2Key>): FakeB2Key {
	const key = {keyId: `00${randomBytes(12).toString('hex')}`, applicationKey: `K001${randomBytes(14).toString('base64url')}`, capabilities: ALL_B2_CAPABILITIES, ...overrides};
	fake.addKey(key);
	return key;
}

runStorageConformance('b2', async () => ({storage: await openStorage()}));

describe('b2 adapter', () => {
	it('stores files under the prefix in restic\'s layout, small ones with b2_upload_file and large ones in parts', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		await storage.create();
		const small = {type: 'data' as const, name: makeId('ab')};
		const large = {type: 'data' as const, name: makeId('cd')};
		const data = makeRandomData(12 * MiB);
		await storage.save(small, makeRandomData(10));
		await storage.save(large, data);
		expect(fake.listVersions(bucket).map((version) => [version.fileName, version.via])).toEqual([
			[`backups/laptop/data/ab/${small.name}`, 'b2_upload_file'],
			[`backups/laptop/data/cd/${large.name}`, 'large file'],
		]);
		// 12 MiB in 5 MB parts: three parts.
		expect(fake.log.filter((line) => line.startsWith('POST /b2api/v3/upload/')).length).toBeGreaterThanOrEqual(4);
		expect(fake.countUnfinishedLargeFiles()).toBe(0);
		expect(isSameBytes(await storage.load(large), data)).toBe(true);
		expect(storage.location).toBe(`b2:${bucket}:/backups/laptop`);
	});

	it('honours b2.part-size, never below B2\'s minimum', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket, partSize: 1});
		await storage.save({type: 'index', name: makeId()}, makeRandomData(5_000_000));
		await storage.save({type: 'index', name: makeId()}, makeRandomData(5_000_001));
		expect(fake.listVersions(bucket).map((version) => version.via)).toEqual(['b2_upload_file', 'large file']);
	});

	it('sends Range headers for partial loads', async () => {
		const storage = await openStorage();
		const handle = {type: 'data' as const, name: makeId()};
		const data = makeRandomData(4000);
		await storage.save(handle, data);
		const before = fake.log.length;
		expect(isSameBytes(await storage.load(handle, {offset: 10, length: 20}), data.subarray(10, 30))).toBe(true);
		expect(isSameBytes(await storage.load(handle, {offset: 3999}), data.subarray(3999))).toBe(true);
		expect(fake.log.slice(before).filter((line) => line.startsWith('GET /file/')).map((line) => line.split(' ').at(-1))).toEqual(['206', '206']);
	});

	it('removes every version of a name', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		const handle = {type: 'locks' as const, name: makeId()};
		const kept = {type: 'locks' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		await storage.save(handle, makeRandomData(20));
		await storage.save(kept, makeRandomData(5));
		expect(fake.listVersions(bucket)).toHaveLength(3);
		await storage.remove(handle);
		expect(fake.listVersions(bucket).map((version) => version.fileName)).toEqual([`backups/laptop/${pathOf(kept)}`]);
		expect(await catchRejection(storage.remove(handle))).toBeInstanceOf(NotFoundError);
	});

	it('treats a hidden file as missing, and removing it deletes its versions', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		const handle = {type: 'index' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		// Hidden by another tool, through the API.
		const client = new B2Client({endpoint: fake.url, keyId: KEY.keyId, applicationKey: KEY.applicationKey});
		const {buckets} = await client.call<{buckets: Array<{bucketId: string}>}>('b2_list_buckets', {accountId: fake.accountId, bucketName: bucket});
		await client.call('b2_hide_file', {bucketId: buckets[0]!.bucketId, fileName: `backups/laptop/${pathOf(handle)}`});
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
		expect(await catchRejection(storage.load(handle))).toBeInstanceOf(NotFoundError);
		expect(await collect(storage.list('index'))).toEqual([]);
		expect(fake.listVersions(bucket).map((version) => version.action)).toEqual(['upload', 'hide']);
		expect(await catchRejection(storage.remove(handle))).toBeInstanceOf(NotFoundError);
		expect(fake.listVersions(bucket)).toEqual([]);
	});

	it('checks whole downloads against the SHA-1 B2 reports, for small and large files', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		const small = {type: 'snapshots' as const, name: makeId()};
		const large = {type: 'data' as const, name: makeId()};
		await storage.save(small, makeRandomData(100));
		await storage.save(large, makeRandomData(11 * MiB));
		for (const version of fake.listVersions(bucket)) version.data[7] = version.data[7]! ^ 0xff;
		for (const handle of [small, large]) {
			const error = await catchRejection(storage.load(handle));
			expect(error).toBeInstanceOf(TransientError);
			expect((error as Error).message).toContain('damaged in transit (SHA-1 mismatch)');
		}
	});

	it('authorizes again after the token expires: one transient failure, then the retry works', async () => {
		const storage = await openStorage();
		const handle = {type: 'keys' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		fake.expireTokens();
		const error = await catchRejection(storage.stat(handle));
		expect(error).toBeInstanceOf(TransientError);
		expect((error as Error).message).toContain('authorization token expired');
		expect(await storage.stat(handle)).toMatchObject({size: 10});

		fake.expireTokens();
		const retried = withRetry(storage, {baseDelayMs: 1});
		expect((await retried.load(handle)).byteLength).toBe(10);
		expect(fake.log.filter((line) => line.startsWith('GET /b2api/v3/b2_authorize_account')).length).toBeGreaterThanOrEqual(3);
	});

	it('refuses a wrong key in words that name the settings, never the key', async () => {
		const storage = await openStorage({applicationKey: 'K001-wrong-secret-value'});
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toMatch(/refused the application key.*B2_ACCOUNT_ID.*B2_ACCOUNT_KEY/);
		expect((error as Error).message).not.toContain('K001-wrong-secret-value');
	});

	it('names the capability a key lacks', async () => {
		const noDelete = addKey({capabilities: ['listBuckets', 'listFiles', 'readFiles', 'writeFiles']});
		const storage = await openStorage({keyId: noDelete.keyId, applicationKey: noDelete.applicationKey});
		const handle = {type: 'locks' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		const error = await catchRejection(storage.remove(handle));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toContain('lacks the deleteFiles capability');

		const readOnly = addKey({capabilities: ['listBuckets', 'listFiles', 'readFiles']});
		const reader = await openStorage({keyId: readOnly.keyId, applicationKey: readOnly.applicationKey});
		expect(((await catchRejection(reader.save(handle, makeRandomData(1)))) as Error).message).toContain('lacks the writeFiles capability');
	});

	it('works with a key limited to the bucket (no listBuckets), and explains one limited to another bucket or prefix', async () => {
		const bucket = makeBucket();
		const limited = addKey({bucketName: bucket, capabilities: ['listFiles', 'readFiles', 'writeFiles', 'deleteFiles']});
		const storage = await openStorage({bucket, keyId: limited.keyId, applicationKey: limited.applicationKey});
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(4));
		expect(await collect(storage.list('config'))).toEqual([{name: '', size: 4}]);

		const elsewhere = await openStorage({keyId: limited.keyId, applicationKey: limited.applicationKey});
		const wrongBucket = await catchRejection(elsewhere.create());
		expect(wrongBucket).toBeInstanceOf(AuthError);
		expect((wrongBucket as Error).message).toContain(`limited to bucket "${bucket}"`);

		const prefixed = addKey({namePrefix: 'other/'});
		const outside = await openStorage({keyId: prefixed.keyId, applicationKey: prefixed.applicationKey});
		const wrongPrefix = await catchRejection(outside.save({type: 'keys', name: makeId()}, makeRandomData(1)));
		expect(wrongPrefix).toBeInstanceOf(AuthError);
		expect((wrongPrefix as Error).message).toMatch(/limited to file names starting with "other\/".*b2:cairn-[0-9a-f]+:\/other/);
		const inside = await openStorage({keyId: prefixed.keyId, applicationKey: prefixed.applicationKey, prefix: 'other/repo'});
		await inside.create();
		await inside.save({type: 'keys', name: makeId()}, makeRandomData(1));
	});

	it('says that a missing bucket must be created first', async () => {
		const storage = await openStorage({bucket: 'no-such-bucket'});
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(NotFoundError);
		expect((error as Error).message).toMatch(/bucket "no-such-bucket" does not exist.*cairn does not create buckets/);
	});

	it('maps 503, 429 and 500 to TransientError without retrying, and drops an upload URL that failed', async () => {
		const storage = await openStorage();
		const handle = {type: 'index' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		for (const [status, code, method, urlIncludes, run] of [
			[503, 'service_unavailable', 'POST', '/b2api/v3/upload/', () => storage.save(handle, makeRandomData(10))],
			[429, 'too_many_requests', 'POST', 'b2_list_file_names', () => collect(storage.list('index'))],
			[500, 'internal_error', 'GET', '/file/', () => storage.load(handle)],
		] as const) {
			fake.addFault({method, urlIncludes, status, body: makeB2ErrorBody(status, code, 'try again')});
			const before = fake.log.length;
			const error = await catchRejection(run());
			expect(error, code).toBeInstanceOf(TransientError);
			expect(fake.log.slice(before).filter((line) => line.includes(urlIncludes))).toHaveLength(1);
		}
		// The upload URL that answered 503 is not used again: the next save asks for a new one.
		const before = fake.log.length;
		await storage.save({type: 'index', name: makeId()}, makeRandomData(10));
		expect(fake.log.slice(before).filter((line) => line.includes('b2_get_upload_url'))).toHaveLength(1);
	});

	it('maps a usage cap to PermanentError saying where to raise it', async () => {
		const storage = await openStorage();
		fake.addFault({method: 'POST', urlIncludes: 'b2_list_file_names', status: 403, body: makeB2ErrorBody(403, 'cap_exceeded', 'Cap exceeded.')});
		const error = await catchRejection(collect(storage.list('keys')));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toContain('Caps & Alerts');
	});

	it('cancels the large file when a save is aborted', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		const controller = new AbortController();
		const saving = storage.save({type: 'data', name: makeId()}, makeRandomData(30 * MiB), {signal: controller.signal});
		while (!fake.log.some((line) => line.startsWith('POST /b2api/v3/upload/') && line.endsWith(' 200'))) await new Promise((resolve) => setTimeout(resolve, 5));
		controller.abort();
		expect(((await catchRejection(saving)) as Error).name).toBe('AbortError');
		for (let i = 0; i < 200 && fake.countUnfinishedLargeFiles() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
		expect(fake.countUnfinishedLargeFiles()).toBe(0);
		expect(fake.listVersions(bucket)).toEqual([]);
	});

	it('refuses to create where files exist, but not where only .storageconfig is', async () => {
		const bucket = makeBucket();
		const storage = await openStorage({bucket});
		await storage.save({type: 'keys', name: makeId()}, makeRandomData(1));
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(AlreadyExistsError);
		expect((error as Error).message).toMatch(/"keys\/[0-9a-f]{64}"/);

		const withConfigOnly = makeBucket();
		fake.addFile(withConfigOnly, 'backups/laptop/.storageconfig', Buffer.from('{"blobOptions":[]}'));
		await (await openStorage({bucket: withConfigOnly})).create();
	});
});

describe('the fake B2 server refuses what B2 documents as wrong', () => {
	it('checks tokens, required fields, SHA-1s, names and part sizes', async () => {
		await ready;
		const bucket = makeBucket();
		const client = new B2Client({endpoint: fake.url, keyId: KEY.keyId, applicationKey: KEY.applicationKey});
		const {buckets} = await client.call<{buckets: Array<{bucketId: string}>}>('b2_list_buckets', {accountId: fake.accountId, bucketName: bucket});
		const bucketId = buckets[0]!.bucketId;
		const answerOf = async (promise: Promise<unknown>) => {
			const error = (await catchRejection(promise)) as {status?: number; code?: string} | undefined;
			return `${error?.status} ${error?.code}`;
		};
		expect(await answerOf(client.call('b2_get_upload_url', {}))).toBe('400 bad_request');
		const target = await client.takeUploadTarget(bucketId);
		expect(await answerOf(client.uploadFile(target, 'x', new Uint8Array([1, 2, 3]), '0'.repeat(40)))).toBe('400 bad_request');
		expect(await answerOf(client.uploadFile(target, '/leading-slash', new Uint8Array([1]), 'do_not_verify'))).toBe('400 bad_request');
		const response = await fetch(target.uploadUrl, {method: 'POST', headers: {authorization: 'not-the-token', 'x-bz-file-name': 'x', 'content-type': 'b2/x-auto', 'x-bz-content-sha1': 'do_not_verify'}, body: 'x'});
		expect(response.status).toBe(401);
		const started = await client.call<{fileId: string}>('b2_start_large_file', {bucketId, fileName: 'big', contentType: 'b2/x-auto'});
		const partTarget = await client.call<{uploadUrl: string; authorizationToken: string}>('b2_get_upload_part_url', {fileId: started.fileId});
		const part = new Uint8Array(1000);
		const {createHash} = await import('node:crypto');
		const sha1 = createHash('sha1').update(part).digest('hex');
		await client.uploadPart(partTarget, 1, part, sha1);
		await client.uploadPart(partTarget, 2, part, sha1);
		// Parts other than the last must have at least absoluteMinimumPartSize bytes.
		expect(await answerOf(client.call('b2_finish_large_file', {fileId: started.fileId, partSha1Array: [sha1, sha1]}))).toBe('400 bad_request');
		const unauthorized = await fetch(`${fake.url}/b2api/v3/b2_list_file_names`, {method: 'POST', body: JSON.stringify({bucketId})});
		expect(unauthorized.status).toBe(401);
	});
});

describe('b2 connection failures', () => {
	it('explains a host name that does not resolve (DNS) as permanent', async () => {
		const storage = await openStorage({endpoint: 'http://b2-api.cairn-test.invalid'});
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/host name does not resolve \(DNS\).*check the endpoint/);
	});

	it('explains a certificate this computer does not trust, and how to trust a private authority', async () => {
		const directory = await mkdtemp(join(tmpdir(), 'cairn-b2-tls-'));
		try {
			await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem')]);
			const server = createServer({key: await readFile(join(directory, 'key.pem')), cert: await readFile(join(directory, 'cert.pem'))}, (_request, response) => response.end('{}'));
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
			try {
				const storage = await openStorage({endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`});
				const error = await catchRejection(storage.create());
				expect(error).toBeInstanceOf(PermanentError);
				expect((error as Error).message).toMatch(/TLS failed .*DEPTH_ZERO_SELF_SIGNED_CERT.*NODE_EXTRA_CA_CERTS/);
			} finally {
				server.closeAllConnections();
				await new Promise((resolve) => server.close(resolve));
			}
		} finally {
			await rm(directory, {recursive: true, force: true});
		}
	});
});

describe('b2: locations and options', () => {
	registerAdapter(b2Adapter);

	it.each([
		['my-bucket:/backups/laptop', {bucket: 'my-bucket', prefix: 'backups/laptop'}],
		['my-bucket:backups/laptop', {bucket: 'my-bucket', prefix: 'backups/laptop'}],
		['My-Bucket-01', {bucket: 'My-Bucket-01'}],
	])('parses b2:%s', (rest, expected) => {
		expect(b2Adapter.parseLocation(rest)).toEqual(expected);
		expect(b2Adapter.parseLocation(b2Adapter.formatLocation(expected))).toEqual(expected);
	});

	it('takes the key from B2_ACCOUNT_ID / B2_ACCOUNT_KEY and never shows the key', () => {
		const {adapter, values} = parseRepositoryLocation('b2:my-bucket:/x', {'b2.part-size': '10'}, {B2_ACCOUNT_ID: 'id-1', B2_ACCOUNT_KEY: 'secret-key-value'});
		expect(values).toEqual({bucket: 'my-bucket', prefix: 'x', 'account-id': 'id-1', 'account-key': 'secret-key-value', 'part-size': '10'});
		expect(redactValues(values, adapter)['account-key']).toBe('***');
	});

	it('says which settings are missing, and checks bucket names and part sizes', () => {
		expect(() => parseRepositoryLocation('b2:my-bucket:/x', {}, {})).toThrow(/Key ID \(b2\.account-id\) is required.*B2_ACCOUNT_ID[\s\S]*Application key \(b2\.account-key\) is required.*B2_ACCOUNT_KEY/);
		expect(() => parseRepositoryLocation('b2:b2-reserved:/x', {}, {B2_ACCOUNT_ID: 'a', B2_ACCOUNT_KEY: 'b'})).toThrow(/cannot start with "b2-"/);
		let message = '';
		try {
			parseRepositoryLocation('b2:my-bucket:/x', {'b2.part-size': '1'}, {B2_ACCOUNT_ID: 'a', B2_ACCOUNT_KEY: 'very-secret'});
		} catch (error) {
			message = (error as Error).message;
		}
		expect(message).toMatch(/from 5 to 5000/);
		expect(message).not.toContain('very-secret');
	});

	it('opens through the registry with the options the CLI passes', async () => {
		await ready;
		const bucket = makeBucket();
		const {adapter, values} = parseRepositoryLocation(`b2:${bucket}:/via/registry`, {'b2.endpoint': fake.url}, {B2_ACCOUNT_ID: KEY.keyId, B2_ACCOUNT_KEY: KEY.applicationKey});
		const storage = await adapter.open(values);
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(3));
		expect(fake.listVersions(bucket).map((version) => version.fileName)).toEqual(['via/registry/config']);
		expect(storage.capabilities.concurrency).toBe(5);
	});
});
