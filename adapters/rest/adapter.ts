/**
 * The declaration of the `rest:` scheme: a restic REST server (rest-server, `rclone serve
 * restic`, …) at `rest:http[s]://[USER:PASS@]HOST:PORT/[PATH]`, as restic writes it.
 */

import {readNumberOption, type AdapterDefinition} from '../options.js';
import {PermanentError, type Storage} from '../storage.js';
import {createNodeTransport} from '../http/node-transport.js';
import {ensureTrailingSlash, joinUrlCredentials, splitUrlCredentials} from '../http/url.js';
import {createRestStorage} from './storage.js';

/** The declaration of the `rest:` scheme for the adapter registry. */
export const restAdapter: AdapterDefinition = {
	scheme: 'rest',
	label: 'restic REST server',
	description: 'A restic REST server (rest-server, or rclone serve restic) reached over HTTP or HTTPS.',
	example: 'rest:https://backup@nas.example:8000/laptop/',
	options: [
		{name: 'url', label: 'Server URL', description: 'URL of the repository on the server, without the user and password.', required: true, kind: 'url', inLocation: true, placeholder: 'https://nas.example:8000/laptop/'},
		{name: 'username', label: 'User', description: 'User for HTTP basic authentication, if the server asks for one.', required: false, inLocation: true, env: ['CAIRN_REST_USERNAME', 'RESTIC_REST_USERNAME']},
		{name: 'password', label: 'Password', description: 'Password for HTTP basic authentication.', required: false, secret: true, env: ['CAIRN_REST_PASSWORD', 'RESTIC_REST_PASSWORD']},
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
		if (url === undefined || url === '') throw new PermanentError(`the REST adapter needs a server URL, e.g. ${restAdapter.example}`);
		const split = splitUrlCredentials(url);
		const base = ensureTrailingSlash(split.url);
		const username = values['username'] || split.username;
		const password = values['password'] || split.password;
		const connections = readNumberOption(values, 'connections') ?? 5;
		const server = `the REST server ${base}`;
		return createRestStorage({
			transport: createNodeTransport({baseUrl: base, username, password, maxSockets: connections, server}),
			location: `rest:${joinUrlCredentials(base, username)}`,
			server,
			authHint: 'check the user and password (in the URL, -o rest.username/-o rest.password, or RESTIC_REST_USERNAME/RESTIC_REST_PASSWORD)',
			concurrency: connections,
			mayRefuseDelete: true,
		});
	},
};
