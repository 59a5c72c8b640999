/**
 * The arm64 single-file executable: built once for this file, checked to be an aarch64 ELF
 * executable, and run alone in an empty directory under qemu-aarch64-static (Debian's
 * qemu-user-static, with the arm64 C library of libc6-arm64-cross and libstdc++6-arm64-cross)
 * with `env -i` and an empty PATH: version and the round trip that restic checks afterwards.
 */
import {existsSync} from 'node:fs';
import {chmod, copyFile, mkdir, open, readdir, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe as suite, expect, it} from 'vitest';
import {makeTempDir} from '../helpers/cli.js';
import {ARM64_SYSROOT, buildExecutable, describe, QEMU_AARCH64, runBare, runRoundTrip} from './helpers.js';

let dir = '';
let binDir = '';
let exe = '';
let env: Record<string, string> = {};

/** Runs the executable under qemu, from its own directory, with only `env`. */
function runEmulated(args: readonly string[]): ReturnType<typeof runBare> {
	return runBare([QEMU_AARCH64, '-L', ARM64_SYSROOT, exe, ...args], env, binDir, 300_000);
}

beforeAll(async () => {
	dir = await makeTempDir('cairn-package-arm64-');
	const built = await buildExecutable('arm64', join(dir, 'out'));
	binDir = join(dir, 'bin');
	await mkdir(binDir);
	exe = join(binDir, 'cairn');
	await copyFile(built.path, exe);
	await chmod(exe, 0o755);
	const emptyPath = join(dir, 'empty-path');
	await mkdir(emptyPath);
	await mkdir(join(dir, 'home'));
	env = {PATH: emptyPath, HOME: join(dir, 'home')};
}, 600_000);

afterAll(async () => {
	if (dir !== '') await rm(dir, {recursive: true, force: true, maxRetries: 5, retryDelay: 200});
});

suite('the arm64 executable', () => {
	it('is a 64-bit little-endian aarch64 ELF executable', async () => {
		const handle = await open(exe, 'r');
		const header = Buffer.alloc(20);
		try {
			await handle.read(header, 0, 20, 0);
		} finally {
			await handle.close();
		}
		expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
		expect(header[4], 'ELFCLASS64').toBe(2);
		expect(header[5], 'little-endian').toBe(1);
		expect(header.readUInt16LE(16), 'ET_EXEC or ET_DYN').toBeOneOf([2, 3]);
		expect(header.readUInt16LE(18), 'EM_AARCH64').toBe(183);
	});

	it('runs under qemu-aarch64-static with no Node.js on the PATH, from what it carries inside', async () => {
		expect(existsSync(QEMU_AARCH64), 'qemu-user-static is not installed (apt-get install qemu-user-static)').toBe(true);
		expect(existsSync(join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')), 'the arm64 C library is not installed (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)').toBe(true);
		const result = await runEmulated(['version', '--json']);
		expect(result.code, describe(result)).toBe(0);
		const info = JSON.parse(result.stdout) as {node: string; arch: string; executable: string; zstd: string; kernels: Record<string, string>};
		expect(info.node).toMatch(/^v24\./);
		expect(info.arch).toBe('arm64');
		expect(info.zstd).toBe('node:zlib zstd; node:zlib zstd for small inputs');
		expect(info.kernels).toEqual({chunker: 'wasm (embedded in the executable)', poly1305: 'wasm (embedded in the executable)'});
	}, 300_000);

	it('passes the round trip under qemu-aarch64-static alone in its directory', async () => {
		const work = join(dir, 'work');
		await mkdir(work);
		await runRoundTrip(runEmulated, work, 1024 * 1024);
		expect(await readdir(binDir)).toEqual(['cairn']);
	}, 900_000);
});
