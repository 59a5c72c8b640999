import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {createMemoryStorage} from '../../adapters/memory.js';
import type {AdapterDefinition} from '../../adapters/options.js';
import {
	findAdapter,
	formatRepositoryLocation,
	listAdapters,
	openRepositoryStorage,
	parseRepositoryLocation,
	redactLocation,
	redactValues,
	registerAdapter,
	RepositoryLocationError,
	unregisterAdapter,
} from '../../adapters/registry.js';

/** A made-up remote adapter: `fake:https://host/bucket`, with a secret key and a few typed options. */
const fakeAdapter: AdapterDefinition = {
	scheme: 'fake',
	label: 'Fake cloud',
	description: 'A test adapter.',
	example: 'fake:https://host.example/bucket',
	options: [
		{name: 'endpoint', label: 'Endpoint', description: 'Service URL.', required: true, kind: 'url', inLocation: true},
		{name: 'bucket', label: 'Bucket', description: 'Bucket name.', required: true, inLocation: true, validate: (value) => (/^[a-z0-9-]+$/.test(value) ? undefined : 'may hold only a-z, 0-9 and -')},
		{name: 'region', label: 'Region', description: 'Region.', required: true, env: ['FAKE_REGION', 'FAKE_DEFAULT_REGION']},
		{name: 'secret-key', label: 'Secret key', description: 'Key.', required: true, secret: true, env: ['FAKE_SECRET']},
		{name: 'parts', label: 'Parts', description: 'Parallel parts.', required: false, kind: 'number', default: '4'},
		{name: 'tls', label: 'TLS', description: 'Use TLS.', required: false, kind: 'boolean'},
		{name: 'class', label: 'Storage class', description: 'Class.', required: false, choices: ['standard', 'cold']},
	],
	parseLocation: (rest) => {
		const slash = rest.lastIndexOf('/');
		if (slash < 0) throw new Error('expected <endpoint>/<bucket>');
		return {endpoint: rest.slice(0, slash), bucket: rest.slice(slash + 1)};
	},
	formatLocation: (values) => `${values['endpoint']}/${values['bucket']}`,
	open: async (values) => createMemoryStorage({location: `fake:${redactLocation(values['endpoint'] ?? '')}/${values['bucket']}`}),
};

beforeAll(() => registerAdapter(fakeAdapter));
afterAll(() => unregisterAdapter('fake'));

/** The error a synchronous call throws. */
function thrownBy(run: () => unknown): RepositoryLocationError {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(RepositoryLocationError);
		return error as RepositoryLocationError;
	}
	throw new Error('expected an error');
}

describe('registry', () => {
	it('lists and finds registered adapters, and refuses bad declarations', () => {
		// Every built-in adapter is registered too; the list is sorted and holds each scheme once.
		const schemes = listAdapters().map((adapter) => adapter.scheme);
		expect(schemes).toEqual(expect.arrayContaining(['fake', 'local']));
		expect(schemes).toEqual([...new Set(schemes)].sort());
		expect(findAdapter('local')?.label).toBe('Local directory');
		expect(findAdapter('nope')).toBeUndefined();
		expect(() => registerAdapter(fakeAdapter)).not.toThrow();
		expect(() => registerAdapter({...fakeAdapter})).toThrow(/already registered/);
		expect(() => registerAdapter({...fakeAdapter, scheme: 'Bad_Scheme'})).toThrow(/must match/);
		expect(() => registerAdapter({...fakeAdapter, scheme: 'twice', options: [fakeAdapter.options[0]!, fakeAdapter.options[0]!]})).toThrow(/twice/);
	});
});

