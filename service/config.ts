/**
 * The service's config file: YAML (JSON is YAML too), with the field names of the Incus OS
 * backup service (`enabled`, `repository_password*`, `backend`, `retention`,
 * `restore_snapshot_id`, `maintenance_windows`) and cairn's own (`paths`, `excludes`, `tags`,
 * `host`, `schedule`, `prune`, `check`, `hooks`, `notify`, `state_file`, `limit_upload`,
 * `limit_download`, `log_file`, `max_memory`). Everything is validated here, before anything runs; every
 * problem names the file, the line and the field, and says what is expected.
 * docs/service.md describes every field. No React here.
 */
import {readFile, stat} from 'node:fs/promises';
import {basename, extname, isAbsolute, join, resolve} from 'node:path';
import {homedir} from 'node:os';
import {LineCounter, parseDocument, isMap, type Document} from 'yaml';
import '../adapters/index.js';
import {findAdapter, listAdapters, parseRepositoryLocation, redactLocation, RepositoryLocationError} from '../adapters/registry.js';
import type {Environment} from '../adapters/options.js';
import {PolicyError, readPolicyOptions, isEmptyPolicy, validatePolicy, type RetentionPolicy} from '../engine/retention/policy.js';
import type {ReadDataSubset} from '../engine/checker/types.js';
import {parseInterval, parseSchedule, ScheduleSyntaxError, SCHEDULE_EXPECTED, type Schedule} from './schedule.js';
import {checkWindow, parseDayOfWeek, type MaintenanceWindow} from './windows.js';
import {parseMemorySize} from '../engine/util/memory-budget.js';

/** Where the repository password comes from. Holds the secret itself only for `inline`. */
export type PasswordSource =
	| {readonly kind: 'inline'; readonly value: string}
	| {readonly kind: 'file'; readonly path: string}
	| {readonly kind: 'command'; readonly command: string};

/**
 * The repository. `location` and `options` are what the shared opener takes (options keyed
 * `<scheme>.<name>`, secrets included: never show or save them). For `backend: {profile: NAME}`
 * they come from the saved profile when the config was loaded with a profile look-up; until then
 * `location` is empty.
 */
export interface ServiceBackend {
	/** The scheme (`s3`, `local`, `sftp`, …) or `profile`. */
	readonly type: string;
	/** The saved profile's name, for `backend: {profile: NAME}`. */
	readonly profile: string | null;
	readonly location: string;
	readonly options: Readonly<Record<string, string>>;
}

/** A shell command run at a point of a run, with its time limit. */
export interface HookCommand {
	readonly command: string;
	readonly timeout_ms: number;
}

/** The hooks, by the point they run at. */
export interface ServiceHooks {
	readonly before_backup?: HookCommand;
	readonly after_backup?: HookCommand;
	readonly on_failure?: HookCommand;
	readonly before_restore?: HookCommand;
	readonly after_restore?: HookCommand;
}

export const HOOK_NAMES = ['before_backup', 'after_backup', 'on_failure', 'before_restore', 'after_restore'] as const;
export type HookName = typeof HOOK_NAMES[number];

/** Where and when to report. */
export interface ServiceNotify {
	/** POST target (healthchecks-style); may hold a token, so it is treated as a secret. */
	readonly url: string | null;
	/** POST target of failures: `failure_url`, else `<url>/fail` for healthchecks.io ping URLs (hc-ping.com), else `url`. */
	readonly failure_url: string | null;
	readonly on: ReadonlyArray<'failure' | 'success'>;
	/** A Prometheus textfile-collector file (`*.prom`), rewritten atomically after every run. */
	readonly prometheus_textfile: string | null;
	readonly timeout_ms: number;
}

/** A loaded, validated config. Field names follow the file's; values are parsed. */
export interface ServiceConfig {
	/** The config file, absolute. */
	readonly path: string;
	/** The file name without its extension (`service` for service.yaml). */
	readonly name: string;
	readonly enabled: boolean;
	/** Undefined when a saved profile gives the password. */
	readonly password: PasswordSource | undefined;
	readonly backend: ServiceBackend;
	/** The location without secrets, for the state, logs and hooks. */
	readonly repository: string;
	readonly paths: readonly string[];
	readonly excludes: readonly string[];
	readonly tags: readonly string[];
	readonly host: string | null;
	/** When to back up; null: every `run --once` backs up (the timer or cron line is the schedule). */
	readonly schedule: Schedule | null;
	readonly prune: null | {readonly schedule: Schedule; readonly max_unused: number};
	readonly check: null | {readonly schedule: Schedule; readonly read_data_subset: ReadDataSubset | null};
	/** Null when no keep_* is set: nothing is forgotten. */
	readonly retention: RetentionPolicy | null;
	readonly restore_snapshot_id: string | null;
	readonly maintenance_windows: readonly MaintenanceWindow[];
	readonly hooks: ServiceHooks;
	readonly notify: ServiceNotify | null;
	/** The state file, absolute (the default unless `state_file` is set). */
	readonly state_file: string;
	/** KiB/s; carried to the opener for the rate-limit wrapper. */
	readonly limit_upload: number | null;
	readonly limit_download: number | null;
	/** A file the service appends its log to (besides stderr). */
	readonly log_file: string | null;
	/**
	 * The memory limit of the service's backups and restores in bytes (`max_memory: 512M`, parsed
	 * as `--max-memory`); null: CAIRN_MAX_MEMORY from the environment, else the machine's RAM.
	 */
	readonly max_memory: number | null;
	/** Compression of new data (`off`, `auto`, `max`); null: the default. */
	readonly compression: 'off' | 'auto' | 'max' | null;
	/** Every secret value of the config (password, keys, notify URL): scrubbed from any text the service writes. */
	readonly secrets: readonly string[];
}

