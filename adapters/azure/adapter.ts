/**
 * The `azure:` scheme's declaration for the registry (CLI `-o azure.*`, TUI forms, saved profiles).
 * The Azure SDK is loaded only when a repository is opened.
 */

import {readNumberOption, type AdapterDefinition, type OptionValues} from '../options.js';
import {PermanentError} from '../storage.js';
import {declareChoiceOption, declareConnectionsOption, declareContainerOption, declareEndpointOption, declarePrefixOption, declareSecretOption, requireValue} from '../shared/option-blocks.js';
import {formatAzureLocation, parseAzureLocation} from './location.js';
import {AZURE_ACCESS_TIERS, AZURE_THAW_PRIORITIES, AZURE_THAW_TIERS} from './tiers.js';
import type {AzureStorageOptions} from './storage.js';

/** The declaration of the `azure:` scheme for the adapter registry. */
export const azureAdapter: AdapterDefinition = {
	scheme: 'azure',
	label: 'Azure Blob Storage',
	description: 'A prefix in an existing container of an Azure storage account (or of azurite, the local emulator).',
	example: 'azure:backups:/laptop',
	options: [
		declareContainerOption({name: 'container', label: 'Container', description: 'Name of the container, which must already exist (cairn does not create containers).', placeholder: 'backups'}),
		declarePrefixOption({label: 'Prefix', container: 'container', placeholder: 'laptop'}),
		{
			name: 'account-name',
			label: 'Account name',
			description: 'Name of the storage account.',
			required: true,
			env: ['AZURE_ACCOUNT_NAME'],
			placeholder: 'mystorageaccount',
		},
		declareSecretOption({name: 'account-key', label: 'Account key', description: 'Access key of the storage account (or give a SAS token instead).', env: ['AZURE_ACCOUNT_KEY']}),
		declareSecretOption({
			name: 'account-sas',
			label: 'SAS token',
			description: 'Shared access signature (the part after ?), with read, write, create, delete and list permissions; used when no account key is given.',
			env: ['AZURE_ACCOUNT_SAS'],
		}),
		{
			name: 'endpoint-suffix',
			label: 'Storage domain',
			description: 'Domain of the blob service: core.windows.net, or e.g. core.chinacloudapi.cn or core.usgovcloudapi.net in sovereign clouds.',
			required: false,
			env: ['AZURE_ENDPOINT_SUFFIX'],
			default: 'core.windows.net',
			validate: (value) => (/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(value) ? undefined : 'must be a domain such as core.windows.net'),
		},
		declareEndpointOption({description: 'Blob service URL replacing https://ACCOUNT.blob.DOMAIN, e.g. http://127.0.0.1:10000/devstoreaccount1 for azurite.', placeholder: 'http://127.0.0.1:10000/devstoreaccount1'}),
		declareChoiceOption({name: 'access-tier', label: 'Access tier', description: 'Tier of blobs that no .storageconfig rule covers; empty: the account\'s default. Use `cairn storageconfig` for a tier per kind of file.', choices: AZURE_ACCESS_TIERS}),
		declareChoiceOption({name: 'thaw-tier', label: 'Thaw tier', description: 'Tier an archived blob is rehydrated to by `cairn restore --thaw` (it stays there).', choices: AZURE_THAW_TIERS, default: 'Cool'}),
		declareChoiceOption({name: 'thaw-priority', label: 'Thaw priority', description: 'Rehydration priority: Standard (up to 15 hours) or High (dearer; under an hour for blobs below 10 GB).', choices: AZURE_THAW_PRIORITIES, default: 'Standard'}),
		declareConnectionsOption({defaultCount: 8, max: 128}),
	],
	parseLocation: parseAzureLocation,
	formatLocation: formatAzureLocation,
	open: async (values) => (await import('./storage.js')).createAzureStorage(readAzureStorageOptions(values)),
};

/** Turns resolved `azure.*` values into {@link AzureStorageOptions}. */
export function readAzureStorageOptions(values: OptionValues): AzureStorageOptions {
	const container = requireValue(values, 'container', 'the Azure adapter needs a container, e.g. azure:backups:/laptop');
	const accountName = requireValue(values, 'account-name', 'the Azure adapter needs a storage account name: set AZURE_ACCOUNT_NAME or -o azure.account-name=…');
	if (values['account-key'] === undefined && values['account-sas'] === undefined) {
		throw new PermanentError('the Azure adapter needs an account key (AZURE_ACCOUNT_KEY or -o azure.account-key=…) or a SAS token (AZURE_ACCOUNT_SAS or -o azure.account-sas=…)');
	}
	return {
		accountName,
		accountKey: values['account-key'],
		sas: values['account-key'] === undefined ? values['account-sas'] : undefined,
		endpointSuffix: values['endpoint-suffix'],
		endpoint: values['endpoint'],
		container,
		prefix: values['prefix'],
		accessTier: values['access-tier'],
		thawTier: values['thaw-tier'] as AzureStorageOptions['thawTier'],
		thawPriority: values['thaw-priority'] as AzureStorageOptions['thawPriority'],
		connections: readNumberOption(values, 'connections'),
	};
}
