/**
 * Running `rclone serve restic --stdio` for one repository, and speaking to it.
 *
 * rclone serves the remote to cairn alone, over its stdin and stdout: HTTP/2 without TLS (h2c)
 * carrying restic's REST protocol. No port is opened, so no other program or user on the
 * computer can reach the repository, and no credentials have to be made up and passed around.
 *
 * Lifecycle:
 * - open: `rclone version` is checked (a missing or too old rclone is reported with install
 *   advice), rclone is started, and a first request waits until it answers (with a timeout);
 *   if it exits first, its stderr says why.
 * - if rclone dies, the requests in flight fail with {@link TransientError} (so the retry
 *   wrapper tries them again) and the next request starts it again, once; if it dies again,
 *   every request fails with a {@link PermanentError} that shows its exit and stderr.
 * - close stops it (stdin closed, then SIGTERM, then SIGKILL). Every rclone still running is
 *   killed when cairn exits, and rclone itself stops when its stdin closes (if cairn is killed).
 */

import {connect, constants as http2Constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders} from 'node:http2';
import type {Socket} from 'node:net';

import {PermanentError, TransientError, throwIfAborted} from '../storage.js';
import {createSocketPair} from '../shared/socket-pair.js';
import {redactRcloneSecrets} from './redact.js';
import {describeExit, formatProcessOutput, startManagedProcess, type ManagedProcess} from '../shared/subprocess.js';
import type {HttpRequest, HttpResponse, HttpTransport} from '../http/transport.js';
import {isAbortError} from '../http/status.js';

/** The oldest rclone cairn accepts. */
export const MINIMUM_RCLONE_VERSION = [1, 50] as const;

const INSTALL_ADVICE = 'install rclone 1.50 or later (apt install rclone, or see https://rclone.org/install/), or give its path with -o rclone.program=…';

/** What {@link startRcloneTransport} needs. */
export interface RcloneSettings {
	/** The rclone program. */
	readonly program: string;
	/** Arguments before the remote, e.g. `serve restic --stdio --b2-hard-delete`. */
	readonly args: readonly string[];
	/** The remote and path, e.g. `b2prod:bucket/repo`. */
	readonly remote: string;
	/** How long starting may take. */
	readonly timeoutMs: number;
	readonly env?: NodeJS.ProcessEnv;
}

/** A transport to a managed rclone, with its process ID for tests and diagnostics. */
export interface RcloneTransport extends HttpTransport {
	/** The process ID of the rclone now running, if one is. */
	readonly pid: number | undefined;
	/** How many times rclone was started again after dying. */
	readonly restarts: number;
}

interface Running {
	readonly process: ManagedProcess;
	readonly session: ClientHttp2Session;
	/** cairn's end of the socket that is rclone's stdin and stdout. */
	readonly socket: Socket;
}

/** Ends the HTTP/2 session and the socket, then stops rclone (which also stops on its own when its stdin closes). */
async function stopRunning(running: Running, graceMs?: number): Promise<void> {
	running.session.close();
	running.socket.end();
	await running.process.stop(graceMs);
	running.session.destroy();
	running.socket.destroy();
}

/**
 * Checks the rclone version, starts rclone and waits until it answers. Rejects with a storage
 * error that says what to do.
 */
export async function startRcloneTransport(settings: RcloneSettings): Promise<RcloneTransport> {
	await checkRcloneVersion(settings);
	const transport = new ManagedRclone(settings);
	await transport.start();
	return transport;
}

class ManagedRclone implements RcloneTransport {
	private running: Running | undefined;
	private starting: Promise<Running> | undefined;
	private failure: Error | undefined;
	private closed = false;
	restarts = 0;
	/** The rclone started again after the first one died, once there is one. */
	private restarted: Running | undefined;

	constructor(private readonly settings: RcloneSettings) {}

	get pid(): number | undefined {
		return this.running?.process.exit === undefined ? this.running?.process.child.pid : undefined;
	}

	async start(): Promise<void> {
		this.running = await launch(this.settings);
	}

