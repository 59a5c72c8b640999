/**
 * Swift authentication: v1 (`X-Auth-User`/`X-Auth-Key` against ST_AUTH), keystone v2
 * (`POST /v2.0/tokens`) and v3 (`POST /v3/auth/tokens`, with a password or an application
 * credential), or a token issued beforehand (OS_STORAGE_URL and OS_AUTH_TOKEN). Keystone answers
 * with a service catalog; the object-store endpoint of the chosen region and interface is the
 * storage URL.
 *
 * Plain `fetch`: there is no well-kept OpenStack Swift client for Node, and the protocol is a few
 * HTTP calls.
 */

import {AuthError, PermanentError, TransientError} from '../storage.js';
import {mapNetworkFailure} from '../http/status.js';

/** How to authenticate; which fields are needed depends on {@link SwiftCredentials.version}. */
export interface SwiftCredentials {
	/** `1`, `2` or `3` for the authentication API, or `token` for a token issued beforehand. */
	readonly version: SwiftAuthVersion;
	/** ST_AUTH (v1) or OS_AUTH_URL (keystone, e.g. `https://keystone:5000/v3`). */
	readonly authUrl?: string;
	readonly user?: string;
	readonly key?: string;
	readonly region?: string;
	/** `public` (default), `internal` or `admin`: which catalog endpoint to use. */
	readonly interface?: string;
	readonly project?: string;
	readonly projectId?: string;
	readonly userDomain?: string;
	readonly projectDomain?: string;
	readonly applicationCredentialId?: string;
	readonly applicationCredentialName?: string;
	readonly applicationCredentialSecret?: string;
	/** OS_STORAGE_URL and OS_AUTH_TOKEN (version `token`). */
	readonly storageUrl?: string;
	readonly token?: string;
}

export type SwiftAuthVersion = '1' | '2' | '3' | 'token';

/** A storage URL and the token that opens it. */
export interface SwiftSession {
	/** The account's URL, e.g. `https://swift.example/v1/AUTH_abc`, without a trailing slash. */
	readonly storageUrl: string;
	readonly token: string;
	/** When keystone said the token expires; undefined when unknown. */
	readonly expires?: Date;
}

/** A keystone service catalog entry: v2 endpoints have `region` and `publicURL`/`internalURL`/`adminURL`, v3 ones `region`/`region_id`, `interface` and `url`. */
interface CatalogEntry {
	readonly type?: string;
	readonly endpoints?: ReadonlyArray<Readonly<Record<string, string | undefined>>>;
}

/**
 * The authentication version to use when none was set: a pre-issued token when a storage URL and
 * token are given; otherwise from the URL (`/v3` → 3, `/v2.0` → 2, anything else → 1, as restic's
 * client guesses), v3 also whenever v3-only values (domains, application credentials) are set.
 */
export function chooseAuthVersion(credentials: Omit<SwiftCredentials, 'version'>): SwiftAuthVersion {
	if (credentials.token !== undefined && credentials.storageUrl !== undefined) return 'token';
	const v3Only = [credentials.userDomain, credentials.projectDomain, credentials.applicationCredentialId, credentials.applicationCredentialName].some((value) => value !== undefined);
	const url = credentials.authUrl ?? '';
	if (/\/v3\/?$/.test(url) || v3Only) return '3';
	if (/\/v2(\.0)?\/?$/.test(url)) return '2';
	return '1';
}

/** Logs in and returns the storage URL and a token. Rejects with AuthError or PermanentError in words. */
export async function authenticate(credentials: SwiftCredentials, signal?: AbortSignal): Promise<SwiftSession> {
	switch (credentials.version) {
		case 'token':
			return {storageUrl: trimSlash(need(credentials.storageUrl, 'storage URL (OS_STORAGE_URL)')), token: need(credentials.token, 'token (OS_AUTH_TOKEN)')};
		case '1':
			return authenticateV1(credentials, signal);
		case '2':
			return authenticateV2(credentials, signal);
		case '3':
			return authenticateV3(credentials, signal);
	}
}

