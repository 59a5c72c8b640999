/**
 * A fake Google Drive (API v3) server implementing the calls cairn's Drive adapter makes, as
 * Google documents them (https://developers.google.com/workspace/drive/api/reference/rest/v3):
 *
 * - `GET    /drive/v3/files?q&fields&pageSize&pageToken&supportsAllDrives&includeItemsFromAllDrives` (files.list)
 * - `GET    /drive/v3/files/{id}?fields` (files.get), and with `alt=media` plus `Range` for content
 * - `POST   /drive/v3/files` (files.create of a folder, metadata only)
 * - `POST   /upload/drive/v3/files?uploadType=multipart|resumable` (files.create with content)
 * - `PATCH  /upload/drive/v3/files/{id}?uploadType=multipart|media|resumable` (files.update of content)
 * - `PUT    <session URI>` with `Content-Range` (308 with `Range` until the last chunk)
 * - `DELETE /drive/v3/files/{id}` (files.delete)
 *
 * Requests must carry a self-signed JWT of a registered service account with a Drive scope. A
 * folder is visible to the accounts it is shared with (reader, writer or organizer, as in a shared
 * drive's "Viewer", "Contributor" and "Content manager"); everything else answers 404 as Drive
 * does. Items in shared drives need `supportsAllDrives=true`. Service accounts cannot upload into a
 * My Drive folder (403 storageQuotaExceeded). `q` accepts the terms the adapter uses and answers
 * 400 "Invalid Value" to anything else; `fields` selects the returned fields (the default for
 * files.list holds no size).
 */
import {randomBytes} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';

import {answerIncomplete, answerSessionStarted, countOpenSessions, discardBody, FakeHttpServer, parseContentRange, parseRangeHeader, openSession, readBody, readSessionChunk, sendContent, sendJson, type Route} from './http.js';
import {readMultipartUpload} from './multipart.js';
import {checkBearerToken, type FakeServiceAccount} from './service-account.js';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
const DRIVE_SCOPES = ['https://www.googleapis.com/auth/drive', 'https://www.googleapis.com/auth/drive.file'];
const CHUNK_GRANULARITY = 256 * 1024;

/** Roles on a shared folder, weakest first. */
export type DriveRole = 'reader' | 'writer' | 'organizer';
const ROLE_RANK: Record<DriveRole, number> = {reader: 1, writer: 2, organizer: 3};

/** A file or folder as the fake stores it. */
export interface FakeDriveFile {
	readonly id: string;
	name: string;
	readonly mimeType: string;
	readonly parents: string[];
	data: Buffer;
	readonly createdTime: string;
	modifiedTime: string;
	/** Set for items in a shared drive. */
	readonly driveId?: string;
	/** How the content last arrived. */
	uploadType?: 'multipart' | 'media' | 'resumable';
}

interface Session {
	readonly email: string;
	readonly fileId?: string;
	readonly metadata: Record<string, unknown>;
	readonly chunks: Buffer[];
	received: number;
	done?: FakeDriveFile;
	cancelled: boolean;
}

interface Caller {
	readonly email: string;
}

/** A running fake Drive server. */
export class FakeDriveServer extends FakeHttpServer {
	readonly files = new Map<string, FakeDriveFile>();
	private readonly accounts: FakeServiceAccount[] = [];
	/** Top-level folders and who may use them. */
	private readonly shares = new Map<string, Map<string, DriveRole>>();
	private readonly sessions = new Map<string, Session>();
	private clock = Date.UTC(2024, 0, 1);

	constructor() {
		super('Drive');
	}

	addAccount(account: FakeServiceAccount): void {
		this.accounts.push(account);
	}

	/**
	 * Makes a top-level folder shared with accounts; `sharedDrive` puts it in a shared drive
	 * (where service accounts can store files), otherwise in someone's My Drive.
	 */
	addFolder(name: string, shares: Record<string, DriveRole>, sharedDrive = true): string {
		const id = makeId();
		const now = this.tick();
		this.files.set(id, {id, name, mimeType: FOLDER_MIME, parents: [], data: Buffer.alloc(0), createdTime: now, modifiedTime: now, ...(sharedDrive ? {driveId: `0A${randomBytes(8).toString('hex')}`} : {})});
		this.shares.set(id, new Map(Object.entries(shares)));
		return id;
	}

