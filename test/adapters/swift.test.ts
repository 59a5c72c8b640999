/**
 * The Swift adapter against a real OpenStack Swift (Debian's 2.30, started by the test helper):
 * conformance, large objects as segments, storage policies, token renewal, paged listings and the
 * errors a person must be able to act on.
 */
import {randomBytes} from 'node:crypto';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {openRepositoryStorage, parseRepositoryLocation, redactValues} from '../../adapters/registry.js';
import {AuthError, NotFoundError, PermanentError, TransientError, type Storage} from '../../adapters/storage.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {startKeystone, type FakeKeystone} from '../helpers/fakes/keystone-server.js';
import {startSwift, SWIFT_USERS, type RunningSwift} from '../helpers/servers/swift.js';

let swift: RunningSwift;

beforeAll(async () => {
	swift = await startSwift();
}, 180_000);

afterAll(async () => {
	await swift?.stop();
});

/** ST_* variables of the v1 user, as restic users set them. */
function v1Env(user: keyof typeof SWIFT_USERS = 'test:tester'): Record<string, string> {
	return {ST_AUTH: swift.authUrl, ST_USER: user, ST_KEY: SWIFT_USERS[user]};
}

function openSwift(location: string, options: Record<string, string> = {}, env: Record<string, string> = v1Env()): Promise<Storage> {
	return openRepositoryStorage(location, options, env);
}

function uniqueContainer(): string {
	return `c-${randomBytes(5).toString('hex')}`;
}

runStorageConformance('swift (OpenStack Swift 2.30)', async () => ({storage: await openSwift(`swift:${uniqueContainer()}:/repo/${randomBytes(4).toString('hex')}`)}));

/** A request to the test Swift as the `test:tester` user. */
async function askSwift(method: string, path: string): Promise<Response> {
	const {storageUrl, token} = await swift.authenticate();
	return fetch(`${storageUrl}${path}`, {method, headers: {'x-auth-token': token}});
}

