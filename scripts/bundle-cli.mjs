#!/usr/bin/env node
/**
 * Bundles the command line: dist/source/cli-main.js (the dispatch cli.js loads) with the CLI,
 * the service, the engine, the adapters and the packages they use into a few files next to it:
 * dist/source/cli-main.bundle.js and its chunks (cli-main.bundle-<hash>.js). Run it after `tsc`:
 *
 *   node scripts/bundle-cli.mjs [DIST_DIR]      (default: dist)
 *
 * Why: a command loaded about 250 modules one by one (commander, conf with ajv and semver, the
 * engine, the adapters), which was most of its start-up; from a few files they load faster.
 * Each command's code stays in chunks loaded when it runs (code splitting), so `cairn snapshots`
 * does not load the backup or the service.
 *
 * What stays out (loaded as today, from their own files):
 * - the full-screen app (source/app.js and components/, bundled by bundle-app.mjs);
 * - worker threads: they start from their own modules, found beside the modules that start them;
 * - the cloud SDKs, ssh2, webdav, execa (each adapter loads its own when used) and native
 *   packages (koffi, zstd), which are required at run time.
 * Modules that find files relative to themselves (`import.meta.url`: worker modules, WebAssembly
 * kernels, build-info.json, the app bundle) are given the URL of their compiled file, so they find
 * the same files from inside the bundle.
 *
 * source/cli.js uses the bundle only while it is at least as new as dist/source/cli-main.js, so a
 * later plain `tsc` makes it fall back to the modules. The single-file executable
 * (scripts/package.mjs) bundles from the modules and never uses this bundle. Without esbuild
 * (a development dependency) this prints why and leaves no bundle.
 */
import {readdirSync, rmSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const outdir = join(dist, 'source');
const BUNDLE = /^cli-main\.bundle(-[A-Za-z0-9]+)?\.js$/;
/** Packages each adapter loads when it is used (large), and native ones: never bundled. */
const EXTERNAL_PACKAGES = ['@aws-sdk/*', '@smithy/*', '@azure/*', '@google-cloud/*', '@googleapis/*', 'googleapis-common', 'google-auth-library', 'ssh2', 'ssh2-sftp-client', 'webdav', 'execa', 'koffi', '@mongodb-js/zstd', '@bokuweb/zstd-wasm', 'ink', 'react'];

let esbuild;
try {
	esbuild = await import('esbuild');
} catch (error) {
	process.stderr.write(`bundle-cli: esbuild is not installed (${error.message}); the CLI runs from its modules\n`);
	process.exit(0);
}

// Old bundles go first: chunk names change with their content.
for (const name of readdirSync(outdir)) if (BUNDLE.test(name)) rmSync(join(outdir, name));

/** Keeps the app and the worker threads' entry modules separate, and gives modules their own URL. */
const keepApart = {
	name: 'keep-app-and-workers-apart',
	setup(build) {
		const external = (target) => {
			const path = relative(outdir, target).split(sep).join('/');
			return {path: path.startsWith('.') ? path : `./${path}`, external: true};
		};
		build.onResolve({filter: /^\.\.?\//}, (args) => {
			const target = resolve(args.resolveDir, args.path);
			if (!target.startsWith(dist + sep)) return undefined;
			if (target === join(outdir, 'app.js')) return external(target);
			if (target.startsWith(join(dist, 'components') + sep) && !/[/\\](profiles|format)\.js$/.test(target)) return external(target);
			return undefined;
		});
		build.onLoad({filter: /\.js$/}, async (args) => {
			if (!args.path.startsWith(dist + sep)) return undefined;
			const text = await readFile(args.path, 'utf8');
			if (!text.includes('import.meta.url')) return undefined;
			const own = JSON.stringify(relative(outdir, args.path).split(sep).join('/'));
			return {contents: text.replaceAll('import.meta.url', `new URL(${own}, import.meta.url).href`), loader: 'js'};
		});
	},
};

const started = performance.now();
const result = await esbuild.build({
	entryPoints: [join(outdir, 'cli-main.js')],
	outdir,
	entryNames: '[name].bundle',
	chunkNames: 'cli-main.bundle-[hash]',
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	external: EXTERNAL_PACKAGES,
	// CommonJS packages bundled into ES modules may require Node's built-in modules.
	banner: {js: "import {createRequire as __cairnCreateRequire} from 'node:module'; const require = __cairnCreateRequire(import.meta.url);"},
	plugins: [keepApart],
	metafile: true,
	logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs);
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
process.stderr.write(`bundle-cli: ${inputs} modules into ${outputs.length} files (${Math.round(bytes / 1024)} KiB) in ${relative(root, outdir) || '.'} in ${Math.round(performance.now() - started)} ms\n`);
