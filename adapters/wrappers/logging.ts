/**
 * A log line per storage call: operation, file, sizes, outcome and duration; never file contents.
 */

import {performance} from 'node:perf_hooks';

import type {FileInfo, Storage} from '../storage.js';
import {describeHandle} from './shared.js';

/**
 * Wraps a Storage so that each call writes one line to `log` when it ends, such as
 * `save data/ab/ab12… 4096 bytes: ok in 3 ms` or
 * `load keys/1f2e…: NotFoundError: cannot load … in 1 ms`.
 * Lines hold the operation, the file path, byte counts and ranges, the error class and message
 * (storage messages carry no secrets) and the duration; never the data.
 */
export function withLogging(storage: Storage, log: (line: string) => void): Storage {
	/** Runs `run` and logs its outcome under `what`; `detail` adds a note on success. */
	const runLogged = async <T>(what: string, run: () => Promise<T>, detail?: (result: T) => string): Promise<T> => {
		const started = performance.now();
		try {
			const result = await run();
			log(`${what}: ok${detail === undefined ? '' : `, ${detail(result)}`} in ${formatElapsed(started)}`);
			return result;
		} catch (error) {
			log(`${what}: ${describeError(error)} in ${formatElapsed(started)}`);
			throw error;
		}
	};

	return {
		location: storage.location,
		capabilities: storage.capabilities,
		create: (operation) => runLogged(`create ${storage.location}`, () => storage.create(operation)),
		save: (handle, data, operation) => runLogged(`save ${describeHandle(handle)} ${data.byteLength} bytes`, () => storage.save(handle, data, operation)),
		load: (handle, operation) => {
			const range = operation?.offset === undefined && operation?.length === undefined ? '' : ` [offset ${operation.offset ?? 0}, length ${operation.length ?? 'to end'}]`;
			return runLogged(`load ${describeHandle(handle)}${range}`, () => storage.load(handle, operation), (bytes) => `${bytes.byteLength} bytes`);
		},
		stat: (handle, operation) => runLogged(`stat ${describeHandle(handle)}`, () => storage.stat(handle, operation), (info) => `${info.size} bytes`),
		remove: (handle, operation) => runLogged(`remove ${describeHandle(handle)}`, () => storage.remove(handle, operation)),
		async *list(type, operation): AsyncIterable<FileInfo> {
			const started = performance.now();
			let count = 0;
			let settled = false;
			try {
				for await (const info of storage.list(type, operation)) {
					count++;
					yield info;
				}
				settled = true;
				log(`list ${type}: ok, ${count} files in ${formatElapsed(started)}`);
			} catch (error) {
				settled = true;
				log(`list ${type}: ${describeError(error)} after ${count} files in ${formatElapsed(started)}`);
				throw error;
			} finally {
				if (!settled) log(`list ${type}: stopped by the caller after ${count} files in ${formatElapsed(started)}`);
			}
		},
		close: () => runLogged(`close ${storage.location}`, () => storage.close()),
	};
}

/** Milliseconds since `started`, e.g. `12 ms`. */
function formatElapsed(started: number): string {
	return `${Math.round(performance.now() - started)} ms`;
}

/** `NotFoundError: cannot load …` */
function describeError(error: unknown): string {
	if (error instanceof Error) return `${error.name}: ${error.message}`;
	return `failed: ${String(error)}`;
}
