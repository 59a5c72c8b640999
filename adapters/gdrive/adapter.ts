/**
 * The declaration of the `gdrive:` scheme (Google Drive, EXPERIMENTAL) for the adapter registry.
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError} from '../storage.js';
import {declareConnectionsOption, declareCredentialsFileOption, declareEndpointOption, expandHome} from '../shared/option-blocks.js';
import {readGoogleCredentials} from '../gcs/credentials.js';

const DEFAULT_DRIVE_CONNECTIONS = 4;
/** Drive item IDs: letters, digits, `-` and `_`. */
const FOLDER_ID_PATTERN = /^[A-Za-z0-9_-]{10,200}$/;

/** The `gdrive:` adapter. The SDK is loaded only when a location is opened. */
export const driveAdapter: AdapterDefinition = {
	scheme: 'gdrive',
	label: 'Google Drive (experimental)',
	description:
		'EXPERIMENTAL: a folder in Google Drive, given by its ID, used with a service account; put the folder in a shared drive and add the service account as Content manager. Only files inside that folder are touched.',
	example: 'gdrive:1AbCdEfGhIjKlMnOpQrStUvWxYz012345',
	options: [
		{
			name: 'folder-id',
			label: 'Folder ID',
			description: 'ID of the Drive folder that holds the repository: the last part of the folder\'s address in the browser (…/folders/ID).',
			required: true,
			inLocation: true,
			placeholder: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345',
			validate: (value) => (FOLDER_ID_PATTERN.test(value) ? undefined : 'must be a Drive folder ID (letters, digits, "-" and "_"), the last part of the folder\'s address'),
		},
		declareCredentialsFileOption({label: 'Service-account key', description: 'JSON key of the service account the folder is shared with.', required: true}),
		declareEndpointOption({description: 'Another API root, for a test server (default https://www.googleapis.com).', placeholder: 'https://www.googleapis.com'}),
		declareConnectionsOption({defaultCount: DEFAULT_DRIVE_CONNECTIONS, max: 32, note: 'Drive limits the request rate per user'}),
	],
	parseLocation: (rest): Record<string, string> => {
		const text = rest.trim().replace(/^\/+|\/+$/g, '');
		if (text === '') return {};
		if (text.includes('/') || text.includes(':')) throw new Error('write gdrive:FOLDER_ID, with the ID of the folder (sub-paths are not supported; make a folder and use its ID)');
		return {'folder-id': text};
	},
	formatLocation: (values) => values['folder-id'] ?? '',
	open: async (values) => {
		const folderId = values['folder-id'];
		const file = values['credentials-file'];
		if (folderId === undefined || file === undefined) throw new PermanentError('the gdrive adapter needs a folder ID and a service-account key, e.g. gdrive:FOLDER_ID -o gdrive.credentials-file=key.json');
		const credentials = await readGoogleCredentials(expandHome(file), 'gdrive.credentials-file');
		const {createDriveStorage} = await import('./drive-storage.js');
		return createDriveStorage({
			folderId,
			credentials,
			...(values['endpoint'] === undefined ? {} : {endpoint: values['endpoint']}),
			concurrency: readNumberOption(values, 'connections') ?? DEFAULT_DRIVE_CONNECTIONS,
		});
	},
};