/** One problem in a config file. */
export interface ConfigIssue {
	readonly line: number | null;
	/** Dotted path, e.g. `backend.type`, `maintenance_windows[0].end_hour`. */
	readonly field: string;
	readonly message: string;
}

/** A config that cannot be used. `issues` lists every problem found; the message shows them all. */
export class ServiceConfigError extends Error {
	readonly file: string;
	readonly issues: readonly ConfigIssue[];
	/** The first problem's line and field. */
	readonly line: number | null;
	readonly field: string;

	constructor(file: string, issues: readonly ConfigIssue[]) {
		const lines = issues.map((issue) => `${file}${issue.line === null ? '' : `:${issue.line}`}: ${issue.field === '' ? '' : `${issue.field}: `}${issue.message}`);
		super(lines.length === 1 ? lines[0]! : `${file}: ${lines.length} problems:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
		this.file = file;
		this.issues = issues;
		this.line = issues[0]?.line ?? null;
		this.field = issues[0]?.field ?? '';
		Object.defineProperty(this, 'name', {value: 'ServiceConfigError', enumerable: false});
	}
}

/** A saved profile as the service needs it (components/profiles.ts's Profile has this shape). */
export interface ServiceProfile {
	readonly location: string;
	readonly options?: Readonly<Record<string, string>>;
	readonly password?: string;
	readonly passwordFile?: string;
	readonly passwordCommand?: string;
	readonly compression?: 'off' | 'auto' | 'max';
}

/** Options of {@link loadServiceConfig}. */
export interface LoadOptions {
	/** Environment for default paths and option fallbacks (default process.env). */
	readonly env?: Environment;
	/** Finds a saved profile by name, for `backend: {profile: NAME}`; without it the profile is not resolved. */
	readonly findProfile?: (name: string) => ServiceProfile | undefined | Promise<ServiceProfile | undefined>;
	/** Skip the file-permission check (the app reads configs it does not run). */
	readonly skipPermissionCheck?: boolean;
	/** True when running as root (default: the process's uid is 0). */
	readonly isRoot?: boolean;
}

const TOP_FIELDS = [
	'enabled', 'repository_password', 'repository_password_file', 'repository_password_command', 'backend', 'retention', 'restore_snapshot_id', 'maintenance_windows',
	'paths', 'excludes', 'tags', 'host', 'schedule', 'prune', 'check', 'hooks', 'notify', 'state_file', 'limit_upload', 'limit_download', 'log_file', 'compression', 'max_memory',
] as const;
const RETENTION_FIELDS = ['keep_latest', 'keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_annual', 'keep_yearly', 'keep_within', 'keep_within_hourly', 'keep_within_daily', 'keep_within_weekly', 'keep_within_monthly', 'keep_within_annual', 'keep_within_yearly', 'keep_tag'];
const WINDOW_FIELDS = ['start_day_of_week', 'start_hour', 'start_minute', 'end_day_of_week', 'end_hour', 'end_minute'] as const;
const S3_FIELDS = ['endpoint', 'bucket', 'access_key', 'secret_key', 'region', 'prefix'];
/** Default time limit of a hook. */
export const DEFAULT_HOOK_TIMEOUT_MS = 15 * 60_000;

function isRootUser(options: LoadOptions): boolean {
	return options.isRoot ?? process.getuid?.() === 0;
}

function findHome(env: Environment): string {
	return env.HOME || homedir();
}

/** `/etc/cairn/service.yaml` for root, `$XDG_CONFIG_HOME/cairn/service.yaml` (default `~/.config`) otherwise. */
export function defaultConfigPath(env: Environment = process.env, isRoot = process.getuid?.() === 0): string {
	if (isRoot) return '/etc/cairn/service.yaml';
	return join(env.XDG_CONFIG_HOME || join(findHome(env), '.config'), 'cairn', 'service.yaml');
}

/**
 * The state file of a config: `state_file` when set, else `/var/lib/cairn/<name>.state.json`
 * for root, else `$XDG_STATE_HOME/cairn/<name>.state.json` (default `~/.local/state`).
 */
export function defaultStatePath(config: {readonly name: string; readonly state_file?: string | null}, env: Environment = process.env, isRoot = process.getuid?.() === 0): string {
	if (config.state_file) return resolve(config.state_file);
	if (isRoot) return `/var/lib/cairn/${config.name}.state.json`;
	return join(env.XDG_STATE_HOME || join(findHome(env), '.local', 'state'), 'cairn', `${config.name}.state.json`);
}

/** The config name of a file: its name without the extension. */
export function readConfigName(path: string): string {
	return basename(path, extname(path));
}

type Key = string | number;

/** Reads values out of the parsed document, collecting problems with their lines. */
class ConfigReader {
	readonly issues: ConfigIssue[] = [];

	constructor(private readonly doc: Document, private readonly lines: LineCounter) {}

	/** The 1-based line of a field: its key's line, else its value's, else its nearest parent's. */
	lineOf(path: readonly Key[]): number | null {
		for (let depth = path.length; depth >= 0; depth--) {
			const parentPath = path.slice(0, Math.max(0, depth - 1));
			const parent = parentPath.length === 0 ? this.doc.contents : this.doc.getIn(parentPath, true);
			if (depth > 0 && isMap(parent)) {
				const key = path[depth - 1];
				const pair = parent.items.find((item) => (item.key as {value?: unknown} | null)?.value === key);
				const range = (pair?.key as {range?: [number, number, number]} | null)?.range;
				if (range) return this.lines.linePos(range[0]).line;
			}
			const node = depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth), true);
			const range = (node as {range?: [number, number, number]} | null)?.range;
			if (range) return this.lines.linePos(range[0]).line;
		}
		return null;
	}

	report(path: readonly Key[], message: string): void {
		this.issues.push({line: this.lineOf(path), field: formatField(path), message});
	}
}

/** `backend.s3.bucket`, `maintenance_windows[0].end_hour`. */
export function formatField(path: readonly Key[]): string {
	return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

function describeType(value: unknown): string {
	if (value === null) return 'nothing (null)';
	if (Array.isArray(value)) return 'a list';
	if (typeof value === 'object') return 'a mapping';
	return `${typeof value} ${JSON.stringify(value)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scalar as a string (numbers and booleans as YAML wrote them). */
function scalarText(value: unknown): string | undefined {
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	return undefined;
}

function checkKeys(reader: ConfigReader, value: Record<string, unknown>, path: readonly Key[], allowed: readonly string[], what: string): void {
	for (const key of Object.keys(value)) {
		if (!allowed.includes(key)) reader.report([...path, key], `unknown field in ${what}; expected one of: ${allowed.join(', ')}`);
	}
}

function readString(reader: ConfigReader, value: unknown, path: readonly Key[], expected: string): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value === 'string' && value.trim() !== '') return value;
	if (typeof value === 'number' && expected.includes('number')) return String(value);
	reader.report(path, `expected ${expected}, found ${describeType(value)}`);
	return undefined;
}

function readStringList(reader: ConfigReader, value: unknown, path: readonly Key[], expected: string): string[] {
	if (value === undefined || value === null) return [];
	const list = typeof value === 'string' ? [value] : value;
	if (!Array.isArray(list)) {
		reader.report(path, `expected ${expected}, found ${describeType(value)}`);
		return [];
	}
	const result: string[] = [];
	list.forEach((item, i) => {
		const text = scalarText(item);
		if (text === undefined || text.trim() === '') reader.report(typeof value === 'string' ? path : [...path, i], `expected ${expected}, found ${describeType(item)}`);
		else result.push(text);
	});
	return result;
}

function readPositiveInteger(reader: ConfigReader, value: unknown, path: readonly Key[], unit: string): number | null {
	if (value === undefined || value === null) return null;
	const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
	if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) return n;
	reader.report(path, `expected a whole number of ${unit} greater than 0, found ${describeType(value)}`);
	return null;
}

/** A memory size as `--max-memory` takes it (`512M`, `2G`, a number of bytes). */
function readMemorySize(reader: ConfigReader, value: unknown, path: readonly Key[]): number | null {
	if (value === undefined || value === null || value === '') return null;
	if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
		try {
			return parseMemorySize(String(value), path.join('.'));
		} catch (error) {
			reader.report(path, (error as Error).message.replace(/^[^:]*: /, ''));
			return null;
		}
	}
	reader.report(path, `expected a memory size with a unit, e.g. 512M or 2G, found ${describeType(value)}`);
	return null;
}

