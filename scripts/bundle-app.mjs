#!/usr/bin/env node
/**
 * Bundles the compiled app (dist/components) with React, Ink and the other packages it uses into
 * a few files next to it: dist/components/run-app.bundle.js and its chunks
 * (run-app.bundle-<hash>.js). Run it after `tsc`:
 *
 *   node scripts/bundle-app.mjs [DIST_DIR]      (default: dist)
 *
 * Why: Ink and React are a few hundred small modules (Ink's one use of es-toolkit alone loads
 * 415 files), and loading them one by one took most of the app's start-up. From one file they load
 * several times faster (bench/ui.ts measures the first frame).
 *
 * What is bundled: the modules of dist/components and the packages they import. The engine, the
 * adapters and source/ stay separate modules, imported from their compiled files (so the engine's
 * worker threads and WebAssembly kernels are found where they always are, and the CLI and the app
 * share one copy of each). The screens behind the first frame go into a chunk of their own,
 * loaded after it (see components/app.tsx). React's production build is used.
 *
 * source/app.tsx uses the bundle only while it is at least as new as dist/components/run-app.js,
 * so a later plain `tsc` makes the app fall back to the modules instead of running stale code.
 * Without esbuild (a development dependency) this prints why and leaves no bundle.
 */
import {readFile} from 'node:fs/promises';
import {join, resolve, sep} from 'node:path';
import {bundleEntry, externalModule, loadEsbuild, removeOldBundles, resolveDist} from './bundle-common.mjs';

const dist = resolveDist();
const outdir = join(dist, 'components');

const esbuild = await loadEsbuild('bundle-app', 'the app runs from its modules');
removeOldBundles(outdir, /^run-app\.bundle(-[A-Za-z0-9]+)?\.js$/);

/** Keeps every compiled module outside dist/components a module of its own, at its path relative to the bundle. */
const keepOutside = {
	name: 'keep-engine-and-adapters-separate',
	setup(build) {
		build.onResolve({filter: /^\.\.?\//}, (args) => {
			const target = resolve(args.resolveDir, args.path);
			if (!target.startsWith(dist + sep) || target.startsWith(outdir + sep)) return undefined;
			return externalModule(outdir, target);
		});
		// Ink's React DevTools support (only with DEV=true) would pull in a WebSocket client.
		build.onResolve({filter: /devtools\.js$/}, (args) => (args.importer.includes(`${sep}ink${sep}`) ? {path: 'ink-devtools', namespace: 'stub'} : undefined));
		build.onLoad({filter: /.*/, namespace: 'stub'}, () => ({contents: 'export {};', loader: 'js'}));
		// Yoga's loader asks `typeof fetch`, which makes Node load its whole HTTP client (undici)
		// only to take the other path: the WebAssembly is inline. Shadow `fetch` in that module.
		build.onLoad({filter: /yoga-wasm-base64-esm\.js$/}, async (args) => ({contents: `const fetch = undefined;\n${await readFile(args.path, 'utf8')}`, loader: 'js'}));
	},
};

await bundleEntry(esbuild, {tag: 'bundle-app', outdir, entry: 'run-app.js', extra: {define: {'process.env.NODE_ENV': '"production"'}, plugins: [keepOutside]}});
