import {mkdtemp, rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {sftpAdapter} from '../../adapters/sftp/adapter.js';
import {runStorageConformance} from '../conformance/storage-suite.js';
import {startSshServer, type SshServer} from '../helpers/servers/sshd.js';

let server: SshServer;

beforeAll(async () => {
	server = await startSshServer();
});

afterAll(async () => {
	await server?.stop();
});

/** Option values reaching the test server, for a repository at `path`. */
function makeValues(path: string, extra: Record<string, string> = {}): Record<string, string> {
	return {
		host: server.host,
		port: String(server.port),
		username: server.user,
		path,
		'key-file': server.userKey,
		'known-hosts': server.knownHosts,
		timeout: '20',
		connections: '5',
		external: 'false',
		'ssh-command': 'ssh',
		...extra,
	};
}

for (const mode of ['built-in', 'external'] as const) {
	runStorageConformance(`sftp (${mode})`, async () => {
		const directory = await mkdtemp(join(server.data, 'conformance-'));
		const extra: Record<string, string> = mode === 'external' ? {external: 'true', 'ssh-args': '-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes'} : {};
		const storage = await sftpAdapter.open(makeValues(join(directory, 'repo'), extra));
		return {storage, cleanup: () => rm(directory, {recursive: true, force: true})};
	});
}

describe('smoke', () => {
	it('runs', () => {
		expect(server.port).toBeGreaterThan(0);
	});
});
