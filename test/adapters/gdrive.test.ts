/**
 * The Google Drive adapter against a fake Drive v3 server (test/helpers/fakes/drive-server.ts)
 * that follows the documented API, driven through the real @googleapis/drive SDK with a
 * generated service-account key.
 */
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {afterAll, describe, expect, it} from 'vitest';

import {driveAdapter} from '../../adapters/gdrive/adapter.js';
import {createDriveStorage, type DriveStorageSettings} from '../../adapters/gdrive/drive-storage.js';
import {readGoogleCredentials} from '../../adapters/gcs/credentials.js';
import {listAdapters, parseRepositoryLocation, registerAdapter} from '../../adapters/registry.js';
import {AlreadyExistsError, AuthError, NotFoundError, PermanentError, TransientError, type Storage} from '../../adapters/storage.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {FakeDriveServer, FOLDER_MIME, makeDriveErrorBody, parseQuery, selectFields, type DriveRole} from '../helpers/fakes/drive-server.js';
import {makeServiceAccount, writeKeyFile, type FakeServiceAccount} from '../helpers/fakes/service-account.js';

const MiB = 1024 * 1024;

let fake: FakeDriveServer;
let account: FakeServiceAccount;
let keyFile: string;
let directory: string;

const ready = (async () => {
	directory = await mkdtemp(join(tmpdir(), 'cairn-gdrive-'));
	fake = await new FakeDriveServer().start();
	account = makeServiceAccount('drive-backup');
	fake.addAccount(account);
	keyFile = await writeKeyFile(account, join(directory, 'key.json'));
})();

afterAll(async () => {
	await ready;
	await fake.stop();
	await rm(directory, {recursive: true, force: true});
});

/** A new top-level folder shared with the test account (in a shared drive unless said otherwise). */
function makeFolder(role: DriveRole = 'organizer', sharedDrive = true): string {
	return fake.addFolder(`backups-${makeId().slice(0, 8)}`, {[account.email]: role}, sharedDrive);
}

async function openStorage(overrides: Partial<DriveStorageSettings> = {}): Promise<Storage> {
	await ready;
	return createDriveStorage({
		folderId: overrides.folderId ?? makeFolder(),
		credentials: await readGoogleCredentials(keyFile, 'gdrive.credentials-file'),
		endpoint: fake.url,
		// Small sizes, so that the suite's large files take the resumable path in several chunks.
		resumableThreshold: 4 * MiB,
		chunkSize: 4 * MiB,
		...overrides,
	});
}

runStorageConformance('gdrive', async () => ({storage: await openStorage()}));