/** A duration: a number of seconds or a Go-style duration (`90s`, `10m`, `1h`). */
function readDuration(reader: ConfigReader, value: unknown, path: readonly Key[], fallback: number): number {
	if (value === undefined || value === null) return fallback;
	if (typeof value === 'number' && value > 0) return Math.round(value * 1000);
	if (typeof value === 'string') {
		try {
			return parseInterval(value);
		} catch (error) {
			reader.report(path, `${(error as Error).message} (or a number of seconds)`);
			return fallback;
		}
	}
	reader.report(path, `expected a duration such as 10m or a number of seconds, found ${describeType(value)}`);
	return fallback;
}

function readScheduleField(reader: ConfigReader, value: unknown, path: readonly Key[], allowPeriodWords: boolean): Schedule | null {
	if (value === undefined || value === null) return null;
	if (typeof value !== 'string') {
		reader.report(path, `expected ${SCHEDULE_EXPECTED}, found ${describeType(value)}`);
		return null;
	}
	try {
		return parseSchedule(value, {allowPeriodWords});
	} catch (error) {
		if (!(error instanceof ScheduleSyntaxError)) throw error;
		reader.report(path, allowPeriodWords ? `${error.message}; "daily", "weekly" and "monthly" also work here` : error.message);
		return null;
	}
}

function readPassword(reader: ConfigReader, raw: Record<string, unknown>): PasswordSource | undefined {
	const given = (['repository_password', 'repository_password_file', 'repository_password_command'] as const).filter((key) => raw[key] !== undefined && raw[key] !== null);
	if (given.length > 1) {
		reader.report([given[1]!], `the password is given twice (${given.join(' and ')}): keep only one of repository_password, repository_password_file and repository_password_command`);
		return undefined;
	}
	const key = given[0];
	if (key === undefined) return undefined;
	const text = readString(reader, scalarText(raw[key]) ?? raw[key], [key], key === 'repository_password' ? 'the repository password (a non-empty string)' : key === 'repository_password_file' ? 'the path of a file holding the password' : 'a shell command that prints the password');
	if (text === undefined) return undefined;
	if (key === 'repository_password') return {kind: 'inline', value: text};
	if (key === 'repository_password_file') {
		if (!isAbsolute(text)) reader.report([key], `expected an absolute path, found "${text}"`);
		return {kind: 'file', path: text};
	}
	return {kind: 'command', command: text};
}

