/**
 * What bundle-app.mjs and bundle-cli.mjs share: finding dist, loading esbuild (optional), removing
 * old bundles, naming compiled modules that stay external, and one esbuild run with the options
 * both use (ES modules for Node 20, code splitting, a `require` for bundled CommonJS packages),
 * ending with a one-line summary on stderr.
 */
import {readdirSync, rmSync} from 'node:fs';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The repository's root (the folder above scripts/). */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The dist folder to bundle: the first argument, or dist/ at the root. */
export function resolveDist(argv = process.argv) {
	return resolve(argv[2] ?? join(root, 'dist'));
}

/**
 * Imports esbuild (a development dependency). Without it, prints why on stderr and exits 0: the
 * program then runs from its modules.
 */
export async function loadEsbuild(tag, fallback) {
	try {
		return await import('esbuild');
	} catch (error) {
		process.stderr.write(`${tag}: esbuild is not installed (${error.message}); ${fallback}\n`);
		process.exit(0);
	}
}

/** Removes the bundle files in `outdir` whose names match `pattern` (chunk names change with their content). */
export function removeOldBundles(outdir, pattern) {
	for (const name of readdirSync(outdir)) if (pattern.test(name)) rmSync(join(outdir, name));
}

/** An esbuild resolve result that keeps the compiled module `target` external, imported by its path relative to `outdir`. */
export function externalModule(outdir, target) {
	const path = relative(outdir, target).split(sep).join('/');
	return {path: path.startsWith('.') ? path : `./${path}`, external: true};
}

/**
 * Bundles `entry` (a module in `outdir`) into `<name>.bundle.js` and its chunks
 * `<name>.bundle-<hash>.js` beside it, with `extra` esbuild options merged in; prints how many
 * modules went into how many files.
 */
export async function bundleEntry(esbuild, {tag, outdir, entry, extra}) {
	const name = entry.replace(/\.js$/, '');
	const started = performance.now();
	const result = await esbuild.build({
		entryPoints: [join(outdir, entry)],
		outdir,
		entryNames: '[name].bundle',
		chunkNames: `${name}.bundle-[hash]`,
		bundle: true,
		splitting: true,
		format: 'esm',
		platform: 'node',
		target: 'node20',
		// CommonJS packages bundled into ES modules may require Node's built-in modules.
		banner: {js: "import {createRequire as __cairnCreateRequire} from 'node:module'; const require = __cairnCreateRequire(import.meta.url);"},
		metafile: true,
		logLevel: 'warning',
		...extra,
	});
	const outputs = Object.values(result.metafile.outputs);
	const bytes = outputs.reduce((sum, output) => sum + output.bytes, 0);
	const inputs = Object.keys(result.metafile.inputs).length;
	process.stderr.write(`${tag}: ${inputs} modules into ${outputs.length} files (${Math.round(bytes / 1024)} KiB) in ${relative(root, outdir) || '.'} in ${Math.round(performance.now() - started)} ms\n`);
}
