import {randomBytes} from 'node:crypto';
import {readdir, rm, stat} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {parseRepositoryLocation} from '../../adapters/registry.js';
import {AlreadyExistsError, AuthError, NotFoundError, TransientError, pathOf} from '../../adapters/storage.js';
import {webdavAdapter} from '../../adapters/webdav/adapter.js';
import {catchRejection, collect, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {describeRun, runCairn} from '../helpers/cli.js';
import {findFreePort} from '../helpers/servers/processes.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';
import {runCliRoundTrip} from '../helpers/servers/round-trip.js';

let server: RcloneServer;
const user = 'cairn';
const pass = randomBytes(12).toString('hex');

beforeAll(async () => {
	server = await startRcloneServer('webdav', {user, pass});
});

afterAll(async () => {
	await server?.stop();
});

/** A fresh folder on the server, nested so that its parents must be made too. */
function makeFolder(): {url: string; directory: string} {
	const name = `repo-${randomBytes(6).toString('hex')}`;
	return {url: `${server.url}${name}/nested/repo/`, directory: join(server.root, name)};
}

runStorageConformance('webdav (rclone serve webdav)', async () => {
	const {url, directory} = makeFolder();
	const storage = await webdavAdapter.open({url, username: user, password: pass, connections: '5'});
	return {storage, cleanup: () => rm(directory, {recursive: true, force: true})};
});

describe('webdav locations', () => {
	it('parses webdav:URL with credentials kept apart, and formats it back', () => {
		const values = webdavAdapter.parseLocation('https://me:s3cret@cloud.example/remote.php/dav/files/me/backup');
		expect(values).toEqual({url: 'https://cloud.example/remote.php/dav/files/me/backup/', username: 'me', password: 's3cret'});
		// The password is never written back into a location (locations may be saved).
		expect(webdavAdapter.formatLocation(values)).toBe('https://me@cloud.example/remote.php/dav/files/me/backup/');
		expect(webdavAdapter.parseLocation(webdavAdapter.formatLocation(values))).toEqual({url: values.url, username: 'me'});
		const parsed = parseRepositoryLocation('webdav:http://nas/dav', {'webdav.username': 'opt-user'}, {CAIRN_WEBDAV_PASSWORD: 'env-secret'});
		expect(parsed.values).toMatchObject({url: 'http://nas/dav/', username: 'opt-user', password: 'env-secret'});
	});
});

describe('webdav storage', () => {
	it('makes the type folders on create and data/xx folders on the first save into them', async () => {
		const {url, directory} = makeFolder();
		const storage = await webdavAdapter.open({url, username: user, password: pass, connections: '5'});
		try {
			await storage.create();
			const root = join(directory, 'nested', 'repo');
			expect((await readdir(root)).sort()).toEqual(['data', 'index', 'keys', 'locks', 'snapshots']);
			const handle = {type: 'data' as const, name: makeId('7c')};
			await storage.save(handle, makeRandomData(100));
			expect((await stat(join(root, pathOf(handle)))).size).toBe(100);
			// Only the final name is left: the temporary file was moved over it.
			expect(await readdir(join(root, 'data', '7c'))).toEqual([handle.name]);
			expect(await catchRejection(storage.create())).toBeInstanceOf(AlreadyExistsError);
		} finally {
			await storage.close();
			await rm(directory, {recursive: true, force: true});
		}
	});

	it('says a save into a folder that does not exist is not found, and makes nothing', async () => {
		const {url, directory} = makeFolder();
		const storage = await webdavAdapter.open({url, username: user, password: pass, connections: '2'});
		try {
			const error = await catchRejection(storage.save({type: 'keys', name: makeId()}, makeRandomData(5)));
			expect(error).toBeInstanceOf(NotFoundError);
			expect((error as Error).message).toContain('does not exist');
			expect(await collect(storage.list('keys'))).toEqual([]);
			await expect(stat(directory)).rejects.toMatchObject({code: 'ENOENT'});
		} finally {
			await storage.close();
		}
	});

	it('reports a wrong password as an auth error that never shows it', async () => {
		const {url} = makeFolder();
		const storage = await webdavAdapter.open({url, username: user, password: 'wrong-password', connections: '2'});
		try {
			for (const attempt of [() => storage.create(), () => storage.load({type: 'config', name: ''}), () => collect(storage.list('keys'))]) {
				const error = await catchRejection(attempt());
				expect(error).toBeInstanceOf(AuthError);
				expect((error as Error).message).toMatch(/refused the credentials \(401 Unauthorized\).*webdav\.password/);
				expect((error as Error).message).not.toContain('wrong-password');
			}
		} finally {
			await storage.close();
		}
	});

	it('reports a refused connection as transient', async () => {
		const port = await findFreePort();
		const storage = await webdavAdapter.open({url: `http://127.0.0.1:${port}/dav/`, connections: '2'});
		try {
			const error = await catchRejection(storage.stat({type: 'keys', name: makeId()}));
			expect(error).toBeInstanceOf(TransientError);
			expect((error as Error).message).toContain('refused the connection');
		} finally {
			await storage.close();
		}
	});
});

describe('webdav with the CLI', () => {
	it('backs up and restores a tree through the CLI, with the password from the environment', async () => {
		const {url, directory} = makeFolder();
		const trip = await runCliRoundTrip({repo: `webdav:${url}`, options: [`webdav.username=${user}`], env: {CAIRN_WEBDAV_PASSWORD: pass}});
		try {
			const check = await trip.cairn(['check', '--read-data']);
			expect(check.code, describeRun(check)).toBe(0);
		} finally {
			await trip.cleanup();
			await rm(directory, {recursive: true, force: true});
		}
	});

	it('fails with a clear message and exit code when the password is wrong', async () => {
		const {url} = makeFolder();
		const result = await runCairn(['--repo', `webdav:${url}`, '-o', `webdav.username=${user}`, '-o', 'webdav.password=not-the-password', 'init'], {env: {CAIRN_PASSWORD: 'x'}});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toMatch(/refused the credentials \(401 Unauthorized\)/);
		expect(result.stderr + result.stdout).not.toContain('not-the-password');
	});
});
