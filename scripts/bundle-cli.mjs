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
import {readFile} from 'node:fs/promises';
import {join, relative, resolve, sep} from 'node:path';
import {bundleEntry, externalModule, loadEsbuild, removeOldBundles, resolveDist} from './bundle-common.mjs';

const dist = resolveDist();
const outdir = join(dist, 'source');
/** Packages each adapter loads when it is used (large), and native ones: never bundled. */
const EXTERNAL_PACKAGES = ['@aws-sdk/*', '@smithy/*', '@azure/*', '@google-cloud/*', '@googleapis/*', 'googleapis-common', 'google-auth-library', 'ssh2', 'ssh2-sftp-client', 'webdav', 'execa', 'koffi', '@mongodb-js/zstd', '@bokuweb/zstd-wasm', 'ink', 'react'];

const esbuild = await loadEsbuild('bundle-cli', 'the CLI runs from its modules');
removeOldBundles(outdir, /^cli-main\.bundle(-[A-Za-z0-9]+)?\.js$/);

/** Keeps the app and the worker threads' entry modules separate, and gives modules their own URL. */
const keepApart = {
	name: 'keep-app-and-workers-apart',
	setup(build) {
		build.onResolve({filter: /^\.\.?\//}, (args) => {
			const target = resolve(args.resolveDir, args.path);
			if (!target.startsWith(dist + sep)) return undefined;
			if (target === join(outdir, 'app.js')) return externalModule(outdir, target);
			if (target.startsWith(join(dist, 'components') + sep) && !/[/\\](profiles|format)\.js$/.test(target)) return externalModule(outdir, target);
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

await bundleEntry(esbuild, {tag: 'bundle-cli', outdir, entry: 'cli-main.js', extra: {external: EXTERNAL_PACKAGES, plugins: [keepApart]}});
