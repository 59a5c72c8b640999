/**
 * Helpers for the packaging suites: build the single-file executables (scripts/package.mjs), run
 * a program in a bare environment, and the round trip each way of installing cairn must pass.
 */
import {execFile, spawn} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {expect} from 'vitest';
import {ensureBuilt} from '../helpers/build.js';
import {compareTrees, makeVariedTree, restoredPath, ROOT, RESTIC, type RunResult} from '../helpers/cli.js';

export {ensureBuilt};

const run = promisify(execFile);

/**
 * Where scripts/package.mjs keeps the Node.js binaries it fetches. Outside the per-run cache
 * directory the test setup makes (XDG_CACHE_HOME), so that runs after the first reuse them.
 */
export const PACKAGE_CACHE = process.env.CAIRN_PACKAGE_CACHE ?? join(homedir(), '.cache', 'cairn-package');

/** The arm64 C library qemu-aarch64-static needs (Debian's libc6-arm64-cross, libstdc++6-arm64-cross). */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
export const QEMU_AARCH64 = '/usr/bin/qemu-aarch64-static';

/** Builds the executable for `arch` into `out` (as `npm run package` does, for one architecture); returns its path. */
export async function buildExecutable(arch: 'x64' | 'arm64', out: string): Promise<{path: string; log: string}> {
	await ensureBuilt();
	const {stderr} = await run(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--arch', arch, '--out', out], {
		cwd: ROOT,
		env: {...process.env, CAIRN_PACKAGE_CACHE: PACKAGE_CACHE},
		maxBuffer: 16 * 1024 * 1024,
	});
	return {path: join(out, `cairn-linux-${arch}`), log: stderr};
}

/**
 * Runs a command with `env -i`: nothing of this process's environment, only `env` (PATH
 * included, which the caller chooses). stdin is empty.
 */
export function runBare(command: readonly string[], env: Record<string, string>, cwd: string, timeoutMs = 110_000): Promise<RunResult> {
	const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`);
	const child = spawn('/usr/bin/env', ['-i', ...assignments, ...command], {cwd, stdio: ['pipe', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	child.stdin.end();
	const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
	return new Promise((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({code, signal, stdout, stderr});
		});
	});
}

/** Describes a result for assertion messages. */
export function describe(result: RunResult): string {
	return `exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** Runs restic by its absolute path (it is not on the PATH cairn gets). */
export async function runRestic(args: readonly string[], cwd: string): Promise<RunResult> {
	return runBare([RESTIC, '--no-cache', ...args], {PATH: '/usr/bin:/bin'}, cwd);
}

/**
 * The round trip: init, backup of a varied tree, snapshots, restore (compared byte for byte and
 * for metadata with the original), check --read-data, and then restic's check --read-data of the
 * repository. `cairn` runs one command and resolves with its result. Work happens in `dir`.
 */
export async function runRoundTrip(cairn: (args: readonly string[]) => Promise<RunResult>, dir: string, bigFileSize = 3 * 1024 * 1024): Promise<void> {
	const repo = join(dir, 'repo');
	const source = join(dir, 'source');
	const target = join(dir, 'restore');
	const passwordFile = join(dir, 'password');
	await writeFile(passwordFile, 'packaged cairn password\n', {mode: 0o600});
	await makeVariedTree(source, {bigFileSize, seed: 'package'});
	const global = ['-r', repo, '--password-file', passwordFile];

	const init = await cairn([...global, 'init']);
	expect(init.code, describe(init)).toBe(0);
	const backup = await cairn([...global, '--pack-size', '4', 'backup', source]);
	expect(backup.code, describe(backup)).toBe(0);
	const snapshotId = /snapshot ([0-9a-f]{8}) saved/.exec(backup.stdout)?.[1];
	expect(snapshotId, describe(backup)).toBeDefined();

	const snapshots = await cairn([...global, 'snapshots', '--json']);
	expect(snapshots.code, describe(snapshots)).toBe(0);
	const listed = JSON.parse(snapshots.stdout) as Array<{short_id: string; paths: string[]}>;
	expect(listed.map((snapshot) => snapshot.short_id)).toEqual([snapshotId]);
	expect(listed[0]!.paths).toEqual([source]);

	await mkdir(target);
	const restore = await cairn([...global, 'restore', 'latest', '--target', target]);
	expect(restore.code, describe(restore)).toBe(0);
	expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);

	const check = await cairn([...global, 'check', '--read-data']);
	expect(check.code, describe(check)).toBe(0);
	expect(check.stdout).toContain('no errors were found');

	const restic = await runRestic(['-r', repo, '--password-file', passwordFile, 'check', '--read-data'], dir);
	expect(restic.code, describe(restic)).toBe(0);
	expect(restic.stdout).toContain('no errors were found');
}