/** Turns `https://host:9000` or `host:9000` into a URL with a scheme (Incus's endpoint is often a bare host). */
function normalizeEndpoint(endpoint: string): string {
	const trimmed = endpoint.trim().replace(/\/+$/, '');
	return /^https?:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
}

interface BackendRead {
	backend: ServiceBackend;
	secrets: string[];
}

function readBackend(reader: ConfigReader, value: unknown, env: Environment): BackendRead | undefined {
	const path = ['backend'];
	const known = [...listAdapters().map((a) => a.scheme), 'profile'];
	if (value === undefined || value === null) {
		reader.report(path, `missing: give the repository, e.g. backend: {type: s3, s3: {endpoint, bucket, access_key, secret_key}} or backend: {type: local, location: /srv/backup} (types: ${known.join(', ')}), or backend: {profile: NAME}`);
		return undefined;
	}
	if (!isRecord(value)) {
		reader.report(path, `expected a mapping with type and its settings, found ${describeType(value)}`);
		return undefined;
	}
	const profile = value['profile'];
	const type = scalarText(value['type'])?.trim().toLowerCase();
	if (profile !== undefined || type === 'profile') {
		checkKeys(reader, value, path, ['type', 'profile'], 'a backend naming a saved profile');
		const name = readString(reader, profile, [...path, 'profile'], 'the name of a profile saved by the app');
		if (name === undefined) {
			if (profile === undefined) reader.report([...path, 'profile'], 'missing: name the saved profile, e.g. profile: default');
			return undefined;
		}
		return {backend: {type: 'profile', profile: name, location: '', options: {}}, secrets: []};
	}
	if (type === undefined || type === '') {
		reader.report([...path, 'type'], `missing: expected one of ${known.join(', ')}`);
		return undefined;
	}
	const adapter = findAdapter(type);
	if (adapter === undefined) {
		reader.report([...path, 'type'], `unknown backend type "${type}"; expected one of ${known.join(', ')}`);
		return undefined;
	}
	const secrets: string[] = [];
	const options: Record<string, string> = {};
	let location: string;
	if (type === 's3' && value['s3'] !== undefined) {
		checkKeys(reader, value, path, ['type', 's3', 'options'], 'an s3 backend');
		const s3 = value['s3'];
		if (!isRecord(s3)) {
			reader.report([...path, 's3'], `expected a mapping {endpoint, bucket, access_key, secret_key, region}, found ${describeType(s3)}`);
			return undefined;
		}
		checkKeys(reader, s3, [...path, 's3'], S3_FIELDS, 'backend.s3');
		const read = (key: string, what: string) => readString(reader, scalarText(s3[key]) ?? s3[key], [...path, 's3', key], what);
		const endpoint = read('endpoint', 'the S3 endpoint, e.g. https://s3.example.com:9000');
		const bucket = read('bucket', 'the bucket name');
		const prefix = read('prefix', 'a folder inside the bucket');
		const accessKey = read('access_key', 'the access key ID');
		const secretKey = read('secret_key', 'the secret access key');
		const region = read('region', 'the region, e.g. us-east-1');
		if (bucket === undefined) {
			if (s3['bucket'] === undefined) reader.report([...path, 's3', 'bucket'], 'missing: expected the bucket name');
			return undefined;
		}
		if ((accessKey === undefined) !== (secretKey === undefined)) {
			reader.report([...path, 's3', accessKey === undefined ? 'access_key' : 'secret_key'], 'expected both access_key and secret_key, or neither (then the AWS credential chain is used)');
		}
		const where = [bucket.replace(/^\/+|\/+$/g, ''), prefix?.replace(/^\/+|\/+$/g, '')].filter(Boolean).join('/');
		location = endpoint === undefined ? `s3:${where}` : `s3:${normalizeEndpoint(endpoint)}/${where}`;
		if (accessKey !== undefined) options['s3.access-key-id'] = accessKey;
		if (secretKey !== undefined) {
			options['s3.secret-access-key'] = secretKey;
			secrets.push(secretKey);
		}
		if (region !== undefined) options['s3.region'] = region;
	} else {
		checkKeys(reader, value, path, ['type', 'location', 'options'], `a ${type} backend`);
		const given = readString(reader, value['location'], [...path, 'location'], `the ${adapter.label} location, e.g. ${adapter.example}`);
		if (given === undefined) {
			if (value['location'] === undefined) reader.report([...path, 'location'], `missing: expected the ${adapter.label} location, e.g. ${adapter.example}${type === 's3' ? ' (or an s3: {endpoint, bucket, access_key, secret_key, region} mapping)' : ''}`);
			return undefined;
		}
		location = given.toLowerCase().startsWith(`${type}:`) ? given : `${type}:${given}`;
	}
	const extra = value['options'];
	if (extra !== undefined && extra !== null) {
		if (!isRecord(extra)) {
			reader.report([...path, 'options'], `expected a mapping of ${adapter.label} options (name: value), found ${describeType(extra)}`);
		} else {
			const names = adapter.options.map((o) => o.name);
			for (const [name, raw] of Object.entries(extra)) {
				const declared = adapter.options.find((o) => o.name === name);
				if (declared === undefined) {
					reader.report([...path, 'options', name], `unknown ${adapter.label} option; expected one of: ${names.join(', ')}`);
					continue;
				}
				const text = scalarText(raw);
				if (text === undefined) {
					reader.report([...path, 'options', name], `expected a value (text, number or true/false), found ${describeType(raw)}`);
					continue;
				}
				options[`${type}.${name}`] = text;
				if (declared.secret === true && text !== '') secrets.push(text);
			}
		}
	}
	try {
		parseRepositoryLocation(location, options, env);
	} catch (error) {
		if (!(error instanceof RepositoryLocationError)) throw error;
		const viaS3 = type === 's3' && value['s3'] !== undefined;
		for (const issue of error.issues) {
			const where = viaS3 ? ['s3'] : issue.field !== undefined && isRecord(extra) && issue.field in extra ? ['options', issue.field] : ['location'];
			reader.report([...path, ...where], issue.message);
		}
		return undefined;
	}
	return {backend: {type, profile: null, location, options}, secrets};
}

