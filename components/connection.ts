/**
 * From an adapter's option declaration to a form, and from a filled form to a tested connection
 * and a saved profile. Failures are explained in words, naming the field to fix.
 * No React here.
 */
import {readdir, stat} from 'node:fs/promises';
import '../adapters/index.js';
import {checkOptionValue, resolveOptionValues, type AdapterDefinition, type Environment, type OptionDeclaration} from '../adapters/options.js';
import {formatRepositoryLocation, redactLocation} from '../adapters/registry.js';
import {isStorageError, type Storage} from '../adapters/storage.js';
import type {BackendEntry} from './backends.js';
import type {FormField} from './state/form.js';
import type {Profile} from './profiles.js';
import type {WizardIntent} from './state/wizard.js';
import {expandPath} from './path-completion.js';

export type {WizardIntent};

/** The environment variable of an option that holds a value now, if any. */
function findEnvironmentSource(option: OptionDeclaration, env: Environment): string | undefined {
	return option.env?.find((name) => (env[name] ?? '') !== '');
}

/**
 * Tells whether a path option names a local file that must exist: the declaration says so with
 * `mustExist` (read when an adapter declares it), otherwise key, credentials and other `…-file`
 * options outside the location must exist.
 */
export function isExistingFileOption(option: OptionDeclaration): boolean {
	const declared = (option as {mustExist?: unknown}).mustExist;
	if (typeof declared === 'boolean') return declared;
	return (option.kind ?? 'string') === 'path' && option.inLocation !== true && /(^|-)file$/.test(option.name);
}

/** Tells whether a path option is on this computer (and so is resolved against the working directory). */
export function isLocalPathOption(scheme: string, option: OptionDeclaration): boolean {
	return (option.kind ?? 'string') === 'path' && (option.inLocation !== true || scheme === 'local');
}

/** The form fields of a backend's options, in declaration order. */
export function buildOptionFields(entry: Pick<BackendEntry, 'scheme' | 'options'>, env: Environment): FormField[] {
	return entry.options.map((option): FormField => {
		const kind = option.kind ?? 'string';
		const source = findEnvironmentSource(option, env);
		const fallback = source !== undefined ? `from $${source}` : option.default !== undefined && option.default !== '' ? `default ${option.default}` : undefined;
		const mentionsEnvironment = (option.env ?? []).some((name) => option.description.includes(name));
		const description = option.description + (option.env !== undefined && option.env.length > 0 && !mentionsEnvironment ? ` Empty: $${option.env.join(' or $')}.` : '');
		const check = (value: string): string | undefined => {
			const problem = checkOptionValue(option, value.trim());
			return problem === undefined ? undefined : `${option.label} ${problem}.`;
		};
		const base = {name: option.name, label: option.label, description, required: option.required, fallback, placeholder: option.placeholder, check};
		if (kind === 'boolean' || option.choices !== undefined) {
			const choices = kind === 'boolean' ? ['true', 'false'] : [...option.choices!];
			const labels = kind === 'boolean' ? ['yes', 'no'] : [...choices];
			const hasDefault = option.default !== undefined && option.default !== '';
			if (option.required && !hasDefault) return {...base, kind: 'choice', choices, choiceLabels: labels, fallback: undefined};
			const unset = hasDefault ? `default (${kind === 'boolean' ? (/^(true|yes|on|1)$/i.test(option.default!) ? 'yes' : 'no') : option.default})` : 'not set';
			return {...base, kind: 'choice', choices: ['', ...choices], choiceLabels: [unset, ...labels], required: false, fallback: undefined};
		}
		if (option.secret === true) return {...base, kind: 'secret'};
		if (kind === 'path') return {...base, kind: 'path', mustExist: isExistingFileOption(option)};
		if (kind === 'number') return {...base, kind: 'number'};
		if (kind === 'url') return {...base, kind: 'url'};
		return {...base, kind: 'text'};
	});
}

/**
 * Resolves local paths (`~`, relative ones) so that the profile works from any directory. A bare
 * name without a slash (a program such as `ssh` or `rclone`, looked up in PATH) is left as it is,
 * except for the local repository's own path.
 */
export function resolveLocalPaths(entry: Pick<BackendEntry, 'scheme' | 'options'>, values: Readonly<Record<string, string>>, cwd: string, home: string): Record<string, string> {
	const resolved: Record<string, string> = {...values};
	for (const option of entry.options) {
		const value = resolved[option.name];
		if (value === undefined || value === '' || !isLocalPathOption(entry.scheme, option)) continue;
		const looksLikePath = value.includes('/') || value.startsWith('~') || value.startsWith('.') || option.inLocation === true;
		if (looksLikePath) resolved[option.name] = expandPath(value, cwd, home);
	}
	return resolved;
}

