/**
 * Makes sure the built program (dist/) is there for the suites that run it as users do: `npm test`
 * builds it first; a run of one such file alone builds it only when it finds no build.
 */
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {ROOT} from './cli.js';

const run = promisify(execFile);

/** Builds dist/ (WebAssembly kernels, tsc, the app's and the CLI's bundles, the build info) unless all of it is there. */
export async function ensureBuilt(): Promise<void> {
	const needed = ['dist/source/cli.js', 'dist/build-info.json', 'dist/components/run-app.bundle.js', 'dist/source/cli-main.bundle.js', 'dist/engine/wasm/chunker.wasm'];
	if (needed.every((path) => existsSync(join(ROOT, path)))) return;
	await run(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs')], {cwd: ROOT});
	await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], {cwd: ROOT}).catch(() => undefined);
	await run(process.execPath, [join(ROOT, 'scripts', 'bundle-app.mjs')], {cwd: ROOT});
	await run(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs')], {cwd: ROOT});
	await run(process.execPath, [join(ROOT, 'scripts', 'write-build-info.mjs')], {cwd: ROOT});
}
