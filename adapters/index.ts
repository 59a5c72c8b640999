/**
 * The storage kit. Importing this module registers every built-in adapter with the registry.
 */

import {localAdapter} from './local.js';
import {registerAdapter} from './registry.js';
import {s3Adapter} from './s3/adapter.js';
import {azureAdapter} from './azure/adapter.js';
import {gcsAdapter} from './gcs/adapter.js';
import {b2Adapter} from './b2/adapter.js';
import {driveAdapter} from './gdrive/adapter.js';
import {sftpAdapter} from './sftp/adapter.js';
import {webdavAdapter} from './webdav/adapter.js';
import {rcloneAdapter} from './rclone/adapter.js';
import {restAdapter} from './rest/adapter.js';
import {swiftAdapter} from './swift/adapter.js';

registerAdapter(localAdapter);
registerAdapter(s3Adapter);
registerAdapter(azureAdapter);
registerAdapter(gcsAdapter);
registerAdapter(b2Adapter);
registerAdapter(driveAdapter);
registerAdapter(sftpAdapter);
registerAdapter(webdavAdapter);
registerAdapter(rcloneAdapter);
registerAdapter(restAdapter);
registerAdapter(swiftAdapter);

export * from './storage.js';
export {createLocalStorage, getDefaultLocalConcurrency, localAdapter, DIRECTORY_MODE, FILE_MODE, type LocalStorageOptions} from './local.js';
export {createMemoryStorage, type MemoryStorageOptions} from './memory.js';
export {
	checkOptionValue,
	readBooleanOption,
	readNumberOption,
	resolveOptionValues,
	type AdapterDefinition,
	type Environment,
	type OptionDeclaration,
	type OptionIssue,
	type OptionKind,
	type OptionSources,
	type OptionValues,
} from './options.js';
export {
	findAdapter,
	formatRepositoryLocation,
	listAdapters,
	openRepositoryStorage,
	parseRepositoryLocation,
	redactLocation,
	redactValues,
	registerAdapter,
	unregisterAdapter,
	RepositoryLocationError,
	type ParsedLocation,
} from './registry.js';
export * from './wrappers/index.js';
