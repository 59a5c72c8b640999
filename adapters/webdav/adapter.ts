/**
 * The declaration of the `webdav:` scheme: a WebDAV folder at `webdav:https://HOST/PATH`
 * (http works too), with `webdav.username` and `webdav.password`.
 */

import type {AdapterDefinition} from '../options.js';
import type {Storage} from '../storage.js';
import {joinUrlCredentials} from '../http/url.js';
import {declareUrlStore, readUrlStore} from '../shared/option-blocks.js';
/* The webdav package is loaded only when a repository is opened. */

/** The declaration of the `webdav:` scheme for the adapter registry. */
export const webdavAdapter: AdapterDefinition = {
	scheme: 'webdav',
	label: 'WebDAV folder',
	description: 'A folder on a WebDAV server such as Nextcloud, ownCloud, a NAS or Apache mod_dav.',
	example: 'webdav:https://cloud.example/remote.php/dav/files/me/backup',
	...declareUrlStore({
		url: {label: 'Folder URL', description: 'URL of the repository folder, without the user and password.', placeholder: 'https://cloud.example/remote.php/dav/files/me/backup'},
		username: {description: 'User name on the WebDAV server.', env: ['CAIRN_WEBDAV_USERNAME']},
		password: {description: 'Password (for Nextcloud and ownCloud, an app password).', env: ['CAIRN_WEBDAV_PASSWORD']},
	}),
	open: async (values): Promise<Storage> => {
		const {base, username, password, connections} = readUrlStore(values, `the WebDAV adapter needs a folder URL, e.g. ${webdavAdapter.example}`);
		const {createWebdavStorage} = await import('./storage.js');
		return createWebdavStorage({url: base, username, password, location: `webdav:${joinUrlCredentials(base, username)}`, concurrency: connections});
	},
};
