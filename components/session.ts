/**
 * The bridge between the app and the engine: locations, opening and creating repositories,
 * and an open repository with the data the screens share (snapshots, the loaded index).
 * No React here.
 */
import {join, resolve} from 'node:path';
import '../adapters/index.js';
import {findAdapter, openRepositoryStorage, parseRepositoryLocation, redactLocation} from '../adapters/registry.js';
import type {Environment} from '../adapters/options.js';
import {isStorageError} from '../adapters/storage.js';
import type {RateLimits} from '../adapters/wrappers/rate-limit.js';
import type {Repository, RepositoryOptions} from '../engine/repository/repository.js';
import {openRepositoryFrom, type RepositoryTarget} from '../access/open.js';
import {listSnapshots} from '../engine/repository/snapshots.js';
import {findCacheDirectory} from '../engine/repository/cache.js';
import {WrongPasswordError} from '../engine/errors.js';
import type {Snapshot} from '../engine/format/snapshot.js';
import type {Profile} from './profiles.js';
import {PLANNED_BACKENDS} from './backends.js';
import {TreeLoader} from './tree-loader.js';
import {TreeStatsCounter} from './snapshot-stats.js';
import {readLocationScheme, toOptionFlags} from './connection.js';

/** What a location is, for people: the backend's label and the location without secrets. */
export interface LocationDescription {
	readonly backend: string;
	readonly location: string;
	/** False when no adapter of this build handles the location's scheme. */
	readonly available: boolean;
}

/** Describes a saved location without checking its values; unknown schemes say so instead of throwing. */
export function describeLocation(location: string): LocationDescription {
	const scheme = readLocationScheme(location);
	const adapter = findAdapter(scheme);
	if (adapter === undefined) {
		const planned = PLANNED_BACKENDS.find((plan) => plan.scheme === scheme);
		return {backend: planned === undefined ? `unknown (${scheme})` : planned.label, location: redactLocation(location), available: false};
	}
	const rest = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(location.trim()) ? location.trim().slice(scheme.length + 1) : location.trim();
	return {backend: adapter.label, location: scheme === 'local' ? rest : redactLocation(location), available: true};
}

/**
 * Checks a location typed by a person and writes it in the form saved in a profile: local paths
 * become absolute (`~` and relative paths are resolved against `home` and `cwd`) and get `local:`.
 * Throws RepositoryLocationError with the registry's message when the location cannot be used.
 */
export function normalizeLocation(location: string, cwd: string, home: string): string {
	const {adapter, values} = parseRepositoryLocation(location.trim());
	if (adapter.scheme !== 'local') return location.trim();
	const path = values['path'] ?? '';
	const expanded = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
	return `local:${resolve(cwd, expanded)}`;
}

/** Tells whether a repository (its config file) exists at the location. */
export async function probeRepository(location: string): Promise<boolean> {
	const storage = await openRepositoryStorage(location);
	try {
		await storage.stat({type: 'config', name: ''});
		return true;
	} catch (error) {
		if (isStorageError(error, 'not-found')) return false;
		throw error;
	} finally {
		await storage.close().catch(() => undefined);
	}
}

/** How a profile's repository is reached: its options, and secrets typed for this session only. */
export interface OpenSettings {
	/** Secret option values typed when opening (not saved), by option name. */
	readonly secrets?: Readonly<Record<string, string>>;
	/** Environment for option fallbacks (default process.env). */
	readonly env?: Environment;
	/** Bandwidth limits in KiB/s; each one given replaces the profile's. */
	readonly limits?: RateLimits;
}

/** The bandwidth limits of a profile, with those of the settings taking precedence. */
export function readProfileLimits(profile: Profile, settings: OpenSettings = {}): RateLimits {
	return {
		uploadKiB: settings.limits?.uploadKiB ?? profile.limitUploadKiB,
		downloadKiB: settings.limits?.downloadKiB ?? profile.limitDownloadKiB,
	};
}

/** The `-o` style options of a profile (its saved values and the session's secrets). */
export function readProfileOptions(profile: Profile, secrets: Readonly<Record<string, string>> = {}): Record<string, string> {
	return toOptionFlags(readLocationScheme(profile.location), {...(profile.options ?? {}), ...secrets});
}

/** Repository settings of a profile: compression and pack size. */
export function readProfileRepositoryOptions(profile: Profile): RepositoryOptions {
	const options: RepositoryOptions = {};
	if (profile.compression !== undefined) options.compression = profile.compression;
	if (profile.packSizeMiB !== undefined) options.packSize = profile.packSizeMiB * 1024 * 1024;
	return options;
}