/** Values by option name as `-o` keys: `{'s3.region': 'eu-west-1'}`. */
export function toOptionFlags(scheme: string, values: Readonly<Record<string, string>>): Record<string, string> {
	return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== '').map(([name, value]) => [`${scheme}.${name}`, value]));
}

/** What a profile keeps of the values typed in the wizard. */
export interface ProfileParts {
	readonly location: string;
	readonly options?: Record<string, string>;
	readonly askSecrets?: string[];
}

/**
 * Splits values into the location (options with `inLocation`), the other options saved with the
 * profile, and the secrets that are not saved (asked when the repository is opened), unless
 * `saveSecrets`.
 */
export function buildProfileParts(adapter: AdapterDefinition, values: Readonly<Record<string, string>>, saveSecrets: boolean): ProfileParts {
	const inLocation: Record<string, string> = {};
	const options: Record<string, string> = {};
	const askSecrets: string[] = [];
	for (const option of adapter.options) {
		const value = values[option.name];
		if (value === undefined || value === '') continue;
		if (option.inLocation === true) inLocation[option.name] = value;
		else if (option.secret === true && !saveSecrets) askSecrets.push(option.name);
		else options[option.name] = value;
	}
	return {
		location: formatRepositoryLocation(adapter, inLocation),
		...(Object.keys(options).length > 0 ? {options} : {}),
		...(askSecrets.length > 0 ? {askSecrets} : {}),
	};
}

/** The scheme of a location (`local` for plain paths). */
export function readLocationScheme(location: string): string {
	const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location.trim());
	return match === null ? 'local' : match[1]!.toLowerCase();
}

/** The values of a saved profile, by option name: those of its location and its options (for editing it). */
export function readProfileValues(profile: Profile, adapter: AdapterDefinition): Record<string, string> {
	const location = profile.location.trim();
	const rest = location.toLowerCase().startsWith(`${adapter.scheme}:`) ? location.slice(adapter.scheme.length + 1) : location;
	let fromLocation: Record<string, string> = {};
	try {
		fromLocation = adapter.parseLocation(rest);
	} catch {
		// A location that no longer parses is shown empty, to be typed again.
	}
	return {...fromLocation, ...(profile.options ?? {})};
}

/** A host key the backend does not trust, as an adapter reports it (see {@link readHostKeyProblem}). */
export interface HostKeyProblem {
	readonly host?: string;
	readonly fingerprint: string;
	/** The host presented a key other than the one recorded: never trusted silently. */
	readonly changed: boolean;
	/** Records the key as trusted, when the adapter offers it (only for unknown keys). */
	readonly trust?: () => Promise<void>;
}

/**
 * Reads a host-key problem from an error (or its causes). Understood shapes: the SFTP adapter's
 * HostKeyError (`problem: 'unknown' | 'changed' | 'revoked'`, `presented: {hostName,
 * fingerprint}`, `canTrust`, `trust()`), and errors carrying `hostKey: {host, fingerprint,
 * changed, trust()}` or those fields directly.
 */
export function readHostKeyProblem(error: unknown): HostKeyProblem | undefined {
	for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; current = (current as {cause?: unknown}).cause, depth++) {
		const record = current as Record<string, unknown>;
		const nested = [record.hostKey, record.presented].find((value) => value !== null && typeof value === 'object') as Record<string, unknown> | undefined;
		const holder = nested ?? record;
		if (typeof holder.fingerprint !== 'string' || holder.fingerprint === '') continue;
		const changed = holder.changed === true || holder.kind === 'changed' || record.problem === 'changed' || record.problem === 'revoked';
		const trustHolder = typeof record.trust === 'function' ? record : typeof holder.trust === 'function' ? holder : undefined;
		const trustable = trustHolder !== undefined && !changed && record.canTrust !== false;
		const host = typeof holder.host === 'string' ? holder.host : typeof holder.hostName === 'string' ? holder.hostName : undefined;
		return {
			host,
			fingerprint: holder.fingerprint,
			changed,
			trust: trustable ? async () => {
				await (trustHolder.trust as (this: unknown) => unknown).call(trustHolder);
			} : undefined,
		};
	}
	return undefined;
}

