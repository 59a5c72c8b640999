/**
 * The `azure:` scheme: its option declaration for the registry (CLI `-o azure.*`, TUI forms, saved
 * profiles) and the opener that turns resolved values into an {@link AzureStorage}.
 */

export {azureAdapter, readAzureStorageOptions} from './adapter.js';

export {mapAzureError, REQUIRED_AZURE_PERMISSIONS} from './errors.js';
export {cleanAzurePrefix, formatAzureLocation, parseAzureLocation} from './location.js';
export {
	AZURE_ACCESS_TIERS,
	AZURE_COLD_TIERS,
	AZURE_THAW_PRIORITIES,
	AZURE_THAW_TIERS,
	AzureStorage,
	createAzureStorage,
	DEFAULT_BLOCK_SIZE,
	describeAzureService,
	readAzureThawState,
	type AzureStorageOptions,
} from './storage.js';

