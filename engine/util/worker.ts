/**
 * Starting worker threads from this package's modules, whether they run compiled (dist/*.js),
 * as TypeScript sources under the test runner (then tsx is registered inside the worker), or
 * from inside the single-file executable (then the worker's bundled code is one of its assets).
 */
import {Worker} from 'node:worker_threads';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';
import {readEmbeddedText} from './embedded.js';

/** Starts a worker running the module `name` (without extension) next to `baseUrl`. */
export function startModuleWorker(baseUrl: string, name: string): Worker {
	const embedded = readEmbeddedText(`workers/${name}.js`);
	if (embedded !== undefined) return new Worker(embedded, {eval: true});
	if (!baseUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, baseUrl));
	const target = new URL(`./${name}.ts`, baseUrl).href;
	const tsxApi = pathToFileURL(createRequire(baseUrl).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
	const code = `import(${JSON.stringify(tsxApi)}).then(({register}) => { register(); return import(${JSON.stringify(target)}); }).catch((error) => { console.error(error); process.exit(1); });`;
	return new Worker(code, {eval: true});
}
