import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {parseRepositoryLocation} from '../../adapters/registry.js';
import {buildSftpSettings, sftpAdapter} from '../../adapters/sftp/adapter.js';
import {KeyPassphraseError} from '../../adapters/sftp/connect.js';
import {HostKeyError} from '../../adapters/sftp/errors.js';
import {findKnownHostKeys, fingerprintKey} from '../../adapters/sftp/known-hosts.js';
import {AuthError, NotFoundError, PermanentError, TransientError, pathOf, type Storage} from '../../adapters/storage.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {findFreePort, listDescendants, runProgram, signalProcess} from '../helpers/servers/processes.js';
import {SSH_KEYGEN, startSshServer, type SshServer} from '../helpers/servers/sshd.js';

let server: SshServer;

beforeAll(async () => {
	server = await startSshServer();
});

afterAll(async () => {
	await server?.stop();
});

type Mode = 'built-in' | 'external';

/** ssh arguments of external mode that keep the user's ssh configuration out of the tests. */
const EXTERNAL_ARGS = '-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes';

/** Option values reaching the test server, for a repository at `path`. */
function makeValues(path: string, mode: Mode = 'built-in', extra: Record<string, string> = {}): Record<string, string> {
	return {
		host: server.host,
		port: String(server.port),
		username: server.user,
		path,
		'key-file': server.userKey,
		'known-hosts': server.knownHosts,
		timeout: '20',
		connections: '5',
		external: mode === 'external' ? 'true' : 'false',
		'ssh-command': 'ssh',
		...(mode === 'external' ? {'ssh-args': EXTERNAL_ARGS} : {}),
		...extra,
	};
}

/** A fresh directory on the server, removed afterwards by the caller. */
function makeDirectory(): Promise<string> {
	return mkdtemp(join(server.data, 'sftp-'));
}

for (const mode of ['built-in', 'external'] as const) {
	runStorageConformance(`sftp (${mode})`, async () => {
		const directory = await makeDirectory();
		const storage = await sftpAdapter.open(makeValues(join(directory, 'repo'), mode));
		return {storage, cleanup: () => rm(directory, {recursive: true, force: true})};
	});
}

describe('sftp locations', () => {
	const cases: Array<[string, Record<string, string>]> = [
		['backup@nas:/srv/repo', {username: 'backup', host: 'nas', path: '/srv/repo'}],
		['nas:relative/repo', {host: 'nas', path: 'relative/repo'}],
		['first@last@nas:/srv/repo', {username: 'first@last', host: 'nas', path: '/srv/repo'}],
		['backup@[::1]:/srv/repo', {username: 'backup', host: '::1', path: '/srv/repo'}],
		['backup@nas:/srv//repo/', {username: 'backup', host: 'nas', path: '/srv/repo'}],
		['//backup@nas:2222//srv/repo', {username: 'backup', host: 'nas', port: '2222', path: '/srv/repo'}],
		['//backup@nas:2222/relative/repo', {username: 'backup', host: 'nas', port: '2222', path: 'relative/repo'}],
		['//nas//srv/repo', {host: 'nas', path: '/srv/repo'}],
		['//backup@[::1]:2222//srv/repo', {username: 'backup', host: '::1', port: '2222', path: '/srv/repo'}],
	];

	it.each(cases)('parses %s and formats it back', (location, values) => {
		expect(sftpAdapter.parseLocation(location)).toEqual(values);
		expect(sftpAdapter.parseLocation(sftpAdapter.formatLocation(values))).toEqual(values);
	});

	it.each([
		['nas', /separated by a colon/],
		['backup@nas:~/repo', /starts with ~/],
		['//backup@nas:2222/', /no directory given/],
		['//backup:secret@nas:2222//srv', /password in the location is not supported/],
		['backup@[::1/srv', /IPv6/],
	])('refuses %s, saying why', (location, message) => {
		expect(() => sftpAdapter.parseLocation(location)).toThrow(message);
	});

	it('merges -o options and the environment, and refuses conflicting values', () => {
		const parsed = parseRepositoryLocation('sftp:backup@nas:/srv/repo', {'sftp.port': '2222', 'sftp.key-file': '~/.ssh/backup'}, {CAIRN_SFTP_KEY_PASSPHRASE: 'pp'});
		expect(parsed.values).toMatchObject({username: 'backup', host: 'nas', path: '/srv/repo', port: '2222', 'key-file': '~/.ssh/backup', 'key-passphrase': 'pp', external: 'false', timeout: '30'});
		expect(() => parseRepositoryLocation('sftp://backup@nas:2222//srv', {'sftp.port': '22'}, {})).toThrow(/given both in the location and as -o sftp\.port/);
		expect(() => parseRepositoryLocation('sftp:nas:/srv', {'sftp.port': '70000'}, {})).toThrow(/port number from 1 to 65535/);
	});

	it('refuses settings that cannot work together', async () => {
		expect(await catchRejection(sftpAdapter.open({...makeValues('/x', 'external'), password: 'pw'}))).toMatchObject({message: expect.stringMatching(/password works only with the built-in client/)});
		expect(await catchRejection(sftpAdapter.open({...makeValues('/x'), command: 'ssh nas -s sftp', 'ssh-args': '-v'}))).toMatchObject({message: expect.stringMatching(/either sftp\.command .* or sftp\.ssh-args/)});
	});
});