/** A connection test that failed: what to tell the user, and the field to fix. */
export class ConnectionProblem extends Error {
	constructor(
		message: string,
		readonly field?: string,
		readonly hostKey?: HostKeyProblem,
		/** The other intent would work here (a repository exists, or the location is free). */
		readonly suggest?: WizardIntent,
	) {
		super(message);
		Object.defineProperty(this, 'name', {value: 'ConnectionProblem', enumerable: false});
	}
}

/** The Node error code of an error or one of its causes. */
function findErrorCode(error: unknown): string | undefined {
	for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 6; current = (current as {cause?: unknown}).cause, depth++) {
		const code = (current as {code?: unknown}).code;
		if (typeof code === 'string' && code !== '') return code;
		const errors = (current as {errors?: unknown}).errors;
		if (Array.isArray(errors)) for (const inner of errors) {
			const innerCode = findErrorCode(inner);
			if (innerCode !== undefined) return innerCode;
		}
	}
	return undefined;
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** The first option of a kind of role: the location's, a secret, or the host/URL. */
function pickField(adapter: AdapterDefinition, role: 'location' | 'secret' | 'host'): string | undefined {
	const options = adapter.options;
	if (role === 'secret') return options.find((o) => o.secret === true)?.name ?? options.find((o) => /user|key|account/.test(o.name))?.name;
	if (role === 'host') return options.find((o) => /host|endpoint|url/.test(o.name))?.name ?? options.find((o) => o.inLocation === true)?.name;
	return options.find((o) => o.inLocation === true && o.required)?.name ?? options.find((o) => o.inLocation === true)?.name;
}

/** Explains why a backend could not be reached or used, in words, with the field to fix. */
export function explainConnectionError(error: unknown, adapter: AdapterDefinition): ConnectionProblem {
	if (error instanceof ConnectionProblem) return error;
	const detail = messageOf(error);
	const hostKey = readHostKeyProblem(error);
	if (hostKey !== undefined) {
		const who = hostKey.host === undefined ? 'The host' : `The host ${hostKey.host}`;
		const message = hostKey.changed
			? `${who} presented a different host key than the one recorded (fingerprint ${hostKey.fingerprint}). This can mean an attack; it is never trusted automatically. ${detail}`
			: `${who} is not known yet: its host key has the fingerprint ${hostKey.fingerprint}. Compare it with the one the host's administrator gives you${hostKey.trust === undefined ? ', add it to the known-hosts file, then test again.' : ', then press t to trust it.'}`;
		return new ConnectionProblem(message, pickField(adapter, 'host'), hostKey);
	}
	const code = findErrorCode(error);
	if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
		return new ConnectionProblem(`The host is unknown: its name could not be looked up (${code}). Check the spelling of the host name and the network. (${detail})`, pickField(adapter, 'host'));
	}
	if (code === 'ECONNREFUSED') return new ConnectionProblem(`The connection was refused: nothing answers on that host and port. Check the address, the port and that the service runs. (${detail})`, pickField(adapter, 'host'));
	if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new ConnectionProblem(`The host cannot be reached (${code}). Check the address and the network. (${detail})`, pickField(adapter, 'host'));
	if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/.test(code)) return new ConnectionProblem(`The secure connection failed: the server's certificate is not trusted (${code}). Check the address, or install the certificate authority. (${detail})`, pickField(adapter, 'host'));
	if (isStorageError(error, 'auth')) return new ConnectionProblem(`Access denied: ${detail} Check the credentials and that they may list, read and write the location.`, pickField(adapter, 'secret'));
	if (isStorageError(error, 'not-found')) return new ConnectionProblem(`Not found: ${detail}`, pickField(adapter, 'location'));
	if (isStorageError(error, 'transient')) return new ConnectionProblem(`${adapter.label} cannot be reached right now: ${detail} Try again in a moment.`, pickField(adapter, 'host'));
	return new ConnectionProblem(detail, undefined);
}

/** What a successful connection test found. */
export interface ConnectionOutcome {
	/** A repository (its config file) is there. */
	readonly found: boolean;
	/** The location, without secrets. */
	readonly location: string;
}

/** Settings of {@link testConnection}. */
export interface ConnectionTestOptions {
	readonly adapter: AdapterDefinition;
	/** Form values by option name, local paths resolved. */
	readonly values: Readonly<Record<string, string>>;
	readonly intent: WizardIntent;
	readonly env: Environment;
	readonly signal?: AbortSignal;
	/** Longest wait for the backend, in ms (default 30 s). */
	readonly timeoutMs?: number;
}

