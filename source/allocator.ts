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
