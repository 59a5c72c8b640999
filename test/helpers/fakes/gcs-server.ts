/**
 * A fake Google Cloud Storage server implementing the JSON API calls cairn's GCS adapter makes,
 * as Google documents them (https://cloud.google.com/storage/docs/json_api):
 *
 * - `GET  /storage/v1/b/{bucket}` (buckets.get)
 * - `GET  /storage/v1/b/{bucket}/o?prefix&maxResults&pageToken` (objects.list)
 * - `GET  /storage/v1/b/{bucket}/o/{object}` (objects.get), with `alt=media` and `Range` for data
 * - `DELETE /storage/v1/b/{bucket}/o/{object}` (objects.delete)
 * - `POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart` (a multipart/related body)
 * - `POST /upload/storage/v1/b/{bucket}/o?uploadType=resumable`, then `PUT` chunks to the
 *   session URI with `Content-Range` (308 with `Range` until the last chunk), `DELETE` to cancel
 *
 * Every API request must carry a self-signed JWT of a registered service account with a storage
 * scope; each account has a set of IAM permissions, and a missing one gets Google's 403 message
 * naming it. Errors use Google's JSON error body. Faults can be scripted per request.
 */
import {createHash} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';

import {answerIncomplete, answerSessionStarted, countOpenSessions, discardBody, FakeHttpServer, parseContentRange, parseRangeHeader, openSession, readBody, readSessionChunk, sendContent, sendJson, type Route} from './http.js';
import {encodeCrc32c} from './crc32c.js';
import {readMultipartUpload} from './multipart.js';
import {checkBearerToken, type FakeServiceAccount} from './service-account.js';

/** The IAM permissions the fake checks. */
export type GcsPermission = 'storage.buckets.get' | 'storage.objects.list' | 'storage.objects.get' | 'storage.objects.create' | 'storage.objects.delete';

export const ALL_GCS_PERMISSIONS: readonly GcsPermission[] = ['storage.buckets.get', 'storage.objects.list', 'storage.objects.get', 'storage.objects.create', 'storage.objects.delete'];

/** Scopes that allow reading and writing objects. */
const WRITE_SCOPES = [
	'https://www.googleapis.com/auth/devstorage.read_write',
	'https://www.googleapis.com/auth/devstorage.full_control',
	'https://www.googleapis.com/auth/cloud-platform',
];

const STORAGE_CLASSES = ['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE', 'MULTI_REGIONAL', 'REGIONAL', 'DURABLE_REDUCED_AVAILABILITY'];

/** The least bytes a non-final chunk of a resumable upload may carry. */
const CHUNK_GRANULARITY = 256 * 1024;

/** An object as the fake stores it. */
export interface FakeGcsObject {
	readonly name: string;
	readonly data: Buffer;
	readonly generation: string;
	readonly storageClass: string;
	readonly contentType: string;
	readonly created: string;
	/** How it was uploaded. */
	readonly uploadType: 'multipart' | 'resumable';
}

interface Session {
	readonly bucket: string;
	readonly name: string;
	readonly metadata: Record<string, unknown>;
	readonly chunks: Buffer[];
	received: number;
	done?: FakeGcsObject;
	cancelled: boolean;
}

/** A running fake GCS server. */
export class FakeGcsServer extends FakeHttpServer {
	/** Buckets by name, each holding objects by name. */
	readonly buckets = new Map<string, Map<string, FakeGcsObject>>();
	private readonly accounts: Array<{account: FakeServiceAccount; permissions: Set<GcsPermission>}> = [];
	private readonly sessions = new Map<string, Session>();
	private generation = 1_700_000_000_000_000;

	constructor() {
		super('GCS');
	}

	/** Creates an empty bucket. */
	addBucket(name: string): void {
		if (!this.buckets.has(name)) this.buckets.set(name, new Map());
	}

	/** Lets an account in, with the given IAM permissions (default all). */
	addAccount(account: FakeServiceAccount, permissions: readonly GcsPermission[] = ALL_GCS_PERMISSIONS): void {
		this.accounts.push({account, permissions: new Set(permissions)});
	}

