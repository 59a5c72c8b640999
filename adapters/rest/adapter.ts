/**
 * The declaration of the `rest:` scheme: a restic REST server (rest-server, `rclone serve
 * restic`, …) at `rest:http[s]://[USER:PASS@]HOST:PORT/[PATH]`, as restic writes it.
 */

import type {AdapterDefinition} from '../options.js';
import type {Storage} from '../storage.js';
import {createNodeTransport} from '../http/node-transport.js';
import {joinUrlCredentials} from '../http/url.js';
import {declareUrlStore, readUrlStore} from '../shared/option-blocks.js';
import {createRestStorage} from './storage.js';

/** The declaration of the `rest:` scheme for the adapter registry. */
export const restAdapter: AdapterDefinition = {
	scheme: 'rest',
	label: 'restic REST server',
	description: 'A restic REST server (rest-server, or rclone serve restic) reached over HTTP or HTTPS.',
	example: 'rest:https://backup@nas.example:8000/laptop/',
	...declareUrlStore({
		url: {label: 'Server URL', description: 'URL of the repository on the server, without the user and password.', placeholder: 'https://nas.example:8000/laptop/'},
		username: {description: 'User for HTTP basic authentication, if the server asks for one.', env: ['CAIRN_REST_USERNAME', 'RESTIC_REST_USERNAME']},
		password: {description: 'Password for HTTP basic authentication.', env: ['CAIRN_REST_PASSWORD', 'RESTIC_REST_PASSWORD']},
	}),
	open: async (values): Promise<Storage> => {
		const {base, username, password, connections} = readUrlStore(values, `the REST adapter needs a server URL, e.g. ${restAdapter.example}`);
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