	/** Adds a file directly, as another program would have made it. */
	addFile(parent: string, name: string, data: Buffer, mimeType = 'application/octet-stream'): FakeDriveFile {
		const now = this.tick();
		const file: FakeDriveFile = {id: makeId(), name, mimeType, parents: [parent], data, createdTime: now, modifiedTime: now, ...this.driveOf(parent)};
		this.files.set(file.id, file);
		return file;
	}

	/** The children of a folder. */
	listChildren(folderId: string): FakeDriveFile[] {
		return [...this.files.values()].filter((file) => file.parents.includes(folderId));
	}

	/** The item with this name under a folder path such as `['data']` below `rootId`, if any. */
	findByPath(rootId: string, path: readonly string[]): FakeDriveFile | undefined {
		let current: FakeDriveFile | undefined = this.files.get(rootId);
		for (const name of path) current = current === undefined ? undefined : this.listChildren(current.id).find((child) => child.name === name);
		return current;
	}

	countOpenSessions(): number {
		return countOpenSessions(this.sessions);
	}

	protected async route({request, response, url, segments}: Route): Promise<void> {
		const uploadId = url.searchParams.get('upload_id');
		if (uploadId !== null && request.method === 'PUT') return this.continueSession(uploadId, request, response, url);
		if (uploadId !== null && request.method === 'DELETE') {
			const session = this.sessions.get(uploadId);
			if (session !== undefined) session.cancelled = true;
			response.writeHead(499, {'content-length': 0});
			response.end();
			return;
		}

		const auth = checkBearerToken(request.headers.authorization, this.accounts, DRIVE_SCOPES);
		if (!auth.ok) {
			await discardBody(request);
			return sendError(response, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'authError', 'Authorization', 'header');
		}
		const caller: Caller = {email: auth.account.email};
		const allDrives = url.searchParams.get('supportsAllDrives') === 'true';
		const context: Context = {request, response, url, caller, allDrives};

		if (segments[0] === 'drive' && segments[1] === 'v3' && segments[2] === 'files') {
			if (segments.length === 3 && request.method === 'GET') return this.list(context);
			if (segments.length === 3 && request.method === 'POST') return this.createFolder(context);
			if (segments.length === 4 && request.method === 'GET') return this.get(context, decodeURIComponent(segments[3]!));
			if (segments.length === 4 && request.method === 'DELETE') return this.delete(context, decodeURIComponent(segments[3]!));
		}
		if (segments[0] === 'upload' && segments[1] === 'drive' && segments[2] === 'v3' && segments[3] === 'files') {
			const type = url.searchParams.get('uploadType');
			const fileId = segments.length === 5 ? decodeURIComponent(segments[4]!) : undefined;
			if ((fileId === undefined && request.method === 'POST') || (fileId !== undefined && request.method === 'PATCH')) {
				if (type === 'multipart') return this.uploadMultipart(context, fileId);
				if (type === 'media' && fileId !== undefined) return this.uploadMedia(context, fileId);
				if (type === 'resumable') return this.startSession(context, fileId);
				await readBody(request);
				return sendError(response, 400, `Invalid value for uploadType: ${String(type)}`, 'invalid', 'uploadType');
			}
		}
		await discardBody(request);
		sendError(response, 404, `Not Found: ${request.method} ${url.pathname}`, 'notFound');
	}

