/**
 * The declaration of the `webdav:` scheme: a WebDAV folder at `webdav:https://HOST/PATH`
 * (http works too), with `webdav.username` and `webdav.password`.
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError, type Storage} from '../storage.js';
import {ensureTrailingSlash, joinUrlCredentials, splitUrlCredentials} from '../http/url.js';
/* The webdav package is loaded only when a repository is opened. */

/** The declaration of the `webdav:` scheme for the adapter registry. */
export const webdavAdapter: AdapterDefinition = {
	scheme: 'webdav',
	label: 'WebDAV folder',
	description: 'A folder on a WebDAV server such as Nextcloud, ownCloud, a NAS or Apache mod_dav.',
	example: 'webdav:https://cloud.example/remote.php/dav/files/me/backup',
	options: [
		{
			name: 'url',
			label: 'Folder URL',
			description: 'URL of the repository folder, without the user and password.',
			required: true,
			kind: 'url',
			inLocation: true,
			placeholder: 'https://cloud.example/remote.php/dav/files/me/backup',
		},
		{name: 'username', label: 'User', description: 'User name on the WebDAV server.', required: false, inLocation: true, env: ['CAIRN_WEBDAV_USERNAME']},
		{name: 'password', label: 'Password', description: 'Password (for Nextcloud and ownCloud, an app password).', required: false, secret: true, env: ['CAIRN_WEBDAV_PASSWORD']},
		{
			name: 'connections',
			label: 'Connections',
			description: 'How many requests to run at once (default 5).',
			required: false,
			kind: 'number',
			default: '5',
			validate: (value) => (Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 64 ? undefined : 'must be a whole number from 1 to 64'),
		},
	],
	// A password written in the URL (restic's syntax) is taken out as the `password` value; it is
	// not a location option, so it is never written back into a location.
	parseLocation: (rest) => {
		if (rest === '') return {};
		const split = splitUrlCredentials(rest);
		return {url: ensureTrailingSlash(split.url), ...(split.username === undefined ? {} : {username: split.username}), ...(split.password === undefined ? {} : {password: split.password})};
	},
	// Never writes the password back: a location may be saved, and secrets are not.
	formatLocation: (values) => (values['url'] ? joinUrlCredentials(values['url'], values['username']) : ''),
	open: async (values): Promise<Storage> => {
		const url = values['url'];
		if (url === undefined || url === '') throw new PermanentError(`the WebDAV adapter needs a folder URL, e.g. ${webdavAdapter.example}`);
		const split = splitUrlCredentials(url);
		const base = ensureTrailingSlash(split.url);
		const username = values['username'] || split.username;
		const password = values['password'] || split.password;
		const connections = readNumberOption(values, 'connections') ?? 5;
		const {createWebdavStorage} = await import('./storage.js');
		return createWebdavStorage({url: base, username, password, location: `webdav:${joinUrlCredentials(base, username)}`, concurrency: connections});
	},
};