function readRetention(reader: ConfigReader, value: unknown): RetentionPolicy | null {
	if (value === undefined || value === null) return null;
	if (!isRecord(value)) {
		reader.report(['retention'], `expected a mapping of keep_* rules (e.g. keep_daily: 7), found ${describeType(value)}`);
		return null;
	}
	checkKeys(reader, value, ['retention'], RETENTION_FIELDS, 'retention');
	const values: Record<string, string | string[]> = {};
	for (const [key, raw] of Object.entries(value)) {
		if (!RETENTION_FIELDS.includes(key) || raw === null || raw === undefined) continue;
		const option = key.replaceAll('_', '-');
		if (key === 'keep_tag') {
			const list = readStringList(reader, raw, ['retention', key], 'a tag list such as "daily,important", or a list of them');
			if (list.length > 0) values[option] = list;
			continue;
		}
		const text = scalarText(raw);
		if (text === undefined) {
			reader.report(['retention', key], `expected ${key.startsWith('keep_within') ? 'a duration such as 7d or 1y2m' : 'a whole number of snapshots'}, found ${describeType(raw)}`);
			continue;
		}
		values[option] = text;
	}
	try {
		const policy = validatePolicy(readPolicyOptions(values));
		return isEmptyPolicy(policy) ? null : policy;
	} catch (error) {
		if (!(error instanceof PolicyError)) throw error;
		const field = /--([a-z-]+)/.exec(error.message)?.[1]?.replaceAll('-', '_');
		reader.report(field !== undefined && field in value ? ['retention', field] : ['retention'], error.message.replace(/--([a-z-]+)/g, (_, name: string) => name.replaceAll('-', '_')));
		return null;
	}
}

function readWindows(reader: ConfigReader, value: unknown): MaintenanceWindow[] {
	if (value === undefined || value === null) return [];
	if (!Array.isArray(value)) {
		reader.report(['maintenance_windows'], `expected a list of windows such as {start_hour: 22, start_minute: 0, end_hour: 6, end_minute: 0}, found ${describeType(value)}`);
		return [];
	}
	const windows: MaintenanceWindow[] = [];
	value.forEach((raw, i) => {
		const path = ['maintenance_windows', i];
		if (!isRecord(raw)) {
			reader.report(path, `expected a window {start_day_of_week?, start_hour, start_minute, end_day_of_week?, end_hour, end_minute}, found ${describeType(raw)}`);
			return;
		}
		checkKeys(reader, raw, path, WINDOW_FIELDS, 'a maintenance window');
		const before = reader.issues.length;
		const day = (key: 'start_day_of_week' | 'end_day_of_week') => {
			if (raw[key] === undefined || raw[key] === null) return undefined;
			const parsed = parseDayOfWeek(raw[key]);
			if (parsed === undefined) reader.report([...path, key], `expected a day of the week (monday … sunday, or 0-6 with 0 = sunday), found ${describeType(raw[key])}`);
			return parsed;
		};
		const number = (key: 'start_hour' | 'start_minute' | 'end_hour' | 'end_minute') => {
			const v = raw[key];
			if (v === undefined || v === null) return key.endsWith('minute') ? 0 : Number.NaN;
			return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
		};
		const window: MaintenanceWindow = {
			start_day_of_week: day('start_day_of_week'),
			start_hour: number('start_hour'),
			start_minute: number('start_minute'),
			end_day_of_week: day('end_day_of_week'),
			end_hour: number('end_hour'),
			end_minute: number('end_minute'),
		};
		if (reader.issues.length > before) return;
		const problems = checkWindow(window);
		for (const [field, expected] of problems) {
			const missing = field !== 'window' && raw[field] === undefined;
			reader.report(field === 'window' ? path : [...path, field], missing ? `missing: expected ${expected}` : `expected ${expected}${field !== 'window' ? `, found ${describeType(raw[field])}` : ''}`);
		}
		if (problems.length === 0) {
			const clean: Record<string, number> = {start_hour: window.start_hour, start_minute: window.start_minute, end_hour: window.end_hour, end_minute: window.end_minute};
			if (window.start_day_of_week !== undefined) clean['start_day_of_week'] = window.start_day_of_week;
			if (window.end_day_of_week !== undefined) clean['end_day_of_week'] = window.end_day_of_week;
			windows.push(clean as unknown as MaintenanceWindow);
		}
	});
	return windows;
}