/** Checks a local repository directory before opening it: the path exists and is a directory (connect), or is new or empty (create). */
async function checkLocalDirectory(path: string, intent: WizardIntent): Promise<void> {
	let names: string[];
	try {
		const info = await stat(path);
		if (!info.isDirectory()) throw new ConnectionProblem(`${path} is a file, not a directory. Give the directory that holds the repository.`, 'path');
		names = await readdir(path);
	} catch (error) {
		if (error instanceof ConnectionProblem) throw error;
		const code = findErrorCode(error);
		if (code === 'ENOENT') {
			if (intent === 'create') return;
			throw new ConnectionProblem(`The directory ${path} does not exist. Check the path (Tab completes it), or press c to create a new repository there.`, 'path', undefined, 'create');
		}
		if (code === 'EACCES' || code === 'EPERM') throw new ConnectionProblem(`Access denied: ${path} cannot be read by this user. Check its owner and mode.`, 'path');
		throw new ConnectionProblem(`${path} cannot be used: ${messageOf(error)}`, 'path');
	}
	if (intent === 'create' && names.length > 0 && !names.includes('config')) {
		const shown = names.slice(0, 3).map((name) => `"${name}"`).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
		throw new ConnectionProblem(`${path} is not empty (it holds ${shown}). A new repository needs an empty or new directory.`, 'path');
	}
}

/**
 * Tests a connection: checks the values as the CLI would, opens the storage and looks for the
 * repository's config file. Resolves when the location fits the intent; otherwise rejects with a
 * {@link ConnectionProblem} that says what is wrong and which field to fix.
 */
export async function testConnection(options: ConnectionTestOptions): Promise<ConnectionOutcome> {
	const {adapter, values, intent, env, signal} = options;
	const resolved = resolveOptionValues(adapter, {location: {}, options: toOptionFlags(adapter.scheme, values), env});
	if (resolved.issues.length > 0) {
		const first = resolved.issues[0]!;
		throw new ConnectionProblem(resolved.issues.map((issue) => issue.message).join('; '), first.field);
	}
	const location = redactLocation(formatRepositoryLocation(adapter, Object.fromEntries(adapter.options.filter((o) => o.inLocation === true && resolved.values[o.name] !== undefined).map((o) => [o.name, resolved.values[o.name]!]))));
	if (adapter.scheme === 'local' && resolved.values.path !== undefined) await checkLocalDirectory(resolved.values.path, intent);
	const timeoutMs = options.timeoutMs ?? 30_000;
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new ConnectionProblem(`No answer from ${location} within ${Math.round(timeoutMs / 1000)} seconds. Check the address, the port and the network.`, pickField(adapter, 'host'))), timeoutMs);
	});
	const aborted = new Promise<never>((_, reject) => {
		if (signal?.aborted) reject(new ConnectionProblem('The test was cancelled.'));
		signal?.addEventListener('abort', () => reject(new ConnectionProblem('The test was cancelled.')), {once: true});
	});
	let settled = false;
	let storage: Storage | undefined;
	const run = async (): Promise<boolean> => {
		try {
			storage = await adapter.open(resolved.values);
		} catch (error) {
			throw explainConnectionError(error, adapter);
		}
		if (settled) {
			// The test timed out or was cancelled meanwhile: let go of the storage at once.
			void storage.close().catch(() => undefined);
			return false;
		}
		try {
			await storage.stat({type: 'config', name: ''}, {signal});
			return true;
		} catch (error) {
			if (isStorageError(error, 'not-found')) return false;
			throw explainConnectionError(error, adapter);
		}
	};
	const running = run();
	// The losers of the race below may still settle later; they must not count as unhandled.
	for (const promise of [running, timeout, aborted]) promise.catch(() => undefined);
	try {
		const found = await Promise.race([running, timeout, aborted]);
		if (intent === 'connect' && !found) {
			throw new ConnectionProblem(`No repository at ${location}: the location can be reached but holds no repository (no config file). Check the location, or press c to create a new repository there.`, pickField(adapter, 'location'), undefined, 'create');
		}
		if (intent === 'create' && found) {
			throw new ConnectionProblem(`A repository already exists at ${location}. Press c to connect to it instead, or change the location.`, pickField(adapter, 'location'), undefined, 'connect');
		}
		return {found, location};
	} finally {
		settled = true;
		clearTimeout(timer);
		const opened = storage as Storage | undefined;
		void opened?.close().catch(() => undefined);
	}
}
