/**
 * A fake Backblaze B2 server implementing the native API calls (v3) cairn's B2 adapter makes, as
 * Backblaze documents them (https://www.backblaze.com/apidocs):
 *
 * - `GET  /b2api/v3/b2_authorize_account` with HTTP Basic `keyId:applicationKey`
 * - `POST /b2api/v3/b2_list_buckets`, `b2_get_upload_url`, `b2_start_large_file`,
 *   `b2_get_upload_part_url`, `b2_finish_large_file`, `b2_cancel_large_file`,
 *   `b2_list_file_names`, `b2_list_file_versions`, `b2_hide_file`, `b2_delete_file_version`
 *   (JSON bodies, the account authorization token in `Authorization`)
 * - `POST <uploadUrl>` (b2_upload_file: `X-Bz-File-Name`, `X-Bz-Content-Sha1`, `Content-Length`)
 *   and `POST <partUploadUrl>` (b2_upload_part: `X-Bz-Part-Number`, `X-Bz-Content-Sha1`)
 * - `GET|HEAD /file/{bucketName}/{fileName}` (b2_download_file_by_name) with `Range`
 *
 * Keys have capabilities and may be restricted to one bucket and a name prefix; missing ones get
 * 401 `unauthorized`. Errors use B2's `{"status", "code", "message"}` body. Each upload URL takes
 * one upload at a time. Tokens can be expired and faults scripted.
 */
import {createHash, randomBytes} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';

import {discardBody, FakeHttpServer, parseRangeHeader, readBody, sendJson, type Route} from './http.js';

/** Capabilities of an application key (the ones the fake checks). */
export type B2Capability = 'listBuckets' | 'listFiles' | 'readFiles' | 'writeFiles' | 'deleteFiles';

export const ALL_B2_CAPABILITIES: readonly B2Capability[] = ['listBuckets', 'listFiles', 'readFiles', 'writeFiles', 'deleteFiles'];

/** An application key the fake accepts. */
export interface FakeB2Key {
	readonly keyId: string;
	readonly applicationKey: string;
	readonly capabilities: readonly B2Capability[];
	/** Restricts the key to one bucket (by name). */
	readonly bucketName?: string;
	/** Restricts the key to file names with this prefix. */
	readonly namePrefix?: string;
}

/** One version of a file, as the fake stores it. */
export interface FakeB2Version {
	readonly fileId: string;
	readonly fileName: string;
	readonly action: 'upload' | 'hide' | 'start';
	readonly data: Buffer;
	readonly contentSha1: string;
	readonly contentType: string;
	readonly fileInfo: Record<string, string>;
	readonly uploadTimestamp: number;
	/** How the bytes arrived. */
	readonly via: 'b2_upload_file' | 'large file' | 'hide';
}

interface FakeBucket {
	readonly id: string;
	readonly name: string;
	/** Every version of every file, in upload order. */
	readonly versions: FakeB2Version[];
}

interface LargeFile {
	readonly bucket: FakeBucket;
	readonly fileId: string;
	readonly fileName: string;
	readonly contentType: string;
	readonly fileInfo: Record<string, string>;
	readonly parts: Map<number, {data: Buffer; sha1: string}>;
}

interface Token {
	readonly key: FakeB2Key;
	expired: boolean;
}

const NAME_LIMIT_BYTES = 1024;

/** The API calls the fake answers (after b2_authorize_account and the upload and download URLs). */
const B2_CALLS = new Set([
	'b2_list_buckets', 'b2_get_upload_url', 'b2_start_large_file', 'b2_get_upload_part_url', 'b2_finish_large_file',
	'b2_cancel_large_file', 'b2_list_file_names', 'b2_list_file_versions', 'b2_hide_file', 'b2_delete_file_version',
]);

/** A running fake B2 server. */
export class FakeB2Server extends FakeHttpServer {
	readonly accountId = randomBytes(6).toString('hex');
	/** Least size of a large file's parts, except the last (B2's absoluteMinimumPartSize). */
	absoluteMinimumPartSize = 5_000_000;
	/** What b2_authorize_account recommends. */
	recommendedPartSize = 100_000_000;
	private readonly keys: FakeB2Key[] = [];
	private readonly buckets = new Map<string, FakeBucket>();
	private readonly tokens = new Map<string, Token>();
	private readonly uploadUrls = new Map<string, {token: string; key: FakeB2Key; bucket?: FakeBucket; large?: LargeFile; busy: boolean}>();
	private readonly largeFiles = new Map<string, LargeFile>();
	private clock = Date.now();

