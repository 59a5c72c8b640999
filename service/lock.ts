/**
 * The service lock: one file beside the state file (`<state file>.lock`) that keeps two runs of
 * the same config from overlapping, whatever they do (the repository lock covers only the
 * repository). Taking it never waits: a second run is told who holds it. A lock left by a process
 * that no longer runs on this host is taken over.
 */
import {randomBytes} from 'node:crypto';
import {hostname} from 'node:os';
import {link, mkdir, open, readFile, rename, rm} from 'node:fs/promises';
import {dirname} from 'node:path';
import {isProcessRunning} from './state.js';

/** What the lock file says. */
export interface ServiceLockInfo {
	readonly pid: number;
	readonly hostname: string;
	readonly started: string;
	readonly command: string;
	/** A random token: tells this lock from a later one of the same pid. */
	readonly token: string;
}

/** Exit code of a run that found the lock held (EX_TEMPFAIL: try again later). */
export const LOCKED_EXIT_CODE = 75;

/** Another run holds the lock. */
export class ServiceLockedError extends Error {
	constructor(readonly path: string, readonly holder: ServiceLockInfo) {
		super(`another cairn service run holds the lock ${path}: process ${holder.pid} on ${holder.hostname}, started ${holder.started} (${holder.command}); this run does nothing and exits (code ${LOCKED_EXIT_CODE})`);
		Object.defineProperty(this, 'name', {value: 'ServiceLockedError', enumerable: false});
	}
}

/** A held lock. */
export interface HeldServiceLock {
	readonly path: string;
	readonly info: ServiceLockInfo;
	/** Previous holder whose lock was taken over (it had died), if any. */
	readonly tookOver?: ServiceLockInfo;
	/** Removes the lock file if it is still ours. */
	release(): Promise<void>;
}

/** The lock file of a state file. */
export function findLockPath(stateFile: string): string {
	return `${stateFile}.lock`;
}

async function readLock(path: string): Promise<ServiceLockInfo | undefined> {
	try {
		const value = JSON.parse(await readFile(path, 'utf8')) as ServiceLockInfo;
		return typeof value.pid === 'number' ? value : undefined;
	} catch {
		return undefined;
	}
}

/** True when the holder is gone: same host and its pid no longer runs. */
function isStale(holder: ServiceLockInfo | undefined): boolean {
	if (holder === undefined) return true; // unreadable or half-written: a crash between create and write
	return holder.hostname === hostname() && !isProcessRunning(holder.pid);
}

/**
 * Takes the lock or throws ServiceLockedError at once. A stale lock (dead pid on this host, or an
 * empty file a crash left) is moved aside and removed; a race between two runs taking over the
 * same stale lock leaves exactly one of them holding it.
 */
export async function acquireServiceLock(stateFile: string, command: string): Promise<HeldServiceLock> {
	const path = findLockPath(stateFile);
	await mkdir(dirname(path), {recursive: true, mode: 0o700});
	const info: ServiceLockInfo = {pid: process.pid, hostname: hostname(), started: new Date().toISOString(), command, token: randomBytes(8).toString('hex')};
	let tookOver: ServiceLockInfo | undefined;
	for (let attempt = 0; attempt < 5; attempt++) {
		// Write the whole file under a private name, then link it into place: the lock appears complete or not at all.
		const temporary = `${path}.${process.pid}.${info.token}`;
		const handle = await open(temporary, 'wx', 0o600);
		await handle.writeFile(JSON.stringify(info) + '\n');
		await handle.sync();
		await handle.close();
		try {
			await link(temporary, path);
			await rm(temporary, {force: true});
			return {
				path, info, tookOver,
				release: async () => {
					const current = await readLock(path);
					if (current?.token === info.token) await rm(path, {force: true});
				},
			};
		} catch (error) {
			await rm(temporary, {force: true});
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const holder = await readLock(path);
		if (!isStale(holder)) throw new ServiceLockedError(path, holder!);
		// Move the stale lock aside under a unique name; only one of several racing runs gets it.
		const aside = `${path}.stale.${info.token}`;
		try {
			await rename(path, aside);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
			throw error;
		}
		const moved = await readLock(aside);
		if (moved !== undefined && holder !== undefined && moved.token !== holder.token) {
			// We moved a fresh lock another run had just taken: put it back (unless yet another appeared) and give up.
			await link(aside, path).catch(() => undefined);
			await rm(aside, {force: true});
			throw new ServiceLockedError(path, moved);
		}
		await rm(aside, {force: true});
		tookOver = holder;
	}
	throw new Error(`cannot take the service lock ${path}: it keeps changing; is another run starting at the same moment?`);
}
