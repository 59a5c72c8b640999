/**
 * The declaration of the `swift:` scheme (OpenStack Swift) for the adapter registry. Locations are
 * written as restic writes them: `swift:CONTAINER:/PREFIX`. Every authentication value is a form
 * field and a `-o swift.*` option, with the environment variables restic reads as fallbacks
 * (OS_* before ST_*, as restic does).
 */

import {readNumberOption, type AdapterDefinition, type OptionDeclaration, type OptionValues} from '../options.js';
import {PermanentError} from '../storage.js';
import {cleanPrefix, parseBucketLocation} from '../gcs/location.js';
import {checkWholeNumber, declareBucketFolderOptions, declareConnectionsOption, declareSecretOption} from '../shared/option-blocks.js';
import {chooseAuthVersion, type SwiftAuthVersion, type SwiftCredentials} from './auth.js';
import type {SwiftClientSettings} from './client.js';

const MIB = 1024 * 1024;
const DEFAULT_CONNECTIONS = 5;

const field = (name: string, label: string, description: string, extra: Partial<OptionDeclaration> = {}): OptionDeclaration => ({name, label, description, required: false, ...extra});

/** The `swift:` adapter. The client is loaded only when a location is opened. */
export const swiftAdapter: AdapterDefinition = {
	scheme: 'swift',
	label: 'OpenStack Swift',
	description: 'A container in OpenStack Swift, with v1 (ST_*) or keystone v2/v3 (OS_*) authentication, or a token given beforehand; init creates the container when it is missing.',
	example: 'swift:backups:/laptop',
	options: [
		...declareBucketFolderOptions({name: 'container', label: 'Container', noun: 'container', description: 'The container; cairn init creates it when it does not exist.', placeholder: 'backups', validate: (name) => (name.includes('/') || Buffer.byteLength(name) > 256 ? 'must be a Swift container name: at most 256 bytes, without "/"' : undefined), clean: cleanPrefix}),
		field('auth-url', 'Authentication URL', 'Keystone (…/v2.0 or …/v3) or v1 (…/auth/v1.0) URL.', {kind: 'url', env: ['OS_AUTH_URL', 'ST_AUTH'], placeholder: 'https://keystone.example:5000/v3'}),
		field('user', 'User name', 'The user to log in as (v1: account:user).', {env: ['OS_USERNAME', 'ST_USER']}),
		declareSecretOption({name: 'key', label: 'Password or key', description: 'The password (keystone) or key (v1).', env: ['OS_PASSWORD', 'ST_KEY']}),
		field('auth-version', 'Auth version', 'Authentication API version; empty guesses it from the URL (/v3, /v2.0, else v1).', {env: ['ST_AUTH_VERSION', 'OS_IDENTITY_API_VERSION'], placeholder: '3', validate: (value) => (/^[123](\.0)?$/.test(value) ? undefined : 'must be 1, 2 or 3 (1.0, 2.0 and 3.0 also work)')}),
		field('region', 'Region', 'Region of the Swift endpoint in the keystone catalog; needed when there are several.', {env: ['OS_REGION_NAME']}),
		field('project', 'Project (tenant)', 'Project or tenant name to scope the token to.', {env: ['OS_PROJECT_NAME', 'OS_TENANT_NAME']}),
		field('project-id', 'Project ID', 'Project or tenant ID, instead of its name.', {env: ['OS_PROJECT_ID', 'OS_TENANT_ID']}),
		field('user-domain', 'User domain', 'Keystone v3 domain of the user (default Default).', {env: ['OS_USER_DOMAIN_NAME']}),
		field('project-domain', 'Project domain', 'Keystone v3 domain of the project (default: the user\'s).', {env: ['OS_PROJECT_DOMAIN_NAME']}),
		field('application-credential-id', 'App credential ID', 'Keystone v3 application credential ID (instead of a password).', {env: ['OS_APPLICATION_CREDENTIAL_ID']}),
		field('application-credential-name', 'App credential name', 'Application credential name (with the user name), instead of its ID.', {env: ['OS_APPLICATION_CREDENTIAL_NAME']}),
		declareSecretOption({name: 'application-credential-secret', label: 'App credential secret', description: 'The application credential\'s secret.', env: ['OS_APPLICATION_CREDENTIAL_SECRET']}),
		field('storage-url', 'Storage URL', 'With a token: the account\'s storage URL (…/v1/AUTH_…); no login is made.', {kind: 'url', env: ['OS_STORAGE_URL']}),
		declareSecretOption({name: 'auth-token', label: 'Token', description: 'A token issued beforehand, used with the storage URL.', env: ['OS_AUTH_TOKEN']}),
		field('interface', 'Endpoint interface', 'Which catalog endpoint to use (default public).', {env: ['OS_INTERFACE', 'OS_ENDPOINT_TYPE'], placeholder: 'public', validate: (value) => (/^(public|internal|admin)(URL)?$/.test(value) ? undefined : 'must be public, internal or admin')}),
		field('storage-policy', 'Storage policy', 'Policy of the container init creates (e.g. a cheaper or erasure-coded one).', {env: ['SWIFT_DEFAULT_CONTAINER_POLICY']}),
		field('segment-size', 'Segment size (MiB)', 'Files larger than this are stored as segments (a Static Large Object); default 5120, Swift\'s object size limit.', {kind: 'number', validate: checkWholeNumber(1, 5120, 'MiB')}),
		declareConnectionsOption({defaultCount: DEFAULT_CONNECTIONS, max: 128}),
	],
	parseLocation: parseSwiftLocation,
	formatLocation: (values) => `${values['container'] ?? ''}:/${cleanPrefix(values['prefix'] ?? '')}`,
	open: async (values) => {
		const settings = readSwiftSettings(values);
		const [{SwiftClient}, {ObjectStore, describeBucketStore}] = await Promise.all([import('./client.js'), import('../object-store/store.js')]);
		const bucket = {bucket: settings.container, prefix: cleanPrefix(values['prefix'] ?? ''), concurrency: readNumberOption(values, 'connections') ?? DEFAULT_CONNECTIONS};
		return new ObjectStore(new SwiftClient(settings), {...describeBucketStore('swift', bucket, false), words: {instead: 'an empty container or a new folder'}});
	},
};