	constructor() {
		// The log holds `METHOD path status`: B2 calls carry their arguments in the body.
		super('B2', {logQuery: false});
	}

	addKey(key: FakeB2Key): void {
		this.keys.push(key);
	}

	addBucket(name: string): void {
		if (!this.buckets.has(name)) this.buckets.set(name, {id: randomBytes(12).toString('hex'), name, versions: []});
	}

	/** Makes every token issued so far expired, as after 24 hours. */
	expireTokens(): void {
		for (const token of this.tokens.values()) token.expired = true;
	}

	/** Every version of every file in a bucket, oldest first. */
	listVersions(bucketName: string): readonly FakeB2Version[] {
		return this.buckets.get(bucketName)?.versions ?? [];
	}

	/** Stores a file directly, as another program would have uploaded it. */
	addFile(bucketName: string, fileName: string, data: Buffer): void {
		const bucket = this.buckets.get(bucketName);
		if (bucket === undefined) throw new Error(`no bucket ${bucketName}`);
		bucket.versions.push({fileId: makeFileId(), fileName, action: 'upload', data, contentSha1: sha1Hex(data), contentType: 'application/octet-stream', fileInfo: {}, uploadTimestamp: this.tick(), via: 'b2_upload_file'});
	}

	/** Large files started and neither finished nor cancelled. */
	countUnfinishedLargeFiles(): number {
		return this.largeFiles.size;
	}

	protected async route({request, response, url}: Route): Promise<void> {
		if (url.pathname === '/b2api/v3/b2_authorize_account' && request.method === 'GET') return this.authorize(request, response);
		const upload = /^\/b2api\/v3\/upload\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
		if (upload !== null && request.method === 'POST') return this.receiveUpload(upload[1]!, request, response);
		if (url.pathname.startsWith('/file/') && (request.method === 'GET' || request.method === 'HEAD')) return this.download(url, request, response);
		const api = /^\/b2api\/v3\/(b2_[a-z_]+)$/.exec(url.pathname);
		if (api === null || request.method !== 'POST') {
			await discardBody(request);
			return sendB2Error(response, 404, 'not_found', `no such API: ${request.method} ${url.pathname}`);
		}
		const body = await readBody(request);
		const token = this.checkToken(request, response);
		if (token === undefined) return;
		let json: Record<string, unknown>;
		try {
			json = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
		} catch {
			return sendB2Error(response, 400, 'bad_request', 'request body is not valid JSON');
		}
		if (!B2_CALLS.has(api[1]!)) return sendB2Error(response, 404, 'not_found', `unknown API ${api[1]}`);
		// Each call is answered by the method of its name in camel case (b2_list_buckets: listBuckets).
		const method = api[1]!.replace(/^b2_/, '').replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
		const answer = (this as unknown as Record<string, (call: ApiCall) => Promise<void> | void>)[method]!;
		return answer.call(this, new ApiCall(json, token.key, response));
	}

	private authorize(request: IncomingMessage, response: ServerResponse): void {
		const header = request.headers.authorization ?? '';
		const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
		if (match === null) return sendB2Error(response, 401, 'bad_auth_token', 'Authorization header must be Basic base64(keyId:applicationKey)');
		const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		const key = this.keys.find((candidate) => candidate.keyId === decoded.slice(0, colon) && candidate.applicationKey === decoded.slice(colon + 1));
		if (colon < 0 || key === undefined) return sendB2Error(response, 401, 'unauthorized', '');
		const authorizationToken = `4_${randomBytes(24).toString('hex')}`;
		this.tokens.set(authorizationToken, {key, expired: false});
		const bucket = key.bucketName === undefined ? undefined : this.buckets.get(key.bucketName);
		sendJson(response, 200, {
			accountId: this.accountId,
			authorizationToken,
			applicationKeyExpirationTimestamp: null,
			apiInfo: {
				storageApi: {
					infoType: 'storageApi',
					apiUrl: this.url,
					downloadUrl: this.url,
					s3ApiUrl: 'https://s3.us-west-004.backblazeb2.com',
					recommendedPartSize: this.recommendedPartSize,
					absoluteMinimumPartSize: this.absoluteMinimumPartSize,
					bucketId: bucket?.id ?? null,
					bucketName: key.bucketName ?? null,
					capabilities: key.capabilities,
					namePrefix: key.namePrefix ?? null,
				},
			},
		});
	}

