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
import {readdirSync, rmSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const outdir = join(dist, 'components');
const BUNDLE = /^run-app\.bundle(-[A-Za-z0-9]+)?\.js$/;

let esbuild;
try {
	esbuild = await import('esbuild');
} catch (error) {
	process.stderr.write(`bundle-app: esbuild is not installed (${error.message}); the app runs from its modules\n`);
	process.exit(0);
}

// Old bundles go first: chunk names change with their content.
for (const name of readdirSync(outdir)) if (BUNDLE.test(name)) rmSync(join(outdir, name));

/** Keeps every compiled module outside dist/components a module of its own, at its path relative to the bundle. */
const keepOutside = {
	name: 'keep-engine-and-adapters-separate',
	setup(build) {
		build.onResolve({filter: /^\.\.?\//}, (args) => {
			const target = resolve(args.resolveDir, args.path);
			if (!target.startsWith(dist + sep) || target.startsWith(outdir + sep)) return undefined;
			const path = relative(outdir, target).split(sep).join('/');
			return {path: path.startsWith('.') ? path : `./${path}`, external: true};
		});
		// Ink's React DevTools support (only with DEV=true) would pull in a WebSocket client.
		build.onResolve({filter: /devtools\.js$/}, (args) => (args.importer.includes(`${sep}ink${sep}`) ? {path: 'ink-devtools', namespace: 'stub'} : undefined));
		build.onLoad({filter: /.*/, namespace: 'stub'}, () => ({contents: 'export {};', loader: 'js'}));
		// Yoga's loader asks `typeof fetch`, which makes Node load its whole HTTP client (undici)
		// only to take the other path: the WebAssembly is inline. Shadow `fetch` in that module.
		build.onLoad({filter: /yoga-wasm-base64-esm\.js$/}, async (args) => ({contents: `const fetch = undefined;\n${await readFile(args.path, 'utf8')}`, loader: 'js'}));
	},
};

const started = performance.now();
const result = await esbuild.build({
	entryPoints: [join(outdir, 'run-app.js')],
	outdir,
	entryNames: '[name].bundle',
	chunkNames: 'run-app.bundle-[hash]',
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	define: {'process.env.NODE_ENV': '"production"'},
	// CommonJS packages (React) may require Node's built-in modules.
	banner: {js: "import {createRequire as __cairnCreateRequire} from 'node:module'; const require = __cairnCreateRequire(import.meta.url);"},
	plugins: [keepOutside],
	metafile: true,
	logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs);
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
process.stderr.write(`bundle-app: ${inputs} modules into ${outputs.length} files (${Math.round(bytes / 1024)} KiB) in ${relative(root, outdir) || '.'} in ${Math.round(performance.now() - started)} ms\n`);