describe('swift locations and options', () => {
	it.each([
		['backups:/laptop/home', {container: 'backups', prefix: 'laptop/home'}],
		['backups:/', {container: 'backups'}],
		['backups', {container: 'backups'}],
		['my_backups:laptop', {container: 'my_backups', prefix: 'laptop'}],
	])('parses swift:%s and writes it back', (rest, expected) => {
		const parsed = parseRepositoryLocation(`swift:${rest}`, {}, v1Env());
		expect(parsed.values).toMatchObject(expected);
		expect(parsed.adapter.parseLocation(parsed.adapter.formatLocation(parsed.values))).toEqual(expected);
	});

	it('refuses a container with a slash and a folder with ..', () => {
		expect(() => parseRepositoryLocation('swift:a/b:/x', {}, v1Env())).toThrow(/swift:CONTAINER:\/PREFIX/);
		expect(() => parseRepositoryLocation('swift:a:/x/../y', {}, v1Env())).toThrow(/must not contain ".."/);
	});

	it('takes OS_* before ST_* from the environment, hides the secrets, and says what is missing', async () => {
		const env = {...v1Env(), OS_AUTH_URL: 'https://keystone.example:5000/v3', OS_USERNAME: 'alice', OS_PASSWORD: 'S3CRET-PASSWORD', OS_APPLICATION_CREDENTIAL_SECRET: 'APP-SECRET', OS_REGION_NAME: 'RegionTwo'};
		const parsed = parseRepositoryLocation('swift:backups:/laptop', {'swift.storage-policy': 'silver'}, env);
		expect(parsed.values).toMatchObject({'auth-url': 'https://keystone.example:5000/v3', user: 'alice', region: 'RegionTwo', 'storage-policy': 'silver'});
		const shown = JSON.stringify(redactValues(parsed.values, parsed.adapter));
		expect(shown).not.toContain('S3CRET-PASSWORD');
		expect(shown).not.toContain('APP-SECRET');
		const missing = await catchRejection(openSwift('swift:backups:/laptop', {}, {ST_AUTH: swift.authUrl}));
		expect(missing).toBeInstanceOf(PermanentError);
		expect((missing as Error).message).toMatch(/give the user name \(OS_USERNAME or ST_USER.*the password or key \(OS_PASSWORD or ST_KEY.*OS_STORAGE_URL and OS_AUTH_TOKEN/);
		expect(() => parseRepositoryLocation('swift:backups', {'swift.interface': 'private'}, env)).toThrow(/must be public, internal or admin/);
		expect(() => parseRepositoryLocation('swift:backups', {'swift.auth-version': '4'}, env)).toThrow(/must be 1, 2 or 3/);
		// python-swiftclient's spellings: ST_AUTH_VERSION=2.0, OS_ENDPOINT_TYPE=internalURL.
		const {readSwiftSettings} = await import('../../adapters/swift/adapter.js');
		const swiftclient = parseRepositoryLocation('swift:backups', {}, {OS_AUTH_URL: 'https://keystone.example/v2.0', OS_USERNAME: 'a', OS_PASSWORD: 'b', ST_AUTH_VERSION: '2.0', OS_ENDPOINT_TYPE: 'internalURL'});
		expect(readSwiftSettings(swiftclient.values).credentials).toMatchObject({version: '2', interface: 'internal'});
		expect(readSwiftSettings(parseRepositoryLocation('swift:b', {}, v1Env()).values).credentials.version).toBe('1');
		expect(readSwiftSettings(parseRepositoryLocation('swift:b', {}, {OS_STORAGE_URL: 'http://x/v1/AUTH_a', OS_AUTH_TOKEN: 't'}).values).credentials.version).toBe('token');
	});
});

describe('swift against the real Swift', () => {
	it('creates the container on init with the storage policy asked for, and refuses another policy later', async () => {
		const container = uniqueContainer();
		const storage = await openSwift(`swift:${container}:/p`, {'swift.storage-policy': 'silver'});
		await storage.create();
		const head = await askSwift('HEAD', `/${container}`);
		expect(head.status).toBe(204);
		expect(head.headers.get('x-storage-policy')).toBe('silver');
		await storage.close();
		const other = await openSwift(`swift:${container}:/q`, {'swift.storage-policy': 'gold'});
		const refused = await catchRejection(other.create());
		expect(refused).toBeInstanceOf(PermanentError);
		expect((refused as Error).message).toMatch(/already exists with storage policy "silver", not "gold".*new container name/);
		const unknown = await openSwift(`swift:${uniqueContainer()}:/p`, {'swift.storage-policy': 'bronze'});
		expect((await catchRejection(unknown.create())) as Error).toMatchObject({message: expect.stringMatching(/HTTP 400.*Invalid X-Storage-Policy/) as unknown});
		for (const s of [other, unknown]) await s.close();
	});

	it('stores a file larger than the segment size as a Static Large Object and removes its segments with it', async () => {
		const container = uniqueContainer();
		const storage = await openSwift(`swift:${container}:/repo`, {'swift.segment-size': '1'});
		await storage.create();
		const handle = {type: 'data' as const, name: makeId()};
		const data = makeRandomData(2.5 * 1024 * 1024);
		await storage.save(handle, data);
		const manifest = await askSwift('HEAD', `/${container}/repo/data/${handle.name.slice(0, 2)}/${handle.name}?multipart-manifest=get`);
		expect(manifest.headers.get('x-static-large-object')).toBe('True');
		const segments = (await (await askSwift('GET', `/${container}_segments?format=json`)).json()) as Array<{bytes: number}>;
		expect(segments.map((segment) => segment.bytes)).toEqual([1024 * 1024, 1024 * 1024, 512 * 1024]);
		expect(await collect(storage.list('data'))).toEqual([{name: handle.name, size: data.byteLength}]);
		expect((await storage.stat(handle)).size).toBe(data.byteLength);
		expect(isSameBytes(await storage.load(handle, {offset: 1024 * 1024 - 10, length: 20}), data.subarray(1024 * 1024 - 10, 1024 * 1024 + 10))).toBe(true);
		expect(isSameBytes(await storage.load(handle), data)).toBe(true);
		await storage.remove(handle);
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
		expect(await (await askSwift('GET', `/${container}_segments?format=json`)).json()).toEqual([]);
		await storage.close();
	});

	it('lists past one page with a marker', async () => {
		const {SwiftClient} = await import('../../adapters/swift/client.js');
		const {ObjectStore} = await import('../../adapters/object-store/store.js');
		const container = uniqueContainer();
		const client = new SwiftClient({credentials: {version: '1', authUrl: swift.authUrl, user: 'test:tester', key: SWIFT_USERS['test:tester']}, container, listLimit: 2});
		const storage = new ObjectStore(client, {location: `swift:${container}:/`, prefix: '', capabilities: {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: 2}});
		await storage.create();
		const names = Array.from({length: 7}, () => makeId());
		for (const name of names) await storage.save({type: 'snapshots', name}, makeRandomData(10));
		expect((await collect(storage.list('snapshots'))).map((item) => item.name).sort()).toEqual(names.sort());
		await storage.close();
	});

	it('logs in again when the token is refused (expired) and carries on', async () => {
		const container = uniqueContainer();
		const storage = await openSwift(`swift:${container}:/p`);
		await storage.create();
		const first = {type: 'keys' as const, name: makeId()};
		await storage.save(first, makeRandomData(100));
		const {token} = await swift.authenticate();
		await swift.revokeToken(token);
		expect((await askSwift('HEAD', `/${container}`)).status).toBe(204);
		const second = {type: 'keys' as const, name: makeId()};
		await storage.save(second, makeRandomData(100));
		expect((await collect(storage.list('keys'))).map((item) => item.name).sort()).toEqual([first.name, second.name].sort());
		await storage.close();
	});

	it('uses a token given beforehand, and says so when it has expired', async () => {
		const container = uniqueContainer();
		const {storageUrl, token} = await swift.authenticate('test2:tester2');
		const storage = await openSwift(`swift:${container}:/p`, {}, {OS_STORAGE_URL: storageUrl, OS_AUTH_TOKEN: token});
		await storage.create();
		await storage.save({type: 'config', name: ''}, makeRandomData(50));
		expect((await storage.stat({type: 'config', name: ''})).size).toBe(50);
		await swift.revokeToken(token);
		const refused = await catchRejection(storage.stat({type: 'config', name: ''}));
		expect(refused).toBeInstanceOf(AuthError);
		expect((refused as Error).message).toMatch(/refused the token given in OS_AUTH_TOKEN.*expired or is wrong/);
		expect((refused as Error).message).not.toContain(token);
		await storage.close();
	});

	it('explains a wrong key, an unknown container and a stopped proxy', async () => {
		const wrongKey = await openSwift(`swift:${uniqueContainer()}:/p`, {}, {...v1Env(), ST_KEY: 'not-the-key'});
		const denied = await catchRejection(wrongKey.stat({type: 'config', name: ''}));
		expect(denied).toBeInstanceOf(AuthError);
		expect((denied as Error).message).toMatch(/refused the credentials \(HTTP 401\): check the user and key \(ST_USER, ST_KEY\)/);
		expect((denied as Error).message).not.toContain('not-the-key');
		const missing = await openSwift('swift:no-such-container:/p');
		const notFound = await catchRejection(collect(missing.list('snapshots')));
		expect(notFound).toBeInstanceOf(NotFoundError);
		expect((notFound as Error).message).toMatch(/container "no-such-container" does not exist in this Swift account.*cairn init creates it/);
		const storage = await openSwift(`swift:${uniqueContainer()}:/p`);
		await swift.stopProxy();
		try {
			const refused = await catchRejection(storage.stat({type: 'config', name: ''}));
			expect(refused).toBeInstanceOf(TransientError);
			expect((refused as Error).message).toMatch(/refused the connection/);
		} finally {
			await swift.startProxy();
		}
		for (const s of [wrongKey, missing, storage]) await s.close();
	});
});

describe('swift with keystone', () => {
	let keystone: FakeKeystone;
	const project = {id: 'p-0042', name: 'backups', domain: 'Engineering'};

	beforeAll(async () => {
		keystone = await startKeystone({
			swift,
			regions: ['RegionOne', 'RegionTwo'],
			users: [{name: 'alice', password: 'alice-password', domain: 'Engineering', projects: [project]}],
			applicationCredentials: [{id: 'ac-1', name: 'cairn-backup', secret: 'app-secret', user: 'alice'}],
		});
	});

	afterAll(async () => {
		await keystone?.stop();
	});

	/** Saves, lists and loads one file through a storage opened with `env`. */
	async function roundTrip(env: Record<string, string>): Promise<void> {
		const storage = await openSwift(`swift:${uniqueContainer()}:/ks`, {}, env);
		await storage.create();
		const handle = {type: 'index' as const, name: makeId()};
		const data = makeRandomData(3000);
		await storage.save(handle, data);
		expect(await collect(storage.list('index'))).toEqual([{name: handle.name, size: 3000}]);
		expect(isSameBytes(await storage.load(handle, {offset: 100, length: 50}), data.subarray(100, 150))).toBe(true);
		await storage.close();
	}

	it('logs in with keystone v2.0 by tenant name and by tenant ID, in the region asked for', async () => {
		const v2 = {OS_AUTH_URL: keystone.v2Url, OS_USERNAME: 'alice', OS_PASSWORD: 'alice-password', OS_REGION_NAME: 'RegionTwo'};
		await roundTrip({...v2, OS_TENANT_NAME: 'backups'});
		await roundTrip({...v2, OS_TENANT_ID: 'p-0042'});
		expect(keystone.issued.filter((token) => token.version === 'v2.0').map((token) => token.project)).toEqual(['backups', 'backups']);
	});

	it('logs in with keystone v3 by password with domains and by application credential', async () => {
		const before = keystone.issued.length;
		const v3 = {OS_AUTH_URL: keystone.v3Url, OS_REGION_NAME: 'RegionOne'};
		await roundTrip({...v3, OS_USERNAME: 'alice', OS_PASSWORD: 'alice-password', OS_USER_DOMAIN_NAME: 'Engineering', OS_PROJECT_NAME: 'backups', OS_PROJECT_DOMAIN_NAME: 'Engineering'});
		await roundTrip({...v3, OS_APPLICATION_CREDENTIAL_ID: 'ac-1', OS_APPLICATION_CREDENTIAL_SECRET: 'app-secret'});
		await roundTrip({...v3, OS_USERNAME: 'alice', OS_USER_DOMAIN_NAME: 'Engineering', OS_APPLICATION_CREDENTIAL_NAME: 'cairn-backup', OS_APPLICATION_CREDENTIAL_SECRET: 'app-secret'});
		expect(keystone.issued.slice(before).map((token) => [token.version, token.method, token.project])).toEqual([
			['v3', 'password', 'backups'],
			['v3', 'application_credential', undefined],
			['v3', 'application_credential', undefined],
		]);
	});

	it('names the regions of the catalog when the region is unknown or missing, and refuses a wrong password', async () => {
		const v3 = {OS_AUTH_URL: keystone.v3Url, OS_USERNAME: 'alice', OS_PASSWORD: 'alice-password', OS_USER_DOMAIN_NAME: 'Engineering', OS_PROJECT_NAME: 'backups', OS_PROJECT_DOMAIN_NAME: 'Engineering'};
		const unknown = await openSwift('swift:any:/x', {}, {...v3, OS_REGION_NAME: 'Mars'});
		const error = await catchRejection(unknown.stat({type: 'config', name: ''}));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/unknown region "Mars": the service catalog offers Swift only in RegionOne, RegionTwo/);
		const several = await openSwift('swift:any:/x', {}, v3);
		expect(((await catchRejection(several.stat({type: 'config', name: ''}))) as Error).message).toMatch(/several regions \(RegionOne, RegionTwo\): choose one with OS_REGION_NAME/);
		const wrong = await openSwift('swift:any:/x', {}, {...v3, OS_PASSWORD: 'guess', OS_REGION_NAME: 'RegionOne'});
		const denied = await catchRejection(wrong.stat({type: 'config', name: ''}));
		expect(denied).toBeInstanceOf(AuthError);
		expect((denied as Error).message).toMatch(/refused the credentials \(HTTP 401\): check the user name, password, domains and project/);
		expect((denied as Error).message).not.toContain('guess');
		for (const s of [unknown, several, wrong]) await s.close();
	});

	it('logs in again before a token runs out, going by the expiry keystone announces', async () => {
		const shortLived = await startKeystone({swift, regions: ['RegionOne'], users: [], applicationCredentials: [{id: 'ac-2', name: 'short', secret: 's', user: 'bob'}], tokenLifetimeMs: 30_000});
		try {
			const storage = await openSwift(`swift:${uniqueContainer()}:/x`, {}, {OS_AUTH_URL: shortLived.v3Url, OS_APPLICATION_CREDENTIAL_ID: 'ac-2', OS_APPLICATION_CREDENTIAL_SECRET: 's'});
			await storage.create();
			const afterCreate = shortLived.issued.length;
			// Less than a minute left: each call logs in first rather than risk a refusal midway
			// (with an hour left, the round trips above needed one login each).
			await storage.save({type: 'keys', name: makeId()}, makeRandomData(10));
			expect(shortLived.issued).toHaveLength(afterCreate + 1);
			expect(await collect(storage.list('keys'))).toHaveLength(1);
			await storage.close();
		} finally {
			await shortLived.stop();
		}
	});

	it('logs in again at keystone when its token expires', async () => {
		const storage = await openSwift(`swift:${uniqueContainer()}:/ks`, {}, {OS_AUTH_URL: keystone.v3Url, OS_REGION_NAME: 'RegionOne', OS_APPLICATION_CREDENTIAL_ID: 'ac-1', OS_APPLICATION_CREDENTIAL_SECRET: 'app-secret'});
		await storage.create();
		const before = keystone.issued.length;
		await keystone.expireTokens();
		await storage.save({type: 'keys', name: makeId()}, makeRandomData(10));
		expect(keystone.issued.length).toBe(before + 1);
		expect(await collect(storage.list('keys'))).toHaveLength(1);
		await storage.close();
	});
});