	/** The account token of a request, or undefined after answering 401. */
	private checkToken(request: IncomingMessage, response: ServerResponse): Token | undefined {
		const header = request.headers.authorization;
		if (header === undefined) {
			sendB2Error(response, 401, 'bad_auth_token', 'missing Authorization header');
			return undefined;
		}
		const token = this.tokens.get(header);
		if (token === undefined) {
			sendB2Error(response, 401, 'bad_auth_token', 'Invalid authorization token');
			return undefined;
		}
		if (token.expired) {
			sendB2Error(response, 401, 'expired_auth_token', 'Authorization token has expired');
			return undefined;
		}
		return token;
	}

	private listBuckets(call: ApiCall): void {
		if (!call.require('accountId') || !call.allow('listBuckets')) return;
		if (call.body['accountId'] !== this.accountId) return call.fail(401, 'unauthorized', 'accountId does not match the authorization');
		const name = call.body['bucketName'];
		if (call.key.bucketName !== undefined && name !== call.key.bucketName && call.body['bucketId'] === undefined) {
			return call.fail(401, 'unauthorized', `application key is restricted to bucket ${call.key.bucketName}`);
		}
		const buckets = [...this.buckets.values()].filter((bucket) => (name === undefined || bucket.name === name) && (call.body['bucketId'] === undefined || bucket.id === call.body['bucketId']));
		sendJson(call.response, 200, {buckets: buckets.map((bucket) => ({accountId: this.accountId, bucketId: bucket.id, bucketName: bucket.name, bucketType: 'allPrivate', bucketInfo: {}, revision: 1}))});
	}

	private getUploadUrl(call: ApiCall): void {
		if (!call.require('bucketId') || !call.allow('writeFiles')) return;
		const bucket = this.findBucket(call);
		if (bucket === undefined) return;
		const id = randomBytes(12).toString('hex');
		const token = `4_${randomBytes(24).toString('hex')}`;
		this.uploadUrls.set(id, {token, key: call.key, bucket, busy: false});
		sendJson(call.response, 200, {bucketId: bucket.id, uploadUrl: `${this.url}/b2api/v3/upload/${id}`, authorizationToken: token});
	}

	private startLargeFile(call: ApiCall): void {
		if (!call.require('bucketId', 'fileName', 'contentType') || !call.allow('writeFiles')) return;
		const bucket = this.findBucket(call);
		if (bucket === undefined) return;
		const fileName = String(call.body['fileName']);
		if (!checkFileName(call.response, fileName) || !call.allowName(fileName)) return;
		const fileId = makeFileId();
		const fileInfo = (call.body['fileInfo'] ?? {}) as Record<string, string>;
		this.largeFiles.set(fileId, {bucket, fileId, fileName, contentType: String(call.body['contentType']), fileInfo, parts: new Map()});
		sendJson(call.response, 200, {accountId: this.accountId, action: 'start', bucketId: bucket.id, contentType: call.body['contentType'], fileId, fileInfo, fileName, uploadTimestamp: this.tick()});
	}

	private getUploadPartUrl(call: ApiCall): void {
		if (!call.require('fileId') || !call.allow('writeFiles')) return;
		const large = this.largeFiles.get(String(call.body['fileId']));
		if (large === undefined) return call.fail(400, 'bad_request', `no such large file in progress: ${String(call.body['fileId'])}`);
		const id = randomBytes(12).toString('hex');
		const token = `4_${randomBytes(24).toString('hex')}`;
		this.uploadUrls.set(id, {token, key: call.key, large, busy: false});
		sendJson(call.response, 200, {fileId: large.fileId, uploadUrl: `${this.url}/b2api/v3/upload/${id}`, authorizationToken: token});
	}

