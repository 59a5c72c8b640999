/**
 * A repository behind restic's REST protocol, version 2 (restic's doc/REST_backend.rst): restic's
 * rest-server, `rclone serve restic`, or any server that speaks it. The transport is HTTP/1.1
 * for `rest:` and HTTP/2 over a pipe for `rclone:`; this module speaks the protocol.
 *
 * Requests: `POST /?create=true` creates, `GET {type}/` with the v2 `Accept` header lists names
 * and sizes, `HEAD` stats, `GET` loads (with a `Range` header for parts), `POST` saves, `DELETE`
 * removes. The config file is `config`. The server makes saves atomic (rest-server writes a
 * temporary file and renames it; rclone's remotes upload whole objects).
 */

import {
	AlreadyExistsError,
	FILE_TYPES,
	NotFoundError,
	PermanentError,
	throwIfAborted,
	type FileHandle,
	type FileInfo,
	type FileType,
	type LoadOptions,
	type OperationOptions,
	type Storage,
	type StorageCapabilities,
} from '../storage.js';
import {checkByteRange, checkFileHandle, checkFileType, isRepositoryId, makeRangeError} from '../shared/file-names.js';
import {mapHttpStatus} from '../http/status.js';
import {readHeader, type HttpRequest, type HttpResponse, type HttpTransport} from '../http/transport.js';

/** How long an aborted save waits for the server to drop a partial upload. */
const SETTLE_TIMEOUT_MS = 5000;

/** The media type that selects version 2 of the protocol. */
export const REST_V2 = 'application/vnd.x.restic.rest.v2';

/** What {@link createRestStorage} needs. */
export interface RestStorageOptions {
	readonly transport: HttpTransport;
	/** The location shown to people (no secrets), e.g. `rest:http://nas:8000/repo/`. */
	readonly location: string;
	/** The server as messages name it, e.g. `the REST server http://nas:8000/repo/`. */
	readonly server: string;
	/** What to check when the server refuses the credentials. */
	readonly authHint: string;
	readonly concurrency: number;
	/** The server may refuse deletes (rest-server --append-only). */
	readonly mayRefuseDelete: boolean;
}

/** Creates the store; no request is made until the first operation. */
export function createRestStorage(options: RestStorageOptions): Storage {
	return new RestStorage(options);
}

class RestStorage implements Storage {
	readonly location: string;
	readonly capabilities: StorageCapabilities;
	private closed = false;

	constructor(private readonly options: RestStorageOptions) {
		this.location = options.location;
		this.capabilities = {atomicSave: true, rangedLoad: true, mayRefuseDelete: options.mayRefuseDelete, concurrency: options.concurrency};
	}

	async create(options: OperationOptions = {}): Promise<void> {
		const action = 'create the repository';
		const config = await this.send({method: 'HEAD', path: 'config', signal: options.signal}, action);
		const found: string[] = [];
		if (config.status === 200) found.push('config');
		else if (config.status !== 404) throw this.fail(config, action);
		for (const type of FILE_TYPES) {
			if (type === 'config' || found.length > 0) continue;
			const listed = await this.send({method: 'GET', path: `${type}/`, headers: {accept: REST_V2}, signal: options.signal}, action);
			// A missing repository answers 404 to listings; that is empty.
			if (listed.status === 404) continue;
			if (listed.status !== 200) throw this.fail(listed, action);
			if (parseListing(listed, type).length > 0) found.push(`${type}/`);
		}
		if (found.length > 0) {
			const hint = found.includes('config') ? ' (a repository already exists there)' : '';
			throw new AlreadyExistsError(`cannot create a repository at ${this.location}: it already holds ${found.join(', ')}${hint}; pick an empty or new path`);
		}
		const created = await this.send({method: 'POST', path: '?create=true', signal: options.signal}, action);
		if (!isSuccess(created)) throw this.fail(created, action);
	}

