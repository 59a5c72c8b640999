/**
 * A storage whose listings, loads and saves are told to a callback before they run, for tests
 * that count requests or check their order. Everything else is the storage's own.
 */
import type {FileType, Storage} from '../../adapters/storage.js';

/** One call seen by {@link watchStorage}. */
export interface WatchedCall {
	readonly op: 'list' | 'load' | 'save';
	readonly type: FileType;
	/** The file's name (loads and saves). */
	readonly name?: string;
}

/** Wraps `storage` so that each list, load and save is passed to `onCall` first. */
export function watchStorage(storage: Storage, onCall: (call: WatchedCall) => void): Storage {
	return {
		...storage,
		location: storage.location,
		capabilities: storage.capabilities,
		list: (type, operation) => {
			onCall({op: 'list', type});
			return storage.list(type, operation);
		},
		load: (handle, operation) => {
			onCall({op: 'load', type: handle.type, name: handle.name});
			return storage.load(handle, operation);
		},
		save: (handle, data, operation) => {
			onCall({op: 'save', type: handle.type, name: handle.name});
			return storage.save(handle, data, operation);
		},
	};
}
