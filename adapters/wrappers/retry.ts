/**
 * Retries of transient storage failures with exponential backoff and jitter.
 */

import {isStorageError, throwIfAborted, type FileHandle, type FileInfo, type FileType, type Storage, type StorageError} from '../storage.js';
import {sleep, type StorageOperation} from './shared.js';

/** Settings of {@link withRetry}. */
export interface RetryOptions {
	/** Retries after the first attempt; default 6. */
	readonly retries?: number;
	/** Upper bound of the first wait; it doubles on each retry. Default 500 ms. */
	readonly baseDelayMs?: number;
	/** Cap of any single wait. Default 30 s. */
	readonly maxDelayMs?: number;
	/** Told before each wait, e.g. to show "retrying in 2 s". */
	readonly onRetry?: (event: RetryEvent) => void;
	/** Source of jitter in [0, 1); default Math.random. */
	readonly random?: () => number;
}

/** What {@link RetryOptions.onRetry} receives. */
export interface RetryEvent {
	readonly operation: StorageOperation;
	/** The file, or for `list` the type. */
	readonly target: FileHandle | FileType;
	/** Number of the attempt that failed, from 1. */
	readonly attempt: number;
	readonly delayMs: number;
	readonly error: StorageError;
}

/**
 * Wraps a Storage so that operations failing with a {@link TransientError} are tried again.
 *
 * Contract:
 * - Only `transient` errors are retried; not-found, auth and permanent errors and aborts are
 *   thrown at once. After the last retry the last error is thrown.
 * - The wait before retry n is drawn from [d/2, d] with d = min(maxDelayMs, baseDelayMs·2^(n-1)).
 *   An abort during the wait rejects at once with the signal's reason.
 * - `list` is retried only when it failed before yielding anything (a retry after yielding
 *   would repeat names).
 * - `remove` that fails transiently and then reports not-found on a retry counts as done,
 *   since the failed attempt may have removed the file.
 * - `create` is not retried: a half-done create would then report that the location is not empty.
 */
export function withRetry(storage: Storage, options: RetryOptions = {}): Storage {
	const retries = options.retries ?? 6;
	const base = options.baseDelayMs ?? 500;
	const cap = options.maxDelayMs ?? 30_000;
	const random = options.random ?? Math.random;

	/** Waits before retrying after `attempt` failed, or rethrows when retrying cannot or may not happen. */
	const waitOrThrow = async (error: unknown, operation: StorageOperation, target: FileHandle | FileType, attempt: number, signal?: AbortSignal) => {
		if (!isStorageError(error, 'transient') || attempt > retries) throw error;
		const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
		const delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
		options.onRetry?.({operation, target, attempt, delayMs, error});
		await sleep(delayMs, signal);
	};

	/** Runs `run` until it succeeds or {@link waitOrThrow} gives up. */
	const attempt = async <T>(operation: StorageOperation, target: FileHandle | FileType, signal: AbortSignal | undefined, run: (attempt: number) => Promise<T>): Promise<T> => {
		for (let number = 1; ; number++) {
			throwIfAborted(signal);
			try {
				return await run(number);
			} catch (error) {
				await waitOrThrow(error, operation, target, number, signal);
			}
		}
	};

	return {
		location: storage.location,
		capabilities: storage.capabilities,
		create: (operation) => storage.create(operation),
		save: (handle, data, operation) => attempt('save', handle, operation?.signal, () => storage.save(handle, data, operation)),
		load: (handle, operation) => attempt('load', handle, operation?.signal, () => storage.load(handle, operation)),
		stat: (handle, operation) => attempt('stat', handle, operation?.signal, () => storage.stat(handle, operation)),
		remove: (handle, operation) =>
			attempt('remove', handle, operation?.signal, async (number) => {
				try {
					await storage.remove(handle, operation);
				} catch (error) {
					if (number > 1 && isStorageError(error, 'not-found')) return;
					throw error;
				}
			}),
		async *list(type, operation): AsyncIterable<FileInfo> {
			for (let number = 1; ; number++) {
				throwIfAborted(operation?.signal);
				let yielded = false;
				try {
					for await (const info of storage.list(type, operation)) {
						yielded = true;
						yield info;
					}
					return;
				} catch (error) {
					if (yielded) throw error;
					await waitOrThrow(error, 'list', type, number, operation?.signal);
				}
			}
		},
		close: () => storage.close(),
		// Optional abilities (see Storage) pass through unchanged.
		...(storage.thaw === undefined ? {} : {thaw: storage.thaw.bind(storage)}),
		...(storage.extendRetention === undefined ? {} : {extendRetention: storage.extendRetention.bind(storage)}),
		...(storage.storageConfig === undefined ? {} : {storageConfig: storage.storageConfig}),
	};
}
