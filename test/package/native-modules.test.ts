/**
 * Native modules in the single-file executable: scripts/package.mjs bundles every import of one
 * (koffi, cpu-features, @mongodb-js/zstd, any `.node` file) as a module that fails when loaded,
 * so code that loads them inside try/catch takes its fallback instead of the program crashing.
 * Bundled here with the same plugin, and run.
 */
import {execFile} from 'node:child_process';
import {mkdir, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {makeTempDir, ROOT} from '../helpers/cli.js';

const run = promisify(execFile);
let dir = '';

beforeAll(async () => {
	dir = await makeTempDir('cairn-package-native-');
});

afterAll(async () => {
	if (dir !== '') await rm(dir, {recursive: true, force: true});
});

it('bundles native modules as modules that fail to load, with MODULE_NOT_FOUND, and the program goes on', async () => {
	const {nativeModules} = (await import(pathToFileURL(join(ROOT, 'scripts', 'package.mjs')).href)) as {nativeModules: object};
	const esbuild = await import('esbuild');
	await mkdir(join(dir, 'src'));
	// As a caller with a fallback would write it: dynamic imports and a require, each in try/catch.
	await writeFile(join(dir, 'src', 'addon.cjs'), "let binding = 'js fallback';\ntry { binding = require('./build/Release/addon.node'); } catch (error) { binding = `fallback after ${error.code}`; }\nmodule.exports = binding;\n");
	await writeFile(join(dir, 'src', 'main.mjs'), [
		"import addon from './addon.cjs';",
		'const outcomes = {addon};',
		"for (const [name, load] of [['koffi', () => import('koffi')], ['zstd', () => import('@mongodb-js/zstd')], ['cpu-features', () => import('cpu-features')]]) {",
		'\ttry { await load(); outcomes[name] = "loaded"; } catch (error) { outcomes[name] = `${error.code}: ${error.message}`; }',
		'}',
		'console.log(JSON.stringify(outcomes));',
	].join('\n'));
	await esbuild.build({
		entryPoints: [join(dir, 'src', 'main.mjs')],
		outdir: join(dir, 'out'),
		bundle: true,
		splitting: true,
		format: 'esm',
		platform: 'node',
		outExtension: {'.js': '.mjs'},
		banner: {js: "import {createRequire} from 'node:module'; const require = createRequire(import.meta.url);"},
		plugins: [nativeModules as never],
		logLevel: 'error',
	});
	const {stdout} = await run(process.execPath, [join(dir, 'out', 'main.mjs')], {cwd: dir});
	const outcomes = JSON.parse(stdout) as Record<string, string>;
	expect(outcomes.addon).toBe('fallback after MODULE_NOT_FOUND');
	expect(outcomes.koffi).toBe("MODULE_NOT_FOUND: koffi: native modules cannot be loaded in cairn's single-file executable");
	expect(outcomes.zstd).toBe("MODULE_NOT_FOUND: @mongodb-js/zstd: native modules cannot be loaded in cairn's single-file executable");
	expect(outcomes['cpu-features']).toMatch(/^MODULE_NOT_FOUND: cpu-features: /);
});