/** `5%`, `2.5%`, `1/5` (group 1 of 5) or a number (percent). */
function readSubset(reader: ConfigReader, value: unknown, path: readonly Key[]): ReadDataSubset | null {
	if (value === undefined || value === null) return null;
	const text = scalarText(value)?.trim() ?? '';
	const percent = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
	if (percent && Number(percent[1]) > 0 && Number(percent[1]) <= 100) return {percent: Number(percent[1])};
	const group = /^(\d+)\s*\/\s*(\d+)$/.exec(text);
	if (group && Number(group[1]) >= 1 && Number(group[1]) <= Number(group[2]) && Number(group[2]) <= 256) return {n: Number(group[1]), m: Number(group[2])};
	reader.report(path, `expected a share of the packs to read, such as 5% (more than 0, at most 100) or 1/5 (group 1 of 5, at most 256 groups), found ${describeType(value)}`);
	return null;
}

function readPrune(reader: ConfigReader, value: unknown): ServiceConfig['prune'] {
	if (value === undefined || value === null || value === false) return null;
	const raw = isRecord(value) ? value : {every: value};
	if (isRecord(value)) checkKeys(reader, value, ['prune'], ['every', 'max_unused'], 'prune');
	const path = isRecord(value) ? ['prune', 'every'] : ['prune'];
	if (raw['every'] === undefined) {
		reader.report(path, 'missing: expected when to prune, e.g. weekly');
		return null;
	}
	const schedule = readScheduleField(reader, raw['every'], path, true);
	let maxUnused = 5;
	if (raw['max_unused'] !== undefined) {
		const text = scalarText(raw['max_unused'])?.trim().replace(/%$/, '') ?? '';
		if (/^\d+(\.\d+)?$/.test(text) && Number(text) < 100) maxUnused = Number(text);
		else reader.report(['prune', 'max_unused'], `expected a percentage from 0 to under 100, such as 5%, found ${describeType(raw['max_unused'])}`);
	}
	return schedule === null ? null : {schedule, max_unused: maxUnused};
}

function readCheck(reader: ConfigReader, value: unknown): ServiceConfig['check'] {
	if (value === undefined || value === null || value === false) return null;
	const raw = isRecord(value) ? value : {every: value};
	if (isRecord(value)) checkKeys(reader, value, ['check'], ['every', 'read_data_subset'], 'check');
	const path = isRecord(value) ? ['check', 'every'] : ['check'];
	if (raw['every'] === undefined) {
		reader.report(path, 'missing: expected when to check, e.g. monthly');
		return null;
	}
	const schedule = readScheduleField(reader, raw['every'], path, true);
	const subset = readSubset(reader, raw['read_data_subset'], ['check', 'read_data_subset']);
	return schedule === null ? null : {schedule, read_data_subset: subset};
}

function readHooks(reader: ConfigReader, value: unknown): ServiceHooks {
	if (value === undefined || value === null) return {};
	if (!isRecord(value)) {
		reader.report(['hooks'], `expected a mapping such as {before_backup: "zfs snapshot tank@cairn"}, found ${describeType(value)}`);
		return {};
	}
	checkKeys(reader, value, ['hooks'], [...HOOK_NAMES, 'timeout'], 'hooks');
	const fallback = readDuration(reader, value['timeout'], ['hooks', 'timeout'], DEFAULT_HOOK_TIMEOUT_MS);
	const hooks: Record<string, HookCommand> = {};
	for (const name of HOOK_NAMES) {
		const raw = value[name];
		if (raw === undefined || raw === null) continue;
		if (typeof raw === 'string') {
			if (raw.trim() === '') reader.report(['hooks', name], 'expected a shell command, found an empty string');
			else hooks[name] = {command: raw, timeout_ms: fallback};
			continue;
		}
		if (isRecord(raw)) {
			checkKeys(reader, raw, ['hooks', name], ['command', 'timeout'], `hooks.${name}`);
			const command = readString(reader, raw['command'], ['hooks', name, 'command'], 'a shell command');
			if (command === undefined && raw['command'] === undefined) reader.report(['hooks', name, 'command'], 'missing: expected a shell command');
			const timeout = readDuration(reader, raw['timeout'], ['hooks', name, 'timeout'], fallback);
			if (command !== undefined) hooks[name] = {command, timeout_ms: timeout};
			continue;
		}
		reader.report(['hooks', name], `expected a shell command or {command, timeout}, found ${describeType(raw)}`);
	}
	return hooks;
}