	private finishLargeFile(call: ApiCall): void {
		if (!call.require('fileId', 'partSha1Array') || !call.allow('writeFiles')) return;
		const large = this.largeFiles.get(String(call.body['fileId']));
		if (large === undefined) return call.fail(400, 'bad_request', `no such large file in progress: ${String(call.body['fileId'])}`);
		const sha1s = call.body['partSha1Array'];
		if (!Array.isArray(sha1s)) return call.fail(400, 'bad_request', 'partSha1Array must be a list');
		if (sha1s.length < 2) return call.fail(400, 'bad_request', 'large files must have at least 2 parts');
		if (sha1s.length !== large.parts.size) return call.fail(400, 'bad_request', `partSha1Array has ${sha1s.length} entries, but ${large.parts.size} parts were uploaded`);
		const pieces: Buffer[] = [];
		for (let number = 1; number <= sha1s.length; number++) {
			const part = large.parts.get(number);
			if (part === undefined) return call.fail(400, 'bad_request', `part ${number} is missing`);
			if (part.sha1 !== sha1s[number - 1]) return call.fail(400, 'bad_request', `sha1 of part ${number} does not match`);
			if (number < sha1s.length && part.data.length < this.absoluteMinimumPartSize) {
				return call.fail(400, 'bad_request', `Part number ${number} is smaller than the minimum part size (${this.absoluteMinimumPartSize})`);
			}
			pieces.push(part.data);
		}
		const data = Buffer.concat(pieces);
		const declared = large.fileInfo['large_file_sha1'];
		if (declared !== undefined && declared !== sha1Hex(data)) return call.fail(400, 'bad_request', 'large_file_sha1 does not match the parts');
		this.largeFiles.delete(large.fileId);
		const version: FakeB2Version = {fileId: large.fileId, fileName: large.fileName, action: 'upload', data, contentSha1: 'none', contentType: large.contentType, fileInfo: large.fileInfo, uploadTimestamp: this.tick(), via: 'large file'};
		large.bucket.versions.push(version);
		sendJson(call.response, 200, this.describe(large.bucket, version));
	}

	private cancelLargeFile(call: ApiCall): void {
		if (!call.require('fileId') || !call.allow('writeFiles')) return;
		const large = this.largeFiles.get(String(call.body['fileId']));
		if (large === undefined) return call.fail(400, 'bad_request', `no such large file in progress: ${String(call.body['fileId'])}`);
		this.largeFiles.delete(large.fileId);
		sendJson(call.response, 200, {accountId: this.accountId, bucketId: large.bucket.id, fileId: large.fileId, fileName: large.fileName});
	}

	/** The bucket and page of a listing call, or undefined after answering an error. */
	private openListing(call: ApiCall): {bucket: FakeBucket; page: NonNullable<ReturnType<typeof readPage>>} | undefined {
		if (!call.require('bucketId') || !call.allow('listFiles')) return undefined;
		const bucket = this.findBucket(call);
		const page = bucket === undefined ? undefined : readPage(call);
		return bucket === undefined || page === undefined ? undefined : {bucket, page};
	}

	private listFileNames(call: ApiCall): void {
		const listing = this.openListing(call);
		if (listing === undefined) return;
		const {bucket, page} = listing;
		const latest = new Map<string, FakeB2Version>();
		for (const version of bucket.versions) latest.set(version.fileName, version);
		const names = [...latest.keys()]
			.filter((name) => latest.get(name)!.action === 'upload' && name.startsWith(page.prefix) && (page.startFileName === undefined || name >= page.startFileName))
			.sort(compareNames);
		if (!call.allowListing(page.prefix)) return;
		const shown = names.slice(0, page.max);
		sendJson(call.response, 200, {files: shown.map((name) => this.describe(bucket, latest.get(name)!)), nextFileName: names.length > shown.length ? names[shown.length] : null});
	}

	private listFileVersions(call: ApiCall): void {
		const listing = this.openListing(call);
		if (listing === undefined) return;
		const {bucket, page} = listing;
		if (!call.allowListing(page.prefix)) return;
		// By name, then newest first.
		const versions = bucket.versions
			.map((version, index) => ({version, index}))
			.filter(({version}) => version.fileName.startsWith(page.prefix) && (page.startFileName === undefined || version.fileName >= page.startFileName))
			.sort((a, b) => compareNames(a.version.fileName, b.version.fileName) || b.index - a.index)
			.map(({version}) => version);
		const startId = call.body['startFileId'];
		const from = typeof startId === 'string' ? Math.max(0, versions.findIndex((version) => version.fileId === startId)) : 0;
		const shown = versions.slice(from, from + page.max);
		const next = versions[from + shown.length];
		sendJson(call.response, 200, {files: shown.map((version) => this.describe(bucket, version)), nextFileName: next?.fileName ?? null, nextFileId: next?.fileId ?? null});
	}

