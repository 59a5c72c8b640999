/**
 * The declaration of the `webdav:` scheme: a WebDAV folder at `webdav:https://HOST/PATH`
 * (http works too), with `webdav.username` and `webdav.password`.
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError, type Storage} from '../storage.js';
import {joinUrlCredentials} from '../http/url.js';
import {declareConnectionsOption, declareUrlLoginOptions, formatUrlLocation, parseUrlLocation, readUrlLogin} from '../shared/option-blocks.js';
/* The webdav package is loaded only when a repository is opened. */

/** The declaration of the `webdav:` scheme for the adapter registry. */
export const webdavAdapter: AdapterDefinition = {
	scheme: 'webdav',
	label: 'WebDAV folder',
	description: 'A folder on a WebDAV server such as Nextcloud, ownCloud, a NAS or Apache mod_dav.',
	example: 'webdav:https://cloud.example/remote.php/dav/files/me/backup',
	options: [
		...declareUrlLoginOptions({
			urlLabel: 'Folder URL',
			urlDescription: 'URL of the repository folder, without the user and password.',
			placeholder: 'https://cloud.example/remote.php/dav/files/me/backup',
			usernameDescription: 'User name on the WebDAV server.',
			passwordDescription: 'Password (for Nextcloud and ownCloud, an app password).',
			usernameEnv: ['CAIRN_WEBDAV_USERNAME'],
			passwordEnv: ['CAIRN_WEBDAV_PASSWORD'],
		}),
		declareConnectionsOption({defaultCount: 5, max: 64, withDefault: true}),
	],
	parseLocation: parseUrlLocation,
	formatLocation: formatUrlLocation,
	open: async (values): Promise<Storage> => {
		const url = values['url'];
		if (url === undefined || url === '') throw new PermanentError(`the WebDAV adapter needs a folder URL, e.g. ${webdavAdapter.example}`);
		const {base, username, password} = readUrlLogin(url, values);
		const connections = readNumberOption(values, 'connections') ?? 5;
		const {createWebdavStorage} = await import('./storage.js');
		return createWebdavStorage({url: base, username, password, location: `webdav:${joinUrlCredentials(base, username)}`, concurrency: connections});
	},
};
