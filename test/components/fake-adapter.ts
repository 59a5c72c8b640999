/**
 * A registered adapter for the wizard tests: every kind of option (URL in the location, text,
 * secret, a key file that must exist, a choice, a boolean), in-memory stores by URL, and the
 * failures a real backend gives (refused credentials, an unknown host name, an unknown host key
 * that can be trusted).
 */
import type {AdapterDefinition} from '../../adapters/options.js';
import {createMemoryStorage} from '../../adapters/memory.js';
import {AuthError, type Storage} from '../../adapters/storage.js';

/** The fake adapter and what the tests look at. */
export interface FakeAdapter {
	readonly definition: AdapterDefinition;
	/** Host keys trusted so far. */
	readonly trusted: Set<string>;
	/** The values `open` received, in order. */
	readonly opened: Array<Record<string, string>>;
}

/** A host-key error shaped as the SFTP adapter's HostKeyError. */
class FakeHostKeyError extends AuthError {
	readonly problem = 'unknown';
	readonly canTrust = true;
	constructor(readonly presented: {hostName: string; fingerprint: string}, private readonly record: () => void) {
		super(`the host key of ${presented.hostName} is not known`);
	}
	async trust(): Promise<void> {
		this.record();
	}
}

/** Creates the fake adapter (scheme `fake`); register it in the test and unregister it after. */
export function createFakeAdapter(): FakeAdapter {
	const stores = new Map<string, Storage>();
	const trusted = new Set<string>();
	const opened: Array<Record<string, string>> = [];
	const definition: AdapterDefinition = {
		scheme: 'fake',
		label: 'Fake cloud',
		description: 'A cloud for tests.',
		example: 'fake:https://cloud.test/bucket',
		options: [
			{name: 'url', label: 'URL', description: 'Where the repository is.', required: true, kind: 'url', inLocation: true, placeholder: 'https://cloud.test/bucket'},
			{name: 'user', label: 'User', description: 'Who logs in.', required: false},
			{name: 'token', label: 'Token', description: 'The access token.', required: true, secret: true, env: ['FAKE_TOKEN']},
			{name: 'key-file', label: 'Key file', description: 'A key file.', required: false, kind: 'path'},
			{name: 'mode', label: 'Mode', description: 'How fast.', required: false, choices: ['fast', 'slow'], default: 'fast'},
			{name: 'verbose', label: 'Verbose', description: 'Say more.', required: false, kind: 'boolean'},
		],
		parseLocation: (rest): Record<string, string> => (rest === '' ? {} : {url: rest}),
		formatLocation: (values) => values.url ?? '',
		open: async (values) => {
			opened.push({...values});
			const url = new URL(values.url!);
			if (url.hostname.endsWith('.invalid')) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${url.hostname}`), {code: 'ENOTFOUND'});
			if (values.token === 'wrong') throw new AuthError('the fake cloud refused the token: it lacks the objects.write permission');
			if (url.hostname === 'newhost.test' && !trusted.has(url.hostname)) {
				throw new FakeHostKeyError({hostName: url.hostname, fingerprint: 'SHA256:fakeFingerprint0123456789abcdefghijkl'}, () => trusted.add(url.hostname));
			}
			let store = stores.get(values.url!);
			if (store === undefined) {
				store = createMemoryStorage({location: `fake:${values.url!}`});
				stores.set(values.url!, store);
			}
			const shared = store;
			// Each open gets its own handle; closing it leaves the store for the next open.
			return {...shared, close: async () => undefined};
		},
	};
	return {definition, trusted, opened};
}