async function authenticateV1(credentials: SwiftCredentials, signal?: AbortSignal): Promise<SwiftSession> {
	const url = need(credentials.authUrl, 'authentication URL (ST_AUTH)');
	const headers = {'x-auth-user': need(credentials.user, 'user (ST_USER)'), 'x-auth-key': need(credentials.key, 'key (ST_KEY)')};
	const {response} = await callIdentity(url, {headers, signal}, 'the user and key (ST_USER, ST_KEY)', false);
	const storageUrl = response.headers.get('x-storage-url');
	const token = response.headers.get('x-auth-token');
	if (storageUrl === null || token === null) throw new PermanentError(`${url} answered without X-Storage-Url and X-Auth-Token: is it a Swift v1 authentication URL (usually ending in /auth/v1.0)?`);
	return {storageUrl: trimSlash(storageUrl), token};
}

async function authenticateV2(credentials: SwiftCredentials, signal?: AbortSignal): Promise<SwiftSession> {
	const url = `${trimSlash(need(credentials.authUrl, 'keystone URL (OS_AUTH_URL)'))}/tokens`;
	const body = {
		auth: {
			passwordCredentials: {username: need(credentials.user, 'user name (OS_USERNAME)'), password: need(credentials.key, 'password (OS_PASSWORD)')},
			...(credentials.projectId === undefined ? {} : {tenantId: credentials.projectId}),
			...(credentials.project === undefined ? {} : {tenantName: credentials.project}),
		},
	};
	const what = 'the user name, password and tenant (OS_USERNAME, OS_PASSWORD, OS_TENANT_NAME or OS_TENANT_ID)';
	const answer = (await callIdentity(url, postJson(body, signal), what, true)).body as {access?: {token?: {id?: string; expires?: string}; serviceCatalog?: CatalogEntry[]}};
	const token = answer.access?.token?.id;
	if (token === undefined) throw new PermanentError(`${url} answered without a token: is OS_AUTH_URL a keystone v2.0 URL?`);
	const storageUrl = pickEndpoint(answer.access?.serviceCatalog ?? [], credentials, url);
	return {storageUrl, token, ...readExpiry(answer.access?.token?.expires)};
}

async function authenticateV3(credentials: SwiftCredentials, signal?: AbortSignal): Promise<SwiftSession> {
	const url = `${trimSlash(need(credentials.authUrl, 'keystone URL (OS_AUTH_URL)'))}/auth/tokens`;
	const userDomain = {name: credentials.userDomain ?? 'Default'};
	let identity: unknown;
	let scope: unknown;
	if (credentials.applicationCredentialId !== undefined || credentials.applicationCredentialName !== undefined) {
		const secret = need(credentials.applicationCredentialSecret, 'application credential secret (OS_APPLICATION_CREDENTIAL_SECRET)');
		const credential =
			credentials.applicationCredentialId !== undefined
				? {id: credentials.applicationCredentialId, secret}
				: {name: credentials.applicationCredentialName, secret, user: {name: need(credentials.user, 'user name (OS_USERNAME) of the application credential'), domain: userDomain}};
		identity = {methods: ['application_credential'], application_credential: credential};
	} else {
		identity = {methods: ['password'], password: {user: {name: need(credentials.user, 'user name (OS_USERNAME)'), domain: userDomain, password: need(credentials.key, 'password (OS_PASSWORD)')}}};
		if (credentials.projectId !== undefined) scope = {project: {id: credentials.projectId}};
		else if (credentials.project !== undefined) scope = {project: {name: credentials.project, domain: {name: credentials.projectDomain ?? credentials.userDomain ?? 'Default'}}};
	}
	const body = {auth: {identity, ...(scope === undefined ? {} : {scope})}};
	const what = 'the user name, password, domains and project (OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME, OS_PROJECT_NAME, OS_PROJECT_DOMAIN_NAME) or the application credential';
	const {response, body: reply} = await callIdentity(url, postJson(body, signal), what, true);
	const answer = reply as {token?: {expires_at?: string; catalog?: CatalogEntry[]}};
	const token = response.headers.get('x-subject-token');
	if (token === null) throw new PermanentError(`${url} answered without X-Subject-Token: is OS_AUTH_URL a keystone v3 URL?`);
	const storageUrl = pickEndpoint(answer.token?.catalog ?? [], credentials, url);
	return {storageUrl, token, ...readExpiry(answer.token?.expires_at)};
}

