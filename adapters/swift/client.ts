/**
 * The OpenStack Swift client of the object-store core: plain HTTP with `fetch` on the account's
 * storage URL (there is no well-kept Swift client for Node, and the object API is a handful of
 * calls).
 *
 * - The token comes from ./auth.ts; a 401 on any call logs in again once and repeats the call
 *   (keystone tokens expire, often mid-backup). A token given beforehand cannot be renewed.
 * - `connect` checks the container once; `checkCreate` (part of `init`) creates it when missing,
 *   with the storage policy of `-o swift.storage-policy`.
 * - Objects larger than the segment size go up as a Static Large Object: segments in the
 *   `<container>_segments` container (as the swift tool and rclone put them), then a manifest,
 *   which makes the object appear at once. Removing a manifest removes its segments.
 * - Listings page with `marker`; loads send a `Range` header.
 */

import {createHash, randomBytes} from 'node:crypto';

import {mapNetworkFailure} from '../http/status.js';
import {RangeNotSatisfiableError, type ListOptions, type ObjectCallOptions, type ObjectClient, type ObjectErrorContext, type ObjectInfo, type ObjectRange, type PutOptions} from '../object-store/client.js';
import {AuthError, NotFoundError, PermanentError, TransientError} from '../storage.js';
import {authenticate, type SwiftCredentials, type SwiftSession} from './auth.js';

/** Settings of {@link SwiftClient}. */
export interface SwiftClientSettings {
	readonly credentials: SwiftCredentials;
	readonly container: string;
	/** Policy for a container created by `init`; undefined leaves the cluster's default. */
	readonly storagePolicy?: string;
	/** Objects larger than this are stored as segments of this size; default 5 GiB, Swift's default largest object. */
	readonly segmentSize?: number;
	/** Objects per listing request; default 1000 (Swift allows up to 10,000). */
	readonly listLimit?: number;
}

/** An HTTP answer that was not a success, kept for {@link SwiftClient.mapError}. */
export class SwiftHttpError extends Error {
	constructor(
		readonly status: number,
		readonly said: string,
	) {
		super(`HTTP ${status}${said === '' ? '' : `: ${said}`}`);
		Object.defineProperty(this, 'name', {value: 'SwiftHttpError', enumerable: false});
	}
}

interface RequestOptions {
	readonly method: string;
	/** Container and object path, already encoded, e.g. `/backups/data/ab/ab12…`; empty for the account. */
	readonly path: string;
	readonly query?: Record<string, string>;
	readonly headers?: Record<string, string>;
	readonly body?: Uint8Array | string;
	readonly signal?: AbortSignal | undefined;
	/** Statuses that are answers rather than failures (besides 2xx). */
	readonly accept?: readonly number[];
}

/** See the module notes. */
export class SwiftClient implements ObjectClient {
	private current: SwiftSession | undefined;
	private pending: Promise<SwiftSession> | undefined;
	private containerMissing = false;
	private containerPolicy: string | undefined;
	private segmentsReady = false;
	private readonly segmentSize: number;

	constructor(private readonly settings: SwiftClientSettings) {
		this.segmentSize = settings.segmentSize ?? 5 * 1024 ** 3; // Swift's default max_file_size
	}

	async connect(options: ObjectCallOptions): Promise<void> {
		const answer = await this.request({method: 'HEAD', path: this.containerPath(), signal: options.signal, accept: [404]});
		this.containerMissing = answer.status === 404;
		this.containerPolicy = answer.headers.get('x-storage-policy') ?? undefined;
	}

	async checkCreate(options: ObjectCallOptions): Promise<void> {
		const policy = this.settings.storagePolicy;
		if (this.containerMissing) {
			await this.request({method: 'PUT', path: this.containerPath(), signal: options.signal, headers: policy === undefined ? {} : {'x-storage-policy': policy}});
			this.containerMissing = false;
			return;
		}
		const actual = this.containerPolicy;
		if (policy !== undefined && actual !== undefined && actual.toLowerCase() !== policy.toLowerCase()) {
			throw new PermanentError(
				`container "${this.settings.container}" already exists with storage policy "${actual}", not "${policy}"; Swift cannot change a container's policy: use a new container name or leave out -o swift.storage-policy`,
			);
		}
	}