describe('parseRepositoryLocation', () => {
	const env = {FAKE_REGION: 'eu-1', FAKE_SECRET: 's3cr3t'};
	it.each([
		['/srv/repo', 'local', {path: '/srv/repo'}],
		['local:/srv/repo', 'local', {path: '/srv/repo'}],
		['LOCAL:/srv/repo', 'local', {path: '/srv/repo'}],
		['./rel', 'local', {path: './rel'}],
		['../up/repo', 'local', {path: '../up/repo'}],
		['rel', 'local', {path: 'rel'}],
		['local:rel', 'local', {path: 'rel'}],
		['/srv/with:colon', 'local', {path: '/srv/with:colon'}],
		['./with:colon', 'local', {path: './with:colon'}],
		['local:foo:bar', 'local', {path: 'foo:bar'}],
		['~/backup', 'local', {path: '~/backup'}],
		['fake:https://host.example/bucket-1', 'fake', {endpoint: 'https://host.example', bucket: 'bucket-1', region: 'eu-1', 'secret-key': 's3cr3t', parts: '4'}],
	])('%s → %s', (location, scheme, values) => {
		const parsed = parseRepositoryLocation(location, {}, env);
		expect(parsed.adapter.scheme).toBe(scheme);
		expect(parsed.values).toEqual(values);
	});

	it('names the known schemes for an unknown one', () => {
		const error = thrownBy(() => parseRepositoryLocation('foo:bar', {}, {}));
		expect(error.message).toContain('unknown repository type "foo"');
		expect(error.message).toContain(`known types: ${listAdapters().map((adapter) => adapter.scheme).join(', ')}.`);
		expect(error.message).toMatch(/known types: .*\bfake\b.*\blocal\b/);
		expect(error.message).toContain('local:foo:bar');
	});

	it('refuses an empty location and a local: without a path', () => {
		expect(thrownBy(() => parseRepositoryLocation('  ', {}, {})).message).toContain('no repository location given');
		const error = thrownBy(() => parseRepositoryLocation('local:', {}, {}));
		expect(error.issues).toEqual([{field: 'path', message: expect.stringContaining('Path (local.path) is required')}]);
		expect(error.message).toContain('local:/srv/backup');
	});

	it('merges -o options, which fill values the location leaves out', () => {
		const {values} = parseRepositoryLocation('local:', {'local.path': '/from/option', 'local.connections': '7', 's3.region': 'ignored'}, {});
		expect(values).toEqual({path: '/from/option', connections: '7'});
	});

	it('prefers the location, then -o, then the first set env variable, then the default', () => {
		const base = 'fake:https://host.example/b';
		expect(parseRepositoryLocation(base, {}, {FAKE_DEFAULT_REGION: 'second', FAKE_SECRET: 'k'}).values['region']).toBe('second');
		expect(parseRepositoryLocation(base, {}, {FAKE_REGION: 'first', FAKE_DEFAULT_REGION: 'second', FAKE_SECRET: 'k'}).values['region']).toBe('first');
		expect(parseRepositoryLocation(base, {'fake.region': 'option'}, {FAKE_REGION: 'first', FAKE_SECRET: 'k'}).values['region']).toBe('option');
		expect(parseRepositoryLocation(base, {'fake.region': ''}, {FAKE_REGION: '', FAKE_DEFAULT_REGION: 'x', FAKE_SECRET: 'k'}).values['region']).toBe('x');
		expect(parseRepositoryLocation(base, {'fake.parts': '9'}, {FAKE_REGION: 'r', FAKE_SECRET: 'k'}).values['parts']).toBe('9');
	});

	it('collects every problem into one message naming each field and what to do', () => {
		const error = thrownBy(() =>
			parseRepositoryLocation(
				'fake:notaurl/Bad_Bucket',
				{'fake.parts': 'many', 'fake.tls': 'maybe', 'fake.class': 'hot', 'fake.bogus': '1', 'fake.bucket': 'other', region: 'x', 'fake.secret-key': 'hunter2-but-wrong'},
				{},
			),
		);
		const fields = error.issues.map((issue) => issue.field);
		expect(fields).toEqual(expect.arrayContaining(['endpoint', 'bucket', 'region', 'parts', 'tls', 'class']));
		expect(error.message).toContain('Endpoint (fake.endpoint) "notaurl" must be a URL');
		expect(error.message).toContain('Bucket (fake.bucket) is given both in the location and as -o fake.bucket');
		expect(error.message).toContain('Bucket (fake.bucket) "Bad_Bucket" may hold only a-z, 0-9 and -');
		expect(error.message).toContain('Region (fake.region) is required: pass -o fake.region=… or set FAKE_REGION or FAKE_DEFAULT_REGION');
		expect(error.message).toContain('Parts (fake.parts) "many" must be a number');
		expect(error.message).toContain('TLS (fake.tls) "maybe" must be true or false');
		expect(error.message).toContain('Storage class (fake.class) "hot" must be one of standard, cold');
		expect(error.message).toContain('unknown option -o fake.bogus; Fake cloud (fake) accepts: fake.endpoint, fake.bucket');
		expect(error.message).toContain('option "region" needs a repository type prefix');
		expect(error.message.split('\n').length).toBe(error.issues.length + 1);
		expect(error.message).not.toContain('hunter2');
	});

	it('never quotes a secret value in a validation message', () => {
		const secretChecked: AdapterDefinition = {
			...fakeAdapter,
			scheme: 'fake2',
			options: [{name: 'token', label: 'Token', description: 'Token.', required: true, secret: true, validate: () => 'is too short'}],
			parseLocation: () => ({}),
		};
		registerAdapter(secretChecked);
		try {
			const error = thrownBy(() => parseRepositoryLocation('fake2:', {'fake2.token': 'topsecret'}, {}));
			expect(error.message).toContain('Token (fake2.token) is too short');
			expect(error.message).not.toContain('topsecret');
		} finally {
			unregisterAdapter('fake2');
		}
	});

	it('reports a location the adapter cannot parse', () => {
		const error = thrownBy(() => parseRepositoryLocation('fake:nobucket', {}, {FAKE_REGION: 'r', FAKE_SECRET: 'k'}));
		expect(error.message).toContain('the Fake cloud location "fake:nobucket" is not valid: expected <endpoint>/<bucket> (example: fake:https://host.example/bucket)');
	});
});