	async save(handle: FileHandle, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
		checkFileHandle(handle);
		const action = `save ${describe(handle)}`;
		let response: HttpResponse;
		try {
			response = await this.send(
				{method: 'POST', path: requestPath(handle), headers: {'content-type': 'application/octet-stream'}, body: data, signal: options.signal},
				action,
			);
		} catch (error) {
			if (options.signal?.aborted) await this.settleAbortedSave(handle, data.byteLength);
			throw error;
		}
		if (!isSuccess(response)) throw this.fail(response, action);
	}

	/**
	 * Some servers write an upload straight into its final name (rclone with a local or SFTP
	 * remote) and remove it when the upload breaks off. After an aborted save, wait (a few
	 * seconds at most) until the server has done so, so that no partial file is seen afterwards.
	 */
	private async settleAbortedSave(handle: FileHandle, size: number): Promise<void> {
		const deadline = Date.now() + SETTLE_TIMEOUT_MS;
		let clean = 0;
		while (Date.now() < deadline && clean < 2) {
			let response: HttpResponse;
			try {
				response = await this.send({method: 'HEAD', path: requestPath(handle)}, 'check an aborted save');
			} catch {
				return;
			}
			const partial = isSuccess(response) && Number(readHeader(response, 'content-length')) !== size;
			clean = partial ? 0 : clean + 1;
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
	}

	async load(handle: FileHandle, options: LoadOptions = {}): Promise<Uint8Array> {
		checkFileHandle(handle);
		const offset = options.offset ?? 0;
		checkByteRange(offset, options.length);
		const action = `load ${describe(handle)}`;
		if (options.length === 0) {
			const {size} = await this.stat(handle, options);
			if (offset > size) throw makeRangeError(describe(handle), size, offset, 0);
			return new Uint8Array(0);
		}
		const ranged = offset > 0 || options.length !== undefined;
		const headers: Record<string, string> = ranged ? {range: `bytes=${offset}-${options.length === undefined ? '' : offset + options.length - 1}`} : {};
		const response = await this.send({method: 'GET', path: requestPath(handle), headers, signal: options.signal}, action);
		if (response.status === 416) {
			// Past the end, or exactly at the end (some servers answer 416 to an empty range).
			const {size} = await this.stat(handle, options);
			if (offset === size && options.length === undefined) return new Uint8Array(0);
			throw makeRangeError(describe(handle), size, offset, options.length);
		}
		if (!isSuccess(response)) throw this.fail(response, action);
		let body = response.body;
		if (ranged && response.status === 200) {
			// The server ignored the range and sent the whole file.
			if (offset > body.length) throw makeRangeError(describe(handle), body.length, offset, options.length);
			body = body.subarray(offset, options.length === undefined ? undefined : offset + options.length);
		} else if (ranged) {
			const total = readTotalSize(response);
			if (total !== undefined && offset > total) throw makeRangeError(describe(handle), total, offset, options.length);
		}
		if (options.length !== undefined && body.length !== options.length) {
			const total = readTotalSize(response) ?? (await this.stat(handle, options)).size;
			throw makeRangeError(describe(handle), total, offset, options.length);
		}
		return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
	}

	async stat(handle: FileHandle, options: OperationOptions = {}): Promise<FileInfo> {
		checkFileHandle(handle);
		const action = `stat ${describe(handle)}`;
		const response = await this.send({method: 'HEAD', path: requestPath(handle), signal: options.signal}, action);
		if (!isSuccess(response)) throw this.fail(response, action);
		const length = Number(readHeader(response, 'content-length'));
		if (!Number.isSafeInteger(length) || length < 0) throw new PermanentError(`${this.options.server} did not say the size of ${describe(handle)} (no Content-Length in its answer to HEAD)`);
		return {name: handle.name, size: length};
	}

	async *list(type: FileType, options: OperationOptions = {}): AsyncIterable<FileInfo> {
		checkFileType(type);
		throwIfAborted(options.signal);
		if (type === 'config') {
			const response = await this.send({method: 'HEAD', path: 'config', signal: options.signal}, 'list config');
			if (response.status === 404) return;
			if (!isSuccess(response)) throw this.fail(response, 'list config');
			yield {name: '', size: Number(readHeader(response, 'content-length') ?? 0)};
			return;
		}
		const action = `list ${type}`;
		const response = await this.send({method: 'GET', path: `${type}/`, headers: {accept: REST_V2}, signal: options.signal}, action);
		if (response.status === 404) return;
		if (!isSuccess(response)) throw this.fail(response, action);
		for (const item of parseListing(response, type)) {
			if (!isRepositoryId(item.name)) continue;
			if (item.size !== undefined) {
				yield {name: item.name, size: item.size};
				continue;
			}
			// A version 1 server lists names only.
			try {
				yield await this.stat({type, name: item.name}, options);
			} catch (error) {
				if (!(error instanceof NotFoundError)) throw error;
			}
		}
	}

	async remove(handle: FileHandle, options: OperationOptions = {}): Promise<void> {
		checkFileHandle(handle);
		const action = `remove ${describe(handle)}`;
		const response = await this.send({method: 'DELETE', path: requestPath(handle), signal: options.signal}, action);
		if (response.status === 403) {
			throw new PermanentError(`${this.options.server} refused to ${action} (403 Forbidden): it may run in append-only mode, which keeps every file; the file is still there`);
		}
		if (!isSuccess(response)) throw this.fail(response, action);
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await this.options.transport.close();
	}

	private async send(request: HttpRequest, action: string): Promise<HttpResponse> {
		if (this.closed) throw new PermanentError(`${this.location} was closed; no more operations can be made on it`);
		throwIfAborted(request.signal);
		return this.options.transport.request(request);
	}

	private fail(response: HttpResponse, action: string): Error {
		return mapHttpStatus(response.status, response.body, {action, server: this.options.server, authHint: this.options.authHint});
	}
}

/** `data/ab12…` or `config`: the path of a file relative to the repository URL. */
function requestPath(handle: FileHandle): string {
	return handle.type === 'config' ? 'config' : `${handle.type}/${handle.name}`;
}

/** `data/ab12…` for messages (restic's layout path). */
function describe(handle: FileHandle): string {
	if (handle.type === 'config') return 'config';
	if (handle.type === 'data') return `data/${handle.name.slice(0, 2)}/${handle.name}`;
	return `${handle.type}/${handle.name}`;
}

function isSuccess(response: HttpResponse): boolean {
	return response.status >= 200 && response.status < 300;
}

/** The total size from `Content-Range: bytes a-b/total`, when the server sent it. */
function readTotalSize(response: HttpResponse): number | undefined {
	const match = /\/(\d+)\s*$/.exec(readHeader(response, 'content-range') ?? '');
	return match === null ? undefined : Number(match[1]);
}

/** Names (and sizes, for version 2) from a listing. */
function parseListing(response: HttpResponse, type: FileType): Array<{name: string; size?: number}> {
	let document: unknown;
	try {
		document = JSON.parse(response.body.toString('utf8'));
	} catch (error) {
		throw new PermanentError(`the server's listing of ${type}/ is not JSON; is the URL that of a restic REST server?`, {cause: error});
	}
	if (!Array.isArray(document)) throw new PermanentError(`the server's listing of ${type}/ is not a JSON array; is the URL that of a restic REST server?`);
	const isV2 = (readHeader(response, 'content-type') ?? '').startsWith(REST_V2);
	return document.flatMap((item): Array<{name: string; size?: number}> => {
		if (typeof item === 'string') return [{name: item}];
		if (isV2 && typeof item === 'object' && item !== null && typeof (item as {name?: unknown}).name === 'string') {
			const size = (item as {size?: unknown}).size;
			return [{name: (item as {name: string}).name, size: typeof size === 'number' ? size : undefined}];
		}
		return [];
	});
}
