import {randomBytes} from 'node:crypto';
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {restAdapter} from '../../adapters/rest/adapter.js';
import {runStorageConformance} from '../conformance/storage-suite.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';

let server: RcloneServer;

beforeAll(async () => {
	server = await startRcloneServer('restic');
});

afterAll(async () => {
	await server?.stop();
});

runStorageConformance('rest (rclone serve restic)', async () => {
	const name = `conformance-${randomBytes(6).toString('hex')}`;
	const storage = await restAdapter.open({url: `${server.url}${name}/`, connections: '5'});
	return {storage, cleanup: () => rm(join(server.root, name), {recursive: true, force: true})};
});

describe('smoke', () => {
	it('runs', () => expect(server.port).toBeGreaterThan(0));
});