describe('gdrive adapter', () => {
	it('lays the repository out in sub-folders of the folder, packs flat in data', async () => {
		const folderId = makeFolder();
		const storage = await openStorage({folderId});
		await storage.create();
		expect(fake.listChildren(folderId).map((child) => [child.name, child.mimeType]).sort()).toEqual(
			['data', 'index', 'keys', 'locks', 'snapshots'].map((name) => [name, FOLDER_MIME]),
		);
		const id = makeId('ab');
		await storage.save({type: 'data', name: id}, makeRandomData(10));
		await storage.save({type: 'config', name: ''}, makeRandomData(5));
		expect(fake.findByPath(folderId, ['data', id])?.data.length).toBe(10);
		expect(fake.findByPath(folderId, ['config'])?.data.length).toBe(5);
		expect(storage.location).toBe(`gdrive:${folderId}`);
	});

	it('uploads small files in one multipart request and large ones in resumable chunks', async () => {
		const folderId = makeFolder();
		const storage = await openStorage({folderId});
		const small = makeId();
		const large = makeId();
		const before = fake.log.length;
		await storage.save({type: 'index', name: small}, makeRandomData(1000));
		await storage.save({type: 'data', name: large}, makeRandomData(9 * MiB));
		expect(fake.findByPath(folderId, ['index', small])?.uploadType).toBe('multipart');
		expect(fake.findByPath(folderId, ['data', large])?.uploadType).toBe('resumable');
		const chunks = fake.log.slice(before).filter((line) => line.startsWith('PUT ') && line.includes('upload_id='));
		expect(chunks.map((line) => line.split(' ').at(-1))).toEqual(['308', '308', '200']);
		// Replacing a large file goes through a resumable session too, on the same file.
		const replacement = makeRandomData(5 * MiB);
		await storage.save({type: 'data', name: large}, replacement);
		expect(fake.listChildren(fake.findByPath(folderId, ['data'])!.id).filter((file) => file.name === large)).toHaveLength(1);
		expect(isSameBytes(await storage.load({type: 'data', name: large}), replacement)).toBe(true);
	});

	it('sends Range headers for partial loads', async () => {
		const storage = await openStorage();
		const handle = {type: 'data' as const, name: makeId()};
		const data = makeRandomData(3000);
		await storage.save(handle, data);
		const before = fake.log.length;
		expect(isSameBytes(await storage.load(handle, {offset: 5, length: 10}), data.subarray(5, 15))).toBe(true);
		expect(fake.log.slice(before).filter((line) => line.includes('alt=media')).map((line) => line.split(' ').at(-1))).toEqual(['206']);
	});

	it('touches nothing outside its folder', async () => {
		const folderId = makeFolder();
		const neighbour = makeFolder();
		const stranger = fake.addFile(neighbour, makeId(), Buffer.from('not ours'));
		const storage = await openStorage({folderId});
		await storage.create();
		await storage.save({type: 'keys', name: stranger.name}, makeRandomData(3));
		await storage.remove({type: 'keys', name: stranger.name});
		expect(fake.files.get(stranger.id)?.data.toString()).toBe('not ours');
		expect(await collect(storage.list('keys'))).toEqual([]);
	});

	it('reports a name held by several files once, and removes them all', async () => {
		const folderId = makeFolder();
		const storage = await openStorage({folderId});
		await storage.create();
		const name = makeId();
		const locks = fake.findByPath(folderId, ['locks'])!.id;
		fake.addFile(locks, name, Buffer.from('one'));
		fake.addFile(locks, name, Buffer.from('second'));
		expect(await collect(storage.list('locks'))).toHaveLength(1);
		// The newest one is read.
		expect(Buffer.from(await storage.load({type: 'locks', name})).toString()).toBe('second');
		await storage.remove({type: 'locks', name});
		expect(fake.listChildren(locks)).toEqual([]);
	});

	it('explains a folder that is missing or not shared, and a file given as folder', async () => {
		const storage = await openStorage({folderId: '1NoSuchFolderAtAll0000000'});
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(NotFoundError);
		expect((error as Error).message).toContain(`share the folder with ${account.email}`);

		const notShared = await openStorage({folderId: fake.addFolder('private', {'someone@example.com': 'organizer'})});
		expect(await catchRejection(notShared.stat({type: 'config', name: ''}))).toBeInstanceOf(NotFoundError);

		const parent = makeFolder();
		const file = fake.addFile(parent, 'a-file', Buffer.from('x'));
		const onFile = await openStorage({folderId: file.id});
		expect(((await catchRejection(onFile.create())) as Error).message).toMatch(/is a file, not a folder/);
	});

	it('says that service accounts need a shared drive', async () => {
		const storage = await openStorage({folderId: makeFolder('organizer', false)});
		await storage.create();
		const error = await catchRejection(storage.save({type: 'keys', name: makeId()}, makeRandomData(10)));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/service accounts have no Drive storage.*shared drive.*Content manager/);
		const large = await catchRejection(storage.save({type: 'data', name: makeId()}, makeRandomData(5 * MiB)));
		expect((large as Error).message).toMatch(/shared drive/);
	});

	it('needs Content manager to delete, and says so', async () => {
		const storage = await openStorage({folderId: makeFolder('writer')});
		await storage.create();
		const handle = {type: 'locks' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		const error = await catchRejection(storage.remove(handle));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toContain('Content manager');

		const reader = await openStorage({folderId: makeFolder('reader')});
		expect(await catchRejection(reader.create())).toBeInstanceOf(AuthError);
	});

	it('refuses a folder that holds anything, and credentials Drive does not know', async () => {
		const folderId = makeFolder();
		fake.addFile(folderId, 'holiday.jpg', Buffer.from('x'));
		const error = await catchRejection((await openStorage({folderId})).create());
		expect(error).toBeInstanceOf(AlreadyExistsError);
		expect((error as Error).message).toContain('"holiday.jpg"');

		const stranger = makeServiceAccount('stranger');
		const storage = await openStorage({credentials: await readGoogleCredentials(await writeKeyFile(stranger, join(directory, 'stranger.json')), 'gdrive.credentials-file')});
		const refused = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(refused).toBeInstanceOf(AuthError);
		expect((refused as Error).message).not.toContain('PRIVATE KEY');
	});

	it('maps rate limits and 5xx to TransientError without retrying', async () => {
		const storage = await openStorage();
		const handle = {type: 'snapshots' as const, name: makeId()};
		await storage.save(handle, makeRandomData(10));
		for (const [status, reason, method, urlIncludes, run] of [
			[403, 'userRateLimitExceeded', 'GET', 'alt=media', () => storage.load(handle)],
			[429, 'rateLimitExceeded', 'GET', '/drive/v3/files?', () => collect(storage.list('snapshots'))],
			[503, 'backendError', 'POST', 'uploadType=multipart', () => storage.save({type: 'snapshots', name: makeId()}, makeRandomData(10))],
			[500, 'internalError', 'DELETE', '/drive/v3/files/', () => storage.remove(handle)],
		] as const) {
			fake.addFault({method, urlIncludes, status, body: makeDriveErrorBody(status, 'slow down', reason, 'usageLimits')});
			const before = fake.log.length;
			const error = await catchRejection(run());
			expect(error, reason).toBeInstanceOf(TransientError);
			expect(fake.log.slice(before).filter((line) => line.startsWith(method) && line.includes(urlIncludes))).toHaveLength(1);
		}
	});

	it('explains a host name that does not resolve (DNS) as permanent', async () => {
		const storage = await openStorage({endpoint: 'http://drive.cairn-test.invalid'});
		const error = await catchRejection(storage.create());
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/host name does not resolve \(DNS\)/);
	});

	it('cancels the resumable session when a large save is aborted', async () => {
		const folderId = makeFolder();
		const storage = await openStorage({folderId, chunkSize: 1 * MiB, resumableThreshold: 1 * MiB});
		await storage.create();
		const controller = new AbortController();
		const saving = storage.save({type: 'data', name: makeId()}, makeRandomData(30 * MiB), {signal: controller.signal});
		while (!fake.log.some((line) => line.startsWith('PUT ') && line.endsWith(' 308'))) await new Promise((resolve) => setTimeout(resolve, 5));
		controller.abort();
		expect(((await catchRejection(saving)) as Error).name).toBe('AbortError');
		for (let i = 0; i < 200 && fake.countOpenSessions() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
		expect(fake.countOpenSessions()).toBe(0);
		expect(fake.listChildren(fake.findByPath(folderId, ['data'])!.id)).toEqual([]);
	});
});