	async request(request: HttpRequest): Promise<HttpResponse> {
		throwIfAborted(request.signal);
		const running = await this.ensureRunning();
		try {
			return await sendRequest(running.session, request);
		} catch (error) {
			if (isAbortError(error) || request.signal?.aborted) throw request.signal?.reason ?? error;
			throw await this.explainFailure(running, request, error);
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		await this.starting?.catch(() => undefined);
		const running = this.running;
		this.running = undefined;
		if (running === undefined) return;
		await stopRunning(running);
	}

	/** The running rclone; starts it again once after it died. */
	private async ensureRunning(): Promise<Running> {
		if (this.closed) throw new PermanentError(`rclone (${redactRcloneSecrets(this.settings.remote)}) was stopped; no more operations can be made`);
		if (this.failure !== undefined) throw this.failure;
		const current = this.running;
		if (current !== undefined && isAlive(current)) return current;
		if (this.starting !== undefined) return this.starting;
		if (this.restarts >= 1) {
			this.failure = makeDeathError(this.settings, current, 'again after it was restarted once; giving up');
			throw this.failure;
		}
		this.restarts++;
		this.starting = (async () => {
			if (current !== undefined) await stopRunning(current, 500);
			try {
				const started = await launch(this.settings);
				if (this.closed) {
					await stopRunning(started);
					throw new PermanentError(`rclone (${redactRcloneSecrets(this.settings.remote)}) was stopped; no more operations can be made`);
				}
				this.running = started;
				this.restarted = started;
				return started;
			} catch (error) {
				this.failure = error instanceof Error ? error : new PermanentError(String(error));
				throw this.failure;
			}
		})().finally(() => {
			this.starting = undefined;
		});
		return this.starting;
	}

	/** The storage error for a request that got no response. */
	private async explainFailure(running: Running, request: HttpRequest, error: unknown): Promise<Error> {
		// rclone's stdout closes a moment before its exit is reported; wait a little to tell which.
		await Promise.race([running.process.exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
		const action = `${request.method} ${request.path === '' ? '/' : request.path}`;
		if (running.process.exit !== undefined || running.session.destroyed || running.session.closed) {
			// Only the rclone started again dying ends it: a request that was in flight to the first
			// one can fail after the restart (several requests run at once), and is retried.
			if (running === this.restarted) {
				this.failure ??= makeDeathError(this.settings, running, `again after it was restarted once, during ${action}; giving up`, error);
				return this.failure;
			}
			return new TransientError(`${describeDeath(this.settings, running, `during ${action}`)}; it is started again for the next attempt`, {cause: error});
		}
		const message = error instanceof Error ? error.message : String(error);
		return new TransientError(`the request ${action} to rclone (${redactRcloneSecrets(this.settings.remote)}) failed: ${message}; a retry may succeed`, {cause: error});
	}
}

function isAlive(running: Running): boolean {
	return running.process.exit === undefined && !running.session.destroyed && !running.session.closed;
}

/** `rclone exited with code 1 during POST data/…; it said: …` */
function describeDeath(settings: RcloneSettings, running: Running | undefined, when: string): string {
	const exit = running?.process.exit;
	const how = exit === undefined ? 'stopped answering' : describeExit(exit);
	const said = running === undefined ? '' : formatProcessOutput(redactRcloneSecrets(running.process.readStderr()), 8);
	return `rclone (${redactRcloneSecrets(settings.remote)}) ${how} ${when}${said === '' ? '' : `; it said:\n${said}\n`}`;
}

function makeDeathError(settings: RcloneSettings, running: Running | undefined, when: string, cause?: unknown): PermanentError {
	return new PermanentError(`${describeDeath(settings, running, when)}. Check the remote with \`rclone lsd ${redactRcloneSecrets(settings.remote)}\`, then run the command again`, {cause});
}

/** Starts rclone and waits until it answers a request. */
async function launch(settings: RcloneSettings): Promise<Running> {
	const pair = await createSocketPair();
	const process = startManagedProcess({program: settings.program, args: [...settings.args, settings.remote], env: settings.env, socket: pair.theirs});
	// The child has its own copy of the socket now.
	pair.theirs.destroy();
	try {
		await process.started;
	} catch (error) {
		pair.ours.destroy();
		throw describeStartFailure(settings, error);
	}
	pair.ours.on('error', () => undefined);
	// Node refuses new streams (ENHANCE_YOUR_CALM) once a session holds more than maxSessionMemory
	// MB; uploads of large packs in flight would reach the 10 MB default.
	const session = connect('http://localhost', {createConnection: () => pair.ours, maxSessionMemory: 1024});
	session.on('error', () => undefined);
	const running: Running = {process, session, socket: pair.ours};
	let timer: NodeJS.Timeout | undefined;
	try {
		const ready = sendRequest(session, {method: 'HEAD', path: 'config'});
		const exited = process.exited.then(() => {
			throw new Error('exited');
		});
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error('timeout')), settings.timeoutMs);
		});
		await Promise.race([ready, exited, timeout]);
		return running;
	} catch (error) {
		await Promise.race([process.exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
		session.destroy();
		pair.ours.destroy();
		const timedOut = (error as Error).message === 'timeout' && process.exit === undefined;
		await process.stop(500);
		throw describeReadyFailure(settings, process, timedOut, error);
	} finally {
		clearTimeout(timer);
	}
}

function describeStartFailure(settings: RcloneSettings, error: unknown): Error {
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ENOENT') return new PermanentError(`cannot run rclone: the program "${settings.program}" was not found; ${INSTALL_ADVICE}`, {cause: error});
	if (code === 'EACCES') return new PermanentError(`cannot run rclone: "${settings.program}" is not executable; check its permissions or ${INSTALL_ADVICE}`, {cause: error});
	return new PermanentError(`cannot run rclone ("${settings.program}"): ${(error as Error).message}`, {cause: error});
}

function describeReadyFailure(settings: RcloneSettings, process: ManagedProcess, timedOut: boolean, cause: unknown): Error {
	const stderr = redactRcloneSecrets(process.readStderr());
	const said = formatProcessOutput(stderr, 12);
	const saying = said === '' ? '' : `; it said:\n${said}`;
	if (timedOut) {
		return new TransientError(`rclone (${redactRcloneSecrets(settings.remote)}) did not answer within ${Math.round(settings.timeoutMs / 1000)} s; check the remote with \`rclone lsd ${redactRcloneSecrets(settings.remote)}\`, or raise -o rclone.timeout${saying}`, {cause});
	}
	if (/didn't find section in config file|not found in config file|config file .* not found/i.test(stderr)) {
		return new PermanentError(
			`rclone does not know the remote in "${redactRcloneSecrets(settings.remote)}": define it with \`rclone config\`, or point RCLONE_CONFIG at the config file that has it${saying}`,
			{cause},
		);
	}
	if (/unknown (command|flag|shorthand flag)/i.test(stderr)) {
		return new PermanentError(`rclone refused its arguments (${settings.args.join(' ')}): check -o rclone.args, or ${INSTALL_ADVICE}${saying}`, {cause});
	}
	const exit = process.exit === undefined ? 'stopped' : describeExit(process.exit);
	return new PermanentError(`rclone (${redactRcloneSecrets(settings.remote)}) ${exit} before it was ready${saying}`, {cause});
}

/** Runs `rclone version` and refuses versions older than {@link MINIMUM_RCLONE_VERSION}. */
export async function checkRcloneVersion(settings: Pick<RcloneSettings, 'program' | 'env' | 'timeoutMs'>): Promise<string> {
	const process = startManagedProcess({program: settings.program, args: ['version'], env: settings.env});
	try {
		await process.started;
	} catch (error) {
		throw describeStartFailure({...settings, args: [], remote: ''}, error);
	}
	let stdout = '';
	process.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
	process.stdin!.end();
	let timer: NodeJS.Timeout | undefined;
	const finished = await Promise.race([
		process.exited,
		new Promise<undefined>((resolve) => {
			timer = setTimeout(() => resolve(undefined), settings.timeoutMs);
		}),
	]);
	clearTimeout(timer);
	if (finished === undefined) {
		await process.stop(200);
		throw new PermanentError(`\`${settings.program} version\` did not finish within ${Math.round(settings.timeoutMs / 1000)} s; is "${settings.program}" really rclone?`);
	}
	const match = /rclone v?(\d+)\.(\d+)(\.\d+)?\S*/.exec(stdout);
	if (match === null) {
		throw new PermanentError(`"${settings.program}" does not look like rclone (\`${settings.program} version\` printed ${JSON.stringify(stdout.split('\n')[0] ?? '')}); ${INSTALL_ADVICE}`);
	}
	const [major, minor] = [Number(match[1]), Number(match[2])];
	const [needMajor, needMinor] = MINIMUM_RCLONE_VERSION;
	if (major < needMajor || (major === needMajor && minor < needMinor)) {
		throw new PermanentError(`rclone ${match[0].replace(/^rclone /, '')} is too old: cairn needs rclone ${needMajor}.${needMinor} or later to serve a repository; ${INSTALL_ADVICE}`);
	}
	return match[0];
}

/** Sends one request over the HTTP/2 session and collects the whole response. */
function sendRequest(session: ClientHttp2Session, request: HttpRequest): Promise<HttpResponse> {
	return new Promise((resolve, reject) => {
		const headers: Record<string, string> = {
			[http2Constants.HTTP2_HEADER_METHOD]: request.method,
			[http2Constants.HTTP2_HEADER_PATH]: `/${request.path}`,
			...request.headers,
		};
		if (request.body !== undefined) headers['content-length'] = String(request.body.byteLength);
		// The body is written piece by piece so that an abort can end it early but cleanly: rclone
		// then sees a body shorter than its Content-Length, drops the partial upload and answers,
		// and only that answer settles the request, so no partial file stays behind.
		const body = request.body;
		let stream: ClientHttp2Stream;
		try {
			stream = session.request(headers, {endStream: body === undefined, signal: body === undefined ? request.signal : undefined});
		} catch (error) {
			reject(error);
			return;
		}
		let aborted = false;
		const onAbort = () => {
			aborted = true;
		};
		request.signal?.addEventListener('abort', onAbort, {once: true});
		stream.on('close', () => request.signal?.removeEventListener('abort', onAbort));
		let status = 0;
		let responseHeaders: Record<string, string | undefined> = {};
		const chunks: Buffer[] = [];
		stream.on('response', (incoming: IncomingHttpHeaders) => {
			status = Number(incoming[':status']);
			responseHeaders = {};
			for (const [name, value] of Object.entries(incoming)) if (!name.startsWith(':')) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
		});
		stream.on('data', (chunk: Buffer) => chunks.push(chunk));
		stream.on('end', () => {
			if (aborted) reject(request.signal?.reason ?? new DOMException('The operation was aborted', 'AbortError'));
			else if (status === 0) reject(new Error('rclone closed the request without an answer'));
			else resolve({status, headers: responseHeaders, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)});
		});
		stream.on('error', reject);
		stream.on('close', () => {
			if (stream.rstCode !== undefined && stream.rstCode !== http2Constants.NGHTTP2_NO_ERROR) reject(new Error(`rclone reset the request (HTTP/2 code ${stream.rstCode})`));
			else if (status === 0) reject(new Error('rclone closed the request without an answer'));
		});
		if (body !== undefined) {
			writeBody(stream, Buffer.from(body.buffer, body.byteOffset, body.byteLength), () => aborted).catch((error: unknown) => {
				stream.destroy(error as Error);
				reject(error);
			});
		}
	});
}

/** Bytes written to an HTTP/2 stream at a time. */
const BODY_PIECE = 256 * 1024;

/** Writes a body in pieces, waiting for drain; stops early (ending the stream) once `isAborted()`. */
async function writeBody(stream: ClientHttp2Stream, body: Buffer, isAborted: () => boolean): Promise<void> {
	for (let offset = 0; offset < body.length; offset += BODY_PIECE) {
		if (isAborted() || stream.destroyed) break;
		if (!stream.write(body.subarray(offset, offset + BODY_PIECE))) {
			await new Promise<void>((resolve) => {
				const done = () => {
					stream.off('drain', done);
					stream.off('close', done);
					resolve();
				};
				stream.on('drain', done);
				stream.on('close', done);
			});
		}
	}
	if (!stream.destroyed) stream.end();
}