	private list(context: Context): void {
		const {url} = context;
		const pageSize = url.searchParams.has('pageSize') ? Number(url.searchParams.get('pageSize')) : 100;
		if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) return sendError(context.response, 400, 'Invalid value for pageSize', 'invalid', 'pageSize');
		let terms: Term[];
		try {
			terms = parseQuery(url.searchParams.get('q') ?? '');
		} catch {
			return sendError(context.response, 400, 'Invalid Value', 'invalid', 'q');
		}
		const includeAll = url.searchParams.get('includeItemsFromAllDrives') === 'true' && context.allDrives;
		const matches = [...this.files.values()]
			.filter((file) => this.roleOf(context.caller, file) !== undefined && (file.driveId === undefined || includeAll) && terms.every((term) => matchTerm(term, file)))
			.sort((a, b) => a.id.localeCompare(b.id));
		const token = url.searchParams.get('pageToken');
		const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
		const page = matches.slice(start, start + pageSize);
		const body: Record<string, unknown> = {kind: 'drive#fileList', incompleteSearch: false, files: page.map((file) => describeFile(file))};
		if (start + page.length < matches.length) body['nextPageToken'] = Buffer.from(String(start + page.length)).toString('base64url');
		sendJson(context.response, 200, selectFields(body, url.searchParams.get('fields') ?? 'kind,incompleteSearch,files(kind,id,name,mimeType)'));
	}

	private get(context: Context, id: string): void {
		const file = this.files.get(id);
		if (file === undefined || this.roleOf(context.caller, file) === undefined || (file.driveId !== undefined && !context.allDrives)) {
			return sendError(context.response, 404, `File not found: ${id}.`, 'notFound', 'fileId');
		}
		if (context.url.searchParams.get('alt') !== 'media') {
			sendJson(context.response, 200, selectFields(describeFile(file), context.url.searchParams.get('fields') ?? 'kind,id,name,mimeType'));
			return;
		}
		if (file.mimeType === FOLDER_MIME) return sendError(context.response, 403, 'Only files with binary content can be downloaded. Use Export with Docs Editors files.', 'fileNotDownloadable', 'alt');
		const range = parseRangeHeader(context.request.headers.range, file.data.length);
		if (range === 'unsatisfiable') return sendError(context.response, 416, 'Request range not satisfiable', 'requestedRangeNotSatisfiable', 'Range', 'header');
		sendContent(context.response, file.data, range, {'content-type': file.mimeType, 'accept-ranges': 'bytes'});
	}

	private async createFolder(context: Context): Promise<void> {
		const metadata = await this.readMetadata(context);
		if (metadata === undefined) return;
		if (metadata['mimeType'] !== FOLDER_MIME) return sendError(context.response, 400, 'Files with content must be uploaded to /upload/drive/v3/files; only folders are created here by this server', 'badContent');
		const parent = this.checkParent(context, metadata);
		if (parent === undefined) return;
		const name = metadata['name'];
		if (typeof name !== 'string' || name === '') return sendError(context.response, 400, 'A name is required', 'required', 'name');
		const now = this.tick();
		const folder: FakeDriveFile = {id: makeId(), name, mimeType: FOLDER_MIME, parents: [parent.id], data: Buffer.alloc(0), createdTime: now, modifiedTime: now, ...this.driveOf(parent.id)};
		this.files.set(folder.id, folder);
		sendJson(context.response, 200, selectFields(describeFile(folder), context.url.searchParams.get('fields') ?? 'kind,id,name,mimeType'));
	}

	private async uploadMultipart(context: Context, fileId: string | undefined): Promise<void> {
		const upload = readMultipartUpload(context.request.headers['content-type'], await readBody(context.request));
		if ('problem' in upload) {
			if (upload.problem === 'not-json') return sendError(context.response, 400, 'Invalid JSON payload received.', 'parseError');
			return sendError(context.response, 400, upload.problem === 'no-boundary' ? `Media type must be ${upload.detail}` : `Malformed multipart body: ${upload.detail}`, 'badContent');
		}
		this.finishUpload(context, fileId, upload.metadata, upload.media, 'multipart');
	}

	private async uploadMedia(context: Context, fileId: string): Promise<void> {
		const body = await readBody(context.request);
		this.finishUpload(context, fileId, {}, body, 'media');
	}

	private async startSession(context: Context, fileId: string | undefined): Promise<void> {
		const metadata = await this.readMetadata(context);
		if (metadata === undefined) return;
		// Check now what the final request would check, as Drive does when the session starts.
		if (fileId === undefined) {
			const parent = this.checkParent(context, metadata);
			if (parent === undefined || !this.checkQuota(context, parent.id)) return;
		} else if (this.checkWritable(context, fileId) === undefined) {
			return;
		}
		const id = openSession(this.sessions, {email: context.caller.email, ...(fileId === undefined ? {} : {fileId}), metadata, chunks: [], received: 0, cancelled: false});
		const location = `${this.url}/upload/drive/v3/files${fileId === undefined ? '' : `/${fileId}`}?uploadType=resumable&supportsAllDrives=${context.allDrives}&upload_id=${id}`;
		answerSessionStarted(context.response, location);
	}

	private async continueSession(id: string, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
		const chunk = await readSessionChunk(request, this.sessions, id);
		if (chunk === undefined) return;
		const {body, session} = chunk;
		if (session === undefined) return sendError(response, 404, 'No such upload session.', 'notFound');
		if (session.done !== undefined) return sendJson(response, 200, selectFields(describeFile(session.done), 'kind,id,name,mimeType'));
		const header = request.headers['content-range'];
		const range = parseContentRange(header);
		if (range === undefined) return sendError(response, 400, `Invalid Content-Range: ${String(header)}`, 'badContent');
		const {first, last, total} = range;
		if (first !== undefined && last !== undefined) {
			if (last < first || body.length !== last - first + 1) return sendError(response, 400, `Content-Range ${header} does not match the ${body.length} bytes sent`, 'badContent');
			if (first !== session.received) return sendError(response, 400, `Chunk starts at ${first}, but ${session.received} bytes were received`, 'badContent');
			const isLast = total !== undefined && last + 1 === total;
			if (!isLast && body.length % CHUNK_GRANULARITY !== 0) return sendError(response, 400, `Chunk size must be a multiple of ${CHUNK_GRANULARITY} bytes, except for the last chunk`, 'badContent');
			session.chunks.push(body);
			session.received += body.length;
		} else if (body.length > 0) {
			return sendError(response, 400, 'Content-Range bytes */N needs an empty body', 'badContent');
		}
		if (total === undefined || session.received < total) return answerIncomplete(response, session.received);
		const context: Context = {request, response, url, caller: {email: session.email}, allDrives: url.searchParams.get('supportsAllDrives') === 'true'};
		const stored = this.finishUpload(context, session.fileId, session.metadata, Buffer.concat(session.chunks), 'resumable');
		if (stored !== undefined) session.done = stored;
	}

	/** Creates or updates a file with content; answers and returns it, or answers an error. */
	private finishUpload(context: Context, fileId: string | undefined, metadata: Record<string, unknown>, data: Buffer, uploadType: FakeDriveFile['uploadType']): FakeDriveFile | undefined {
		const fields = context.url.searchParams.get('fields') ?? 'kind,id,name,mimeType';
		if (fileId !== undefined) {
			const file = this.checkWritable(context, fileId);
			if (file === undefined) return undefined;
			if (Array.isArray(metadata['parents'])) {
				sendError(context.response, 403, 'The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.', 'fieldNotWritable', 'parents');
				return undefined;
			}
			if (!this.checkQuota(context, file.parents[0]!)) return undefined;
			file.data = data;
			file.modifiedTime = this.tick();
			file.uploadType = uploadType;
			if (typeof metadata['name'] === 'string') file.name = metadata['name'];
			sendJson(context.response, 200, selectFields(describeFile(file), fields));
			return file;
		}
		const parent = this.checkParent(context, metadata);
		if (parent === undefined || !this.checkQuota(context, parent.id)) return undefined;
		const name = typeof metadata['name'] === 'string' && metadata['name'] !== '' ? metadata['name'] : 'Untitled';
		const now = this.tick();
		const file: FakeDriveFile = {
			id: makeId(), name, mimeType: typeof metadata['mimeType'] === 'string' ? metadata['mimeType'] : 'application/octet-stream',
			parents: [parent.id], data, createdTime: now, modifiedTime: now, uploadType, ...this.driveOf(parent.id),
		};
		this.files.set(file.id, file);
		sendJson(context.response, 200, selectFields(describeFile(file), fields));
		return file;
	}

	private delete(context: Context, id: string): void {
		const file = this.files.get(id);
		if (file === undefined || this.roleOf(context.caller, file) === undefined || (file.driveId !== undefined && !context.allDrives)) {
			return sendError(context.response, 404, `File not found: ${id}.`, 'notFound', 'fileId');
		}
		// In a shared drive only organizers ("Content manager") may delete; in My Drive only the owner.
		if (ROLE_RANK[this.roleOf(context.caller, file)!] < ROLE_RANK.organizer) {
			return sendError(context.response, 403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
		}
		for (const child of this.listChildren(id)) this.files.delete(child.id);
		this.files.delete(id);
		context.response.writeHead(204);
		context.response.end();
	}

	private async readMetadata(context: Context): Promise<Record<string, unknown> | undefined> {
		const body = await readBody(context.request);
		if (body.length === 0) return {};
		try {
			return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
		} catch {
			sendError(context.response, 400, 'Invalid JSON payload received.', 'parseError');
			return undefined;
		}
	}

	/** The one parent folder of a new item, after checking it exists, is visible and writable. */
	private checkParent(context: Context, metadata: Record<string, unknown>): FakeDriveFile | undefined {
		const parents = metadata['parents'];
		if (!Array.isArray(parents) || parents.length !== 1 || typeof parents[0] !== 'string') {
			// Without parents Drive would put the file in the caller's own My Drive root.
			sendError(context.response, 400, 'A single parent folder is required by this server (files without parents land in the caller\'s My Drive).', 'invalid', 'parents');
			return undefined;
		}
		const parent = this.files.get(parents[0]);
		if (parent === undefined || this.roleOf(context.caller, parent) === undefined || (parent.driveId !== undefined && !context.allDrives)) {
			sendError(context.response, 404, `File not found: ${parents[0]}.`, 'notFound', 'fileId');
			return undefined;
		}
		if (parent.mimeType !== FOLDER_MIME) {
			sendError(context.response, 403, 'The specified parent is not a folder.', 'invalid');
			return undefined;
		}
		if (ROLE_RANK[this.roleOf(context.caller, parent)!] < ROLE_RANK.writer) {
			sendError(context.response, 403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
			return undefined;
		}
		return parent;
	}

	private checkWritable(context: Context, fileId: string): FakeDriveFile | undefined {
		const file = this.files.get(fileId);
		if (file === undefined || this.roleOf(context.caller, file) === undefined || (file.driveId !== undefined && !context.allDrives)) {
			sendError(context.response, 404, `File not found: ${fileId}.`, 'notFound', 'fileId');
			return undefined;
		}
		if (ROLE_RANK[this.roleOf(context.caller, file)!] < ROLE_RANK.writer) {
			sendError(context.response, 403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
			return undefined;
		}
		return file;
	}

	/** Service accounts have no storage of their own: uploads into My Drive fail. */
	private checkQuota(context: Context, folderId: string): boolean {
		if (this.files.get(folderId)?.driveId !== undefined) return true;
		sendError(
			context.response,
			403,
			'Service Accounts do not have storage quota. Leverage shared drives (https://developers.google.com/workspace/drive/api/guides/about-shareddrives), or use OAuth delegation (http://support.google.com/a/answer/7281227) instead.',
			'storageQuotaExceeded',
		);
		return false;
	}

	/** The caller's role on an item: the role on its top-level shared folder. */
	private roleOf(caller: Caller, file: FakeDriveFile): DriveRole | undefined {
		let current: FakeDriveFile | undefined = file;
		for (let depth = 0; current !== undefined && depth < 64; depth++) {
			const share = this.shares.get(current.id);
			if (share !== undefined) return share.get(caller.email);
			current = current.parents[0] === undefined ? undefined : this.files.get(current.parents[0]);
		}
		return undefined;
	}

	private driveOf(parentId: string): {driveId?: string} {
		const driveId = this.files.get(parentId)?.driveId;
		return driveId === undefined ? {} : {driveId};
	}

	private tick(): string {
		this.clock += 1000;
		return new Date(this.clock).toISOString();
	}
}

interface Context {
	readonly request: IncomingMessage;
	readonly response: ServerResponse;
	readonly url: URL;
	readonly caller: Caller;
	readonly allDrives: boolean;
}

type Term =
	| {kind: 'name'; value: string}
	| {kind: 'parent'; value: string}
	| {kind: 'trashed'; value: boolean}
	| {kind: 'mimeType'; value: string; negate: boolean};

/**
 * Parses the subset of Drive's query language the adapter uses: terms joined by `and`, each one of
 * `name = '…'`, `'…' in parents`, `trashed = true|false`, `mimeType = '…'` or `mimeType != '…'`.
 * Strings are single-quoted with `\'` and `\\` escapes. Throws on anything else.
 */
export function parseQuery(q: string): Term[] {
	const terms: Term[] = [];
	let rest = q.trim();
	if (rest === '') return terms;
	const readString = (): string => {
		const match = /^'((?:[^'\\]|\\.)*)'/.exec(rest);
		if (match === null) throw new Error(`expected a quoted string at ${rest}`);
		rest = rest.slice(match[0].length).trimStart();
		return match[1]!.replace(/\\(.)/g, '$1');
	};
	for (;;) {
		let match: RegExpExecArray | null;
		if ((match = /^name\s*=\s*/.exec(rest)) !== null) {
			rest = rest.slice(match[0].length);
			terms.push({kind: 'name', value: readString()});
		} else if ((match = /^mimeType\s*(!=|=)\s*/.exec(rest)) !== null) {
			rest = rest.slice(match[0].length);
			terms.push({kind: 'mimeType', value: readString(), negate: match[1] === '!='});
		} else if ((match = /^trashed\s*=\s*(true|false)\b\s*/.exec(rest)) !== null) {
			rest = rest.slice(match[0].length);
			terms.push({kind: 'trashed', value: match[1] === 'true'});
		} else if (rest.startsWith("'")) {
			const value = readString();
			const tail = /^in\s+parents\b\s*/.exec(rest);
			if (tail === null) throw new Error('expected "in parents"');
			rest = rest.slice(tail[0].length);
			terms.push({kind: 'parent', value});
		} else {
			throw new Error(`unknown term at ${rest}`);
		}
		if (rest === '') return terms;
		const and = /^and\s+/.exec(rest);
		if (and === null) throw new Error(`expected "and" at ${rest}`);
		rest = rest.slice(and[0].length);
	}
}