describe('gdrive: locations and options', () => {
	registerAdapter(driveAdapter);

	it('is marked experimental where people see it', () => {
		const adapter = listAdapters().find((candidate) => candidate.scheme === 'gdrive')!;
		expect(adapter.label).toMatch(/experimental/i);
		expect(adapter.description).toMatch(/^EXPERIMENTAL/);
	});

	it('parses gdrive:FOLDER_ID and refuses paths', () => {
		expect(driveAdapter.parseLocation('1AbCdEfGhIjKlMnOp_-xyz')).toEqual({'folder-id': '1AbCdEfGhIjKlMnOp_-xyz'});
		expect(driveAdapter.formatLocation({'folder-id': 'abcdefghijk'})).toBe('abcdefghijk');
		expect(() => driveAdapter.parseLocation('1AbCdEfGhIjKlMnOp/sub')).toThrow(/sub-paths are not supported/);
		expect(() => parseRepositoryLocation('gdrive:short', {}, {GOOGLE_APPLICATION_CREDENTIALS: '/k.json'})).toThrow(/must be a Drive folder ID/);
		expect(() => parseRepositoryLocation('gdrive:1AbCdEfGhIjKlMnOp', {}, {})).toThrow(/gdrive\.credentials-file.*GOOGLE_APPLICATION_CREDENTIALS/);
	});

	it('opens through the registry with the options the CLI passes', async () => {
		await ready;
		const folderId = makeFolder();
		const {adapter, values} = parseRepositoryLocation(`gdrive:${folderId}`, {'gdrive.endpoint': fake.url}, {GOOGLE_APPLICATION_CREDENTIALS: keyFile});
		const storage = await adapter.open(values);
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(3));
		expect(fake.findByPath(folderId, ['config'])?.data.length).toBe(3);
		expect(storage.capabilities.concurrency).toBe(4);
	});
});

describe('the fake Drive server itself', () => {
	it('parses the query terms the adapter sends and refuses others', () => {
		expect(parseQuery(`name = 'a\\'b' and 'F1' in parents and trashed = false and mimeType != '${FOLDER_MIME}'`)).toEqual([
			{kind: 'name', value: "a'b"},
			{kind: 'parent', value: 'F1'},
			{kind: 'trashed', value: false},
			{kind: 'mimeType', value: FOLDER_MIME, negate: true},
		]);
		expect(() => parseQuery("name contains 'x'")).toThrow();
		expect(() => parseQuery("'F1' in parents or trashed = true")).toThrow();
	});

	it('returns only the fields asked for', () => {
		const body = {kind: 'drive#fileList', files: [{id: '1', name: 'a', size: '3', mimeType: 'x'}], nextPageToken: 't'};
		expect(selectFields(body, 'files(id,name)')).toEqual({files: [{id: '1', name: 'a'}]});
		expect(selectFields(body, 'nextPageToken,files(size)')).toEqual({nextPageToken: 't', files: [{size: '3'}]});
	});
});
