import {PassThrough, Duplex} from 'node:stream';

import {describe, expect, it} from 'vitest';

import {sftpAdapter} from '../../adapters/sftp/adapter.js';
import {SftpClient, SftpConnectionLostError} from '../../adapters/sftp/client.js';
import {PacketReader, PacketSplitter, PacketWriter} from '../../adapters/sftp/packets.js';
import {buildSshArguments} from '../../adapters/sftp/connect.js';
import {PermanentError} from '../../adapters/storage.js';
import {quoteShellWord, splitShellWords} from '../../adapters/shared/shell-words.js';
import {catchRejection} from '../conformance/storage-suite.js';

describe('SFTP packets', () => {
	it('writes fields and reads them back, and splits a stream cut anywhere into the same packets', () => {
		const packets = [
			new PacketWriter(103).uint32(7).string(Buffer.alloc(70_000, 0xab)).finish(),
			new PacketWriter(101).uint32(8).uint32(2).string('No such file').string('').finish(),
			new PacketWriter(105).uint32(9).uint32(0x0d).uint64(2 ** 40 + 5).uint32(0o100600).uint32(1).uint32(2).finish(),
		];
		const stream = Buffer.concat(packets);
		for (const cut of [1, 3, 4, 5, 17, 70_010, stream.length - 1]) {
			const seen: Array<{type: number; payload: Buffer}> = [];
			const splitter = new PacketSplitter((type, payload) => seen.push({type, payload: Buffer.from(payload)}));
			splitter.push(stream.subarray(0, cut));
			splitter.push(stream.subarray(cut));
			expect(seen.map((packet) => packet.type), `cut at ${cut}`).toEqual([103, 101, 105]);
			const data = new PacketReader(seen[0]!.payload);
			expect(data.uint32()).toBe(7);
			expect(data.bytes().equals(Buffer.alloc(70_000, 0xab))).toBe(true);
			const status = new PacketReader(seen[1]!.payload);
			expect([status.uint32(), status.uint32(), status.text()]).toEqual([8, 2, 'No such file']);
			const attributes = new PacketReader(seen[2]!.payload);
			expect(attributes.uint32()).toBe(9);
			expect(attributes.attributes()).toEqual({size: 2 ** 40 + 5, permissions: 0o100600, atime: 1, mtime: 2});
		}
	});

	it('refuses text where a packet should be, quoting it', async () => {
		const fromServer = new PassThrough();
		const toServer = new PassThrough();
		const stream = Duplex.from({readable: fromServer, writable: toServer});
		const starting = SftpClient.start(stream);
		fromServer.write('Welcome to the backup server!\n');
		const error = await catchRejection(starting);
		expect(error).toBeInstanceOf(SftpConnectionLostError);
		expect((error as Error).message).toContain('the text "Welcome to the backup server!\\n" where an SFTP packet was expected');
		// The client sent INIT for version 3.
		const init = toServer.read() as Buffer;
		expect([...init]).toEqual([0, 0, 0, 5, 1, 0, 0, 0, 3]);
	});

	it('rejects pending requests when the stream ends, and later ones at once', async () => {
		const fromServer = new PassThrough();
		const toServer = new PassThrough();
		const starting = SftpClient.start(Duplex.from({readable: fromServer, writable: toServer}));
		fromServer.write(new PacketWriter(2).uint32(3).string('posix-rename@openssh.com').string('1').finish());
		const client = await starting;
		expect(client.hasExtension('posix-rename@openssh.com')).toBe(true);
		const pending = client.stat('/srv/repo/config');
		fromServer.end();
		const error = await catchRejection(pending);
		expect(error).toBeInstanceOf(SftpConnectionLostError);
		expect((error as Error).message).toMatch(/during stat \/srv\/repo\/config/);
		expect(await catchRejection(client.stat('/x'))).toBeInstanceOf(SftpConnectionLostError);
	});
});

describe('external ssh', () => {
	it('builds the ssh command line from the options', () => {
		const settings = {host: 'nas', port: 2222, username: 'backup', keyFile: '/k', knownHostsFile: '/kh', external: true, sshCommand: 'ssh', sshArgs: ['-J', 'jump'], timeoutMs: 1000};
		expect(buildSshArguments(settings)).toEqual(['-o', 'LogLevel=DEBUG1', '-J', 'jump', '-p', '2222', '-l', 'backup', '-i', '/k', '-o', 'UserKnownHostsFile=/kh', '-s', '--', 'nas', 'sftp']);
		expect(buildSshArguments({...settings, port: undefined, username: undefined, keyFile: undefined, knownHostsFile: undefined, sshArgs: []})).toEqual(['-o', 'LogLevel=DEBUG1', '-s', '--', 'nas', 'sftp']);
	});

	it('says so when the command prints text instead of speaking SFTP, with what it printed', async () => {
		const error = await catchRejection(sftpAdapter.open({host: 'nas', path: '/srv', command: `sh -c "echo 'Last login: yesterday'; sleep 30"`, timeout: '10', connections: '1', external: 'true', 'ssh-command': 'ssh'}));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toContain('could not start an SFTP session with nas');
		expect((error as Error).message).toContain('the text "Last login: yesterday\\n"');
	});

	it('says what the command wrote when it exits at once', async () => {
		const error = await catchRejection(sftpAdapter.open({host: 'nas', path: '/srv', command: `sh -c "echo 'no such user' >&2; exit 3"`, timeout: '10', connections: '1', external: 'true', 'ssh-command': 'ssh'}));
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/ssh exited with code 3 and said:\n\s+no such user/);
	});

	it('says how to install ssh when the program is missing', async () => {
		const error = await catchRejection(sftpAdapter.open({host: 'nas', path: '/srv', timeout: '10', connections: '1', external: 'true', 'ssh-command': '/nonexistent/ssh'}));
		expect((error as Error).message).toMatch(/cannot run the ssh program "\/nonexistent\/ssh" \(sftp\.ssh-command\): it was not found; install the OpenSSH client/);
	});
});

describe('shell words', () => {
	it.each([
		['-F ~/.ssh/config -J jump', ['-F', '~/.ssh/config', '-J', 'jump']],
		[`ssh 'user name'@host -o "ProxyCommand=nc %h %p" -s sftp`, ['ssh', 'user name@host', '-o', 'ProxyCommand=nc %h %p', '-s', 'sftp']],
		[String.raw`a\ b "c\"d" 'e\f' ""`, ['a b', 'c"d', 'e\\f', '']],
		['  spaced   out  ', ['spaced', 'out']],
	])('splits %s', (text, words) => {
		expect(splitShellWords(text)).toEqual(words);
		expect(splitShellWords(words.map(quoteShellWord).join(' '))).toEqual(words);
	});

	it('refuses unterminated quotes', () => {
		expect(() => splitShellWords(`ssh "host`)).toThrow(/unterminated double quote/);
		expect(() => splitShellWords(`ssh 'host`)).toThrow(/unterminated single quote/);
		expect(() => splitShellWords('ssh \\')).toThrow(/lone backslash/);
	});
});
