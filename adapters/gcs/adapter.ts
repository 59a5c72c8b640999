/**
 * The declaration of the `gs:` scheme (Google Cloud Storage) for the adapter registry.
 */

import {homedir} from 'node:os';

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError} from '../storage.js';
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
		{
			name: 'bucket',
			label: 'Bucket',
			description: 'Name of an existing bucket (cairn does not create buckets).',
			required: true,
			inLocation: true,
			placeholder: 'my-bucket',
			validate: checkGcsBucketName,
		},
		{
			name: 'prefix',
			label: 'Folder',
			description: 'Folder inside the bucket that holds the repository; empty for the bucket root.',
			required: false,
			inLocation: true,
			placeholder: 'backups/laptop',
			validate: (value) => {
				try {
					cleanPrefix(value);
					return undefined;
				} catch (error) {
					return (error as Error).message.replace(/^the folder "[^"]*" /, '');
				}
			},
		},
		{
			name: 'credentials-file',
			label: 'Credentials file',
			description: 'JSON key of a service account (or another Google credentials file); without one, application-default credentials are used (gcloud auth application-default login, or the VM\'s service account).',
			required: false,
			kind: 'path',
			env: ['GOOGLE_APPLICATION_CREDENTIALS'],
			placeholder: '~/keys/backup-sa.json',
		},
		{
			name: 'project-id',
			label: 'Project ID',
			description: 'Google Cloud project to bill requests to (needed for "requester pays" buckets).',
			required: false,
			env: ['GOOGLE_PROJECT_ID', 'GOOGLE_CLOUD_PROJECT'],
			placeholder: 'my-project-123',
		},
		{
			name: 'endpoint',
			label: 'Endpoint',
			description: 'Another JSON API endpoint, for an emulator or a private endpoint (default https://storage.googleapis.com).',
			required: false,
			kind: 'url',
			placeholder: 'http://127.0.0.1:4443',
		},
		{
			name: 'connections',
			label: 'Connections',
			description: `How many requests to run at once (default ${DEFAULT_GCS_CONNECTIONS}).`,
			required: false,
			kind: 'number',
			validate: (value) => (Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 128 ? undefined : 'must be a whole number from 1 to 128'),
		},
	],
	parseLocation: (rest) => parseBucketLocation(rest, 'gs'),
	formatLocation: (values) => formatBucketLocation(values),
	open: async (values) => {
		const bucket = values['bucket'];
		if (bucket === undefined || bucket === '') throw new PermanentError('the gs adapter needs a bucket, e.g. gs:my-bucket:/backups');
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

/** Replaces a leading `~/` with the home directory (profiles are not expanded by a shell). */
function expandHome(path: string): string {
	if (path === '~' || path.startsWith('~/')) return `${homedir()}${path.slice(1)}`;
	return path;
}
