import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {localAdapter} from '../../adapters/local.js';
import {listAdapters} from '../../adapters/registry.js';
import {AuthError, NotFoundError, TransientError} from '../../adapters/storage.js';
import {makeHostKeyError} from '../../adapters/sftp/errors.js';
import {findBackend, listBackends, PLANNED_BACKENDS} from '../../components/backends.js';
import {buildOptionFields, buildProfileParts, ConnectionProblem, explainConnectionError, isExistingFileOption, readHostKeyProblem, readProfileValues, resolveLocalPaths, testConnection} from '../../components/connection.js';
import {createFakeAdapter} from './fake-adapter.js';
import {createRepository} from './harness.js';

let dir = '';
afterEach(async () => {
	if (dir !== '') await rm(dir, {recursive: true, force: true});
	dir = '';
});

describe('backends', () => {
	it('lists local first, then registered adapters, then planned backends that no adapter claims', () => {
		const fake = createFakeAdapter().definition;
		const list = listBackends([fake, localAdapter]);
		expect(list[0]!.scheme).toBe('local');
		expect(list[0]!.adapter).toBe(localAdapter);
		expect(list[1]!.scheme).toBe('fake');
		expect(list.slice(2).map((entry) => entry.scheme)).toEqual(PLANNED_BACKENDS.map((plan) => plan.scheme));
		expect(list.slice(2).every((entry) => entry.adapter === undefined)).toBe(true);
		// Whatever this build registers replaces its plan.
		const registered = listAdapters().map((adapter) => adapter.scheme);
		for (const entry of listBackends()) expect(entry.adapter !== undefined).toBe(registered.includes(entry.scheme));
		expect(findBackend('sftp')).toBeDefined();
	});
});

describe('form fields from option declarations', () => {
	it('maps kinds, secrets, choices, booleans, defaults and environment fallbacks', () => {
		const fake = createFakeAdapter().definition;
		const fields = buildOptionFields(fake, {FAKE_TOKEN: 'from-env'});
		const byName = Object.fromEntries(fields.map((field) => [field.name, field]));
		expect(fields.map((field) => field.name)).toEqual(fake.options.map((option) => option.name));
		expect(byName.url).toMatchObject({kind: 'url', required: true, placeholder: 'https://cloud.test/bucket'});
		expect(byName.token).toMatchObject({kind: 'secret', fallback: 'from $FAKE_TOKEN'});
		expect(byName['key-file']).toMatchObject({kind: 'path', mustExist: true});
		expect(byName.mode).toMatchObject({kind: 'choice', choices: ['', 'fast', 'slow'], choiceLabels: ['default (fast)', 'fast', 'slow']});
		expect(byName.verbose).toMatchObject({kind: 'choice', choices: ['', 'true', 'false'], choiceLabels: ['not set', 'yes', 'no']});
		// The declaration's own check runs when a field is left.
		expect(byName.url!.check!('nope')).toMatch(/must be a URL/);
		const connections = buildOptionFields(localAdapter, {}).find((field) => field.name === 'connections')!;
		expect(connections.check!('0')).toBe('Connections must be a whole number from 1 to 256.');
		expect(isExistingFileOption({name: 'known-hosts', label: 'K', description: '', required: false, kind: 'path'})).toBe(false);
		expect(isExistingFileOption({name: 'known-hosts', label: 'K', description: '', required: false, kind: 'path', mustExist: true} as never)).toBe(true);
	});

	it('splits values into the location, saved options and secrets asked later; reads them back', () => {
		const fake = createFakeAdapter().definition;
		const values = {url: 'https://cloud.test/b', user: 'me', token: 't0k', mode: 'slow'};
		const parts = buildProfileParts(fake, values, false);
		expect(parts).toEqual({location: 'fake:https://cloud.test/b', options: {user: 'me', mode: 'slow'}, askSecrets: ['token']});
		expect(JSON.stringify(parts)).not.toContain('t0k');
		expect(buildProfileParts(fake, values, true)).toEqual({location: 'fake:https://cloud.test/b', options: {user: 'me', token: 't0k', mode: 'slow'}});
		expect(readProfileValues({name: 'p', ...parts}, fake)).toEqual({url: 'https://cloud.test/b', user: 'me', mode: 'slow'});
		// Local paths are made absolute; remote ones are left alone.
		expect(resolveLocalPaths(localAdapter, {path: 'repo'}, '/work', '/home/me')).toEqual({path: '/work/repo'});
		expect(resolveLocalPaths(localAdapter, {path: '~/r'}, '/work', '/home/me')).toEqual({path: '/home/me/r'});
		const sftpLike = {scheme: 'sftp', options: [{name: 'path', label: 'Path', description: '', required: true, kind: 'path' as const, inLocation: true}, {name: 'key-file', label: 'Key', description: '', required: false, kind: 'path' as const}]};
		expect(resolveLocalPaths(sftpLike, {path: 'srv/repo', 'key-file': '~/.ssh/id'}, '/work', '/home/me')).toEqual({path: 'srv/repo', 'key-file': '/home/me/.ssh/id'});
		// A program name is looked up in PATH, not in the working directory.
		expect(resolveLocalPaths(sftpLike, {'key-file': 'ssh'}, '/work', '/home/me')).toEqual({'key-file': 'ssh'});
	});
});

