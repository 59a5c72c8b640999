/**
 * Follows the service's state file while a screen shows it: fs.watch on its directory (the
 * service replaces the file by renaming a temporary one over it, so the file itself cannot be
 * watched), with polling as a fallback when the directory cannot be watched (it does not exist
 * yet, or the file system sends no events) and as a slow safety net when it can. Everything is
 * stopped when the screen goes away.
 */
import {watch, type FSWatcher} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {basename, dirname} from 'node:path';
import {useCallback, useEffect, useRef} from 'react';
import type {ServiceState} from '../service-files.js';

/** What the hook reports. */
export interface ServiceStateListener {
	/** The state file was read: its content, or null when there is none (yet). */
	onState(state: ServiceState | null): void;
	/** The file is there but cannot be read or parsed. */
	onError(message: string): void;
}

/** Polling period without fs.watch, in ms. */
export const STATE_POLL_MS = 1000;
/** Polling period while fs.watch works (in case an event is lost), in ms. */
export const STATE_SAFETY_POLL_MS = 5000;

/** Reads the state file as text: null when it does not exist. */
async function readStateText(path: string): Promise<string | null> {
	try {
		return await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw error;
	}
}

/**
 * Reads the state file at `path` now and whenever it changes, reporting to `listener` only when
 * the content differs from the last report. `path` undefined reads nothing. Returns a function
 * that reads the file at once (e.g. when a child run has ended, so that its last write is shown
 * with its exit); it settles once the read is done.
 */
export function useServiceStateFile(path: string | undefined, listener: ServiceStateListener, pollMs = STATE_POLL_MS): () => Promise<void> {
	const listenerRef = useRef(listener);
	listenerRef.current = listener;
	const readNow = useRef<() => Promise<void>>(async () => undefined);

	useEffect(() => {
		if (path === undefined) return;
		let live = true;
		let watcher: FSWatcher | undefined;
		let timer: NodeJS.Timeout | undefined;
		let reading: Promise<void> | undefined;
		let again = false;
		let last: string | null | undefined;

		/** Reads the file; a read asked for while one runs happens right after it (and is awaited). */
		const read = (): Promise<void> => {
			if (reading !== undefined) {
				again = true;
				return reading;
			}
			reading = readLoop().finally(() => {
				reading = undefined;
			});
			return reading;
		};
		const readLoop = async (): Promise<void> => {
			do {
				again = false;
				try {
					const text = await readStateText(path);
					if (!live || text === last) continue;
					last = text;
					if (text === null) listenerRef.current.onState(null);
					else listenerRef.current.onState(JSON.parse(text) as ServiceState);
				} catch (error) {
					if (!live) return;
					last = undefined;
					listenerRef.current.onError(`The state file ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
				}
			} while (again && live);
		};
		readNow.current = read;

		const startWatching = (): void => {
			if (watcher !== undefined) return;
			try {
				const name = basename(path);
				watcher = watch(dirname(path), {persistent: false}, (_event, file) => {
					if (file === null || file === name) void read();
				});
				watcher.on('error', () => {
					// The directory went away or the watch broke: poll until it can be watched again.
					watcher?.close();
					watcher = undefined;
				});
			} catch {
				watcher = undefined;
			}
		};

		const tick = (): void => {
			if (!live) return;
			startWatching();
			void read();
			timer = setTimeout(tick, watcher === undefined ? pollMs : Math.max(pollMs, STATE_SAFETY_POLL_MS));
		};
		tick();
		return () => {
			live = false;
			clearTimeout(timer);
			watcher?.close();
			readNow.current = async () => undefined;
		};
	}, [path, pollMs]);
	return useCallback(() => readNow.current(), []);
}