/** The object-store endpoint of the requested region and interface, with errors that list what the catalog has. */
function pickEndpoint(catalog: readonly CatalogEntry[], credentials: SwiftCredentials, url: string): string {
	const wanted = credentials.interface ?? 'public';
	const endpoints = catalog
		.filter((entry) => entry.type === 'object-store')
		.flatMap((entry) => entry.endpoints ?? [])
		.map((endpoint) => ({
			region: endpoint['region'] ?? endpoint['region_id'] ?? '',
			url: endpoint['interface'] !== undefined ? (endpoint['interface'] === wanted ? endpoint['url'] : undefined) : endpoint[`${wanted}URL`],
		}))
		.filter((endpoint): endpoint is {region: string; url: string} => endpoint.url !== undefined);
	if (endpoints.length === 0) throw new PermanentError(`the service catalog of ${url} has no ${wanted} object-store (Swift) endpoint for this project: check the project (OS_PROJECT_NAME or OS_TENANT_NAME) and the interface`);
	const regions = [...new Set(endpoints.map((endpoint) => endpoint.region))];
	if (credentials.region === undefined) {
		if (regions.length > 1) throw new PermanentError(`the service catalog offers Swift in several regions (${regions.join(', ')}): choose one with OS_REGION_NAME or -o swift.region=…`);
		return trimSlash(endpoints[0]!.url);
	}
	const found = endpoints.find((endpoint) => endpoint.region === credentials.region);
	if (found === undefined) throw new PermanentError(`unknown region "${credentials.region}": the service catalog offers Swift only in ${regions.join(', ')}; fix OS_REGION_NAME (-o swift.region)`);
	return trimSlash(found.url);
}

/**
 * One authentication request: network failures and refusals become storage errors that name the
 * URL and `what` to check; the body is read as JSON when `json` is set.
 */
async function callIdentity(url: string, init: RequestInit, what: string, json: boolean): Promise<{response: Response; body: unknown}> {
	let response: Response;
	try {
		response = await fetch(url, init);
	} catch (error) {
		throw mapNetworkFailure(error, 'authenticate', `the Swift authentication service ${url}`);
	}
	const status = response.status;
	if (status >= 300) void response.body?.cancel();
	if (status === 401 || status === 403) throw new AuthError(`${url} refused the credentials (HTTP ${status}): check ${what}`);
	if (status === 404) throw new PermanentError(`${url} does not exist (HTTP 404): check the authentication URL and its version (ST_AUTH ends in /auth/v1.0, OS_AUTH_URL in /v2.0 or /v3)`);
	if (status >= 500 || status === 429) throw new TransientError(`${url} failed to authenticate (HTTP ${status}); a retry may succeed`);
	if (status >= 300) throw new PermanentError(`${url} failed to authenticate (HTTP ${status})`);
	if (!json) return {response, body: undefined};
	try {
		return {response, body: await response.json()};
	} catch (error) {
		throw new PermanentError(`${url} answered with something that is not JSON: is it a keystone URL?`, {cause: error});
	}
}

function postJson(body: unknown, signal?: AbortSignal): RequestInit {
	return {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body), ...(signal === undefined ? {} : {signal})};
}

function readExpiry(text: string | undefined): {expires?: Date} {
	const time = text === undefined ? Number.NaN : Date.parse(text);
	return Number.isNaN(time) ? {} : {expires: new Date(time)};
}

function need(value: string | undefined, what: string): string {
	if (value === undefined || value === '') throw new AuthError(`Swift authentication needs the ${what}`);
	return value;
}

function trimSlash(url: string): string {
	return url.replace(/\/+$/, '');
}
