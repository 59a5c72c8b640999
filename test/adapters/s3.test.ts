/**
 * The S3 adapter against s3rver (conformance, storage classes, the streamed-checksum trap) and
 * against a local server that answers as the S3 API documents (object lock, refused deletes,
 * archive classes and RestoreObject, error answers s3rver cannot give), always through the real SDK.
 */
import {randomBytes} from 'node:crypto';
import {createServer} from 'node:net';
import {Readable} from 'node:stream';

import {
	CompleteMultipartUploadCommand,
	CreateMultipartUploadCommand,
	GetObjectCommand,
	HeadObjectCommand,
	PutObjectCommand,
	UploadPartCommand,
	type S3Client,
} from '@aws-sdk/client-s3';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {parseRepositoryLocation, redactValues} from '../../adapters/registry.js';
import {createS3Client, createS3Storage, joinKey, parseS3Location, readS3StorageOptions, readThawState, s3Adapter, type S3StorageOptions} from '../../adapters/s3/index.js';
import {ColdStorageError, DeleteRefusedError, isColdStorageError, isDeleteRefusedError} from '../../adapters/shared/storage-errors.js';
import {AuthError, NotFoundError, PermanentError, TransientError, pathOf, type FileHandle} from '../../adapters/storage.js';
import {catchRejection, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {S3RVER_CREDENTIALS, startS3rver, type RunningS3rver} from '../helpers/servers/s3rver.js';
import {startS3Emulator, type RunningS3Emulator, type S3EmulatorOptions} from '../helpers/servers/s3-emulator.js';

const MiB = 1024 * 1024;
let s3rver: RunningS3rver;

beforeAll(async () => {
	s3rver = await startS3rver(['cairn']);
});

afterAll(async () => {
	await s3rver.close();
});

/** A fresh prefix in s3rver's bucket. */
function makeS3rverStorage(extra: Partial<S3StorageOptions> = {}) {
	return createS3Storage({endpoint: s3rver.endpoint, bucket: 'cairn', prefix: `t/${randomBytes(6).toString('hex')}`, ...S3RVER_CREDENTIALS, ...extra});
}

runStorageConformance('s3 (s3rver)', async () => ({storage: makeS3rverStorage()}));

/** Reads a whole object through a client. */
async function readObject(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
	const response = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}));
	return response.Body!.transformToByteArray();
}