describe('known_hosts', () => {
	it('finds plain, bracketed, hashed, wildcard and revoked entries, and computes ssh-keygen\'s fingerprint', async () => {
		const file = join(server.directory, 'known_hosts_mixed');
		const [type, key] = server.hostPublicKey.split(' ') as [string, string];
		await writeFile(
			file,
			[
				'# a comment',
				`[127.0.0.1]:${server.port} ${type} ${key}`,
				`*.example,!evil.example ${type} ${key}`,
				`@cert-authority *.corp ${type} ${key}`,
				`@revoked old.test ${type} ${key}`,
				`hashed.test ${type} ${key}`,
				'',
			].join('\n'),
		);
		// ssh-keygen -H rewrites the names as |1|salt|hash, as a hashed known_hosts has them.
		await runProgram(SSH_KEYGEN, ['-H', '-f', file]);
		const text = await readFile(file, 'utf8');
		expect(text).toMatch(/^\|1\|/m);
		expect(findKnownHostKeys(text, `[127.0.0.1]:${server.port}`)).toHaveLength(1);
		expect(findKnownHostKeys(text, 'hashed.test')).toHaveLength(1);
		expect(findKnownHostKeys(text, 'www.example')).toHaveLength(1);
		expect(findKnownHostKeys(text, 'evil.example')).toEqual([]);
		expect(findKnownHostKeys(text, 'x.corp')).toEqual([]);
		expect(findKnownHostKeys(text, 'old.test')).toMatchObject([{revoked: true}]);
		const [found] = findKnownHostKeys(text, 'hashed.test');
		expect(fingerprintKey(found!.key)).toBe(server.hostFingerprint);
	});
});

