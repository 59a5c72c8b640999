/**
 * The bridge between the app and the engine: locations, opening and creating repositories,
 * and an open repository with the data the screens share (snapshots, the loaded index).
 * No React here.
 */
import {join, resolve} from 'node:path';
import '../adapters/index.js';
import {openRepositoryStorage, parseRepositoryLocation} from '../adapters/registry.js';
import {isStorageError, type Storage} from '../adapters/storage.js';
import {withRetry} from '../adapters/wrappers/retry.js';
import {Repository} from '../engine/repository/repository.js';
import {listSnapshots} from '../engine/repository/snapshots.js';
import type {Snapshot} from '../engine/format/snapshot.js';
import type {Profile} from './profiles.js';

/** What a location is, for people: the backend's label and the location without secrets. */
export interface LocationDescription {
	readonly backend: string;
	readonly location: string;
}

/** Describes a saved location; unknown ones say so instead of throwing. */
export function describeLocation(location: string): LocationDescription {
	try {
		const {adapter, values} = parseRepositoryLocation(location, {}, {});
		return {backend: adapter.label, location: adapter.scheme === 'local' ? values['path'] ?? location : location};
	} catch {
		return {backend: 'unknown', location};
	}
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

async function openStorage(location: string): Promise<Storage> {
	return withRetry(await openRepositoryStorage(location), {retries: 3});
}

/** An open repository and what the screens share about it. */
export class Session {
	private indexLoad?: Promise<void>;
	private snapshotsLoad?: Promise<SnapshotList>;
	/** The last snapshot list loaded, for screens to show at once when they come back. */
	cachedSnapshots?: SnapshotList;

	constructor(readonly profile: Profile, readonly repo: Repository) {}

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
export async function openSession(profile: Profile, password: string): Promise<Session> {
	const storage = await openStorage(profile.location);
	try {
		return new Session(profile, await Repository.open(storage, password));
	} catch (error) {
		await storage.close().catch(() => undefined);
		throw error;
	}
}

/** Creates a new repository at the profile's location and opens it. */
export async function createSession(profile: Profile, password: string): Promise<Session> {
	const storage = await openStorage(profile.location);
	try {
		return new Session(profile, await Repository.init(storage, password));
	} catch (error) {
		await storage.close().catch(() => undefined);
		throw error;
	}
}

/** The message of an error, for the status line. */
export function describeError(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
