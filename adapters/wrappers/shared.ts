/**
 * Small helpers shared by the storage wrappers.
 */

import {pathOf, throwIfAborted, type FileHandle} from '../storage.js';

/** The operations of a Storage that wrappers count, log or fault. */
export type StorageOperation = 'create' | 'save' | 'load' | 'stat' | 'list' | 'remove';

/** A handle as a repository path, e.g. `data/ab/ab12…` or `config`. */
export function describeHandle(handle: FileHandle): string {
	return pathOf(handle);
}

/** Waits `ms` milliseconds; rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	throwIfAborted(signal);
	return new Promise((resolve, reject) => {
		const onAbort = () => {
			clearTimeout(timer);
			try {
				throwIfAborted(signal);
			} catch (error) {
				reject(error);
			}
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, {once: true});
	});
}
