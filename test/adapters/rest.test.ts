import {randomBytes} from 'node:crypto';
import {mkdir, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {restAdapter} from '../../adapters/rest/adapter.js';
import {parseRepositoryLocation, redactLocation} from '../../adapters/registry.js';
import {AuthError, NotFoundError, TransientError} from '../../adapters/storage.js';
import {catchRejection, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {compareTrees, describeRun, restoredPath, runCairn, runRestic} from '../helpers/cli.js';
import {findFreePort} from '../helpers/servers/processes.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';
import {ROUND_TRIP_PASSWORD, runCliRoundTrip} from '../helpers/servers/round-trip.js';

let server: RcloneServer;

beforeAll(async () => {
	server = await startRcloneServer('restic');
});

afterAll(async () => {
	await server?.stop();
});

/** A fresh repository path on the server. */
function makeRepositoryUrl(): {url: string; directory: string} {
	const name = `repo-${randomBytes(6).toString('hex')}`;
	return {url: `${server.url}${name}/`, directory: join(server.root, name)};
}

runStorageConformance('rest (rclone serve restic)', async () => {
	const {url, directory} = makeRepositoryUrl();
	const storage = await restAdapter.open({url, connections: '5'});
	return {storage, cleanup: () => rm(directory, {recursive: true, force: true})};
});

describe('rest locations', () => {
	it('parses restic\'s syntax, takes the password out, and formats the location back without it', () => {
		const values = restAdapter.parseLocation('https://backup:pa%2Fss@nas.example:8000/laptop');
		expect(values).toEqual({url: 'https://nas.example:8000/laptop/', username: 'backup', password: 'pa/ss'});
		expect(restAdapter.options.find((option) => option.name === 'password')).toMatchObject({secret: true});
		expect(restAdapter.options.find((option) => option.name === 'password')?.inLocation).toBeUndefined();
		expect(restAdapter.formatLocation(values)).toBe('https://backup@nas.example:8000/laptop/');
		expect(restAdapter.parseLocation(restAdapter.formatLocation(values))).toEqual({url: 'https://nas.example:8000/laptop/', username: 'backup'});
		expect(restAdapter.parseLocation('http://127.0.0.1:8000/')).toEqual({url: 'http://127.0.0.1:8000/'});
		expect(restAdapter.formatLocation({url: 'http://127.0.0.1:8000/', username: 'me'})).toBe('http://me@127.0.0.1:8000/');
	});

	it('takes the user and password from restic\'s environment variables, and never shows the password', () => {
		const parsed = parseRepositoryLocation('rest:http://nas:8000/repo', {}, {RESTIC_REST_USERNAME: 'env-user', RESTIC_REST_PASSWORD: 'env-secret'});
		expect(parsed.values).toMatchObject({url: 'http://nas:8000/repo/', username: 'env-user', password: 'env-secret'});
		expect(redactLocation('rest:https://backup:secret@nas:8000/laptop/')).toBe('rest:https://backup:***@nas:8000/laptop/');
	});

	it('refuses URLs that are not http or https, saying what to write', () => {
		expect(() => parseRepositoryLocation('rest:ftp://nas/repo', {}, {})).toThrow(/http:\/\/ or https:\/\//);
		expect(() => parseRepositoryLocation('rest:nas:8000', {}, {})).toThrow(/rest:/);
	});
});

describe('rest errors', () => {
	it('reports a missing repository as not found', async () => {
		const {url} = makeRepositoryUrl();
		const storage = await restAdapter.open({url, connections: '2'});
		try {
			expect(await catchRejection(storage.load({type: 'config', name: ''}))).toBeInstanceOf(NotFoundError);
		} finally {
			await storage.close();
		}
	});

	it('reports a refused connection as transient, naming the server', async () => {
		const port = await findFreePort();
		const storage = await restAdapter.open({url: `http://127.0.0.1:${port}/repo/`, connections: '2'});
		try {
			const error = await catchRejection(storage.stat({type: 'keys', name: makeId()}));
			expect(error).toBeInstanceOf(TransientError);
			expect((error as Error).message).toContain(`the REST server http://127.0.0.1:${port}/repo/ refused the connection`);
		} finally {
			await storage.close();
		}
	});

	it('reports wrong credentials as an auth error without showing the password, and works with the right ones', async () => {
		const pass = randomBytes(9).toString('hex');
		const guarded = await startRcloneServer('restic', {user: 'cairn', pass});
		try {
			const wrong = await restAdapter.open({url: `${guarded.url}repo/`, username: 'cairn', password: 'not-the-password', connections: '2'});
			const error = await catchRejection(wrong.create());
			await wrong.close();
			expect(error).toBeInstanceOf(AuthError);
			expect((error as Error).message).toMatch(/401 Unauthorized/);
			expect((error as Error).message).toContain('RESTIC_REST_PASSWORD');
			expect((error as Error).message).not.toContain('not-the-password');

			const right = await restAdapter.open({url: `${guarded.url}repo/`, username: 'cairn', password: pass, connections: '2'});
			await right.create();
			const handle = {type: 'keys' as const, name: makeId()};
			await right.save(handle, makeRandomData(10));
			expect(await right.stat(handle)).toEqual({name: handle.name, size: 10});
			await right.close();
		} finally {
			await guarded.stop();
		}
	});
});

describe('rest over https', () => {
	const tls = join(import.meta.dirname, '..', 'helpers', 'servers', 'tls');

	it('works with a certificate authority from NODE_EXTRA_CA_CERTS, and says what to do without it', async () => {
		const secure = await startRcloneServer('restic', {args: ['--cert', join(tls, 'cert.pem'), '--key', join(tls, 'key.pem')]});
		try {
			const repo = `rest:${secure.url.replace('http:', 'https:')}repo/`;
			const untrusted = await runCairn(['--repo', repo, 'init'], {env: {CAIRN_PASSWORD: 'x'}});
			expect(untrusted.code, describeRun(untrusted)).toBe(1);
			expect(untrusted.stderr).toMatch(/TLS failed with the REST server https:\/\/127\.0\.0\.1:\d+\/repo\/ .*NODE_EXTRA_CA_CERTS/);
			const env = {CAIRN_PASSWORD: 'x', NODE_EXTRA_CA_CERTS: join(tls, 'cert.pem')};
			const init = await runCairn(['--repo', repo, 'init'], {env});
			expect(init.code, describeRun(init)).toBe(0);
			const snapshots = await runCairn(['--repo', repo, 'snapshots', '--json'], {env});
			expect(snapshots.code, describeRun(snapshots)).toBe(0);
			expect(JSON.parse(snapshots.stdout)).toEqual([]);
		} finally {
			await secure.stop();
		}
	});
});

describe('rest with the CLI and restic', () => {
	it('backs up and restores through the CLI, and restic reads, checks and extends the same repository', async () => {
		const {url} = makeRepositoryUrl();
		const repo = `rest:${url}`;
		const trip = await runCliRoundTrip({repo});
		try {
			const env = {RESTIC_PASSWORD: ROUND_TRIP_PASSWORD};
			const snapshots = await runRestic(['-r', repo, 'snapshots', '--json'], {env});
			expect(snapshots.code, describeRun(snapshots)).toBe(0);
			expect((JSON.parse(snapshots.stdout) as Array<{short_id: string}>).map((s) => s.short_id)).toEqual([trip.snapshot]);
			const check = await runRestic(['-r', repo, 'check', '--read-data'], {env});
			expect(check.code, describeRun(check)).toBe(0);

			// restic writes a snapshot through the same server; cairn restores it.
			const extra = join(trip.directory, 'from-restic');
			await mkdir(extra);
			await writeFile(join(extra, 'note.txt'), 'written by restic over REST\n');
			const backup = await runRestic(['-r', repo, 'backup', extra], {env});
			expect(backup.code, describeRun(backup)).toBe(0);
			const target = join(trip.directory, 'restore-restic');
			const restore = await trip.cairn(['restore', 'latest', '--target', target]);
			expect(restore.code, describeRun(restore)).toBe(0);
			expect(await compareTrees(extra, restoredPath(target, extra))).toEqual([]);
		} finally {
			await trip.cleanup();
		}
	});
});