describe('explaining connection failures', () => {
	it('reads the SFTP adapter\'s host key errors: unknown keys can be trusted, changed ones never', async () => {
		const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
		dir = await mkdtemp(join(tmpdir(), 'cairn-hostkey-'));
		const knownHosts = join(dir, 'known_hosts');
		const unknown = makeHostKeyError('unknown', '[127.0.0.1]:2222', knownHosts, key);
		const problem = readHostKeyProblem(unknown)!;
		expect(problem).toMatchObject({host: '[127.0.0.1]:2222', changed: false});
		expect(problem.fingerprint).toMatch(/^SHA256:/);
		const explained = explainConnectionError(unknown, localAdapter);
		expect(explained.message).toContain(problem.fingerprint);
		expect(explained.message).toContain('press t to trust it');
		await problem.trust!();
		const {readFile} = await import('node:fs/promises');
		expect(await readFile(knownHosts, 'utf8')).toContain('[127.0.0.1]:2222 ssh-ed25519');
		const changed = readHostKeyProblem(makeHostKeyError('changed', 'nas', knownHosts, key, 3))!;
		expect(changed).toMatchObject({changed: true, trust: undefined});
		expect(explainConnectionError(makeHostKeyError('changed', 'nas', knownHosts, key, 3), localAdapter).message).toContain('never trusted automatically');
	});

	it('names unknown hosts, refused connections, denied access and missing locations in words', () => {
		const fake = createFakeAdapter().definition;
		const dns = explainConnectionError(Object.assign(new Error('getaddrinfo ENOTFOUND nas.invalid'), {code: 'ENOTFOUND'}), fake);
		expect(dns).toMatchObject({field: 'url'});
		expect(dns.message).toMatch(/^The host is unknown/);
		const nested = explainConnectionError(new TransientError('request failed', {cause: Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})}), fake);
		expect(nested.message).toMatch(/^The connection was refused/);
		const denied = explainConnectionError(new AuthError('the key lacks s3:ListBucket'), fake);
		expect(denied).toMatchObject({field: 'token'});
		expect(denied.message).toBe('Access denied: the key lacks s3:ListBucket Check the credentials and that they may list, read and write the location.');
		expect(explainConnectionError(new NotFoundError('the bucket b does not exist'), fake)).toMatchObject({field: 'url', message: 'Not found: the bucket b does not exist'});
	});
});

describe('testing a local connection', () => {
	it('tells a missing directory, an empty one, one that holds files, and one with a repository apart', async () => {
		dir = await mkdtemp(join(tmpdir(), 'cairn-connection-'));
		const env = {};
		const missing = testConnection({adapter: localAdapter, values: {path: join(dir, 'missing')}, intent: 'connect', env});
		await expect(missing).rejects.toThrow(`The directory ${join(dir, 'missing')} does not exist`);
		await expect(missing).rejects.toMatchObject({field: 'path', suggest: 'create'});
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'missing')}, intent: 'create', env})).resolves.toEqual({found: false, location: `local:${join(dir, 'missing')}`});
		await mkdir(join(dir, 'empty'));
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'empty')}, intent: 'connect', env})).rejects.toMatchObject({suggest: 'create', message: expect.stringContaining('holds no repository')});
		await writeFile(join(dir, 'empty', 'notes.txt'), 'x');
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'empty')}, intent: 'create', env})).rejects.toThrow('is not empty (it holds "notes.txt")');
		await createRepository(join(dir, 'repo'), 'pw');
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'repo')}, intent: 'connect', env})).resolves.toMatchObject({found: true});
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'repo')}, intent: 'create', env})).rejects.toMatchObject({suggest: 'connect'});
		// Values are checked as the command line checks them.
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'repo'), connections: '0'}, intent: 'connect', env})).rejects.toMatchObject({field: 'connections'});
		// A cancelled test says so.
		const controller = new AbortController();
		controller.abort();
		await expect(testConnection({adapter: localAdapter, values: {path: join(dir, 'repo')}, intent: 'connect', env, signal: controller.signal})).rejects.toBeInstanceOf(ConnectionProblem);
	});
});