	/** Replaces an account's permissions. */
	setPermissions(account: FakeServiceAccount, permissions: readonly GcsPermission[]): void {
		const entry = this.accounts.find((candidate) => candidate.account === account);
		if (entry === undefined) throw new Error(`unknown account ${account.email}`);
		entry.permissions = new Set(permissions);
	}

	/** The number of resumable sessions that were started and neither finished nor cancelled. */
	countOpenSessions(): number {
		return countOpenSessions(this.sessions);
	}

	protected async route({request, response, url, segments}: Route): Promise<void> {
		// Session URIs are their own authorization (no bearer token needed).
		const uploadId = url.searchParams.get('upload_id');
		if (segments[0] === 'upload' && uploadId !== null) {
			await this.handleSession(uploadId, request, response, url);
			return;
		}

		const auth = checkBearerToken(request.headers.authorization, this.accounts.map((entry) => entry.account), WRITE_SCOPES);
		if (!auth.ok) {
			await discardBody(request);
			sendError(response, 401, 'Invalid Credentials', 'authError', {locationType: 'header', location: 'Authorization'});
			return;
		}
		const permissions = this.accounts.find((entry) => entry.account === auth.account)!.permissions;
		const context: RequestContext = {request, response, url, email: auth.account.email, permissions};

		if (segments[0] === 'storage' && segments[1] === 'v1' && segments[2] === 'b' && segments[3] !== undefined) {
			const bucket = decodeURIComponent(segments[3]);
			if (segments.length === 4 && request.method === 'GET') return this.getBucket(context, bucket);
			if (segments[4] === 'o' && segments.length === 5 && request.method === 'GET') return this.listObjects(context, bucket);
			if (segments[4] === 'o' && segments.length >= 6) {
				const name = decodeURIComponent(segments.slice(5).join('/'));
				if (request.method === 'GET') return this.getObject(context, bucket, name);
				if (request.method === 'DELETE') return this.deleteObject(context, bucket, name);
			}
		}
		if (segments[0] === 'upload' && segments[1] === 'storage' && segments[2] === 'v1' && segments[3] === 'b' && segments[5] === 'o' && segments.length === 6 && request.method === 'POST') {
			const bucket = decodeURIComponent(segments[4]!);
			const type = url.searchParams.get('uploadType');
			if (type === 'multipart') return this.insertMultipart(context, bucket);
			if (type === 'resumable') return this.startSession(context, bucket);
			await readBody(request);
			sendError(response, 400, `Invalid upload type: ${String(type)}`, 'invalid');
			return;
		}
		await discardBody(request);
		sendError(response, 404, `Not Found: ${request.method} ${url.pathname}`, 'notFound');
	}

	private getBucket(context: RequestContext, bucket: string): void {
		if (!this.allow(context, 'storage.buckets.get', `the Google Cloud Storage bucket`)) return;
		if (!this.buckets.has(bucket)) return sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
		sendJson(context.response, 200, {kind: 'storage#bucket', id: bucket, name: bucket, location: 'EUROPE-WEST1', storageClass: 'STANDARD', metageneration: '1'});
	}

	private listObjects(context: RequestContext, bucket: string): void {
		if (!this.allow(context, 'storage.objects.list', 'the Google Cloud Storage bucket')) return;
		const objects = this.buckets.get(bucket);
		if (objects === undefined) return sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
		const prefix = context.url.searchParams.get('prefix') ?? '';
		const maxText = context.url.searchParams.get('maxResults');
		const max = maxText === null ? 1000 : Number(maxText);
		if (!Number.isInteger(max) || max < 1) return sendError(context.response, 400, `Invalid value for maxResults: ${String(maxText)}`, 'invalid');
		const token = context.url.searchParams.get('pageToken');
		const after = token === null ? undefined : Buffer.from(token, 'base64url').toString('utf8');
		const names = [...objects.keys()].filter((name) => name.startsWith(prefix) && (after === undefined || name > after)).sort();
		const page = names.slice(0, Math.min(max, 1000));
		const body: Record<string, unknown> = {kind: 'storage#objects'};
		if (page.length > 0) body['items'] = page.map((name) => describeObject(bucket, objects.get(name)!));
		if (names.length > page.length) body['nextPageToken'] = Buffer.from(page.at(-1)!).toString('base64url');
		sendJson(context.response, 200, body);
	}

