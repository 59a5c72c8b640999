/**
 * The declaration of the `b2:` scheme (Backblaze B2, native API) for the adapter registry.
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError} from '../storage.js';
import {checkWholeNumber, declareBucketFolderOptions, declareConnectionsOption, declareEndpointOption, declareSecretOption} from '../shared/option-blocks.js';
import {checkB2BucketName, cleanPrefix, formatBucketLocation, parseBucketLocation} from './location.js';

const DEFAULT_B2_CONNECTIONS = 5;
const MIB = 1024 * 1024;

/** The `b2:` adapter. The client is loaded only when a location is opened. */
export const b2Adapter: AdapterDefinition = {
	scheme: 'b2',
	label: 'Backblaze B2',
	description: 'A folder in a Backblaze B2 bucket, through the native B2 API; the bucket must already exist. For object lock, use B2\'s S3-compatible endpoint with the s3 type instead.',
	example: 'b2:my-bucket:/backups/laptop',
	options: [
		...declareBucketFolderOptions({validate: checkB2BucketName, clean: cleanPrefix}),
		{
			name: 'account-id',
			label: 'Key ID',
			description: 'Application key ID (keyID), or the account ID when using the master application key.',
			required: true,
			env: ['B2_ACCOUNT_ID'],
			placeholder: '0012a3b4c5d6e7f0000000001',
		},
		declareSecretOption({name: 'account-key', label: 'Application key', description: 'The application key that belongs to the key ID.', env: ['B2_ACCOUNT_KEY'], required: true}),
		declareEndpointOption({description: 'Where b2_authorize_account is called (default https://api.backblazeb2.com); change it only for a test server.', placeholder: 'https://api.backblazeb2.com'}),
		declareConnectionsOption({defaultCount: DEFAULT_B2_CONNECTIONS, max: 128}),
		{
			name: 'part-size',
			label: 'Part size (MiB)',
			description: 'Files larger than this are uploaded as B2 large files in parts of this size (default: the size B2 recommends, usually 100 MB; at least 5 MB).',
			required: false,
			kind: 'number',
			validate: checkWholeNumber(5, 5000, 'MiB'),
		},
	],
	parseLocation: (rest) => parseBucketLocation(rest, 'b2'),
	formatLocation: (values) => formatBucketLocation(values),
	open: async (values) => {
		const bucket = values['bucket'];
		const keyId = values['account-id'];
		const applicationKey = values['account-key'];
		if (bucket === undefined || keyId === undefined || applicationKey === undefined) {
			throw new PermanentError('the b2 adapter needs a bucket, a key ID and an application key, e.g. b2:my-bucket:/backups with B2_ACCOUNT_ID and B2_ACCOUNT_KEY set');
		}
		const partSize = readNumberOption(values, 'part-size');
		const {createB2Storage} = await import('./b2-storage.js');
		return createB2Storage({
			bucket,
			prefix: cleanPrefix(values['prefix'] ?? ''),
			keyId,
			applicationKey,
			...(values['endpoint'] === undefined ? {} : {endpoint: values['endpoint']}),
			concurrency: readNumberOption(values, 'connections') ?? DEFAULT_B2_CONNECTIONS,
			...(partSize === undefined ? {} : {partSize: partSize * MIB}),
		});
	},
};
