/**
 * Starting worker threads from this package's modules, whether they run compiled (dist/*.js),
 * as TypeScript sources under the test runner (then tsx is registered inside the worker), or
 * from inside the single-file executable (then the worker's bundled code is one of its assets).
 */
import {Worker} from 'node:worker_threads';
import * as v8 from 'node:v8';
import {runInNewContext} from 'node:vm';
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

let collectYoung: (() => void) | undefined | null;

/**
 * Runs a minor garbage collection now (about 50 µs in a worker's small young generation), so
 * that large buffers that just became garbage are freed at once. V8 frees an ArrayBuffer's memory
 * only when it collects the small object that owns it, and it counts such external memory
 * against a limit of tens of megabytes before it collects on its own: a worker that goes through
 * megabyte buffers (pack ranges, plaintext, compressed chunks) would otherwise keep several dozen
 * of them alive. Call it after a job, when its buffers are no longer referenced. Does nothing
 * where the runtime does not allow it.
 */
export function releaseGarbageBuffers(): void {
	if (collectYoung === undefined) {
		try {
			// The gc function is only created while the flag is set; it is cleared again at once.
			v8.setFlagsFromString('--expose-gc');
			const gc = runInNewContext('gc') as ((options?: {type: string}) => void) | undefined;
			v8.setFlagsFromString('--no-expose-gc');
			collectYoung = typeof gc === 'function' ? () => gc({type: 'minor'}) : null;
		} catch {
			collectYoung = null;
		}
	}
	collectYoung?.();
}

/** Bytes of buffers become garbage since the last {@link releaseGarbageBuffers}. */
let garbageBytes = 0;
/** Garbage that triggers a collection in {@link noteGarbageBytes}. */
export const GARBAGE_COLLECT_BYTES = 8 * 1024 * 1024;

/**
 * Notes that `bytes` of buffers just became garbage; collects them (see
 * {@link releaseGarbageBuffers}) once {@link GARBAGE_COLLECT_BYTES} have gathered, so a worker
 * that drops many small buffers pays for one collection per several megabytes.
 */
export function noteGarbageBytes(bytes: number): void {
	garbageBytes += bytes;
	if (garbageBytes < GARBAGE_COLLECT_BYTES) return;
	garbageBytes = 0;
	releaseGarbageBuffers();
}