	private getObject(context: RequestContext, bucket: string, name: string): void {
		if (!this.allow(context, 'storage.objects.get', 'the Google Cloud Storage object')) return;
		const object = this.buckets.get(bucket)?.get(name);
		if (!this.buckets.has(bucket)) return sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
		if (object === undefined) return sendError(context.response, 404, `No such object: ${bucket}/${name}`, 'notFound');
		if (context.url.searchParams.get('alt') !== 'media') {
			sendJson(context.response, 200, describeObject(bucket, object));
			return;
		}
		const headers: Record<string, string | number> = {
			'content-type': object.contentType,
			'x-goog-generation': object.generation,
			'x-goog-metageneration': '1',
			'x-goog-storage-class': object.storageClass,
			'x-goog-stored-content-encoding': 'identity',
			'x-goog-stored-content-length': object.data.length,
			'x-goog-hash': `crc32c=${encodeCrc32c(object.data)},md5=${createHash('md5').update(object.data).digest('base64')}`,
			'accept-ranges': 'bytes',
		};
		const range = parseRangeHeader(context.request.headers.range, object.data.length);
		if (range === 'unsatisfiable') {
			return sendError(context.response, 416, 'The requested range cannot be satisfied.', 'requestedRangeNotSatisfiable', {}, {'content-range': `bytes */${object.data.length}`});
		}
		sendContent(context.response, object.data, range, headers);
	}

	private deleteObject(context: RequestContext, bucket: string, name: string): void {
		if (!this.allow(context, 'storage.objects.delete', 'the Google Cloud Storage object')) return;
		const objects = this.buckets.get(bucket);
		if (objects === undefined) return sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
		if (!objects.delete(name)) return sendError(context.response, 404, `No such object: ${bucket}/${name}`, 'notFound');
		context.response.writeHead(204);
		context.response.end();
	}

	private async insertMultipart(context: RequestContext, bucket: string): Promise<void> {
		const body = await readBody(context.request);
		if (!this.allow(context, 'storage.objects.create', 'the Google Cloud Storage object')) return;
		if (!this.buckets.has(bucket)) return sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
		const upload = readMultipartUpload(context.request.headers['content-type'], body);
		if ('problem' in upload) {
			if (upload.problem === 'not-json') return sendError(context.response, 400, 'Invalid JSON payload received in the metadata part.', 'parseError');
			return sendError(context.response, 400, upload.problem === 'no-boundary' ? `Content-Type must be ${upload.detail}` : `Invalid multipart request: ${upload.detail}`, 'invalid');
		}
		const {metadata} = upload;
		const name = context.url.searchParams.get('name') ?? (typeof metadata['name'] === 'string' ? metadata['name'] : undefined);
		if (name === undefined || name === '') return sendError(context.response, 400, 'Required: object name', 'required');
		const stored = this.store(context, bucket, name, upload.media, metadata, 'multipart', upload.mediaType);
		if (stored !== undefined) sendJson(context.response, 200, describeObject(bucket, stored));
	}

