/**
 * A small OpenStack keystone for the Swift tests, following the documented Identity API:
 * - v2.0 `POST /v2.0/tokens` with `passwordCredentials` and `tenantName` or `tenantId`; the token
 *   is `access.token.id`, the catalog `access.serviceCatalog` (publicURL/internalURL/adminURL);
 * - v3 `POST /v3/auth/tokens` with the `password` method (user name and domain, project scope by
 *   name and domain or by ID) or the `application_credential` method (by ID, or by name with the
 *   user); the token is the `X-Subject-Token` header, the catalog `token.catalog`.
 * Wrong credentials get 401, a malformed request 400. The catalog has one `object-store` endpoint
 * per region, each pointing at the real Swift's storage URL; the token handed out is a tempauth
 * token this fake obtains from the real proxy, so Swift accepts it.
 */

import type {RunningSwift} from '../servers/swift.js';
import {discardBody, FakeHttpServer, readBody, sendJson, type Route} from './http.js';

/** A keystone user with a password, its domain and the projects it may scope to. */
export interface KeystoneUser {
	readonly name: string;
	readonly password: string;
	readonly domain: string;
	readonly projects: ReadonlyArray<{readonly id: string; readonly name: string; readonly domain: string}>;
}

/** A v3 application credential of a user. */
export interface KeystoneApplicationCredential {
	readonly id: string;
	readonly name: string;
	readonly secret: string;
	readonly user: string;
}

/** Settings of {@link startKeystone}. */
export interface KeystoneSettings {
	readonly swift: RunningSwift;
	readonly users: readonly KeystoneUser[];
	readonly applicationCredentials?: readonly KeystoneApplicationCredential[];
	/** Regions of the catalog; each gets an object-store endpoint. */
	readonly regions: readonly string[];
	/** Lifetime announced in `expires`/`expires_at`; default one hour. */
	readonly tokenLifetimeMs?: number;
}

/** One token this fake issued, for assertions. */
export interface IssuedToken {
	readonly version: 'v2.0' | 'v3';
	readonly method: 'password' | 'application_credential';
	readonly user: string;
	readonly project?: string;
	readonly token: string;
}

/** The fake, on the shared request and route frame (request log, scripted faults, start and stop). */
export class FakeKeystone extends FakeHttpServer {
	/** Every token issued so far, oldest first. */
	readonly issued: IssuedToken[] = [];

	constructor(private readonly settings: KeystoneSettings) {
		super('keystone');
	}

	/** `http://127.0.0.1:PORT/v2.0` */
	get v2Url(): string {
		return `${this.url}/v2.0`;
	}

	/** `http://127.0.0.1:PORT/v3` */
	get v3Url(): string {
		return `${this.url}/v3`;
	}

	/** Makes every token issued so far invalid at Swift (as if it had expired). */
	async expireTokens(): Promise<void> {
		for (const token of new Set(this.issued.map((entry) => entry.token))) await this.settings.swift.revokeToken(token);
	}

