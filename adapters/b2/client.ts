/**
 * A small client of the Backblaze B2 native API (v3) over fetch: authorization, JSON API calls,
 * uploads (single and large-file parts) and ranged downloads.
 *
 * Contract:
 * - Every failure is thrown as is: a {@link B2ApiError} for an error answer, fetch's error for a
 *   network failure, an AbortError when the signal fires. Nothing is retried here.
 * - The authorization is made on first use and kept. An `expired_auth_token` or `bad_auth_token`
 *   answer drops it, so that the next call (a retry by the retry wrapper) authorizes again.
 * - Upload URLs are pooled, one upload at a time each, as B2 asks; a URL whose upload failed is
 *   dropped (B2 says to get a new one after any failure).
 */

import {Remembered} from '../shared/remembered.js';
import {B2ApiError} from './errors.js';

/** What b2_authorize_account grants. */
export interface B2Authorization {
	readonly accountId: string;
	readonly token: string;
	readonly apiUrl: string;
	readonly downloadUrl: string;
	readonly recommendedPartSize: number;
	readonly absoluteMinimumPartSize: number;
	readonly capabilities: readonly string[];
	/** Set when the key is limited to one bucket. */
	readonly bucket?: {readonly id: string; readonly name: string};
	/** Set when the key is limited to names with this prefix. */
	readonly namePrefix?: string;
}

/** An upload URL with its token. */
export interface B2UploadTarget {
	readonly uploadUrl: string;
	readonly authorizationToken: string;
}

/** A file as the list calls describe it. */
export interface B2FileVersion {
	readonly fileId: string;
	readonly fileName: string;
	readonly action: string;
	readonly contentLength: number;
}

/** Settings of {@link B2Client}. */
export interface B2ClientSettings {
	/** Base URL of b2_authorize_account, e.g. `https://api.backblazeb2.com`. */
	readonly endpoint: string;
	readonly keyId: string;
	readonly applicationKey: string;
}

/** The B2 client; see the module comment for its contract. */
export class B2Client {
	private readonly authorization = new Remembered<B2Authorization>();
	private readonly uploadTargets = new Map<string, B2UploadTarget[]>();

	constructor(private readonly settings: B2ClientSettings) {}

	/** The current authorization, made on first use. */
	authorize(signal?: AbortSignal): Promise<B2Authorization> {
		return this.authorization.get(() => this.requestAuthorization(signal));
	}

	/** Calls a JSON API, e.g. `b2_list_file_names`, with the account token. */
	async call<T>(api: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
		const authorization = await this.authorize(signal);
		const response = await fetch(`${authorization.apiUrl}/b2api/v3/${api}`, {
			method: 'POST',
			headers: {authorization: authorization.token, 'content-type': 'application/json'},
			body: JSON.stringify(body),
			signal,
		});
		return (await this.readJson(response, api, authorization)) as T;
	}

	/** An upload URL for the bucket, from the pool or b2_get_upload_url. Give it back with {@link releaseUploadTarget} when the upload succeeded. */
	async takeUploadTarget(bucketId: string, signal?: AbortSignal): Promise<B2UploadTarget> {
		const pooled = this.uploadTargets.get(bucketId)?.pop();
		if (pooled !== undefined) return pooled;
		const answer = await this.call<{uploadUrl: string; authorizationToken: string}>('b2_get_upload_url', {bucketId}, signal);
		return {uploadUrl: answer.uploadUrl, authorizationToken: answer.authorizationToken};
	}

	/** Puts a working upload URL back into the pool. */
	releaseUploadTarget(bucketId: string, target: B2UploadTarget): void {
		const pool = this.uploadTargets.get(bucketId) ?? [];
		pool.push(target);
		this.uploadTargets.set(bucketId, pool);
	}

	/** b2_upload_file: uploads one whole file to an upload URL. */
	async uploadFile(target: B2UploadTarget, fileName: string, data: Uint8Array, sha1: string, signal?: AbortSignal): Promise<B2FileVersion> {
		const response = await fetch(target.uploadUrl, {
			method: 'POST',
			headers: {
				authorization: target.authorizationToken,
				'x-bz-file-name': encodeFileName(fileName),
				'content-type': 'application/octet-stream',
				'x-bz-content-sha1': sha1,
			},
			body: data,
			signal,
		});
		return (await this.readJson(response, 'b2_upload_file')) as B2FileVersion;
	}

	/** b2_upload_part: uploads part `partNumber` (from 1) of a large file. */
	async uploadPart(target: B2UploadTarget, partNumber: number, data: Uint8Array, sha1: string, signal?: AbortSignal): Promise<void> {
		const response = await fetch(target.uploadUrl, {
			method: 'POST',
			headers: {authorization: target.authorizationToken, 'x-bz-part-number': String(partNumber), 'x-bz-content-sha1': sha1},
			body: data,
			signal,
		});
		await this.readJson(response, 'b2_upload_part');
	}