	private async startSession(context: RequestContext, bucket: string): Promise<void> {
		const body = await readBody(context.request);
		if (!this.allow(context, 'storage.objects.create', 'the Google Cloud Storage object')) return;
		if (!this.buckets.has(bucket)) return sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
		let metadata: Record<string, unknown> = {};
		if (body.length > 0) {
			try {
				metadata = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
			} catch {
				return sendError(context.response, 400, 'Invalid JSON payload received.', 'parseError');
			}
		}
		const name = context.url.searchParams.get('name') ?? (typeof metadata['name'] === 'string' ? metadata['name'] : undefined);
		if (name === undefined || name === '') return sendError(context.response, 400, 'Required: object name', 'required');
		if (!this.checkStorageClass(context, metadata)) return;
		const id = openSession(this.sessions, {bucket, name, metadata: {...metadata, __email: context.email, __overwrite: context.permissions.has('storage.objects.delete')}, chunks: [], received: 0, cancelled: false});
		const location = `${this.url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
		answerSessionStarted(context.response, location);
	}

	private async handleSession(id: string, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
		const chunk = await readSessionChunk(request, this.sessions, id);
		if (chunk === undefined) return; // The client went away mid-chunk: nothing of this chunk is kept.
		const {body, session} = chunk;
		if (session === undefined) return sendError(response, 404, 'No such upload session.', 'notFound');
		if (request.method === 'DELETE') {
			session.cancelled = true;
			response.writeHead(499, {'content-length': 0});
			response.end();
			return;
		}
		if (request.method !== 'PUT' && request.method !== 'POST') return sendError(response, 405, 'Method not allowed on an upload session.', 'invalid');
		if (session.done !== undefined) return sendJson(response, 200, describeObject(session.bucket, session.done));
		const header = request.headers['content-range'];
		const range = parseContentRange(header);
		if (range === undefined) return sendError(response, 400, `Invalid Content-Range header: ${String(header)}`, 'invalid');
		const {first, last, total} = range;
		if (first !== undefined && last !== undefined) {
			if (last < first || body.length !== last - first + 1) return sendError(response, 400, `The Content-Range ${header} does not match the ${body.length} bytes sent.`, 'invalid');
			if (first > session.received) return sendError(response, 400, `Upload chunk starts at ${first}, but only ${session.received} bytes were received.`, 'invalid');
			const fresh = body.subarray(session.received - first);
			const isLast = total !== undefined && last + 1 === total;
			if (!isLast) {
				if (body.length < CHUNK_GRANULARITY) {
					return sendError(response, 400, `Invalid request.  The number of bytes uploaded is required to be equal or greater than ${CHUNK_GRANULARITY}, except for the final request (it's recommended to be the exact multiple of ${CHUNK_GRANULARITY}).  The received request contained ${body.length} bytes, which does not meet this requirement.`, 'invalid');
				}
				// Only whole multiples of 256 KiB are persisted; the client re-sends the rest.
				const keep = Math.floor((session.received + fresh.length) / CHUNK_GRANULARITY) * CHUNK_GRANULARITY - session.received;
				session.chunks.push(Buffer.from(fresh.subarray(0, keep)));
				session.received += keep;
			} else {
				session.chunks.push(Buffer.from(fresh));
				session.received += fresh.length;
			}
		} else if (body.length > 0) {
			return sendError(response, 400, 'A Content-Range of bytes */N must come with an empty body.', 'invalid');
		}
		if (total !== undefined && session.received > total) return sendError(response, 400, 'More bytes were sent than the declared object size.', 'invalid');
		if (total === undefined || session.received < total) return answerIncomplete(response, session.received);
		const data = Buffer.concat(session.chunks);
		const hash = request.headers['x-goog-hash'];
		if (typeof hash === 'string') {
			const expected = /crc32c=([^,]+)/.exec(hash)?.[1];
			if (expected !== undefined && expected !== encodeCrc32c(data)) {
				return sendError(response, 400, 'Provided CRC32C "' + expected + '" doesn\'t match calculated CRC32C "' + encodeCrc32c(data) + '".', 'invalid');
			}
		}
		const {__email: email, __overwrite: mayOverwrite, ...metadata} = session.metadata;
		const context: RequestContext = {
			request,
			response,
			url,
			email: String(email),
			permissions: new Set<GcsPermission>(['storage.objects.create', ...(mayOverwrite === true ? (['storage.objects.delete'] as const) : [])]),
		};
		const stored = this.store(context, session.bucket, session.name, data, metadata, 'resumable', undefined);
		if (stored === undefined) return;
		session.done = stored;
		sendJson(response, 200, describeObject(session.bucket, stored));
	}

	/** Stores a finished upload, after the checks GCS makes; undefined when it answered with an error. */
	private store(context: RequestContext, bucket: string, name: string, data: Buffer, metadata: Record<string, unknown>, uploadType: FakeGcsObject['uploadType'], mediaType: string | undefined): FakeGcsObject | undefined {
		const objects = this.buckets.get(bucket);
		if (objects === undefined) {
			sendError(context.response, 404, 'The specified bucket does not exist.', 'notFound');
			return undefined;
		}
		if (objects.has(name) && !context.permissions.has('storage.objects.delete')) {
			// Replacing an object needs storage.objects.delete as well (documented by Google).
			this.allow(context, 'storage.objects.delete', 'the Google Cloud Storage object');
			return undefined;
		}
		if (!this.checkStorageClass(context, metadata)) return undefined;
		if (typeof metadata['crc32c'] === 'string' && metadata['crc32c'] !== encodeCrc32c(data)) {
			sendError(context.response, 400, 'Provided CRC32C doesn\'t match calculated CRC32C.', 'invalid');
			return undefined;
		}
		if (typeof metadata['md5Hash'] === 'string' && metadata['md5Hash'] !== createHash('md5').update(data).digest('base64')) {
			sendError(context.response, 400, 'Provided MD5 hash doesn\'t match calculated MD5 hash.', 'invalid');
			return undefined;
		}
		const object: FakeGcsObject = {
			name,
			data,
			generation: String(this.generation++),
			storageClass: typeof metadata['storageClass'] === 'string' ? metadata['storageClass'] : 'STANDARD',
			contentType: typeof metadata['contentType'] === 'string' ? metadata['contentType'] : (mediaType ?? 'application/octet-stream'),
			created: new Date().toISOString(),
			uploadType,
		};
		objects.set(name, object);
		return object;
	}

	private checkStorageClass(context: RequestContext, metadata: Record<string, unknown>): boolean {
		const storageClass = metadata['storageClass'];
		if (storageClass === undefined || (typeof storageClass === 'string' && STORAGE_CLASSES.includes(storageClass))) return true;
		sendError(context.response, 400, `Invalid argument: storageClass ${JSON.stringify(storageClass)} is not a valid storage class.`, 'invalid');
		return false;
	}

	/** Answers 403 with Google's message naming the permission when the caller lacks it. */
	private allow(context: RequestContext, permission: GcsPermission, resource: string): boolean {
		if (context.permissions.has(permission)) return true;
		sendError(
			context.response,
			403,
			`${context.email} does not have ${permission} access to ${resource}. Permission '${permission}' denied on resource (or it may not exist).`,
			'forbidden',
		);
		return false;
	}
}