describe('openRepositoryStorage', () => {
	it('opens the storage of a location', async () => {
		const local = await openRepositoryStorage('/srv/some-repo', {}, {});
		expect(local.location).toBe('local:/srv/some-repo');
		const relative = await openRepositoryStorage('rel/repo', {'local.connections': '2'}, {});
		expect(relative.location).toBe(`local:${join(process.cwd(), 'rel/repo')}`);
		expect(relative.capabilities.concurrency).toBe(2);
		const fake = await openRepositoryStorage('fake:https://user:pw@host.example/b', {}, {FAKE_REGION: 'r', FAKE_SECRET: 'k'});
		expect(fake.location).toBe('fake:https://user:***@host.example/b');
		await expect(openRepositoryStorage('nope:x', {}, {})).rejects.toBeInstanceOf(RepositoryLocationError);
	});

	it('formats values back into a location that parses to the same values', () => {
		const env = {FAKE_REGION: 'r', FAKE_SECRET: 'k'};
		const {adapter, values} = parseRepositoryLocation('fake:https://host.example/b', {}, env);
		const location = formatRepositoryLocation(adapter, values);
		expect(location).toBe('fake:https://host.example/b');
		expect(parseRepositoryLocation(location, {}, env).values).toEqual(values);
		expect(formatRepositoryLocation(findAdapter('local')!, {path: '/srv/x'})).toBe('local:/srv/x');
	});
});

describe('redaction', () => {
	it.each([
		['rest:https://user:pass@host:8000/repo', 'rest:https://user:***@host:8000/repo'],
		['s3:https://AKIA:very/secret@s3.example/bucket', 's3:https://AKIA:***@s3.example/bucket'],
		['fake:http://u:p%40ss@h/b', 'fake:http://u:***@h/b'],
		['rest:https://u:p@ss@host/repo', 'rest:https://u:***@host/repo'],
		['rest:https://user@host/repo', 'rest:https://user@host/repo'],
		['sftp:user@host:/srv/repo', 'sftp:user@host:/srv/repo'],
		['/srv/repo', '/srv/repo'],
	])('redacts %s', (location, expected) => {
		expect(redactLocation(location)).toBe(expected);
	});

	it('masks secret values and URL passwords', () => {
		const values = {endpoint: 'https://u:pw@host.example', bucket: 'b', 'secret-key': 'k3y', region: 'r'};
		expect(redactValues(values, fakeAdapter)).toEqual({endpoint: 'https://u:***@host.example', bucket: 'b', 'secret-key': '***', region: 'r'});
		expect(values['secret-key']).toBe('k3y');
	});
});