	/**
	 * b2_download_file_by_name, with a `Range` header when `range` is given. Resolves with the
	 * bytes and the response headers.
	 */
	async download(bucketName: string, fileName: string, range: string | undefined, signal?: AbortSignal): Promise<{data: Uint8Array; headers: Headers}> {
		const authorization = await this.authorize(signal);
		const response = await fetch(`${authorization.downloadUrl}/file/${encodeURIComponent(bucketName)}/${encodeFileName(fileName)}`, {
			headers: {authorization: authorization.token, ...(range === undefined ? {} : {range})},
			signal,
		});
		if (!response.ok) await this.readJson(response, 'b2_download_file_by_name', authorization);
		return {data: new Uint8Array(await response.arrayBuffer()), headers: response.headers};
	}

	private async requestAuthorization(signal?: AbortSignal): Promise<B2Authorization> {
		const basic = Buffer.from(`${this.settings.keyId}:${this.settings.applicationKey}`).toString('base64');
		const response = await fetch(`${this.settings.endpoint.replace(/\/+$/, '')}/b2api/v3/b2_authorize_account`, {headers: {authorization: `Basic ${basic}`}, signal});
		const answer = (await this.readJson(response, 'b2_authorize_account')) as AuthorizeAnswer;
		const storage = answer.apiInfo?.storageApi;
		if (storage === undefined || typeof answer.authorizationToken !== 'string' || typeof storage.apiUrl !== 'string') {
			throw new B2ApiError(response.status, 'bad_response', 'b2_authorize_account answered without apiInfo.storageApi; is the endpoint a B2 API server?', 'b2_authorize_account');
		}
		// Keys limited to buckets: `allowed.buckets` (multi-bucket keys) or `bucketId`/`bucketName` (2021 form).
		const allowed = storage.allowed;
		const limitedTo = allowed?.buckets?.length === 1 ? allowed.buckets[0] : storage.bucketId ? {id: storage.bucketId, name: storage.bucketName ?? ''} : undefined;
		const namePrefix = allowed?.namePrefix ?? storage.namePrefix ?? undefined;
		return {
			accountId: answer.accountId,
			token: answer.authorizationToken,
			apiUrl: storage.apiUrl.replace(/\/+$/, ''),
			downloadUrl: (storage.downloadUrl ?? storage.apiUrl).replace(/\/+$/, ''),
			recommendedPartSize: storage.recommendedPartSize ?? 100_000_000,
			absoluteMinimumPartSize: storage.absoluteMinimumPartSize ?? 5_000_000,
			capabilities: allowed?.capabilities ?? storage.capabilities ?? [],
			...(limitedTo === undefined || limitedTo === null ? {} : {bucket: {id: limitedTo.id, name: limitedTo.name ?? ''}}),
			...(namePrefix === undefined || namePrefix === null ? {} : {namePrefix}),
		};
	}

	/** The JSON of a 2xx answer, or a thrown {@link B2ApiError}; drops an expired authorization. */
	private async readJson(response: Response, api: string, authorization?: B2Authorization): Promise<unknown> {
		const text = await response.text();
		let body: {status?: unknown; code?: unknown; message?: unknown} | undefined;
		try {
			body = text === '' ? undefined : (JSON.parse(text) as typeof body);
		} catch {
			body = undefined;
		}
		if (response.ok) {
			if (body === undefined) throw new B2ApiError(response.status, 'bad_response', 'the answer is not JSON', api);
			return body;
		}
		const code = typeof body?.code === 'string' ? body.code : `http_${response.status}`;
		const message = typeof body?.message === 'string' ? body.message : response.statusText;
		if (authorization !== undefined && (code === 'expired_auth_token' || code === 'bad_auth_token')) {
			this.authorization.forgetIf((kept) => kept === authorization);
		}
		throw new B2ApiError(response.status, code, message, api);
	}
}

interface AuthorizeAnswer {
	accountId: string;
	authorizationToken: string;
	apiInfo?: {
		storageApi?: {
			apiUrl: string;
			downloadUrl?: string;
			recommendedPartSize?: number;
			absoluteMinimumPartSize?: number;
			capabilities?: string[];
			bucketId?: string | null;
			bucketName?: string | null;
			namePrefix?: string | null;
			allowed?: {buckets?: Array<{id: string; name?: string | null}> | null; capabilities?: string[]; namePrefix?: string | null};
		};
	};
}

/** Percent-encodes a file name for `X-Bz-File-Name` and download URLs; `/` stays as is. */
export function encodeFileName(name: string): string {
	return encodeURIComponent(name).replace(/%2F/g, '/');
}