interface RequestContext {
	readonly request: IncomingMessage;
	readonly response: ServerResponse;
	readonly url: URL;
	readonly email: string;
	readonly permissions: Set<GcsPermission>;
}

/** The object resource of the JSON API. */
function describeObject(bucket: string, object: FakeGcsObject): Record<string, unknown> {
	return {
		kind: 'storage#object',
		id: `${bucket}/${object.name}/${object.generation}`,
		name: object.name,
		bucket,
		generation: object.generation,
		metageneration: '1',
		contentType: object.contentType,
		storageClass: object.storageClass,
		size: String(object.data.length),
		md5Hash: createHash('md5').update(object.data).digest('base64'),
		crc32c: encodeCrc32c(object.data),
		etag: Buffer.from(object.generation).toString('base64'),
		timeCreated: object.created,
		updated: object.created,
		timeStorageClassUpdated: object.created,
	};
}

/** Sends Google's JSON error body. */
function sendError(response: ServerResponse, status: number, message: string, reason: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): void {
	sendJson(response, status, {error: {code: status, message, errors: [{message, domain: 'global', reason, ...extra}]}}, headers);
}

/** Google's error body, for scripted faults. */
export function makeGcsErrorBody(status: number, message: string, reason: string): unknown {
	return {error: {code: status, message, errors: [{message, domain: 'global', reason}]}};
}
