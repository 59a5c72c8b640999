/**
 * The x64 single-file executable (scripts/package.mjs, `npm run package`): built once for this
 * file, copied alone into an empty directory and run there with `env -i` and a PATH that holds
 * nothing (so no Node.js, no node_modules, no restic): a full round trip that restic checks
 * afterwards, `cairn version`, and the app's first screen in tmux.
 */
import {chmod, copyFile, mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {createHash, randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {afterAll, beforeAll, describe as suite, expect, it} from 'vitest';
import {compareTrees, makeTempDir, makeVariedTree, restoredPath, ROOT} from '../helpers/cli.js';
import {S3RVER_CREDENTIALS, startS3rver} from '../helpers/servers/s3rver.js';
import {startSshServer} from '../helpers/servers/sshd.js';
import {attachPane, connectTmux} from '../helpers/tmux.js';
import {buildExecutable, describe, runBare, runRoundTrip} from './helpers.js';


let dir = '';
/** Where the executable lies alone. */
let binDir = '';
let exe = '';
let env: Record<string, string> = {};
let buildLog = '';
const socket = `cairn-package-${process.pid}`;

beforeAll(async () => {
	dir = await makeTempDir('cairn-package-x64-');
	const built = await buildExecutable('x64', join(dir, 'out'));
	buildLog = built.log;
	binDir = join(dir, 'bin');
	await mkdir(binDir);
	exe = join(binDir, 'cairn');
	await copyFile(built.path, exe);
	await chmod(exe, 0o755);
	const emptyPath = join(dir, 'empty-path');
	const home = join(dir, 'home');
	await mkdir(emptyPath);
	await mkdir(home);
	env = {PATH: emptyPath, HOME: home};
	// Packages in a node_modules above the executable (koffi's native FFI, say) must not be loaded:
	// this one would leave a mark.
	for (const name of ['koffi', 'cpu-features']) {
		await mkdir(join(dir, 'node_modules', name), {recursive: true});
		await writeFile(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({name, main: 'index.js'}));
		await writeFile(join(dir, 'node_modules', name, 'index.js'), `require('node:fs').writeFileSync(${JSON.stringify(join(dir, `loaded-${name}`))}, 'loaded');\nmodule.exports = {};\n`);
	}
}, 600_000);

afterAll(async () => {
	await connectTmux(socket)('kill-server').catch(() => undefined);
	if (dir !== '') await rm(dir, {recursive: true, force: true, maxRetries: 5, retryDelay: 200});
});

suite('the x64 executable', () => {
	it('is built with SHA256SUMS beside it, and runs with no Node.js on the PATH', async () => {
		const out = join(dir, 'out');
		expect((await readdir(out)).sort()).toEqual(['SHA256SUMS', 'cairn-linux-x64']);
		const digest = createHash('sha256').update(await readFile(join(out, 'cairn-linux-x64'))).digest('hex');
		expect(await readFile(join(out, 'SHA256SUMS'), 'utf8')).toBe(`${digest}  cairn-linux-x64\n`);
		expect(buildLog).toMatch(/cairn-linux-x64: [\d.]+ MiB, with code cache/);

		const node = await runBare(['node', '--version'], env, binDir);
		expect(node.code, 'node must not be reachable on this PATH').not.toBe(0);

		const version = await runBare([exe, '--version'], env, binDir);
		expect(version.code, describe(version)).toBe(0);
		const {version: packageVersion} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {version: string};
		expect(version.stdout).toMatch(new RegExp(`^cairn ${packageVersion.replaceAll('.', '\\.')} \\(commit [0-9a-f]{12}(-dirty)?\\) on Node\\.js v24\\.\\d+\\.\\d+ linux/x64\\n$`));
	});

	it('uses what it carries inside: WebAssembly kernels, Node.js 24 zstd', async () => {
		const result = await runBare([exe, 'version', '--json'], env, binDir);
		expect(result.code, describe(result)).toBe(0);
		const info = JSON.parse(result.stdout) as {node: string; arch: string; executable: string; zstd: string; kernels: Record<string, string>};
		expect(info.node).toMatch(/^v24\./);
		expect(info.arch).toBe('x64');
		expect(info.executable).toBe(exe);
		expect(info.zstd).toBe('node:zlib zstd; node:zlib zstd for small inputs');
		expect(info.kernels).toEqual({chunker: 'wasm (embedded in the executable)', poly1305: 'wasm (embedded in the executable)'});
	});

	it('passes the round trip alone in its directory, and writes nothing beside itself', async () => {
		const work = join(dir, 'work');
		await mkdir(work);
		await runRoundTrip((args) => runBare([exe, ...args], env, binDir), work);
		expect(await readdir(binDir)).toEqual(['cairn']);
		expect((await readdir(dir)).filter((name) => name.startsWith('loaded-')), 'a package was loaded from disk').toEqual([]);
	});

	it('reaches S3 (s3rver) and SFTP (the built-in client) through the SDKs it carries', async () => {
		const work = join(dir, 'remote');
		await mkdir(work);
		const source = join(work, 'source');
		await makeVariedTree(source, {bigFileSize: 1024 * 1024, seed: 'remote'});
		const s3 = await startS3rver(['exe']);
		const ssh = await startSshServer();
		try {
			const remotes: Array<{name: string; args: string[]; env: Record<string, string>}> = [
				{name: 's3', args: ['-r', `s3:${s3.endpoint}/exe/repo`], env: {AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true'}},
				{name: 'sftp', args: ['-r', `sftp://${ssh.user}@127.0.0.1:${ssh.port}/${join(ssh.data, 'exe-repo')}`, '-o', `sftp.key-file=${ssh.userKey}`, '-o', `sftp.known-hosts=${ssh.knownHosts}`], env: {}},
			];
			for (const remote of remotes) {
				const cairn = (args: string[]) => runBare([exe, ...remote.args, ...args], {...env, ...remote.env, CAIRN_PASSWORD: 'remote password'}, binDir);
				for (const args of [['init'], ['backup', source]]) {
					const result = await cairn(args);
					expect(result.code, `${remote.name} ${args[0]}: ${describe(result)}`).toBe(0);
				}
				const target = join(work, `restore-${remote.name}`);
				const restore = await cairn(['restore', 'latest', '--target', target]);
				expect(restore.code, `${remote.name} restore: ${describe(restore)}`).toBe(0);
				expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
			}
		} finally {
			await ssh.stop();
			await s3.close();
		}
	});

	it('opens the app in tmux: quick start, back up, browse a snapshot (the tree worker), restore a file', async () => {
		const home = join(dir, 'app-home');
		const work = join(dir, 'app-work');
		const source = join(dir, 'app-source');
		await mkdir(home);
		await mkdir(work);
		await mkdir(join(source, 'sub'), {recursive: true});
		const photo = randomBytes(100_000);
		await writeFile(join(source, 'notes.txt'), 'remember the milk\n');
		await writeFile(join(source, 'photo.bin'), photo);
		await writeFile(join(source, 'sub', 'deep.txt'), 'deep\n');
		const command = ['/usr/bin/env', '-i', `PATH=${env.PATH}`, `HOME=${home}`, 'TERM=xterm-256color', exe].map((part) => `'${part}'`).join(' ');
		await connectTmux(socket)('new-session', '-d', '-s', 'app', '-x', '80', '-y', '24', '-c', work, `${command}; echo "cairn exited $?"; sleep 60`);
		const {waitForPane, keys, type} = attachPane(connectTmux(socket), 'app');

		const welcome = await waitForPane('Quick start: create a new repository at');
		expect(welcome).toContain('Welcome to cairn.');
		await keys('Enter');
		await waitForPane('Repeat password');
		await type('correct horse');
		await keys('Enter');
		await type('correct horse');
		await keys('Enter');
		await waitForPane('No snapshots yet');
		await keys('b');
		await waitForPane('Back up into a new snapshot');
		await type(source);
		await keys('Enter');
		await waitForPane('Enter on an empty line starts the backup');
		await keys('Enter');
		expect(await waitForPane('Backup finished.')).toMatch(/Files\s+3 new/);
		await keys('Enter');
		await waitForPane('1 snapshot');
		await keys('Enter');
		await waitForPane('app-source/');
		await keys('Enter');
		await waitForPane('photo.bin');
		await keys('Down', 'Down');
		await waitForPane('(100000 bytes)');
		await keys('Space');
		await waitForPane('1 marked');
		await keys('r');
		await waitForPane('Restore 1 marked item');
		await keys('Enter');
		expect(await waitForPane('Restore finished.')).toContain('Restored 1 file');
		const targets = (await readdir(work)).filter((name) => name.startsWith('cairn-restore-'));
		expect(targets).toHaveLength(1);
		expect((await readFile(join(work, targets[0]!, source, 'photo.bin'))).equals(photo)).toBe(true);
		await keys('q');
		expect(await waitForPane('cairn exited')).toContain('cairn exited 0');
		expect(await readdir(binDir)).toEqual(['cairn']);
	});
});
