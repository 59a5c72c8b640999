/**
 * An in-memory Storage for tests and benchmarks. It follows the same contract as the local adapter
 * (names must be 64 lowercase hex IDs, `list('config')` yields the config named `''`) and copies
 * bytes on save and on load, so neither the caller nor the store can change the other's data.
 */

import {
	AlreadyExistsError,
	FILE_TYPES,
	NotFoundError,
	PermanentError,
	pathOf,
	throwIfAborted,
	type FileHandle,
	type FileInfo,
	type FileType,
	type LoadOptions,
	type OperationOptions,
	type Storage,
	type StorageCapabilities,
} from './storage.js';

/** Settings of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
	/** Shown as {@link Storage.location}; default `memory:<n>`, unique per store. */
	readonly location?: string;
	/** Overrides of the default capabilities (atomic, ranged, deletes allowed, concurrency 8). */
	readonly capabilities?: Partial<StorageCapabilities>;
}

const ID_PATTERN = /^[0-9a-f]{64}$/;

let storeCount = 0;

/** Creates an empty in-memory store. */
export function createMemoryStorage(options: MemoryStorageOptions = {}): Storage {
	storeCount += 1;
	const location = options.location ?? `memory:${storeCount}`;
	const capabilities: StorageCapabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: false, concurrency: 8, ...options.capabilities};
	const files = new Map<FileType, Map<string, Uint8Array>>(FILE_TYPES.map((type) => [type, new Map()]));
	let closed = false;

	/** The map of the handle's type and its key there, after the same checks as the local adapter. */
	const locate = (handle: FileHandle): [Map<string, Uint8Array>, string] => {
		if (closed) throw new PermanentError(`${location} was closed; no more operations can be made on it`);
		const bucket = files.get(handle.type);
		if (bucket === undefined) throw new PermanentError(`unknown file type ${JSON.stringify(handle.type)}; expected one of ${FILE_TYPES.join(', ')}`);
		if (handle.type === 'config') return [bucket, ''];
		if (!ID_PATTERN.test(handle.name)) {
			throw new PermanentError(`invalid ${handle.type} file name ${JSON.stringify(handle.name)}: names must be 64 lowercase hex characters`);
		}
		return [bucket, handle.name];
	};

	/** The stored bytes of a handle, or NotFoundError. */
	const find = (handle: FileHandle, action: string): [Map<string, Uint8Array>, string, Uint8Array] => {
		const [bucket, key] = locate(handle);
		const data = bucket.get(key);
		if (data === undefined) throw new NotFoundError(`cannot ${action} ${pathOf(handle)}: it does not exist in ${location}`);
		return [bucket, key, data];
	};

	return {
		location,
		capabilities,

		async create(operation: OperationOptions = {}) {
			throwIfAborted(operation.signal);
			if (closed) throw new PermanentError(`${location} was closed; no more operations can be made on it`);
			const count = [...files.values()].reduce((sum, bucket) => sum + bucket.size, 0);
			if (count > 0) throw new AlreadyExistsError(`cannot create a repository in ${location}: it already holds ${count} file(s); pick an empty or new location`);
		},

		async save(handle, data, operation: OperationOptions = {}) {
			throwIfAborted(operation.signal);
			const [bucket, key] = locate(handle);
			bucket.set(key, Uint8Array.from(data));
		},

		async load(handle, operation: LoadOptions = {}) {
			throwIfAborted(operation.signal);
			const [, , data] = find(handle, 'load');
			const offset = operation.offset ?? 0;
			const valid = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0);
			if (!valid(offset) || !valid(operation.length)) {
				throw new PermanentError(`cannot load ${pathOf(handle)}: invalid range (offset ${operation.offset}, length ${operation.length}); both must be non-negative integers`);
			}
			const end = operation.length === undefined ? data.byteLength : offset + operation.length;
			if (offset > data.byteLength || end > data.byteLength) {
				throw new PermanentError(`cannot load ${pathOf(handle)}: the range ${offset}..${end} is past the end of the file (${data.byteLength} bytes)`);
			}
			return data.slice(offset, end);
		},

		async stat(handle, operation: OperationOptions = {}) {
			throwIfAborted(operation.signal);
			const [, , data] = find(handle, 'stat');
			return {name: handle.name, size: data.byteLength};
		},

		async *list(type: FileType, operation: OperationOptions = {}): AsyncIterable<FileInfo> {
			throwIfAborted(operation.signal);
			const [bucket] = locate({type, name: type === 'config' ? '' : '0'.repeat(64)});
			for (const [name, data] of [...bucket.entries()]) {
				throwIfAborted(operation.signal);
				yield {name, size: data.byteLength};
			}
		},

		async remove(handle, operation: OperationOptions = {}) {
			throwIfAborted(operation.signal);
			const [bucket, key] = find(handle, 'remove');
			bucket.delete(key);
		},

		async close() {
			closed = true;
		},
	};
}