	protected async route({request, response, url}: Route): Promise<void> {
		const path = url.pathname.replace(/\/+$/, '');
		if (request.method !== 'POST' || (path !== '/v2.0/tokens' && path !== '/v3/auth/tokens')) {
			await discardBody(request);
			sendJson(response, 404, {error: {code: 404, title: 'Not Found', message: `The resource could not be found: ${request.method} ${path}`}});
			return;
		}
		let body: Record<string, any>;
		try {
			body = JSON.parse((await readBody(request)).toString('utf8')) as Record<string, any>;
		} catch {
			sendJson(response, 400, {error: {code: 400, title: 'Bad Request', message: 'Malformed request body'}});
			return;
		}
		const v2 = path === '/v2.0/tokens';
		const found = v2 ? checkV2(body, this.settings) : checkV3(body, this.settings);
		if (typeof found === 'string') {
			const status = found.startsWith('400') ? 400 : 401;
			sendJson(response, status, {error: {code: status, title: status === 400 ? 'Bad Request' : 'Unauthorized', message: found.slice(4)}});
			return;
		}
		const {storageUrl, token} = await this.settings.swift.authenticate();
		const expires = new Date(Date.now() + (this.settings.tokenLifetimeMs ?? 3_600_000)).toISOString();
		this.issued.push({version: v2 ? 'v2.0' : 'v3', method: found.method, user: found.user, ...(found.project === undefined ? {} : {project: found.project}), token});
		const regions = this.settings.regions;
		if (v2) {
			const serviceCatalog = [
				{type: 'identity', name: 'keystone', endpoints: regions.map((region) => ({region, publicURL: this.v2Url}))},
				{type: 'object-store', name: 'swift', endpoints: regions.map((region) => ({region, publicURL: storageUrl, internalURL: storageUrl, adminURL: storageUrl}))},
			];
			sendJson(response, 200, {access: {token: {id: token, expires, tenant: {id: found.project, name: found.project}}, serviceCatalog, user: {name: found.user}}});
			return;
		}
		const catalog = [
			{type: 'identity', name: 'keystone', endpoints: regions.map((region) => ({interface: 'public', region, region_id: region, url: this.v3Url}))},
			{type: 'object-store', name: 'swift', endpoints: regions.flatMap((region) => ['public', 'internal', 'admin'].map((kind) => ({interface: kind, region, region_id: region, url: storageUrl})))},
		];
		sendJson(response, 201, {token: {methods: [found.method], expires_at: expires, issued_at: new Date().toISOString(), user: {name: found.user}, catalog}}, {'x-subject-token': token});
	}
}

/** Starts the fake on a free loopback port. */
export function startKeystone(settings: KeystoneSettings): Promise<FakeKeystone> {
	return new FakeKeystone(settings).start();
}

type Found = {method: 'password' | 'application_credential'; user: string; project?: string};

/** v2.0: `{auth: {passwordCredentials: {username, password}, tenantName | tenantId}}`. */
function checkV2(body: Record<string, any>, settings: KeystoneSettings): Found | string {
	const credentials = body['auth']?.passwordCredentials;
	if (typeof credentials?.username !== 'string' || typeof credentials?.password !== 'string') return '400 Expecting to find passwordCredentials in auth';
	const user = settings.users.find((candidate) => candidate.name === credentials.username && candidate.password === credentials.password);
	if (user === undefined) return '401 Invalid user / password';
	const {tenantName, tenantId} = body['auth'] as {tenantName?: string; tenantId?: string};
	if (tenantName === undefined && tenantId === undefined) return {method: 'password', user: user.name};
	const project = user.projects.find((candidate) => candidate.name === tenantName || candidate.id === tenantId);
	if (project === undefined) return '401 User is not a member of the tenant';
	return {method: 'password', user: user.name, project: project.name};
}

/** v3: the `password` or `application_credential` identity method. */
function checkV3(body: Record<string, any>, settings: KeystoneSettings): Found | string {
	const identity = body['auth']?.identity;
	const methods = identity?.methods;
	if (!Array.isArray(methods) || methods.length !== 1) return '400 Expecting to find identity methods in auth';
	if (methods[0] === 'application_credential') {
		const given = identity.application_credential ?? {};
		const credential = (settings.applicationCredentials ?? []).find((candidate) =>
			given.id !== undefined ? candidate.id === given.id : candidate.name === given.name && candidate.user === given.user?.name,
		);
		if (credential === undefined || credential.secret !== given.secret) return '401 The request you have made requires authentication.';
		if (body['auth'].scope !== undefined) return '401 Application credentials cannot request a scope.';
		return {method: 'application_credential', user: credential.user};
	}
	if (methods[0] !== 'password') return `400 Unsupported authentication method ${String(methods[0])}`;
	const given = identity.password?.user ?? {};
	const user = settings.users.find((candidate) => candidate.name === given.name && candidate.domain === (given.domain?.name ?? given.domain?.id) && candidate.password === given.password);
	if (user === undefined) return '401 The request you have made requires authentication.';
	const scope = body['auth'].scope?.project;
	if (scope === undefined) return {method: 'password', user: user.name};
	const project = user.projects.find((candidate) => (scope.id !== undefined ? candidate.id === scope.id : candidate.name === scope.name && candidate.domain === scope.domain?.name));
	if (project === undefined) return '401 User has no access to project';
	return {method: 'password', user: user.name, project: project.name};
}