/** Parses `CONTAINER:/PREFIX` (also `CONTAINER:PREFIX` and `CONTAINER`), as gs: and b2: parse their buckets. */
export function parseSwiftLocation(rest: string): Record<string, string> {
	try {
		const {bucket, ...others} = parseBucketLocation(rest, 'swift');
		return bucket === undefined ? others : {container: bucket, ...others};
	} catch (error) {
		throw new Error((error as Error).message.replaceAll('BUCKET', 'CONTAINER').replaceAll('bucket', 'container'));
	}
}

/** Which option holds each field of {@link SwiftCredentials}. */
const CREDENTIAL_OPTIONS = {
	authUrl: 'auth-url', user: 'user', key: 'key', region: 'region', project: 'project', projectId: 'project-id', userDomain: 'user-domain', projectDomain: 'project-domain',
	applicationCredentialId: 'application-credential-id', applicationCredentialName: 'application-credential-name', applicationCredentialSecret: 'application-credential-secret',
	storageUrl: 'storage-url', token: 'auth-token', interface: 'interface',
} as const satisfies Record<Exclude<keyof SwiftCredentials, 'version'>, string>;

/** The client settings of resolved option values; throws in words when no way to log in is complete. */
export function readSwiftSettings(values: OptionValues): SwiftClientSettings {
	const defined: Record<string, string> = {};
	for (const [field, name] of Object.entries(CREDENTIAL_OPTIONS)) {
		const value = values[name];
		if (value !== undefined && value !== '') defined[field] = value;
	}
	if (defined['interface'] !== undefined) defined['interface'] = defined['interface'].replace(/URL$/, '');
	const version = (values['auth-version']?.charAt(0) as SwiftAuthVersion | undefined) ?? chooseAuthVersion(defined as Omit<SwiftCredentials, 'version'>);
	if (version !== 'token') {
		const missing: string[] = [];
		if (defined['authUrl'] === undefined) missing.push('the authentication URL (OS_AUTH_URL or ST_AUTH, -o swift.auth-url)');
		const byCredential = version === '3' && (defined['applicationCredentialId'] !== undefined || defined['applicationCredentialName'] !== undefined);
		if (byCredential && defined['applicationCredentialSecret'] === undefined) missing.push('the application credential secret (OS_APPLICATION_CREDENTIAL_SECRET)');
		if (!byCredential && defined['user'] === undefined) missing.push('the user name (OS_USERNAME or ST_USER, -o swift.user)');
		if (!byCredential && defined['key'] === undefined) missing.push('the password or key (OS_PASSWORD or ST_KEY, -o swift.key)');
		if (missing.length > 0) {
			throw new PermanentError(`cannot log in to Swift: give ${missing.join(', ')}; or give a storage URL and a token (OS_STORAGE_URL and OS_AUTH_TOKEN)`);
		}
	}
	const segmentSize = readNumberOption(values, 'segment-size');
	return {
		credentials: {...(defined as Omit<SwiftCredentials, 'version'>), version},
		container: values['container'] ?? '',
		...(values['storage-policy'] === undefined ? {} : {storagePolicy: values['storage-policy']}),
		...(segmentSize === undefined ? {} : {segmentSize: segmentSize * MIB}),
	};
}
