/**
 * A small in-memory S3 server on a free loopback port, answering the calls the S3 adapter makes as
 * the S3 API reference documents them, including what s3rver cannot express: object lock
 * (x-amz-object-lock-* headers, PutObjectRetention, refused deletes), archive storage classes
 * (GET answers 403 InvalidObjectState until a RestoreObject has finished, HeadObject reports
 * `x-amz-restore`), and Content-MD5 checks. It records every request so tests can check the
 * headers the real SDK sent. Path-style addressing only; signatures are not verified.
 *
 * Restores finish after {@link S3EmulatorOptions.restoreAfterHeads} HeadObject requests that saw
 * them running (a stand-in for the hours Glacier takes), or when a test calls `finishRestores`.
 */
import {createHash, randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

/** One stored object. */
export interface EmulatedObject {
	data: Buffer;
	storageClass: string;
	lockMode?: string;
	retainUntil?: Date;
	/** Undefined: never asked; otherwise the state of the latest RestoreObject. */
	restore?: {ongoing: boolean; days: number; tier: string; headsSeen: number};
	etag: string;
}

/** What the server saw of one request. */
export interface RecordedRequest {
	readonly method: string;
	readonly bucket: string;
	readonly key: string;
	readonly query: URLSearchParams;
	readonly headers: IncomingMessage['headers'];
	/** The decoded body size (after aws-chunked decoding). */
	readonly bodySize: number;
}

export interface S3EmulatorOptions {
	readonly buckets?: readonly string[];
	/** HeadObject requests that must see a restore running before it finishes; default 1. */
	readonly restoreAfterHeads?: number;
	/** Refuse every DeleteObject with AccessDenied (a policy without s3:DeleteObject). */
	readonly denyDeletes?: boolean;
	/** Largest page ListObjectsV2 returns (S3 returns at most 1000 keys, and may return fewer); default 1000. */
	readonly pageSize?: number;
	/** Answers a request with an S3 error instead of serving it, when it returns one (fault injection). */
	readonly fault?: (request: RecordedRequest) => {status: number; code: string; message: string; headers?: Record<string, string>} | undefined;
}

export interface RunningS3Emulator {
	readonly endpoint: string;
	readonly requests: RecordedRequest[];
	/** bucket → key → object */
	readonly buckets: Map<string, Map<string, EmulatedObject>>;
	/** Multipart uploads not yet completed or aborted. */
	readonly uploads: Map<string, {bucket: string; key: string}>;
	finishRestores(): void;
	close(): Promise<void>;
}

const COLD = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** Starts the emulator on 127.0.0.1. */
export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<RunningS3Emulator> {
	const buckets = new Map<string, Map<string, EmulatedObject>>((options.buckets ?? ['cairn']).map((name) => [name, new Map()]));
	const uploads = new Map<string, {bucket: string; key: string; headers: IncomingMessage['headers']; parts: Map<number, Buffer>}>();
	const requests: RecordedRequest[] = [];
	const restoreAfterHeads = options.restoreAfterHeads ?? 1;

	const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
		const url = new URL(request.url ?? '/', 'http://emulator');
		const [bucketName = '', ...keyParts] = url.pathname.slice(1).split('/');
		const key = decodeURIComponent(keyParts.join('/'));
		const body = decodeBody(await readBody(request), request.headers);
		const method = request.method ?? 'GET';
		requests.push({method, bucket: bucketName, key, query: url.searchParams, headers: request.headers, bodySize: body.length});
		const fault = options.fault?.(requests.at(-1)!);
		if (fault !== undefined) {
			if (method === 'HEAD') return send(response, fault.status, fault.headers);
			return sendError(response, fault.status, fault.code, fault.message, fault.headers);
		}
		const bucket = buckets.get(bucketName);
		if (bucket === undefined) return method === 'HEAD' ? send(response, 404) : sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist');
		const query = url.searchParams;

		if (key === '') {
			if (method === 'GET' && query.get('list-type') === '2') return listObjects(response, bucket, query, options.pageSize ?? 1000);
			if (method === 'HEAD') return send(response, 200);
			return sendError(response, 501, 'NotImplemented', 'not emulated');
		}
		const md5 = request.headers['content-md5'];
		if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) {
			return sendError(response, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
		}
		if (method === 'POST' && query.has('uploads')) {
			const uploadId = randomBytes(8).toString('hex');
			uploads.set(uploadId, {bucket: bucketName, key, headers: request.headers, parts: new Map()});
			return sendXml(response, 200, `<InitiateMultipartUploadResult><Bucket>${bucketName}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
		}
		if (query.has('uploadId')) {
			const upload = uploads.get(query.get('uploadId')!);
			if (upload === undefined) return sendError(response, 404, 'NoSuchUpload', 'The specified upload does not exist.');
			if (method === 'PUT') {
				upload.parts.set(Number(query.get('partNumber')), body);
				return send(response, 200, {etag: `"${createHash('md5').update(body).digest('hex')}"`});
			}
			if (method === 'DELETE') {
				uploads.delete(query.get('uploadId')!);
				return send(response, 204);
			}
			if (method === 'POST') {
				const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((match) => Number(match[1]));
				const data = Buffer.concat(numbers.map((number) => upload.parts.get(number) ?? Buffer.alloc(0)));
				const stored = store(bucket, key, data, upload.headers);
				uploads.delete(query.get('uploadId')!);
				return sendXml(response, 200, `<CompleteMultipartUploadResult><Bucket>${bucketName}</Bucket><Key>${escapeXml(key)}</Key><ETag>${stored.etag}</ETag></CompleteMultipartUploadResult>`);
			}
		}
		const object = bucket.get(key);
		if (method === 'PUT' && query.has('retention')) {
			if (object === undefined) return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
			const text = body.toString('utf8');
			const mode = /<Mode>([A-Z]+)<\/Mode>/.exec(text)?.[1];
			const until = new Date(/<RetainUntilDate>([^<]+)<\/RetainUntilDate>/.exec(text)?.[1] ?? '');
			if (object.lockMode === 'COMPLIANCE' && object.retainUntil !== undefined && until < object.retainUntil) {
				return sendError(response, 403, 'AccessDenied', 'Access Denied: a COMPLIANCE retention period cannot be shortened');
			}
			object.lockMode = mode;
			object.retainUntil = until;
			return send(response, 200);
		}
		if (method === 'PUT') {
			store(bucket, key, body, request.headers);
			return send(response, 200, {etag: bucket.get(key)!.etag});
		}
		if (object === undefined) return method === 'HEAD' ? send(response, 404) : sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
		if (method === 'HEAD') {
			if (object.restore?.ongoing === true && ++object.restore.headsSeen >= restoreAfterHeads + 1) object.restore.ongoing = false;
			return send(response, 200, objectHeaders(object));
		}
		if (method === 'GET') {
			if (COLD.has(object.storageClass) && object.restore?.ongoing !== false) {
				return sendXml(response, 403, `<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><StorageClass>${object.storageClass}</StorageClass></Error>`);
			}
			return sendObject(request, response, object);
		}
		if (method === 'POST' && query.has('restore')) {
			if (!COLD.has(object.storageClass)) return sendError(response, 403, 'InvalidObjectState', 'Restore is not allowed for the object\'s current storage class');
			const text = body.toString('utf8');
			const days = Number(/<Days>(\d+)<\/Days>/.exec(text)?.[1] ?? 1);
			const tier = /<Tier>(\w+)<\/Tier>/.exec(text)?.[1] ?? 'Standard';
			if (object.restore?.ongoing === true) return sendError(response, 409, 'RestoreAlreadyInProgress', 'Object restore is already in progress');
			if (object.restore !== undefined) {
				object.restore.days = days;
				return send(response, 200);
			}
			object.restore = {ongoing: true, days, tier, headsSeen: 0};
			return send(response, 202);
		}
		if (method === 'DELETE') {
			if (options.denyDeletes === true) return sendError(response, 403, 'AccessDenied', 'Access Denied');
			if (object.retainUntil !== undefined && object.retainUntil.getTime() > Date.now()) {
				return sendError(response, 403, 'AccessDenied', 'Access Denied because object protected by object lock.');
			}
			bucket.delete(key);
			return send(response, 204);
		}
		return sendError(response, 501, 'NotImplemented', 'not emulated');
	};

	const server: Server = createServer((request, response) => {
		handle(request, response).catch((error: unknown) => {
			sendError(response, 500, 'InternalError', (error as Error).message);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as AddressInfo;
	return {
		endpoint: `http://127.0.0.1:${port}`,
		requests,
		buckets,
		uploads: uploads as unknown as Map<string, {bucket: string; key: string}>,
		finishRestores: () => {
			for (const bucket of buckets.values()) for (const object of bucket.values()) if (object.restore !== undefined) object.restore.ongoing = false;
		},
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

function store(bucket: Map<string, EmulatedObject>, key: string, data: Buffer, headers: IncomingMessage['headers']): EmulatedObject {
	// Object lock needs a versioned bucket, where a PUT adds a version; the emulator keeps only the newest.
	const lockUntil = headers['x-amz-object-lock-retain-until-date'];
	const object: EmulatedObject = {
		data,
		storageClass: (headers['x-amz-storage-class'] as string | undefined) ?? 'STANDARD',
		lockMode: headers['x-amz-object-lock-mode'] as string | undefined,
		retainUntil: typeof lockUntil === 'string' ? new Date(lockUntil) : undefined,
		etag: `"${createHash('md5').update(data).digest('hex')}"`,
	};
	bucket.set(key, object);
	return object;
}

function objectHeaders(object: EmulatedObject): Record<string, string> {
	const headers: Record<string, string> = {
		'content-length': String(object.data.length),
		'content-type': 'application/octet-stream',
		etag: object.etag,
		'last-modified': new Date().toUTCString(),
		'accept-ranges': 'bytes',
	};
	// S3 leaves the header out for STANDARD objects.
	if (object.storageClass !== 'STANDARD') headers['x-amz-storage-class'] = object.storageClass;
	if (object.lockMode !== undefined) headers['x-amz-object-lock-mode'] = object.lockMode;
	if (object.retainUntil !== undefined) headers['x-amz-object-lock-retain-until-date'] = object.retainUntil.toISOString();
	if (object.restore !== undefined) {
		headers['x-amz-restore'] = object.restore.ongoing
			? 'ongoing-request="true"'
			: `ongoing-request="false", expiry-date="${new Date(Date.now() + object.restore.days * 86_400_000).toUTCString()}"`;
	}
	return headers;
}

function sendObject(request: IncomingMessage, response: ServerResponse, object: EmulatedObject): void {
	const size = object.data.length;
	const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
	if (range === null) {
		response.writeHead(200, objectHeaders(object));
		response.end(object.data);
		return;
	}
	const start = Number(range[1]);
	const end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
	if (start >= size) {
		sendXml(response, 416, `<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><ActualObjectSize>${size}</ActualObjectSize></Error>`);
		return;
	}
	const slice = object.data.subarray(start, end + 1);
	response.writeHead(206, {...objectHeaders(object), 'content-length': String(slice.length), 'content-range': `bytes ${start}-${end}/${size}`});
	response.end(slice);
}

function listObjects(response: ServerResponse, bucket: Map<string, EmulatedObject>, query: URLSearchParams, pageSize: number): void {
	const prefix = query.get('prefix') ?? '';
	const max = Math.min(Number(query.get('max-keys') ?? 1000), pageSize);
	const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
	const keys = [...bucket.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
	const page = keys.slice(0, max);
	const truncated = keys.length > page.length;
	const contents = page
		.map((key) => {
			const object = bucket.get(key)!;
			return `<Contents><Key>${escapeXml(key)}</Key><Size>${object.data.length}</Size><ETag>${escapeXml(object.etag)}</ETag><StorageClass>${object.storageClass}</StorageClass><LastModified>${new Date().toISOString()}</LastModified></Contents>`;
		})
		.join('');
	const next = truncated ? `<NextContinuationToken>${escapeXml(page.at(-1)!)}</NextContinuationToken>` : '';
	sendXml(response, 200, `<ListBucketResult><Name>bucket</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`);
}

/** Decodes aws-chunked bodies (`x-amz-content-sha256: STREAMING-…`), as S3 does; other bodies are returned as they are. */
function decodeBody(raw: Buffer, headers: IncomingMessage['headers']): Buffer {
	const mode = headers['x-amz-content-sha256'];
	const encoding = headers['content-encoding'] ?? '';
	if (!(typeof mode === 'string' && mode.startsWith('STREAMING-')) && !encoding.includes('aws-chunked')) return raw;
	const parts: Buffer[] = [];
	let position = 0;
	for (;;) {
		const lineEnd = raw.indexOf('\r\n', position);
		if (lineEnd < 0) break;
		const size = parseInt(raw.subarray(position, lineEnd).toString('latin1').split(';')[0]!, 16);
		position = lineEnd + 2;
		if (!Number.isFinite(size) || size === 0) break;
		parts.push(raw.subarray(position, position + size));
		position += size + 2;
	}
	return Buffer.concat(parts);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of request) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
	response.writeHead(status, {'content-length': headers['content-length'] ?? '0', ...headers});
	response.end();
}

function sendXml(response: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
	const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
	response.writeHead(status, {...headers, 'content-type': 'application/xml', 'content-length': String(body.length)});
	response.end(body);
}

function sendError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
	sendXml(response, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>emulated</RequestId></Error>`, headers);
}

function escapeXml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