function readNotify(reader: ConfigReader, value: unknown): ServiceNotify | null {
	if (value === undefined || value === null) return null;
	if (!isRecord(value)) {
		reader.report(['notify'], `expected a mapping {url, on: [failure, success], prometheus_textfile}, found ${describeType(value)}`);
		return null;
	}
	checkKeys(reader, value, ['notify'], ['url', 'failure_url', 'on', 'prometheus_textfile', 'timeout'], 'notify');
	const readUrl = (key: 'url' | 'failure_url'): string | undefined => {
		const url = readString(reader, value[key], ['notify', key], 'an http:// or https:// URL');
		if (url === undefined) return undefined;
		let ok = false;
		try {
			ok = ['http:', 'https:'].includes(new URL(url).protocol);
		} catch {
			ok = false;
		}
		if (!ok) reader.report(['notify', key], 'expected an http:// or https:// URL');
		return url;
	};
	const url = readUrl('url');
	const failureUrl = readUrl('failure_url');
	const isHealthchecks = url !== undefined && (() => {
		try {
			return new URL(url).hostname === 'hc-ping.com';
		} catch {
			return false;
		}
	})();
	const on = readStringList(reader, value['on'] ?? ['failure'], ['notify', 'on'], 'a list of events: failure, success');
	for (const [i, event] of on.entries()) {
		if (event !== 'failure' && event !== 'success') reader.report(['notify', 'on', i], `unknown event "${event}"; expected failure or success`);
	}
	const textfile = readString(reader, value['prometheus_textfile'], ['notify', 'prometheus_textfile'], 'the path of a .prom file in the node exporter\'s textfile directory');
	if (textfile !== undefined && !isAbsolute(textfile)) reader.report(['notify', 'prometheus_textfile'], `expected an absolute path, found "${textfile}"`);
	if (url === undefined && textfile === undefined) reader.report(['notify'], 'expected url or prometheus_textfile (or leave notify out)');
	return {url: url ?? null, failure_url: failureUrl ?? (isHealthchecks ? `${url!.replace(/\/+$/, '')}/fail` : url ?? null), on: on.filter((e): e is 'failure' | 'success' => e === 'failure' || e === 'success'), prometheus_textfile: textfile ?? null, timeout_ms: readDuration(reader, value['timeout'], ['notify', 'timeout'], 30_000)};
}

/** True when a file mode lets group or others read the file. */
function isReadableByOthers(mode: number): boolean {
	return (mode & 0o044) !== 0;
}

/**
 * Reads and validates a config file. Throws ServiceConfigError naming the file, the line and the
 * field of every problem. Refuses a config (or a password file) that holds a secret and can be
 * read by group or others, giving the `chmod 600` to run.
 */