	private hideFile(call: ApiCall): void {
		if (!call.require('bucketId', 'fileName') || !call.allow('writeFiles')) return;
		const bucket = this.findBucket(call);
		if (bucket === undefined) return;
		const fileName = String(call.body['fileName']);
		if (!call.allowName(fileName)) return;
		const latest = bucket.versions.filter((version) => version.fileName === fileName).at(-1);
		if (latest === undefined || latest.action !== 'upload') return call.fail(400, 'bad_request', `file not present: ${fileName}`);
		const version: FakeB2Version = {fileId: makeFileId(), fileName, action: 'hide', data: Buffer.alloc(0), contentSha1: 'none', contentType: 'application/x-bz-hide-marker', fileInfo: {}, uploadTimestamp: this.tick(), via: 'hide'};
		bucket.versions.push(version);
		sendJson(call.response, 200, this.describe(bucket, version));
	}

	private deleteFileVersion(call: ApiCall): void {
		if (!call.require('fileName', 'fileId') || !call.allow('deleteFiles')) return;
		const fileName = String(call.body['fileName']);
		if (!call.allowName(fileName)) return;
		for (const bucket of this.buckets.values()) {
			const index = bucket.versions.findIndex((version) => version.fileId === call.body['fileId']);
			if (index < 0) continue;
			if (bucket.versions[index]!.fileName !== fileName) return call.fail(400, 'bad_request', 'fileName does not match the fileId');
			if (call.key.bucketName !== undefined && call.key.bucketName !== bucket.name) return call.fail(401, 'unauthorized', 'not allowed for this bucket');
			bucket.versions.splice(index, 1);
			sendJson(call.response, 200, {fileId: call.body['fileId'], fileName});
			return;
		}
		call.fail(400, 'file_not_present', `File not present: ${fileName} ${String(call.body['fileId'])}`);
	}

	private async receiveUpload(id: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
		const target = this.uploadUrls.get(id);
		if (target === undefined) {
			await discardBody(request);
			return sendB2Error(response, 400, 'bad_request', 'unknown upload URL');
		}
		if (target.busy) {
			await discardBody(request);
			return sendB2Error(response, 503, 'service_unavailable', 'upload URL is busy with another upload; get a new upload URL');
		}
		target.busy = true;
		let body: Buffer;
		try {
			body = await readBody(request);
		} catch {
			target.busy = false;
			return; // The client went away: nothing is stored.
		} finally {
			target.busy = false;
		}
		if (request.headers.authorization !== target.token) return sendB2Error(response, 401, 'bad_auth_token', 'the upload authorization token does not belong to this upload URL');
		const length = request.headers['content-length'];
		if (length === undefined) return sendB2Error(response, 400, 'bad_request', 'Missing header: Content-Length');
		if (Number(length) !== body.length) return sendB2Error(response, 400, 'bad_request', 'Content-Length does not match the bytes received');
		const sha1 = request.headers['x-bz-content-sha1'];
		if (typeof sha1 !== 'string') return sendB2Error(response, 400, 'bad_request', 'Missing header: X-Bz-Content-Sha1');
		if (sha1 !== 'do_not_verify' && sha1 !== sha1Hex(body)) return sendB2Error(response, 400, 'bad_request', 'Sha1 did not match data received');
		const key = target.key;
		if (target.large !== undefined) {
			const number = Number(request.headers['x-bz-part-number']);
			if (!Number.isInteger(number) || number < 1 || number > 10_000) return sendB2Error(response, 400, 'bad_request', 'X-Bz-Part-Number must be a whole number from 1 to 10000');
			if (!this.largeFiles.has(target.large.fileId)) return sendB2Error(response, 400, 'bad_request', 'the large file was finished or cancelled');
			target.large.parts.set(number, {data: body, sha1: sha1Hex(body)});
			sendJson(response, 200, {fileId: target.large.fileId, partNumber: number, contentLength: body.length, contentSha1: sha1Hex(body), uploadTimestamp: this.tick()});
			return;
		}
		const encoded = request.headers['x-bz-file-name'];
		if (typeof encoded !== 'string') return sendB2Error(response, 400, 'bad_request', 'Missing header: X-Bz-File-Name');
		let fileName: string;
		try {
			fileName = decodeURIComponent(encoded.replace(/\+/g, ' '));
		} catch {
			return sendB2Error(response, 400, 'bad_request', 'X-Bz-File-Name is not percent-encoded UTF-8');
		}
		if (!checkFileName(response, fileName)) return;
		if (key.namePrefix !== undefined && !fileName.startsWith(key.namePrefix)) return sendB2Error(response, 401, 'unauthorized', `application key is restricted to names starting with ${key.namePrefix}`);
		const contentType = request.headers['content-type'];
		if (contentType === undefined) return sendB2Error(response, 400, 'bad_request', 'Missing header: Content-Type');
		const fileInfo: Record<string, string> = {};
		for (const [name, value] of Object.entries(request.headers)) if (name.startsWith('x-bz-info-') && typeof value === 'string') fileInfo[name.slice(10)] = decodeURIComponent(value);
		const version: FakeB2Version = {fileId: makeFileId(), fileName, action: 'upload', data: body, contentSha1: sha1Hex(body), contentType: contentType === 'b2/x-auto' ? 'application/octet-stream' : contentType, fileInfo, uploadTimestamp: this.tick(), via: 'b2_upload_file'};
		target.bucket!.versions.push(version);
		sendJson(response, 200, this.describe(target.bucket!, version));
	}

