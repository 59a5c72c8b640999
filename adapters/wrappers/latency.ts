/**
 * Artificial latency, to see how the engine behaves against a slow remote store.
 */

import type {FileInfo, Storage} from '../storage.js';
import {sleep} from './shared.js';

/**
 * Wraps a Storage so that every call except `close` first waits `ms` milliseconds (for `list`,
 * once before the first name). An abort during the wait rejects with the signal's reason.
 */
export function withLatency(storage: Storage, ms: number): Storage {
	return {
		location: storage.location,
		capabilities: storage.capabilities,
		create: async (operation) => {
			await sleep(ms, operation?.signal);
			return storage.create(operation);
		},
		save: async (handle, data, operation) => {
			await sleep(ms, operation?.signal);
			return storage.save(handle, data, operation);
		},
		load: async (handle, operation) => {
			await sleep(ms, operation?.signal);
			return storage.load(handle, operation);
		},
		stat: async (handle, operation) => {
			await sleep(ms, operation?.signal);
			return storage.stat(handle, operation);
		},
		remove: async (handle, operation) => {
			await sleep(ms, operation?.signal);
			return storage.remove(handle, operation);
		},
		async *list(type, operation): AsyncIterable<FileInfo> {
			await sleep(ms, operation?.signal);
			yield* storage.list(type, operation);
		},
		close: () => storage.close(),
	};
}