function matchTerm(term: Term, file: FakeDriveFile): boolean {
	switch (term.kind) {
		case 'name':
			return file.name === term.value;
		case 'parent':
			return file.parents.includes(term.value);
		case 'trashed':
			return term.value === false;
		case 'mimeType':
			return (file.mimeType === term.value) !== term.negate;
	}
}

function describeFile(file: FakeDriveFile): Record<string, unknown> {
	return {
		kind: 'drive#file',
		id: file.id,
		name: file.name,
		mimeType: file.mimeType,
		parents: file.parents,
		createdTime: file.createdTime,
		modifiedTime: file.modifiedTime,
		trashed: false,
		...(file.mimeType === FOLDER_MIME ? {} : {size: String(file.data.length)}),
		...(file.driveId === undefined ? {} : {driveId: file.driveId}),
	};
}

/**
 * Keeps the fields a `fields` parameter names: `a,b,c(d,e)` selects `a`, `b`, and `d`, `e` of each
 * item of the list `c`; `*` keeps everything.
 */
export function selectFields(body: Record<string, unknown>, fields: string): Record<string, unknown> {
	if (fields.trim() === '*') return body;
	const out: Record<string, unknown> = {};
	for (const {name, inner} of splitFields(fields)) {
		const value = body[name];
		if (value === undefined) continue;
		if (inner === undefined) out[name] = value;
		else if (Array.isArray(value)) out[name] = value.map((item) => selectFields(item as Record<string, unknown>, inner));
		else if (typeof value === 'object' && value !== null) out[name] = selectFields(value as Record<string, unknown>, inner);
	}
	return out;
}