	private download(url: URL, request: IncomingMessage, response: ServerResponse): void {
		const token = this.checkToken(request, response);
		if (token === undefined) return;
		const rest = url.pathname.slice('/file/'.length);
		const slash = rest.indexOf('/');
		const bucketName = decodeURIComponent(rest.slice(0, slash));
		const fileName = decodeURIComponent(rest.slice(slash + 1));
		if (!token.key.capabilities.includes('readFiles')) return sendB2Error(response, 401, 'unauthorized', 'application key lacks the readFiles capability');
		if (token.key.bucketName !== undefined && token.key.bucketName !== bucketName) return sendB2Error(response, 401, 'unauthorized', `application key is restricted to bucket ${token.key.bucketName}`);
		if (token.key.namePrefix !== undefined && !fileName.startsWith(token.key.namePrefix)) return sendB2Error(response, 401, 'unauthorized', `application key is restricted to names starting with ${token.key.namePrefix}`);
		const bucket = this.buckets.get(bucketName);
		if (bucket === undefined) return sendB2Error(response, 404, 'not_found', `bucket ${bucketName} does not exist`);
		const version = bucket.versions.filter((candidate) => candidate.fileName === fileName).at(-1);
		if (version === undefined || version.action !== 'upload') return sendB2Error(response, 404, 'not_found', 'File with such name does not exist.');
		const headers: Record<string, string | number> = {
			'content-type': version.contentType,
			'x-bz-file-name': encodeURIComponent(version.fileName).replace(/%2F/g, '/'),
			'x-bz-file-id': version.fileId,
			'x-bz-content-sha1': version.contentSha1,
			'x-bz-upload-timestamp': version.uploadTimestamp,
			'accept-ranges': 'bytes',
		};
		for (const [name, value] of Object.entries(version.fileInfo)) headers[`x-bz-info-${name}`] = encodeURIComponent(value);
		const range = parseRangeHeader(request.headers.range, version.data.length);
		if (range === 'unsatisfiable') return sendB2Error(response, 416, 'range_not_satisfiable', `The range requested is not satisfiable for a file of ${version.data.length} bytes`);
		const slice = range === undefined ? version.data : version.data.subarray(range.start, range.end + 1);
		if (range !== undefined) headers['content-range'] = `bytes ${range.start}-${range.end}/${version.data.length}`;
		response.writeHead(range === undefined ? 200 : 206, {...headers, 'content-length': slice.length});
		response.end(request.method === 'HEAD' ? undefined : slice);
	}

	private findBucket(call: ApiCall): FakeBucket | undefined {
		const bucket = [...this.buckets.values()].find((candidate) => candidate.id === call.body['bucketId']);
		if (bucket === undefined) {
			call.fail(400, 'bad_request', `Invalid bucketId: ${String(call.body['bucketId'])}`);
			return undefined;
		}
		if (call.key.bucketName !== undefined && call.key.bucketName !== bucket.name) {
			call.fail(401, 'unauthorized', `application key is restricted to bucket ${call.key.bucketName}`);
			return undefined;
		}
		return bucket;
	}

