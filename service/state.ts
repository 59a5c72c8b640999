/**
 * The service's state file: what the service reports (Incus OS's field names plus cairn's), kept
 * apart from the config. Written atomically (temporary file, fsync, rename) with mode 0600 after
 * every step, so that a reader (`cairn service status`, the app's Service screen) never sees a
 * half-written file, and the state is right even after a SIGKILL. It never holds a secret.
 */
import {randomBytes} from 'node:crypto';
import {mkdir, open, readFile, rename, rm} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';

/** The operations the service reports while it works. */
export type ServiceOperation = 'backup' | 'restore' | 'safety-snapshot' | 'prune' | 'check' | 'retention' | 'hook';

/** One snapshot as the state lists it (`source` is the configured path). */
export interface StateSnapshot {
	id: string;
	time: string;
	size: number;
	source: string;
	description: string;
}

/**
 * The state file's content (version 1). Times are ISO 8601 strings. See SERVICE-CONTRACT.md.
 *
 * Contract: written only by {@link writeServiceState}; `in_progress` is true exactly when
 * `current` is set, and `current.pid` is the process doing the work. A reader that finds
 * `in_progress` with a pid that no longer runs treats the run as interrupted
 * (see {@link repairInterruptedState}).
 */
export interface ServiceState {
	version: 1;
	/** Config name (file name without extension). */
	name: string;
	config_path: string;
	/** Location without secrets. */
	repository: string;
	repository_connected: boolean;
	/** ISO time of the last successful backup. */
	last_backup: string | null;
	/** A sentence about the last thing done or decided. */
	last_status: string;
	in_progress: boolean;
	/** 0-100. */
	progress: number;
	current: null | {operation: ServiceOperation; started: string; pid: number; files_done?: number; bytes_done?: number; bytes_total?: number};
	available_snapshots: StateSnapshot[];
	next_run: string | null;
	window: null | {open: boolean; opens_at: string | null; closes_at: string | null};
	last_error: string | null;
	last_prune: string | null;
	last_check: string | null;
	last_run: null | {started: string; finished: string | null; result: 'success' | 'failure' | 'skipped' | 'running'; snapshot_id: string | null; duration_ms: number | null};
	restore: null | {snapshot_id: string; step: string; result: 'running' | 'success' | 'failure'; safety_snapshot_id: string | null; error: string | null};
	updated: string;
}

/** A fresh state for a config that has never run. */
export function createServiceState(fields: {name: string; config_path: string; repository: string}, now = new Date()): ServiceState {
	return {
		version: 1,
		name: fields.name,
		config_path: fields.config_path,
		repository: fields.repository,
		repository_connected: false,
		last_backup: null,
		last_status: 'never run',
		in_progress: false,
		progress: 0,
		current: null,
		available_snapshots: [],
		next_run: null,
		window: null,
		last_error: null,
		last_prune: null,
		last_check: null,
		last_run: null,
		restore: null,
		updated: now.toISOString(),
	};
}

/** The state file holds something that is not a version-1 state. */
export class ServiceStateError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'ServiceStateError', enumerable: false});
	}
}

/**
 * Reads the state file; undefined when there is none yet. Throws ServiceStateError when the file
 * is not a version-1 state (naming the file), and the file system's error when it cannot be read.
 */
export async function readServiceState(path: string): Promise<ServiceState | undefined> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		throw new ServiceStateError(`the state file ${path} is not JSON (${(error as Error).message}); remove it and the next run writes a new one`, {cause: error});
	}
	if (typeof value !== 'object' || value === null || (value as {version?: unknown}).version !== 1) {
		throw new ServiceStateError(`the state file ${path} is not a version 1 cairn service state; remove it and the next run writes a new one`);
	}
	return value as ServiceState;
}

/**
 * Writes the state atomically: a temporary file in the same directory (mode 0600), fsync, rename
 * over the old file, then fsync of the directory. Creates the directory (mode 0700) when missing.
 * Sets `updated` to now.
 */
export async function writeServiceState(path: string, state: ServiceState): Promise<void> {
	state.updated = new Date().toISOString();
	await writeFileAtomic(path, JSON.stringify(state, null, '\t') + '\n');
}

/**
 * Replaces a file atomically with `content`: temporary file beside it with `mode`, fsync, rename,
 * fsync of the directory. A crash leaves either the old file or the new one, never a mix.
 */
export async function writeFileAtomic(path: string, content: string | Buffer, mode = 0o600): Promise<void> {
	const directory = dirname(path);
	await mkdir(directory, {recursive: true, mode: 0o700});
	const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
	const handle = await open(temporary, 'wx', mode);
	try {
		await handle.writeFile(content);
		await handle.chmod(mode);
		await handle.sync();
	} catch (error) {
		await handle.close().catch(() => undefined);
		await rm(temporary, {force: true});
		throw error;
	}
	await handle.close();
	try {
		await rename(temporary, path);
	} catch (error) {
		await rm(temporary, {force: true});
		throw error;
	}
	const dir = await open(directory, 'r').catch(() => undefined);
	if (dir !== undefined) {
		await dir.sync().catch(() => undefined);
		await dir.close();
	}
}

/** Tells whether a process with this pid runs (signal 0; EPERM means it runs as another user). */
export function isProcessRunning(pid: number): boolean {
	if (!Number.isInteger(pid) || pid <= 0) return false;
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/**
 * A state that says a run is in progress while its process is gone was interrupted (SIGKILL, a
 * crash, a power cut). Returns the state as it should read: not in progress, the run a failure,
 * `last_status`/`last_error` saying what was interrupted. Returns the state unchanged otherwise.
 * `isRunning` is injectable for tests.
 */
export function repairInterruptedState(state: ServiceState, now = new Date(), isRunning: (pid: number) => boolean = isProcessRunning): ServiceState {
	if (!state.in_progress || state.current === null || isRunning(state.current.pid)) return state;
	const {operation, started, pid} = state.current;
	const message = `interrupted: the ${operation} started ${started} by process ${pid} ended without finishing (the process was killed or the machine stopped)`;
	const repaired: ServiceState = {...state, in_progress: false, progress: 0, current: null, last_status: message, last_error: message};
	if (state.last_run !== null && state.last_run.result === 'running') {
		repaired.last_run = {...state.last_run, finished: null, result: 'failure', duration_ms: null};
	}
	if (state.restore !== null && state.restore.result === 'running') {
		repaired.restore = {...state.restore, result: 'failure', error: message};
	}
	repaired.updated = now.toISOString();
	return repaired;
}