function splitFields(fields: string): Array<{name: string; inner?: string}> {
	const out: Array<{name: string; inner?: string}> = [];
	let depth = 0;
	let start = 0;
	const push = (piece: string) => {
		const trimmed = piece.trim();
		if (trimmed === '') return;
		const open = trimmed.indexOf('(');
		out.push(open < 0 ? {name: trimmed} : {name: trimmed.slice(0, open).trim(), inner: trimmed.slice(open + 1, -1)});
	};
	for (let i = 0; i < fields.length; i++) {
		if (fields[i] === '(') depth++;
		else if (fields[i] === ')') depth--;
		else if (fields[i] === ',' && depth === 0) {
			push(fields.slice(start, i));
			start = i + 1;
		}
	}
	push(fields.slice(start));
	return out;
}

function makeId(): string {
	return `1${randomBytes(24).toString('base64url').slice(0, 32)}`;
}

function sendError(response: ServerResponse, status: number, message: string, reason: string, location?: string, locationType = 'parameter'): void {
	const error: Record<string, unknown> = {domain: reason === 'storageQuotaExceeded' || reason.endsWith('RateLimitExceeded') ? 'usageLimits' : 'global', reason, message};
	if (location !== undefined) Object.assign(error, {locationType, location});
	sendJson(response, status, {error: {code: status, message, errors: [error]}});
}

/** Google's error body, for scripted faults. */
export function makeDriveErrorBody(status: number, message: string, reason: string, domain = 'global'): unknown {
	return {error: {code: status, message, errors: [{domain, reason, message}]}};
}