export async function loadServiceConfig(path: string, options: LoadOptions = {}): Promise<ServiceConfig> {
	const file = resolve(path);
	const env = options.env ?? process.env;
	const fail = (field: string, message: string, line: number | null = null): never => {
		throw new ServiceConfigError(file, [{line, field, message}]);
	};
	let text: string;
	let mode: number;
	try {
		const info = await stat(file);
		if (!info.isFile()) fail('', 'is not a file: give the path of a YAML config with --config FILE');
		mode = info.mode;
		text = await readFile(file, 'utf8');
	} catch (error) {
		if (error instanceof ServiceConfigError) throw error;
		const code = (error as NodeJS.ErrnoException).code;
		return fail('', code === 'ENOENT' ? `no such file: write a config there (see docs/service.md) or give one with --config FILE` : `cannot read the config (${code ?? (error as Error).message})`);
	}
	const lines = new LineCounter();
	const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true});
	if (doc.errors.length > 0) {
		throw new ServiceConfigError(file, doc.errors.map((error) => ({line: error.linePos?.[0]?.line ?? (error.pos?.[0] !== undefined ? lines.linePos(error.pos[0]).line : null), field: '', message: `not valid YAML: ${error.message.split('\n')[0]}`})));
	}
	const raw: unknown = doc.toJS();
	if (!isRecord(raw)) return fail('', `expected a mapping of fields (enabled, backend, paths, …), found ${raw === undefined || raw === null ? 'an empty file' : describeType(raw)}`, 1);
	const reader = new ConfigReader(doc, lines);
	checkKeys(reader, raw, [], TOP_FIELDS, 'the config');

	let enabled = true;
	if (raw['enabled'] !== undefined && raw['enabled'] !== null) {
		if (typeof raw['enabled'] === 'boolean') enabled = raw['enabled'];
		else reader.report(['enabled'], `expected true or false, found ${describeType(raw['enabled'])}`);
	}
	const password = readPassword(reader, raw);
	const backendRead = readBackend(reader, raw['backend'], env);
	let backend = backendRead?.backend;
	const secrets = [...(backendRead?.secrets ?? [])];
	if (password?.kind === 'inline') secrets.push(password.value);
	let resolvedPassword = password;
	let compression: ServiceConfig['compression'] = null;
	if (raw['compression'] !== undefined && raw['compression'] !== null) {
		if (raw['compression'] === 'off' || raw['compression'] === 'auto' || raw['compression'] === 'max') compression = raw['compression'];
		else reader.report(['compression'], `expected off, auto or max, found ${describeType(raw['compression'])}`);
	}
	if (backend?.profile !== null && backend?.profile !== undefined && options.findProfile !== undefined) {
		const profile = await options.findProfile(backend.profile);
		if (profile === undefined) {
			reader.report(['backend', 'profile'], `no saved profile named "${backend.profile}": save it in the app (run cairn without arguments) or name the backend with type and location`);
		} else {
			const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(profile.location)?.[1]?.toLowerCase() ?? 'local';
			const profileOptions = Object.fromEntries(Object.entries(profile.options ?? {}).map(([k, v]) => [`${scheme}.${k}`, v]));
			backend = {...backend, location: profile.location, options: profileOptions};
			const adapter = findAdapter(scheme);
			for (const option of adapter?.options ?? []) {
				const value = profile.options?.[option.name];
				if (option.secret === true && value) secrets.push(value);
			}
			compression ??= profile.compression ?? null;
			if (resolvedPassword === undefined) {
				if (profile.passwordFile !== undefined) resolvedPassword = {kind: 'file', path: profile.passwordFile};
				else if (profile.passwordCommand !== undefined) resolvedPassword = {kind: 'command', command: profile.passwordCommand};
				else if (profile.password !== undefined) {
					resolvedPassword = {kind: 'inline', value: profile.password};
					secrets.push(profile.password);
				}
			}
		}
	}
	const passwordFromProfile = backend?.profile !== null && backend?.profile !== undefined && options.findProfile === undefined;
	if (resolvedPassword === undefined && !passwordFromProfile && backend !== undefined && !reader.issues.some((i) => i.field.startsWith('repository_password'))) {
		reader.report(['repository_password'], 'missing: give the repository password with repository_password_file (a file readable only by the service\'s user), repository_password_command, or repository_password');
	}

	const paths = readStringList(reader, raw['paths'], ['paths'], 'an absolute path to back up');
	paths.forEach((p, i) => {
		if (!isAbsolute(p)) reader.report(Array.isArray(raw['paths']) ? ['paths', i] : ['paths'], `expected an absolute path, found "${p}"`);
	});
	if (raw['paths'] === undefined) reader.report(['paths'], 'missing: expected the list of absolute paths to back up, e.g. paths: [/srv/data]');
	else if (paths.length === 0 && !reader.issues.some((i) => i.field.startsWith('paths'))) reader.report(['paths'], 'expected at least one absolute path to back up');

	const restoreText = raw['restore_snapshot_id'] === undefined || raw['restore_snapshot_id'] === null || raw['restore_snapshot_id'] === '' ? undefined : scalarText(raw['restore_snapshot_id']);
	if (restoreText !== undefined && !/^([0-9a-f]{4,64}|latest)$/.test(restoreText)) {
		reader.report(['restore_snapshot_id'], `expected a snapshot ID (hexadecimal, at least 4 characters, as \`cairn snapshots\` shows) or latest, found ${describeType(raw['restore_snapshot_id'])}`);
	}
	const stateFile = readString(reader, raw['state_file'], ['state_file'], 'the path of the state file');
	const logFile = readString(reader, raw['log_file'], ['log_file'], 'the path of a log file');
	const notify = readNotify(reader, raw['notify']);
	if (notify?.url) secrets.push(notify.url);
	if (notify?.failure_url) secrets.push(notify.failure_url);

	const name = readConfigName(file);
	const config: ServiceConfig = {
		path: file,
		name,
		enabled,
		password: resolvedPassword,
		backend: backend ?? {type: '', profile: null, location: '', options: {}},
		repository: backend === undefined ? '' : backend.location === '' ? `profile ${backend.profile ?? ''}` : redactLocation(backend.location),
		paths: paths.map((p) => resolve(p)),
		excludes: readStringList(reader, raw['excludes'], ['excludes'], 'an exclude pattern'),
		tags: readStringList(reader, raw['tags'], ['tags'], 'a tag'),
		host: readString(reader, raw['host'], ['host'], 'a host name') ?? null,
		schedule: readScheduleField(reader, raw['schedule'], ['schedule'], false),
		prune: readPrune(reader, raw['prune']),
		check: readCheck(reader, raw['check']),
		retention: readRetention(reader, raw['retention']),
		restore_snapshot_id: restoreText ?? null,
		maintenance_windows: readWindows(reader, raw['maintenance_windows']),
		hooks: readHooks(reader, raw['hooks']),
		notify,
		state_file: defaultStatePath({name, state_file: stateFile ?? null}, env, isRootUser(options)),
		limit_upload: readPositiveInteger(reader, raw['limit_upload'], ['limit_upload'], 'KiB/s'),
		limit_download: readPositiveInteger(reader, raw['limit_download'], ['limit_download'], 'KiB/s'),
		log_file: logFile === undefined ? null : resolve(logFile),
		max_memory: readMemorySize(reader, raw['max_memory'], ['max_memory']),
		compression,
		secrets: [...new Set(secrets.filter((s) => s.length > 0))],
	};
	if (reader.issues.length > 0) throw new ServiceConfigError(file, reader.issues);

	if (!options.skipPermissionCheck) {
		const holdsSecret = password?.kind === 'inline' || (backendRead?.secrets.length ?? 0) > 0;
		if (holdsSecret && isReadableByOthers(mode)) {
			const field = password?.kind === 'inline' ? 'repository_password' : 'backend';
			fail(field, `the config holds a secret and can be read by ${(mode & 0o004) !== 0 ? 'others' : 'its group'} (mode ${(mode & 0o777).toString(8).padStart(3, '0')}): run \`chmod 600 ${file}\` (as OpenSSH refuses a readable key, cairn refuses to run with it)`, reader.lineOf([field]));
		}
		if (password?.kind === 'file') {
			let fileMode: number | undefined;
			try {
				fileMode = (await stat(password.path)).mode;
			} catch (error) {
				fail('repository_password_file', `cannot read ${password.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): expected a file holding the repository password`, reader.lineOf(['repository_password_file']));
			}
			if (fileMode !== undefined && isReadableByOthers(fileMode)) {
				fail('repository_password_file', `the password file ${password.path} can be read by ${(fileMode & 0o004) !== 0 ? 'others' : 'its group'} (mode ${(fileMode & 0o777).toString(8).padStart(3, '0')}): run \`chmod 600 ${password.path}\``, reader.lineOf(['repository_password_file']));
			}
		}
	}
	return config;
}