	private describe(bucket: FakeBucket, version: FakeB2Version): Record<string, unknown> {
		return {
			accountId: this.accountId,
			action: version.action,
			bucketId: bucket.id,
			contentLength: version.data.length,
			contentSha1: version.contentSha1,
			contentType: version.contentType,
			fileId: version.fileId,
			fileInfo: version.fileInfo,
			fileName: version.fileName,
			uploadTimestamp: version.uploadTimestamp,
		};
	}

	private tick(): number {
		this.clock += 1;
		return this.clock;
	}
}

/** One JSON API call: its body, the caller's key, and the response to answer on. */
class ApiCall {
	constructor(readonly body: Record<string, unknown>, readonly key: FakeB2Key, readonly response: ServerResponse) {}

	/** Answers 400 for the first missing required field. */
	require(...fields: string[]): boolean {
		for (const field of fields) {
			if (this.body[field] === undefined || this.body[field] === null || this.body[field] === '') {
				this.fail(400, 'bad_request', `required field ${field} is missing`);
				return false;
			}
		}
		return true;
	}

	/** Answers 401 when the key lacks a capability. */
	allow(capability: B2Capability): boolean {
		if (this.key.capabilities.includes(capability)) return true;
		this.fail(401, 'unauthorized', `application key lacks the ${capability} capability`);
		return false;
	}

	/** Answers 401 when the key's name prefix does not allow `name`. */
	allowName(name: string): boolean {
		if (this.key.namePrefix === undefined || name.startsWith(this.key.namePrefix)) return true;
		this.fail(401, 'unauthorized', `application key is restricted to names starting with ${this.key.namePrefix}`);
		return false;
	}

	/** A listing with a name-prefix key must ask for a prefix inside the allowed one. */
	allowListing(prefix: string): boolean {
		if (this.key.namePrefix === undefined || prefix.startsWith(this.key.namePrefix)) return true;
		this.fail(401, 'unauthorized', `application key is restricted to names starting with ${this.key.namePrefix}; list with that prefix`);
		return false;
	}

	fail(status: number, code: string, message: string): void {
		sendB2Error(this.response, status, code, message);
	}
}

/** Paging fields of the list calls; undefined after answering 400. */
function readPage(call: ApiCall): {prefix: string; startFileName?: string; max: number} | undefined {
	const max = call.body['maxFileCount'] === undefined ? 100 : Number(call.body['maxFileCount']);
	if (!Number.isInteger(max) || max < 1 || max > 10_000) {
		call.fail(400, 'bad_request', 'maxFileCount out of range: it must be from 1 to 10000');
		return undefined;
	}
	const prefix = typeof call.body['prefix'] === 'string' ? call.body['prefix'] : '';
	const start = call.body['startFileName'];
	return {prefix, max, ...(typeof start === 'string' ? {startFileName: start} : {})};
}

/** B2 orders names by their UTF-8 bytes. */
function compareNames(a: string, b: string): number {
	return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** B2's file name rules: UTF-8, at most 1024 bytes, no control characters, no leading slash, no `//`. */
function checkFileName(response: ServerResponse, name: string): boolean {
	let problem: string | undefined;
	if (name === '') problem = 'file name is empty';
	else if (Buffer.byteLength(name) > NAME_LIMIT_BYTES) problem = 'file name is longer than 1024 bytes';
	else if (/[\u0000-\u001f\u007f]/.test(name)) problem = 'file name contains control characters';
	else if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) problem = 'file names must not start or end with "/" or contain "//"';
	if (problem === undefined) return true;
	sendB2Error(response, 400, 'bad_request', problem);
	return false;
}

function makeFileId(): string {
	return `4_z${randomBytes(12).toString('hex')}_f${randomBytes(10).toString('hex')}`;
}

function sha1Hex(data: Uint8Array): string {
	return createHash('sha1').update(data).digest('hex');
}

function sendB2Error(response: ServerResponse, status: number, code: string, message: string): void {
	sendJson(response, status, {status, code, message});
}

/** B2's error body, for scripted faults. */
export function makeB2ErrorBody(status: number, code: string, message: string): unknown {
	return {status, code, message};
}
