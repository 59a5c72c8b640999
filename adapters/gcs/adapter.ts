/**
 * The declaration of the `gs:` scheme (Google Cloud Storage) for the adapter registry.
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {declareBucketFolderOptions, declareConnectionsOption, declareCredentialsFileOption, declareEndpointOption, expandHome, requireValue} from '../shared/option-blocks.js';
import {readGoogleCredentials} from './credentials.js';
import {checkGcsBucketName, cleanPrefix, formatBucketLocation, parseBucketLocation} from './location.js';

/** Requests at once unless `gs.connections` says otherwise (restic's default). */
const DEFAULT_GCS_CONNECTIONS = 5;

/** The `gs:` adapter. The SDK is loaded only when a location is opened, so that registering costs nothing. */
export const gcsAdapter: AdapterDefinition = {
	scheme: 'gs',
	label: 'Google Cloud Storage',
	description: 'A folder in a Google Cloud Storage bucket; the bucket must already exist. Storage classes per kind of file follow .storageconfig.',
	example: 'gs:my-bucket:/backups/laptop',
	options: [
		...declareBucketFolderOptions({validate: checkGcsBucketName, clean: cleanPrefix}),
		declareCredentialsFileOption({
			label: 'Credentials file',
			description: 'JSON key of a service account (or another Google credentials file); without one, application-default credentials are used (gcloud auth application-default login, or the VM\'s service account).',
			required: false,
		}),
		{
			name: 'project-id',
			label: 'Project ID',
			description: 'Google Cloud project to bill requests to (needed for "requester pays" buckets).',
			required: false,
			env: ['GOOGLE_PROJECT_ID', 'GOOGLE_CLOUD_PROJECT'],
			placeholder: 'my-project-123',
		},
		declareEndpointOption({description: 'Another JSON API endpoint, for an emulator or a private endpoint (default https://storage.googleapis.com).', placeholder: 'http://127.0.0.1:4443'}),
		declareConnectionsOption({defaultCount: DEFAULT_GCS_CONNECTIONS, max: 128}),
	],
	parseLocation: (rest) => parseBucketLocation(rest, 'gs'),
	formatLocation: (values) => formatBucketLocation(values),
	open: async (values) => {
		const bucket = requireValue(values, 'bucket', 'the gs adapter needs a bucket, e.g. gs:my-bucket:/backups');
		const file = values['credentials-file'];
		const credentials = file === undefined || file === '' ? undefined : await readGoogleCredentials(expandHome(file), 'gs.credentials-file');
		const {createGcsStorage} = await import('./gcs-storage.js');
		return createGcsStorage({
			bucket,
			prefix: cleanPrefix(values['prefix'] ?? ''),
			...(credentials === undefined ? {} : {credentials}),
			...(values['project-id'] === undefined ? {} : {projectId: values['project-id']}),
			...(values['endpoint'] === undefined ? {} : {endpoint: values['endpoint']}),
			concurrency: readNumberOption(values, 'connections') ?? DEFAULT_GCS_CONNECTIONS,
		});
	},
};
