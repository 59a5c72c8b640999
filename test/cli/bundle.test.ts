/**
 * The command line's bundle (scripts/bundle-cli.mjs): cli.js loads it only while it is fresh, and
 * the bundled program does what the modules do, worker threads and WebAssembly kernels included
 * (they are found from the modules' own locations inside the bundle).
 */
import {mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {findCliBundle} from '../../source/cli-bundle.js';
import {ensureBuilt} from '../helpers/build.js';
import {describeRun, makeTempDir, ROOT, runCairn} from '../helpers/cli.js';

describe('finding the bundle', () => {
	let dir = '';
	afterEach(async () => {
		if (dir !== '') await rm(dir, {recursive: true, force: true});
		dir = '';
	});

	async function makeBuild(bundleAge?: number): Promise<string> {
		dir = await mkdtemp(join(tmpdir(), 'cairn-cli-bundle-'));
		await mkdir(join(dir, 'source'));
		const modules = join(dir, 'source', 'cli-main.js');
		await writeFile(modules, '');
		const now = Date.now() / 1000;
		await utimes(modules, now, now);
		if (bundleAge !== undefined) {
			const bundle = join(dir, 'source', 'cli-main.bundle.js');
			await writeFile(bundle, '');
			await utimes(bundle, now + bundleAge, now + bundleAge);
		}
		return pathToFileURL(join(dir, 'source', 'cli-bundle.js')).href;
	}

	it('is used when it is as new as the compiled modules or newer', async () => {
		const base = await makeBuild(5);
		expect(findCliBundle(base, {})).toBe(pathToFileURL(join(dir, 'source', 'cli-main.bundle.js')).href);
		expect(findCliBundle(base, {CAIRN_NO_BUNDLE: '1'})).toBeUndefined();
	});

	it('is not used when the modules were compiled after it, when there is none, or off the file system', async () => {
		expect(findCliBundle(await makeBuild(-60), {})).toBeUndefined();
		await rm(dir, {recursive: true, force: true});
		expect(findCliBundle(await makeBuild(), {})).toBeUndefined();
		expect(findCliBundle('cairn-sea:/program/cli.mjs', {})).toBeUndefined();
	});
});

describe('the built command line', () => {
	let work = '';
	beforeAll(async () => {
		await ensureBuilt();
		work = await makeTempDir('cairn-cli-bundle-run-');
	});
	afterAll(async () => {
		await rm(work, {recursive: true, force: true});
	});

	it('is built as a bundle that loads far fewer files than the modules', async () => {
		const names = await readdir(join(ROOT, 'dist', 'source'));
		expect(names).toContain('cli-main.bundle.js');
		expect(findCliBundle(pathToFileURL(join(ROOT, 'dist', 'source', 'cli.js')).href, {})).toBeDefined();
		// The cloud SDKs and the app stay outside: each loads only when it is used.
		const text = (await Promise.all(names.filter((n) => n.startsWith('cli-main.bundle')).map((n) => readFile(join(ROOT, 'dist', 'source', n), 'utf8')))).join('\n');
		expect(text).not.toContain('@aws-sdk/client-s3/dist-cjs');
		expect(text).toMatch(/import\(["']\.\/app\.js["']\)/);
	});

	it('backs up, reads files in worker threads and restores the same through the bundle and through the modules', async () => {
		const source = join(work, 'src');
		await mkdir(join(source, 'sub'), {recursive: true});
		await writeFile(join(source, 'a.txt'), 'first file\n'.repeat(1000));
		await writeFile(join(source, 'sub', 'b.bin'), Buffer.alloc(300_000, 7));
		const repo = join(work, 'repo');
		const env = {CAIRN_PASSWORD: 'pw', CAIRN_CACHE_DIR: join(work, 'cache')};
		const init = await runCairn(['init', '-r', repo], {env});
		expect(init.code, describeRun(init)).toBe(0);
		const outputs: string[] = [];
		for (const [label, extra] of [['bundle', {}], ['modules', {CAIRN_NO_BUNDLE: '1'}]] as const) {
			await writeFile(join(source, `${label}.txt`), `new file for the ${label} run\n`);
			const backup = await runCairn(['backup', '-r', repo, '--json', source], {env: {...env, ...extra}});
			expect(backup.code, describeRun(backup)).toBe(0);
			const summary = JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as {files_new: number; snapshot_id: string};
			expect(summary.files_new, label).toBeGreaterThan(0);
			const target = join(work, `restore-${label}`);
			const restore = await runCairn(['restore', '-r', repo, summary.snapshot_id, '--target', target], {env: {...env, ...extra}});
			expect(restore.code, describeRun(restore)).toBe(0);
			expect(await readFile(join(target, source, `${label}.txt`), 'utf8')).toBe(`new file for the ${label} run\n`);
			expect((await readFile(join(target, source, 'sub', 'b.bin'))).equals(Buffer.alloc(300_000, 7))).toBe(true);
			const version = await runCairn(['--version'], {env: {...env, ...extra}});
			outputs.push(version.stdout);
		}
		expect(outputs[0]).toBe(outputs[1]);
		expect(outputs[0]).toMatch(/^cairn \S+ \(commit /);
	});
});
