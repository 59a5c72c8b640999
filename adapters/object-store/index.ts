/**
 * The shared object-store core: an adapter for an object store is an {@link ObjectClient} (raw
 * put, ranged get, head, prefix list, delete and an error hook) handed to {@link ObjectStore},
 * plus its option declaration (built from adapters/shared/option-blocks.ts). docs/object-store-core.md
 * says how to add one.
 */

export {RangeNotSatisfiableError, type ListOptions, type ObjectCallOptions, type ObjectClient, type ObjectErrorContext, type ObjectInfo, type ObjectOperation, type ObjectRange, type PutOptions} from './client.js';
export {DEFAULT_LAYOUT, FLAT_LAYOUT, joinKey, type ObjectLayout} from './layout.js';
export {isAbortError, ObjectStore, type ObjectStoreSettings, type StorageClassSettings} from './store.js';