/** Repository options of a profile plus the local cache (in the XDG cache directory, or CAIRN_CACHE_DIR). */
function readOpenOptions(profile: Profile, settings: OpenSettings): RepositoryOptions {
	return {...readProfileRepositoryOptions(profile), cacheDir: findCacheDirectory({}, settings.env ?? process.env)};
}

/** Where a profile's repository is, for the shared opener (three retries: a person is waiting), with its rate limits. */
export function readProfileTarget(profile: Profile, settings: OpenSettings): RepositoryTarget {
	const limits = readProfileLimits(profile, settings);
	return {location: profile.location, options: readProfileOptions(profile, settings.secrets), env: settings.env ?? process.env, retries: 3, limitUpload: limits.uploadKiB, limitDownload: limits.downloadKiB};
}

/** An open repository and what the screens share about it. */
export class Session {
	private indexLoad?: Promise<void>;
	private snapshotsLoad?: Promise<SnapshotList>;
	/** The last snapshot list loaded, for screens to show at once when they come back. */
	cachedSnapshots?: SnapshotList;

	private loader?: TreeLoader;
	private counter?: TreeStatsCounter;

	/** The password is kept in memory only, to open the repository again after a prune (whose rewritten index the open one cannot see). */
	readonly #password: string;

	constructor(readonly profile: Profile, readonly repo: Repository, readonly settings: OpenSettings = {}, password = '') {
		this.#password = password;
	}

	/** Opens the repository again (a fresh index); the caller makes the new session current, which closes this one. */
	reopen(): Promise<Session> {
		return openSession(this.profile, this.#password, this.settings);
	}

	/** Files and bytes of snapshots, counted once per tree. */
	get stats(): TreeStatsCounter {
		this.counter ??= new TreeStatsCounter(this.trees);
		return this.counter;
	}

	/** Loads directory listings off the main thread (large trees) and caches them. */
	get trees(): TreeLoader {
		this.loader ??= new TreeLoader(this.repo);
		return this.loader;
	}

	/** Loads the index once; trees and blobs need it. */
	ensureIndex(): Promise<void> {
		this.indexLoad ??= this.repo.loadIndex({onError: () => undefined}).catch((error: unknown) => {
			this.indexLoad = undefined;
			throw error;
		});
		return this.indexLoad;
	}

	/** The snapshots, newest first; loaded once and kept until {@link Session.forgetSnapshots}. */
	loadSnapshots(): Promise<SnapshotList> {
		this.snapshotsLoad ??= loadSnapshotList(this.repo).then(
			(list) => {
				this.cachedSnapshots = list;
				return list;
			},
			(error: unknown) => {
				this.snapshotsLoad = undefined;
				throw error;
			},
		);
		return this.snapshotsLoad;
	}

	/** Drops the cached snapshot list (after a backup) so that the next load reads it again. */
	forgetSnapshots(): void {
		this.snapshotsLoad = undefined;
		this.cachedSnapshots = undefined;
	}

	/** Closes the repository. */
	async close(): Promise<void> {
		await this.loader?.close().catch(() => undefined);
		await this.repo.close().catch(() => undefined);
	}
}

/** Snapshots newest first, and how many could not be read. */
export interface SnapshotList {
	readonly snapshots: readonly Snapshot[];
	readonly unreadable: number;
}

async function loadSnapshotList(repo: Repository): Promise<SnapshotList> {
	let unreadable = 0;
	const snapshots = await listSnapshots(repo, {onError: () => unreadable++});
	return {snapshots: snapshots.reverse(), unreadable};
}

/** Opens the repository of a profile. Rejects with the engine's errors (RepositoryNotFoundError, WrongPasswordError, …). */
export async function openSession(profile: Profile, password: string, settings: OpenSettings = {}): Promise<Session> {
	const {repository} = await openRepositoryFrom(readProfileTarget(profile, settings), {password, repository: readOpenOptions(profile, settings)});
	return new Session(profile, repository, settings, password);
}

/** Creates a new repository at the profile's location and opens it. */
export async function createSession(profile: Profile, password: string, settings: OpenSettings = {}): Promise<Session> {
	const {repository} = await openRepositoryFrom(readProfileTarget(profile, settings), {password, repository: readOpenOptions(profile, settings), create: 'always'});
	return new Session(profile, repository, settings, password);
}

/** The message of an error from opening a repository, in the app's words (a wrong password is not a CLI matter here). */
export function describeOpenError(error: unknown): string {
	if (error instanceof WrongPasswordError) return 'Wrong password: no key of this repository opens with it.';
	return describeError(error);
}

/** The message of an error, for the status line. */
export function describeError(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
