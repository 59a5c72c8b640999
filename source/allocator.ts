/**
 * Sizing glibc's allocator before the threads that use it start. glibc gives each thread that
 * allocates under contention its own arena (up to 8 per core), and an arena keeps the memory it
 * once held: with libuv's pool (zstd contexts, cipher output) and the worker threads of a backup or
 * restore this was about 90 MiB of peak RSS. Two arenas cost no measurable time.
 *
 * glibc reads MALLOC_ARENA_MAX only when the process starts, so the same limit is set with
 * mallopt(M_ARENA_MAX) through the koffi FFI package (already used for extended attributes),
 * before the libuv pool or any worker thread starts. A value the user set in MALLOC_ARENA_MAX is
 * left alone; on other systems (or without glibc) nothing is done.
 */
import {accessSync, constants, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';

/** glibc's mallopt parameter number for the arena limit (malloc.h). */
const M_ARENA_MAX = -8;
/** Arenas allowed: the main one plus one shared by every other thread. */
export const DEFAULT_ARENA_LIMIT = 2;

/** What {@link limitMallocArenas} did. */
export type ArenaLimitResult = 'set' | 'user-set' | 'unsupported';

/**
 * Limits glibc's malloc arenas to `limit` unless MALLOC_ARENA_MAX is set in `env`. Never throws:
 * returns 'unsupported' when this is not Linux with glibc or koffi cannot be loaded.
 */
export function limitMallocArenas(env: NodeJS.ProcessEnv = process.env, limit = DEFAULT_ARENA_LIMIT): ArenaLimitResult {
	if (env.MALLOC_ARENA_MAX !== undefined && env.MALLOC_ARENA_MAX !== '') return 'user-set';
	if (process.platform !== 'linux') return 'unsupported';
	try {
		const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
		// libc.so.6 is glibc's name (musl's is another); gnu_get_libc_version exists only in glibc.
		const libc = koffi.load('libc.so.6');
		libc.func('const char *gnu_get_libc_version()');
		const mallopt = libc.func('int mallopt(int param, int value)') as (param: number, value: number) => number;
		return mallopt(M_ARENA_MAX, limit) === 1 ? 'set' : 'unsupported';
	} catch {
		return 'unsupported';
	}
}

/**
 * Semi-space of the main isolate, in MiB. V8 lets the young generation of a busy isolate grow to
 * two 16 MiB semi-spaces (plus as much again for large new objects), nearly all of it resident;
 * the main thread of a backup or restore allocates fast but keeps little, so 2 MiB costs no
 * measurable time and saves about 30 MiB of peak RSS.
 */
export const MAIN_SEMI_SPACE_MB = 2;
/** Set (to the names of variables it added) in the environment of the process started by {@link restartWithMemoryLimits}. */
const RESTART_MARK = 'CAIRN_MEMORY_RESTART';

/** Whether this process runs on glibc (whose allocator reads MALLOC_ARENA_MAX): its libc.so.6 is mapped. */
function isGlibc(): boolean {
	try {
		return readFileSync('/proc/self/maps', 'latin1').includes('/libc.so.6');
	} catch {
		return false;
	}
}

/** Whether this process's user may execute `file` (the check execve itself makes first). */
function canExecute(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/** What {@link restartWithMemoryLimits} did when it returned (it does not return once it restarted). */
export type RestartResult = 'restarted-before' | 'user-set' | 'unsupported' | 'failed';

/**
 * V8 fixes the young generation's size when the main isolate starts, so it can only be set by
 * starting node again with `--max-semi-space-size`. This replaces the running process with
 * execve() (same PID, no second process left behind) before anything but this module has loaded:
 * the same node, its flags, the flag, the script and its arguments, the same environment plus
 * MALLOC_ARENA_MAX (glibc reads it at start-up; see {@link limitMallocArenas}). The restarted
 * process removes what was added from its environment again, so child processes do not inherit it.
 *
 * Other start-up settings were measured on first backups and left out because none pays:
 * MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ save 10–15 MiB for about 2 s more system
 * time per 300 MiB; MALLOC_ARENA_MAX=1, --no-maglev and --max-lazy stay within the runs' noise
 * (docs/performance.md, "Allocator and V8 settings").
 *
 * Nothing is done (and the caller goes on in this process) when the flag is already given, in the
 * single-file executable, with an IPC channel, off glibc, or when execve fails.
 */
export function restartWithMemoryLimits(env: NodeJS.ProcessEnv = process.env): RestartResult {
	const mark = env[RESTART_MARK];
	if (mark !== undefined) {
		for (const name of mark.split(',').filter(Boolean)) delete env[name];
		delete env[RESTART_MARK];
		return 'restarted-before';
	}
	const flagged = (text: string | undefined) => text?.includes('--max-semi-space-size') === true;
	if (process.execArgv.some(flagged) || flagged(env.NODE_OPTIONS)) return 'user-set';
	if (process.platform !== 'linux' || env.NODE_CHANNEL_FD !== undefined || process.argv[1] === undefined) return 'unsupported';
	try {
		const require = createRequire(import.meta.url);
		const sea = (() => {
			try {
				return (require('node:sea') as {isSea(): boolean}).isSea();
			} catch {
				return false;
			}
		})();
		if (sea) return 'unsupported';
		const added: string[] = [];
		const next: Record<string, string> = {};
		for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
		if (next.MALLOC_ARENA_MAX === undefined || next.MALLOC_ARENA_MAX === '') {
			next.MALLOC_ARENA_MAX = String(DEFAULT_ARENA_LIMIT);
			added.push('MALLOC_ARENA_MAX');
		}
		next[RESTART_MARK] = added.join(',');
		const argv = [process.execPath, ...process.execArgv, `--max-semi-space-size=${MAIN_SEMI_SPACE_MB}`, ...process.argv.slice(1)];
		// Node ≥ 22.15 has execve built in (and keeps the standard descriptors open): no FFI to load.
		// It aborts the process when the exec fails, so it runs only when this user may execute
		// node again (e.g. not when node lives in a folder only another user can enter).
		const builtin = (process as unknown as {execve?: (file: string, args: string[], env: Record<string, string>) => never}).execve;
		if (!canExecute(process.execPath)) return 'unsupported';
		if (typeof builtin === 'function' && isGlibc()) {
			builtin.call(process, process.execPath, argv, next);
			return 'failed';
		}
		const koffi = require('koffi') as typeof import('koffi');
		const libc = koffi.load('libc.so.6');
		libc.func('const char *gnu_get_libc_version()');
		const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)') as (fd: number, cmd: number, arg: number) => number;
		const execve = libc.func('int execve(const char *path, const char **argv, const char **envp)') as (path: string, argv: Array<string | null>, envp: Array<string | null>) => number;
		// Node marks the standard descriptors close-on-exec; the new image needs them (F_SETFD = 2).
		for (const fd of [0, 1, 2]) fcntl(fd, 2, 0);
		execve(process.execPath, [...argv, null], [...Object.entries(next).map(([name, value]) => `${name}=${value}`), null]);
		return 'failed';
	} catch {
		return 'unsupported';
	}
}