	async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
		if (data.byteLength > this.segmentSize) {
			await this.putLargeObject(key, data, options.signal);
			return;
		}
		await this.request({method: 'PUT', path: this.objectPath(key), body: data, signal: options.signal, headers: {'content-type': options.contentType, etag: md5Hex(data)}});
	}

	async get(key: string, range: ObjectRange | undefined, options: ObjectCallOptions): Promise<Uint8Array> {
		const headers: Record<string, string> = range === undefined ? {} : {range: `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`};
		const answer = await this.request({method: 'GET', path: this.objectPath(key), headers, signal: options.signal, accept: [416]});
		if (answer.status === 416) throw new RangeNotSatisfiableError();
		return new Uint8Array(await answer.arrayBuffer());
	}

	async head(key: string, options: ObjectCallOptions): Promise<ObjectInfo> {
		const answer = await this.request({method: 'HEAD', path: this.objectPath(key), signal: options.signal});
		return {key, size: Number(answer.headers.get('content-length') ?? 0)};
	}

	async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectInfo> {
		this.checkContainer();
		const limit = Math.min(this.settings.listLimit ?? 1000, options.limit ?? Number.POSITIVE_INFINITY);
		let marker = '';
		for (;;) {
			const query: Record<string, string> = {format: 'json', prefix, limit: String(limit), ...(marker === '' ? {} : {marker})};
			const answer = await this.request({method: 'GET', path: this.containerPath(), query, signal: options.signal});
			const items = answer.status === 204 ? [] : ((await answer.json()) as Array<{name: string; bytes: number}>);
			for (const item of items) yield {key: item.name, size: item.bytes};
			// Only an empty page ends a listing: a cluster may cap pages below the limit asked for.
			if (items.length === 0 || options.limit !== undefined) return;
			marker = items.at(-1)!.name;
		}
	}

	async delete(key: string, options: ObjectCallOptions): Promise<void> {
		const answer = await this.request({method: 'HEAD', path: this.objectPath(key), query: {'multipart-manifest': 'get'}, signal: options.signal});
		const large = answer.headers.get('x-static-large-object') === 'True';
		await this.request({method: 'DELETE', path: this.objectPath(key), ...(large ? {query: {'multipart-manifest': 'delete'}} : {}), signal: options.signal});
	}

	mapError(error: unknown, context: ObjectErrorContext): Error {
		const container = this.settings.container;
		const what = context.path === undefined ? `container "${container}"` : `${context.path} in container "${container}"`;
		const action = `${context.operation} ${what}`;
		if (!(error instanceof SwiftHttpError)) return mapNetworkFailure(error, action, this.current === undefined ? 'the Swift service' : `the Swift proxy at ${new URL(this.current.storageUrl).origin}`);
		const detail = error.said === '' ? '' : ` (Swift said: ${error.said})`;
		const options = {cause: error};
		switch (error.status) {
			case 401:
				return new AuthError(`Swift refused the token while trying to ${action} (401 Unauthorized), even after logging in again: check the credentials${detail}`, options);
			case 403:
				return new AuthError(`Swift forbids this: cannot ${action} (403 Forbidden); the account lacks the permission (read and write access to the container)${detail}`, options);
			case 404:
				return new NotFoundError(`cannot ${action}: it does not exist (404)`, options);
			case 422:
				return new TransientError(`cannot ${action}: the data was damaged on the way to Swift (its MD5 did not match, 422); a retry may succeed`, options);
			case 413:
				return new PermanentError(`cannot ${action}: Swift refuses an object this large (413); lower -o swift.segment-size below the cluster's max_file_size${detail}`, options);
			case 507:
				return new PermanentError(`cannot ${action}: the Swift cluster has no space left, or the account's quota is used up (507)${detail}`, options);
			default:
				if (error.status === 408 || error.status === 429 || error.status === 498 || error.status >= 500) {
					return new TransientError(`Swift failed to ${action} (HTTP ${error.status}); a retry may succeed${detail}`, options);
				}
				return new PermanentError(`Swift refused to ${action} (HTTP ${error.status})${detail}`, options);
		}
	}

	/** A Static Large Object: segments, then the manifest; the segments are removed again when the save fails. */
	private async putLargeObject(key: string, data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
		const segments = `${this.settings.container}_segments`;
		if (!this.segmentsReady) {
			await this.request({method: 'PUT', path: `/${encodeURIComponent(segments)}`, signal});
			this.segmentsReady = true;
		}
		const folder = `${key}/slo/${Date.now()}-${randomBytes(4).toString('hex')}`;
		const manifest: Array<{path: string; etag: string; size_bytes: number}> = [];
		try {
			for (let offset = 0, index = 0; offset < data.byteLength; offset += this.segmentSize, index++) {
				const part = data.subarray(offset, Math.min(offset + this.segmentSize, data.byteLength));
				const name = `${folder}/${String(index).padStart(8, '0')}`;
				const etag = md5Hex(part);
				await this.request({method: 'PUT', path: `/${encodeURIComponent(segments)}/${encodeKey(name)}`, body: part, signal, headers: {etag}});
				manifest.push({path: `/${segments}/${name}`, etag, size_bytes: part.byteLength});
			}
			await this.request({method: 'PUT', path: this.objectPath(key), query: {'multipart-manifest': 'put'}, body: JSON.stringify(manifest), signal, headers: {'content-type': 'application/octet-stream'}});
		} catch (error) {
			for (const segment of manifest) {
				void this.request({method: 'DELETE', path: `/${encodeURIComponent(segments)}/${encodeKey(segment.path.slice(segments.length + 2))}`, signal: AbortSignal.timeout(10_000), accept: [404]}).catch(() => undefined);
			}
			throw error;
		}
	}

	/** One request with the current token; a 401 logs in again once. Non-2xx answers outside `accept` reject with {@link SwiftHttpError}. */
	private async request(options: RequestOptions): Promise<Response> {
		let session = await this.login();
		let answer = await this.send(session, options);
		if (answer.status === 401) {
			await answer.body?.cancel();
			if (this.settings.credentials.version === 'token') {
				throw new AuthError('Swift refused the token given in OS_AUTH_TOKEN (-o swift.auth-token): it has expired or is wrong; get a new token, or give credentials (user and key) so that cairn can log in itself');
			}
			session = await this.login(session);
			answer = await this.send(session, options);
		}
		if ((answer.status >= 200 && answer.status < 300) || options.accept?.includes(answer.status)) return answer;
		const said = (await answer.text().catch(() => '')).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
		throw new SwiftHttpError(answer.status, said);
	}

	private async send(session: SwiftSession, options: RequestOptions): Promise<Response> {
		const query = options.query === undefined ? '' : `?${new URLSearchParams(options.query).toString()}`;
		return fetch(`${session.storageUrl}${options.path}${query}`, {
			method: options.method,
			headers: {'x-auth-token': session.token, ...options.headers},
			...(options.body === undefined ? {} : {body: options.body}),
			...(options.signal === undefined ? {} : {signal: options.signal}),
		});
	}

	/**
	 * The current session; logs in when there is none, when it expires within a minute, or when it
	 * is the one just refused. Calls that arrive during a login share it, so it does not stop when
	 * one caller's signal fires; it has its own time limit.
	 */
	private login(refused?: SwiftSession): Promise<SwiftSession> {
		const current = this.current;
		if (current !== undefined && current !== refused && (current.expires === undefined || current.expires.getTime() - Date.now() > 60_000)) return Promise.resolve(current);
		this.pending ??= authenticate(this.settings.credentials, AbortSignal.timeout(60_000))
			.then((session) => (this.current = session))
			.finally(() => (this.pending = undefined));
		return this.pending;
	}

	private checkContainer(): void {
		if (this.containerMissing) {
			throw new NotFoundError(
				`container "${this.settings.container}" does not exist in this Swift account: check the name in the location (swift:CONTAINER:/PREFIX); cairn init creates it`,
			);
		}
	}

	private containerPath(): string {
		return `/${encodeURIComponent(this.settings.container)}`;
	}

	/** The path of an object; refuses at once when `connect` found no container. */
	private objectPath(key: string): string {
		this.checkContainer();
		return `${this.containerPath()}/${encodeKey(key)}`;
	}
}

/** Encodes each `/`-separated part of an object name. */
function encodeKey(key: string): string {
	return key.split('/').map(encodeURIComponent).join('/');
}

function md5Hex(data: Uint8Array): string {
	return createHash('md5').update(data).digest('hex');
}
