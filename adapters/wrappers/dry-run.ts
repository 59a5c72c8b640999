/**
 * Dry runs: reads reach the store, writes only say what they would do.
 */

import {throwIfAborted, type Storage} from '../storage.js';
import {describeHandle} from './shared.js';

/**
 * Wraps a Storage so that `create`, `save` and `remove` change nothing and instead write a line
 * to `log` (e.g. `would save data/ab/ab12… (4096 bytes)`), while `load`, `stat`, `list` and
 * `close` pass through. Later reads therefore do not see the skipped writes. Aborted signals
 * still reject, as they would for a real write.
 */
export function withDryRun(storage: Storage, log: (line: string) => void = () => undefined): Storage {
	return {
		location: storage.location,
		capabilities: storage.capabilities,
		create: async (operation) => {
			throwIfAborted(operation?.signal);
			log(`would create a repository at ${storage.location}`);
		},
		save: async (handle, data, operation) => {
			throwIfAborted(operation?.signal);
			log(`would save ${describeHandle(handle)} (${data.byteLength} bytes)`);
		},
		remove: async (handle, operation) => {
			throwIfAborted(operation?.signal);
			log(`would remove ${describeHandle(handle)}`);
		},
		load: (handle, operation) => storage.load(handle, operation),
		stat: (handle, operation) => storage.stat(handle, operation),
		list: (type, operation) => storage.list(type, operation),
		close: () => storage.close(),
	};
}
