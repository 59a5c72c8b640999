import {randomBytes} from 'node:crypto';
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {webdavAdapter} from '../../adapters/webdav/adapter.js';
import {runStorageConformance} from '../conformance/storage-suite.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';

let server: RcloneServer;
const user = 'cairn';
const pass = randomBytes(12).toString('hex');

beforeAll(async () => {
	server = await startRcloneServer('webdav', {user, pass});
});

afterAll(async () => {
	await server?.stop();
});

runStorageConformance('webdav (rclone serve webdav)', async () => {
	const name = `conformance-${randomBytes(6).toString('hex')}`;
	const storage = await webdavAdapter.open({url: `${server.url}${name}/`, username: user, password: pass, connections: '5'});
	return {storage, cleanup: () => rm(join(server.root, name), {recursive: true, force: true})};
});

describe('smoke', () => {
	it('runs', () => expect(server.port).toBeGreaterThan(0));
});
