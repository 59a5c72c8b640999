/**
 * The npm package: `npm pack` of a copy of this checkout (its prepack script builds dist/ there,
 * so the build under test here is not touched), then `npm install -g` of the tarball into a
 * temporary prefix, and the round trip with the `cairn` that installed onto the PATH.
 */
import {execFile} from 'node:child_process';
import {cp, mkdir, readdir, readFile, rm, symlink} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe as suite, expect, it} from 'vitest';
import {makeTempDir, ROOT} from '../helpers/cli.js';
import {describe, runBare, runRoundTrip} from './helpers.js';

const run = promisify(execFile);

let dir = '';
let tarball = '';
let prefix = '';
/** What the installed cairn runs with: its bin directory and Node.js's, nothing else. */
let env: Record<string, string> = {};

beforeAll(async () => {
	dir = await makeTempDir('cairn-package-npm-');
	// The checkout's files (tracked, and new ones not ignored), without dist/ and node_modules/.
	const checkout = join(dir, 'checkout');
	const {stdout} = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {cwd: ROOT, maxBuffer: 64 * 1024 * 1024});
	for (const file of stdout.split('\0').filter(Boolean)) {
		await mkdir(dirname(join(checkout, file)), {recursive: true});
		await cp(join(ROOT, file), join(checkout, file), {verbatimSymlinks: true}).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== 'ENOENT') throw error; // deleted in the work tree, not yet in the index
		});
	}
	await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
	const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], {cwd: checkout, maxBuffer: 64 * 1024 * 1024});
	const [{filename}] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{filename: string}>;
	tarball = join(dir, filename);
	prefix = join(dir, 'prefix');
	await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {cwd: dir, maxBuffer: 64 * 1024 * 1024});
	env = {PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}`, HOME: join(dir, 'home')};
	await mkdir(env.HOME!);
}, 600_000);

afterAll(async () => {
	if (dir !== '') await rm(dir, {recursive: true, force: true, maxRetries: 5, retryDelay: 200});
});

suite('the npm package', () => {
	it('holds the built program and no source maps, tests or install scripts', async () => {
		const {stdout} = await run('tar', ['-tzf', tarball]);
		const files = stdout.split('\n').filter(Boolean);
		expect(files).toContain('package/dist/source/cli.js');
		expect(files).toContain('package/dist/build-info.json');
		expect(files).toContain('package/dist/components/run-app.bundle.js');
		expect(files).toContain('package/dist/source/cli-main.bundle.js');
		expect(files).toContain('package/dist/engine/wasm/chunker.wasm');
		expect(files).toContain('package/dist/engine/wasm/poly1305.wasm');
		expect(files.filter((file) => file.endsWith('.map') || file.startsWith('package/test/') || file.startsWith('package/dist/bench/') || file.endsWith('.ts'))).toEqual([]);
		const {stdout: manifest} = await run('tar', ['-xzOf', tarball, 'package/package.json']);
		const pkg = JSON.parse(manifest) as {engines: {node: string}; bin: Record<string, string>; scripts: Record<string, string>};
		expect(pkg.engines.node).toBe('>=20');
		expect(pkg.bin.cairn).toBe('dist/source/cli.js');
		expect(Object.keys(pkg.scripts).filter((name) => /^(pre|post)?install$/.test(name))).toEqual([]);
	});

	it('installs a cairn onto the PATH that prints its version', async () => {
		expect(await readdir(join(prefix, 'bin'))).toContain('cairn');
		const result = await runBare(['cairn', '--version'], env, dir);
		expect(result.code, describe(result)).toBe(0);
		const {version} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {version: string};
		expect(result.stdout).toMatch(new RegExp(`^cairn ${version.replaceAll('.', '\\.')} \\(commit ([0-9a-f]{12}(-dirty)?|unknown)\\) on Node\\.js ${process.version.replaceAll('.', '\\.')} linux/${process.arch}\\n$`));
		const details = await runBare(['cairn', 'version', '--json'], env, dir);
		expect(details.code, describe(details)).toBe(0);
		const info = JSON.parse(details.stdout) as {executable: string | null; kernels: Record<string, string>};
		expect(info.executable).toBeNull();
		expect(info.kernels.chunker).toMatch(/^wasm \(.*dist\/engine\/wasm\/chunker\.wasm\)$/);
	});

	it('passes the round trip with the installed cairn', async () => {
		const work = join(dir, 'work');
		await mkdir(work);
		await runRoundTrip((args) => runBare(['cairn', ...args], env, work), work);
	});
});