describe('s3 locations and options', () => {
	it.each([
		['https://s3.example.com/bucket/a/b', {endpoint: 'https://s3.example.com', bucket: 'bucket', prefix: 'a/b'}],
		['http://127.0.0.1:9000/bucket', {endpoint: 'http://127.0.0.1:9000', bucket: 'bucket'}],
		['https://minio.local:9000/bucket//deep/./prefix/', {endpoint: 'https://minio.local:9000', bucket: 'bucket', prefix: 'deep/prefix'}],
		['my-bucket', {bucket: 'my-bucket'}],
		['my-bucket/laptop/home', {bucket: 'my-bucket', prefix: 'laptop/home'}],
		['s3.amazonaws.com/my-bucket/p', {bucket: 'my-bucket', prefix: 'p'}],
		['s3.eu-west-1.amazonaws.com/my-bucket', {bucket: 'my-bucket'}],
		['https://s3.amazonaws.com/backups.example.com/p', {bucket: 'backups.example.com', prefix: 'p'}],
	])('parses s3:%s', (rest, expected) => {
		expect(parseS3Location(rest)).toEqual(expected);
		// Formatting and parsing again gives the same values.
		expect(parseS3Location(s3Adapter.formatLocation(expected))).toEqual(expected);
	});

	it.each([
		['https://s3.example.com/', /no bucket/],
		['https://user:secret@s3.example.com/bucket', /do not put credentials in the URL/],
		['minio.example.com/bucket', /looks like a server/],
		['localhost:9000/bucket', /looks like a server/],
		['bucket/../x', /must not contain "\.\."/],
		['b', /not a valid bucket name/],
	])('refuses s3:%s', (rest, message) => {
		expect(() => parseS3Location(rest)).toThrow(message);
	});

	it('takes credentials from the environment, validates choices, and redacts secrets', () => {
		const env = {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'very-secret', AWS_REGION: 'eu-central-1'};
		const parsed = parseRepositoryLocation('s3:https://s3.example.com/bucket/p', {'s3.storage-class': 'STANDARD_IA'}, env);
		expect(parsed.adapter.scheme).toBe('s3');
		expect(parsed.values).toMatchObject({endpoint: 'https://s3.example.com', bucket: 'bucket', prefix: 'p', 'access-key-id': 'AKIDEXAMPLE', region: 'eu-central-1', 'thaw-tier': 'Standard', 'thaw-days': '7'});
		expect(JSON.stringify(redactValues(parsed.values, parsed.adapter))).not.toContain('very-secret');
		expect(() => parseRepositoryLocation('s3:bucket', {'s3.retention-mode': 'FOREVER'}, {})).toThrow(/GOVERNANCE, COMPLIANCE/);
		expect(() => parseRepositoryLocation('s3:bucket', {'s3.retention-period': 'soon'}, {})).toThrow(/30d, 12w, 1y or 48h/);
		let message = '';
		try {
			parseRepositoryLocation('s3:bucket', {'s3.secret-access-key': 'very-secret', 's3.checksum': 'sometimes'}, {});
		} catch (error) {
			message = (error as Error).message;
		}
		expect(message).toMatch(/when_required, when_supported/);
		expect(message).not.toContain('very-secret');
	});

	it('refuses half-given credentials and object lock settings', () => {
		expect(() => readS3StorageOptions({bucket: 'b', 'access-key-id': 'AKID'})).toThrow(/without its secret/);
		expect(() => readS3StorageOptions({bucket: 'b', 'secret-access-key': 'x'})).toThrow(/without an access key ID/);
		expect(() => readS3StorageOptions({bucket: 'b', 'retention-mode': 'GOVERNANCE'})).toThrow(/without a period/);
		expect(readS3StorageOptions({bucket: 'b', 'retention-mode': 'COMPLIANCE', 'retention-period': '2w'}).retention).toEqual({mode: 'COMPLIANCE', periodMs: 14 * 86_400_000});
	});

	it('reads the thaw state from the documented x-amz-restore values', () => {
		expect(readThawState({StorageClass: undefined})).toBe('ready');
		expect(readThawState({StorageClass: 'STANDARD_IA'})).toBe('ready');
		expect(readThawState({StorageClass: 'GLACIER_IR'})).toBe('ready');
		expect(readThawState({StorageClass: 'GLACIER'})).toBe('frozen');
		expect(readThawState({StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="true"'})).toBe('pending');
		expect(readThawState({StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"'})).toBe('ready');
		expect(readThawState({StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'DEEP_ARCHIVE_ACCESS'})).toBe('frozen');
	});
});

describe('s3 against s3rver', () => {
	it('says the bucket must exist and which permissions cairn needs', async () => {
		const storage = createS3Storage({endpoint: s3rver.endpoint, bucket: 'no-such-bucket', ...S3RVER_CREDENTIALS});
		for (const attempt of [storage.create(), storage.stat({type: 'config', name: ''})]) {
			const error = await catchRejection(attempt);
			expect(error).toBeInstanceOf(PermanentError);
			expect((error as Error).message).toMatch(/bucket "no-such-bucket" does not exist .* cairn does not create buckets/);
			expect((error as Error).message).toContain('s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:GetBucketLocation');
		}
		await storage.close();
	});

	it('says an unknown access key is not known', async () => {
		const storage = createS3Storage({endpoint: s3rver.endpoint, bucket: 'cairn', accessKeyId: 'NOBODY', secretAccessKey: 'x'});
		const error = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toMatch(/does not know the access key ID/);
		await storage.close();
	});

	it('stores each object in the class of the first matching .storageconfig rule', async () => {
		const storage = makeS3rverStorage({storageClass: 'REDUCED_REDUNDANCY', multipartThreshold: 6 * MiB, partSize: 5 * MiB});
		await storage.create();
		const config = {blobOptions: [{prefix: 'data/', storageClass: 'STANDARD_IA'}, {prefix: 'index/', storageClass: 'ONEZONE_IA'}, {prefix: 'snap', storageClass: 'INTELLIGENT_TIERING'}]};
		await storage.storageConfig.write(new TextEncoder().encode(JSON.stringify(config)));
		const handles: Array<[FileHandle, number, string]> = [
			[{type: 'data', name: makeId()}, 100, 'STANDARD_IA'],
			[{type: 'data', name: makeId()}, 13 * MiB, 'STANDARD_IA'], // multipart
			[{type: 'index', name: makeId()}, 100, 'ONEZONE_IA'],
			[{type: 'snapshots', name: makeId()}, 100, 'INTELLIGENT_TIERING'],
			[{type: 'keys', name: makeId()}, 100, 'REDUCED_REDUNDANCY'], // no rule: the storage-class option
			[{type: 'config', name: ''}, 100, 'REDUCED_REDUNDANCY'],
		];
		for (const [handle, size] of handles) await storage.save(handle, makeRandomData(size));
		const prefix = (storage.location.split('/cairn/')[1] ?? '');
		for (const [handle, size, storageClass] of handles) {
			const head = await storage.client.send(new HeadObjectCommand({Bucket: 'cairn', Key: joinKey(prefix, pathOf(handle))}));
			expect(head.StorageClass, pathOf(handle)).toBe(storageClass);
			expect(head.ContentLength).toBe(size);
		}
		// The file itself is read back as written, and a second storage honours it too.
		expect(JSON.parse(new TextDecoder().decode(await storage.storageConfig.read()))).toEqual(config);
		const again = createS3Storage({endpoint: s3rver.endpoint, bucket: 'cairn', prefix, ...S3RVER_CREDENTIALS});
		const handle = {type: 'index' as const, name: makeId()};
		await again.save(handle, makeRandomData(10));
		expect((await again.client.send(new HeadObjectCommand({Bucket: 'cairn', Key: joinKey(prefix, pathOf(handle))}))).StorageClass).toBe('ONEZONE_IA');
		await again.close();
		await storage.close();
	});

	it('refuses to save under an invalid .storageconfig, saying how to fix it, but still reads', async () => {
		const storage = makeS3rverStorage();
		await storage.create();
		const prefix = storage.location.split('/cairn/')[1]!;
		const config = {type: 'config' as const, name: ''};
		await storage.save(config, makeRandomData(5));
		await storage.client.send(new PutObjectCommand({Bucket: 'cairn', Key: `${prefix}/.storageconfig`, Body: '{"blobOptions": "STANDARD"}'}));
		const fresh = createS3Storage({endpoint: s3rver.endpoint, bucket: 'cairn', prefix, ...S3RVER_CREDENTIALS});
		const error = await catchRejection(fresh.save({type: 'keys', name: makeId()}, makeRandomData(5)));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/\.storageconfig of .* is not valid: "blobOptions" .* must be a list.*cairn storageconfig set/);
		expect((await fresh.load(config)).byteLength).toBe(5);
		await fresh.close();
		await storage.close();
	});

	it('lets a .storageconfig exist before the repository is created', async () => {
		const storage = makeS3rverStorage();
		await storage.storageConfig.write(new TextEncoder().encode('{"blobOptions":[{"storageClass":"STANDARD"}]}'));
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(3));
		const error = await catchRejection(storage.create());
		expect((error as Error).message).toMatch(/already holds objects such as "config".*looks like a repository/);
		await storage.close();
	});

	describe('streamed uploads (the aws-chunked trap)', () => {
		const size = 5_000_000 + 12_345;
		const data = makeRandomData(size);
		/** Uploads `data` as a two-part multipart upload whose parts are streams, and reads it back. */
		const roundTrip = async (checksum: 'when_required' | 'when_supported'): Promise<Uint8Array> => {
			const client = createS3Client({endpoint: s3rver.endpoint, bucket: 'cairn', checksum, ...S3RVER_CREDENTIALS});
			const key = `streamed/${checksum}/${makeId()}`;
			const {UploadId} = await client.send(new CreateMultipartUploadCommand({Bucket: 'cairn', Key: key}));
			const cut = 5 * MiB;
			const parts = [data.subarray(0, cut), data.subarray(cut)];
			const etags: string[] = [];
			for (const [index, part] of parts.entries()) {
				const body = Readable.from([Buffer.from(part.subarray(0, 1000)), Buffer.from(part.subarray(1000))]);
				const result = await client.send(new UploadPartCommand({Bucket: 'cairn', Key: key, UploadId, PartNumber: index + 1, Body: body, ContentLength: part.byteLength}));
				etags.push(result.ETag!);
			}
			await client.send(new CompleteMultipartUploadCommand({Bucket: 'cairn', Key: key, UploadId, MultipartUpload: {Parts: etags.map((ETag, index) => ({ETag, PartNumber: index + 1}))}}));
			const read = await readObject(client, 'cairn', key);
			client.destroy();
			return read;
		};

		it('round-trips byte for byte with the default for S3-compatible endpoints (when_required)', async () => {
			const read = await roundTrip('when_required');
			expect(read.byteLength).toBe(size);
			expect(isSameBytes(read, data)).toBe(true);
		});

		it('is why: with when_supported s3rver stores the aws-chunked framing as data', async () => {
			const read = await roundTrip('when_supported');
			expect(read.byteLength).toBeGreaterThan(size);
		});
	});
});

describe('s3 against a server answering as the S3 API documents', () => {
	let emulator: RunningS3Emulator;
	const now = new Date('2031-05-06T07:08:09.000Z');

	const start = async (options: S3EmulatorOptions = {}) => {
		emulator = await startS3Emulator(options);
	};
	const open = (extra: Partial<S3StorageOptions> = {}) =>
		createS3Storage({endpoint: emulator.endpoint, bucket: 'cairn', prefix: 'repo', accessKeyId: 'AKID', secretAccessKey: 'TOP-SECRET-VALUE', ...extra});

	afterEach(async () => {
		await emulator?.close();
	});

	it('sends object-lock headers and Content-MD5 with every upload, single and multipart', async () => {
		await start();
		const storage = open({retention: {mode: 'COMPLIANCE', periodMs: 30 * 86_400_000}, now: () => now, multipartThreshold: 6 * MiB, partSize: 5 * MiB});
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(10));
		await storage.save({type: 'data', name: makeId()}, makeRandomData(11 * MiB));
		const until = new Date(now.getTime() + 30 * 86_400_000).toISOString();
		const puts = emulator.requests.filter((request) => request.method === 'PUT' && !request.query.has('partNumber'));
		const initiations = emulator.requests.filter((request) => request.method === 'POST' && request.query.has('uploads'));
		const parts = emulator.requests.filter((request) => request.query.has('partNumber'));
		expect(puts).toHaveLength(1);
		expect(initiations).toHaveLength(1);
		expect(parts).toHaveLength(3);
		for (const request of [...puts, ...initiations]) {
			expect(request.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
			expect(new Date(request.headers['x-amz-object-lock-retain-until-date'] as string).toISOString()).toBe(until);
		}
		for (const request of [...puts, ...parts]) expect(request.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
		// when_required: no aws-chunked bodies and no flexible checksum headers for these calls.
		for (const request of [...puts, ...parts]) {
			expect(request.headers['content-encoding'] ?? '').not.toContain('aws-chunked');
			expect(Object.keys(request.headers).filter((name) => name.startsWith('x-amz-checksum-'))).toEqual([]);
		}
		await storage.close();
	});

	it('reports a delete refused by object lock, leaving the file in place', async () => {
		await start();
		const storage = open({retention: {mode: 'GOVERNANCE', periodMs: 86_400_000}});
		const handle = {type: 'data' as const, name: makeId()};
		await storage.save(handle, makeRandomData(100));
		const error = await catchRejection(storage.remove(handle));
		expect(error).toBeInstanceOf(DeleteRefusedError);
		expect(error).toBeInstanceOf(PermanentError);
		expect(isDeleteRefusedError(error)).toBe(true);
		expect((error as DeleteRefusedError).retainUntil?.getTime()).toBeGreaterThan(Date.now());
		expect((error as Error).message).toMatch(/under GOVERNANCE object lock until \d{4}-.*left in place/);
		expect(await storage.stat(handle)).toEqual({name: handle.name, size: 100});
		await storage.close();
	});

	it('reports a delete refused by a policy, naming s3:DeleteObject', async () => {
		await start({denyDeletes: true});
		const storage = open();
		const handle = {type: 'locks' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		const error = await catchRejection(storage.remove(handle));
		expect(isDeleteRefusedError(error)).toBe(true);
		expect((error as Error).message).toMatch(/object lock, or the credentials lack s3:DeleteObject/);
		await storage.close();
	});

	it('extends retention without ever shortening it, and keeps a COMPLIANCE mode', async () => {
		await start();
		const storage = open({retention: {mode: 'GOVERNANCE', periodMs: 86_400_000}});
		const handle = {type: 'snapshots' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		const object = () => emulator.buckets.get('cairn')!.get(`repo/${pathOf(handle)}`)!;
		const later = new Date(Date.now() + 40 * 86_400_000);
		expect((await storage.extendRetention(handle, later)).getTime()).toBe(later.getTime());
		expect(object().retainUntil?.getTime()).toBe(later.getTime());
		const sooner = new Date(Date.now() + 10 * 86_400_000);
		expect((await storage.extendRetention(handle, sooner)).getTime()).toBe(later.getTime());
		expect(object().retainUntil?.getTime()).toBe(later.getTime());
		expect(emulator.requests.filter((request) => request.query.has('retention'))).toHaveLength(1);
		object().lockMode = 'COMPLIANCE';
		await storage.extendRetention(handle, new Date(Date.now() + 50 * 86_400_000));
		expect(object().lockMode).toBe('COMPLIANCE');
		const unlocked = open();
		expect(await catchRejection(unlocked.extendRetention(handle, later))).toBeInstanceOf(PermanentError);
		await unlocked.close();
		await storage.close();
	});

	it('thaws an archived object: cold load, frozen, started, pending, ready, readable', async () => {
		await start();
		const storage = open({thawTier: 'Bulk', thawDays: 3});
		await storage.storageConfig.write(new TextEncoder().encode('{"blobOptions":[{"prefix":"data/","storageClass":"DEEP_ARCHIVE"}]}'));
		const handle = {type: 'data' as const, name: makeId()};
		const data = makeRandomData(1000);
		await storage.save(handle, data);
		expect(emulator.buckets.get('cairn')!.get(`repo/${pathOf(handle)}`)!.storageClass).toBe('DEEP_ARCHIVE');
		const error = await catchRejection(storage.load(handle, {offset: 10, length: 20}));
		expect(error).toBeInstanceOf(ColdStorageError);
		expect(isColdStorageError(error)).toBe(true);
		expect((error as ColdStorageError).storageClass).toBe('DEEP_ARCHIVE');
		expect((error as Error).message).toMatch(/DEEP_ARCHIVE storage class .*cairn restore --thaw/);
		expect(await storage.thaw(handle, {checkOnly: true})).toBe('frozen');
		expect(emulator.requests.filter((request) => request.query.has('restore'))).toHaveLength(0);
		expect(await storage.thaw(handle)).toBe('started');
		const restores = emulator.requests.filter((request) => request.query.has('restore'));
		expect(restores).toHaveLength(1);
		expect(emulator.buckets.get('cairn')!.get(`repo/${pathOf(handle)}`)!.restore).toMatchObject({days: 3, tier: 'Bulk'});
		expect(await storage.thaw(handle)).toBe('pending');
		expect(await storage.thaw(handle)).toBe('ready');
		expect(emulator.requests.filter((request) => request.query.has('restore'))).toHaveLength(1);
		expect(isSameBytes(await storage.load(handle), data)).toBe(true);
		// Readable classes are ready at once, without a request.
		const hot = {type: 'index' as const, name: makeId()};
		await storage.save(hot, data);
		expect(await storage.thaw(hot)).toBe('ready');
		expect(await catchRejection(storage.thaw({type: 'data', name: makeId()}))).toBeInstanceOf(NotFoundError);
		await storage.close();
	});

	it('lists across pages', async () => {
		await start({pageSize: 3});
		const storage = open();
		const names = Array.from({length: 8}, (_, index) => makeId(index % 2 === 0 ? 'aa' : '0b'));
		for (const name of names) await storage.save({type: 'data', name}, makeRandomData(5));
		const listed: string[] = [];
		for await (const info of storage.list('data')) listed.push(info.name);
		expect(listed.sort()).toEqual([...names].sort());
		expect(emulator.requests.filter((request) => request.query.get('list-type') === '2' && request.query.has('continuation-token')).length).toBe(2);
		await storage.close();
	});

	it('aborts a failed multipart upload, leaving nothing behind', async () => {
		let failParts = true;
		await start({fault: (request) => (failParts && request.query.get('partNumber') === '2' ? {status: 400, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed object size.'} : undefined)});
		const storage = open({multipartThreshold: 6 * MiB, partSize: 5 * MiB});
		const handle = {type: 'data' as const, name: makeId()};
		const error = await catchRejection(storage.save(handle, makeRandomData(12 * MiB)));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toContain('EntityTooSmall');
		expect(emulator.requests.some((request) => request.method === 'DELETE' && request.query.has('uploadId'))).toBe(true);
		expect(emulator.uploads.size).toBe(0);
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
		failParts = false;
		await storage.close();
	});

	it.each([
		[{status: 403, code: 'AccessDenied', message: 'User: arn:aws:iam::1:user/x is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::cairn/repo/keys/x" because no identity-based policy allows the s3:PutObject action'}, AuthError, /need s3:PutObject; cairn needs s3:PutObject, s3:GetObject/],
		[{status: 403, code: 'AccessDenied', message: 'Access Denied'}, AuthError, /need s3:PutObject \(the permission this step uses\)/],
		[{status: 400, code: 'ExpiredToken', message: 'The provided token has expired.'}, AuthError, /have expired .*aws sso login/],
		[{status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match'}, AuthError, /secret access key does not match/],
		[{status: 400, code: 'AuthorizationHeaderMalformed', message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'"}, PermanentError, /wrong region .*-o s3.region=eu-west-1/],
		[{status: 503, code: 'SlowDown', message: 'Please reduce your request rate.'}, TransientError, /SlowDown, a passing fault/],
		[{status: 500, code: 'InternalError', message: 'We encountered an internal error.'}, TransientError, /InternalError/],
		[{status: 400, code: 'InvalidStorageClass', message: 'The storage class you specified is not valid'}, PermanentError, /storage class .*cairn storageconfig show/],
	])('maps %j', async (fault, kind, message) => {
		await start({fault: (request) => (request.method === 'PUT' ? fault : undefined)});
		const storage = open();
		const error = await catchRejection(storage.save({type: 'keys', name: makeId()}, makeRandomData(10)));
		expect(error).toBeInstanceOf(kind);
		expect((error as Error).message).toMatch(message);
		expect((error as Error).message).not.toContain('TOP-SECRET-VALUE');
		expect((error as Error).cause).toBeDefined();
		await storage.close();
	});

	it('explains refused connections, TLS spoken to a plain-HTTP server, and unknown hosts', async () => {
		await start();
		const closedPort = await findClosedPort();
		const refused = createS3Storage({endpoint: `http://127.0.0.1:${closedPort}`, bucket: 'cairn', accessKeyId: 'a', secretAccessKey: 'b'});
		const refusal = await catchRejection(refused.stat({type: 'config', name: ''}));
		expect(refusal).toBeInstanceOf(TransientError);
		expect((refusal as Error).message).toMatch(/connection was refused \(is the server running/);
		const tls = createS3Storage({endpoint: emulator.endpoint.replace('http:', 'https:'), bucket: 'cairn', accessKeyId: 'a', secretAccessKey: 'b'});
		const tlsError = await catchRejection(tls.stat({type: 'config', name: ''}));
		expect(tlsError).toBeInstanceOf(PermanentError);
		expect((tlsError as Error).message).toMatch(/TLS failed .*may not speak HTTPS .*http:\/\//);
		const dns = createS3Storage({endpoint: 'http://no-such-host.invalid', bucket: 'cairn', accessKeyId: 'a', secretAccessKey: 'b'});
		const dnsError = await catchRejection(dns.stat({type: 'config', name: ''}));
		expect(dnsError).toBeInstanceOf(PermanentError);
		expect((dnsError as Error).message).toMatch(/does not resolve \(DNS\)/);
		for (const storage of [refused, tls, dns]) await storage.close();
	});
});

/** A loopback port nothing listens on. */
async function findClosedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as {port: number};
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

describe('s3 storage class declaration', () => {
	let storage: ReturnType<typeof makeS3rverStorage>;
	beforeEach(() => {
		storage = makeS3rverStorage();
	});
	afterEach(async () => {
		await storage.close();
	});

	it('declares its abilities', () => {
		expect(storage.capabilities).toMatchObject({atomicSave: true, rangedLoad: true, mayRefuseDelete: true, coldStorage: true, concurrency: 8});
		expect(storage.storageConfig.coldClasses).toEqual(['GLACIER', 'DEEP_ARCHIVE']);
		expect(storage.location).toMatch(/^s3:http:\/\/127\.0\.0\.1:\d+\/cairn\/t\/[0-9a-f]{12}$/);
	});
});