describe.each(['built-in', 'external'] as const)('sftp connection errors (%s)', (mode) => {
	it('refuses an unknown host key, showing its SHA256 fingerprint', async () => {
		const knownHosts = join(server.directory, `known_hosts_empty_${mode}`);
		await writeFile(knownHosts, '');
		const error = await catchRejection(sftpAdapter.open(makeValues('/tmp', mode, {'known-hosts': knownHosts})));
		expect(error).toBeInstanceOf(HostKeyError);
		expect((error as HostKeyError).problem).toBe('unknown');
		expect((error as Error).message).toContain(`the host key of [127.0.0.1]:${server.port} is not known`);
		expect((error as Error).message).toContain(server.hostFingerprint);
		if (mode === 'built-in') {
			// The app offers to trust it; then the next connection works.
			expect((error as HostKeyError).canTrust).toBe(true);
			await (error as HostKeyError).trust();
			expect(await readFile(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${server.port} ${server.hostPublicKey}\n`);
			const storage = await sftpAdapter.open(makeValues('/tmp', mode, {'known-hosts': knownHosts}));
			await storage.close();
		}
	});

	it('refuses a changed host key with a warning that shows the new fingerprint and the old entry, and never trusts it', async () => {
		const other = await server.makeKey(`other_host_${mode}`);
		const otherPublic = (await readFile(`${other}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
		const knownHosts = join(server.directory, `known_hosts_changed_${mode}`);
		await writeFile(knownHosts, `# earlier key\n[127.0.0.1]:${server.port} ${otherPublic}\n`);
		const error = await catchRejection(sftpAdapter.open(makeValues('/tmp', mode, {'known-hosts': knownHosts})));
		expect(error).toBeInstanceOf(HostKeyError);
		expect((error as HostKeyError).problem).toBe('changed');
		expect((error as Error).message).toMatch(/host key of \[127\.0\.0\.1\]:\d+ has CHANGED/);
		expect((error as Error).message).toContain(server.hostFingerprint);
		expect((error as Error).message).toContain('line 2');
		expect((error as Error).message).toContain('ssh-keygen -R');
		expect((error as HostKeyError).canTrust).toBe(false);
		expect(await catchRejection((error as HostKeyError).trust())).toBeInstanceOf(PermanentError);
		expect(await readFile(knownHosts, 'utf8')).toBe(`# earlier key\n[127.0.0.1]:${server.port} ${otherPublic}\n`);
	});

	it('says the server refused a key it does not know', async () => {
		const stranger = await server.makeKey(`stranger_${mode}`);
		const error = await catchRejection(sftpAdapter.open(makeValues('/tmp', mode, {'key-file': stranger})));
		expect(error).toBeInstanceOf(AuthError);
		expect(error).not.toBeInstanceOf(HostKeyError);
		expect((error as Error).message).toContain(`the server refused the login of ${server.user}@127.0.0.1:${server.port}`);
		if (mode === 'external') expect((error as Error).message).toContain('Permission denied (publickey)');
	});

	it('says the connection was refused when nothing listens', async () => {
		const port = await findFreePort();
		const error = await catchRejection(sftpAdapter.open(makeValues('/tmp', mode, {port: String(port)})));
		expect(error).toBeInstanceOf(TransientError);
		expect((error as Error).message).toMatch(/connection refused; check the host name and port/);
	});
});

describe('sftp settings', () => {
	it('expands ~ in file options and leaves unset ones to the defaults', () => {
		const settings = buildSftpSettings({host: 'nas', path: '/srv', 'key-file': '~/.ssh/backup', 'known-hosts': '~/kh', external: 'false', timeout: '30', connections: '5'}, {HOME: '/home/me'});
		expect(settings).toMatchObject({host: 'nas', keyFile: '/home/me/.ssh/backup', knownHostsFile: '/home/me/kh', external: false, timeoutMs: 30_000, sshArgs: []});
		expect(settings.port).toBeUndefined();
		expect(settings.username).toBeUndefined();
		expect(buildSftpSettings({host: 'nas', path: '/srv', command: 'ssh nas -s sftp'}, {}).external).toBe(true);
	});

	it('reports a refused password login without showing the password', async () => {
		const error = await catchRejection(sftpAdapter.open({...makeValues('/tmp'), 'key-file': '', password: 'not-the-password'}));
		expect(error).toBeInstanceOf(AuthError);
		expect((error as Error).message).toContain('the server refused the login');
		expect((error as Error).message).not.toContain('not-the-password');
	});
});

describe('sftp keys', () => {
	it('asks for the passphrase of an encrypted key, refuses a wrong one and works with the right one', async () => {
		const key = join(server.directory, 'encrypted_key');
		await runProgram(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
		await writeFile(join(server.directory, 'authorized_keys'), `${await readFile(`${server.userKey}.pub`, 'utf8')}${await readFile(`${key}.pub`, 'utf8')}`);
		const missing = await catchRejection(sftpAdapter.open(makeValues('/tmp', 'built-in', {'key-file': key})));
		expect(missing).toBeInstanceOf(KeyPassphraseError);
		expect((missing as Error).message).toMatch(/is encrypted: give its passphrase with -o sftp\.key-passphrase=… or CAIRN_SFTP_KEY_PASSPHRASE/);
		const wrong = await catchRejection(sftpAdapter.open(makeValues('/tmp', 'built-in', {'key-file': key, 'key-passphrase': 'not-the-passphrase'})));
		expect(wrong).toBeInstanceOf(AuthError);
		expect((wrong as Error).message).toContain('the passphrase is wrong');
		expect((wrong as Error).message).not.toContain('not-the-passphrase');
		const storage = await sftpAdapter.open(makeValues('/tmp', 'built-in', {'key-file': key, 'key-passphrase': 'open sesame'}));
		await storage.close();
		const absent = await catchRejection(sftpAdapter.open(makeValues('/tmp', 'built-in', {'key-file': join(server.directory, 'absent')})));
		expect((absent as Error).message).toMatch(/key file .*absent \(sftp\.key-file\) does not exist/);
	});
});

describe('sftp storage', () => {
	it('says a missing repository directory is missing, and never creates it on save', async () => {
		const directory = await makeDirectory();
		const storage = await sftpAdapter.open(makeValues(join(directory, 'absent', 'repo')));
		try {
			expect(await catchRejection(storage.load({type: 'config', name: ''}))).toBeInstanceOf(NotFoundError);
			const error = await catchRejection(storage.save({type: 'keys', name: makeId()}, makeRandomData(4)));
			expect(error).toBeInstanceOf(NotFoundError);
			expect((error as Error).message).toContain('does not exist');
			expect(await readdir(directory)).toEqual([]);
		} finally {
			await storage.close();
			await rm(directory, {recursive: true, force: true});
		}
	});

	it('writes through a temporary name renamed into place, creating data/xx on demand with mode 0700 and files 0600', async () => {
		const directory = await makeDirectory();
		const root = join(directory, 'repo');
		const storage = await sftpAdapter.open(makeValues(root));
		try {
			await storage.create();
			await rm(join(root, 'data', '5e'), {recursive: true});
			const handle = {type: 'data' as const, name: makeId('5e')};
			const size = 24 * 1024 * 1024;
			const temporaries = new Set<string>();
			const finalSizes = new Set<number>();
			let done = false;
			const saving = storage.save(handle, makeRandomData(size)).finally(() => {
				done = true;
			});
			while (!done) {
				for (const name of await readdir(join(root, 'data', '5e')).catch(() => [] as string[])) {
					if (name.startsWith('.tmp-')) temporaries.add(name);
					if (name === handle.name) finalSizes.add((await stat(join(root, 'data', '5e', name))).size);
				}
				await new Promise((resolve) => setImmediate(resolve));
			}
			await saving;
			expect([...finalSizes].every((seen) => seen === size)).toBe(true);
			expect(temporaries.size).toBe(1);
			expect(await readdir(join(root, 'data', '5e'))).toEqual([handle.name]);
			expect((await stat(join(root, 'data', '5e'))).mode & 0o777).toBe(0o700);
			expect((await stat(join(root, pathOf(handle)))).mode & 0o777).toBe(0o600);
		} finally {
			await storage.close();
			await rm(directory, {recursive: true, force: true});
		}
	});
});

describe.each(['built-in', 'external'] as const)('sftp connection loss (%s)', (mode) => {
	/**
	 * Freezes the server's session processes, starts a large save (which then waits on them),
	 * and kills them (and the listener too when `listener`) while the save is in flight.
	 */
	async function cutDuringSave(storage: Storage, listener: boolean): Promise<unknown> {
		const sessions = await listDescendants(server.process().pid!);
		expect(sessions.length).toBeGreaterThan(0);
		for (const pid of sessions) signalProcess(pid, 'SIGSTOP');
		const saving = storage.save({type: 'data', name: makeId()}, makeRandomData(16 * 1024 * 1024));
		saving.catch(() => undefined);
		await new Promise((resolve) => setTimeout(resolve, 20));
		if (listener) await server.kill();
		else for (const pid of sessions) signalProcess(pid, 'SIGKILL');
		return catchRejection(saving);
	}

	it('fails the operation in flight as transient and reconnects for the next one', async () => {
		const directory = await makeDirectory();
		const storage = await sftpAdapter.open(makeValues(join(directory, 'repo'), mode));
		try {
			await storage.create();
			const error = await cutDuringSave(storage, false);
			expect(error).toBeInstanceOf(TransientError);
			expect((error as Error).message).toMatch(/lost the SFTP connection .* the next attempt reconnects/s);
			const handle = {type: 'keys' as const, name: makeId()};
			const data = makeRandomData(1000);
			await storage.save(handle, data);
			expect(isSameBytes(await storage.load(handle), data)).toBe(true);
			expect((await collect(storage.list('data'))).length).toBe(0);
		} finally {
			await storage.close();
			await rm(directory, {recursive: true, force: true});
		}
	});

	it('fails at once, saying why, when the server is gone and cannot be reached again', async () => {
		const directory = await makeDirectory();
		const storage = await sftpAdapter.open(makeValues(join(directory, 'repo'), mode));
		try {
			await storage.create();
			expect(await cutDuringSave(storage, true)).toBeInstanceOf(TransientError);
			const error = await catchRejection(storage.stat({type: 'config', name: ''}));
			expect(error).toBeInstanceOf(PermanentError);
			expect((error as Error).message).toMatch(/lost the connection to sftp:.* and could not reconnect: .*connection refused.* a backup carries on where this one stopped/s);
			expect(await catchRejection(storage.list('keys')[Symbol.asyncIterator]().next())).toBe(error);
		} finally {
			await storage.close();
			await server.restart();
			await rm(directory, {recursive: true, force: true});
		}
	});
});
