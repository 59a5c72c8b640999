/**
 * Starting worker threads from this package's modules, whether they run compiled (dist/*.js),
 * as TypeScript sources under the test runner (then tsx is registered inside the worker), or
 * from inside the single-file executable (then the worker's bundled code is one of its assets).
 */
import {Worker} from 'node:worker_threads';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';
import {readEmbeddedText} from './embedded.js';
import {findMemoryBudget} from './memory-budget.js';

/**
 * V8 limits of every worker isolate. A worker's young generation grows to 48 MiB by default when
 * it allocates fast (as chunking and decoding do), and most of it stays resident; the objects a
 * worker keeps are few and short-lived, so a small one costs no measurable time.
 */
function findResourceLimits(): {maxYoungGenerationSizeMb: number} {
	return {maxYoungGenerationSizeMb: findMemoryBudget().workerYoungGenerationMb};
}

/** Starts a worker running the module `name` (without extension) next to `baseUrl`. */
export function startModuleWorker(baseUrl: string, name: string): Worker {
	const embedded = readEmbeddedText(`workers/${name}.js`);
	const resourceLimits = findResourceLimits();
	if (embedded !== undefined) return new Worker(embedded, {eval: true, resourceLimits});
	if (!baseUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, baseUrl), {resourceLimits});
	const target = new URL(`./${name}.ts`, baseUrl).href;
	const tsxApi = pathToFileURL(createRequire(baseUrl).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
	const code = `import(${JSON.stringify(tsxApi)}).then(({register}) => { register(); return import(${JSON.stringify(target)}); }).catch((error) => { console.error(error); process.exit(1); });`;
	return new Worker(code, {eval: true, resourceLimits});
}
