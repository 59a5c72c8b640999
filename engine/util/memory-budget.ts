/**
 * How much memory the backup and restore pipelines may hold, following the machine's RAM and the
 * user's `--max-memory` (CAIRN_MAX_MEMORY). cairn runs on NAS boxes where 1–2 GiB is shared with
 * everything else, so buffers and workers that only buy speed are given up there.
 *
 * The limit travels in the environment, so that worker threads (which get a copy of it when they
 * start) size themselves by the same budget as the main thread.
 */
import * as os from 'node:os';
import * as v8 from 'node:v8';

/** Machines (or limits) with less memory than this count as small. */
export const SMALL_MACHINE_BYTES = 4 * 1024 ** 3;
/** Below this limit a backup or restore uses one worker thread; below {@link TWO_WORKER_BYTES}, two. */
export const ONE_WORKER_BYTES = 512 * 1024 ** 2;
export const TWO_WORKER_BYTES = 1024 ** 3;
/** The smallest `--max-memory` accepted: a Node.js process alone takes about 50 MiB. */
export const MIN_MEMORY_LIMIT = 128 * 1024 ** 2;
/** Environment variable holding the limit, in bytes or with a unit (see {@link parseMemorySize}). */
export const MEMORY_LIMIT_ENV = 'CAIRN_MAX_MEMORY';

/**
 * Young generation of each worker isolate, in MiB: V8 sizes it as three semi-spaces, so 3 MiB is
 * a 1 MiB semi-space (the default grows to 16 MiB). Workers keep few objects, so their
 * scavenges stay cheap when they run more often.
 */
export const WORKER_YOUNG_GENERATION_MB = 3;

/**
 * How far V8 lets a heap grow past what its last full collection kept, in percent, before it
 * collects again. V8's own factor is up to 4× on a machine with RAM to spare: the main thread of
 * a backup of many small files keeps ~15–40 MiB live but let its heap reach ~95 MiB of mostly
 * garbage (promoted file jobs, nodes and promises). 30 % measured ~45 MiB less peak RSS on
 * 100,000 files with no measurable CPU cost (the collections are incremental and concurrent).
 */
export const HEAP_GROWING_PERCENT = 30;

/** The memory-related choices of the backup and restore pipelines. */
export interface MemoryBudget {
	/**
	 * Packs the main thread reads (from the chunk workers' temporary pack files) and stores at
	 * once, at most, each in a buffer of about 17 MiB: 2 lets a slow repository have two uploads
	 * in flight; 1 makes them wait for each other instead. The chunk worker pool stores one at a
	 * time until a store turns out slow (worker-pool.ts, SLOW_STORE_MS). The workers hold no pack
	 * in memory.
	 */
	packBuffers: number;
	/** Young generation of each worker isolate, in MiB (V8's default grows to 48). */
	workerYoungGenerationMb: number;
	/** Worker threads (chunking or decoding) at most; the cores bound them too. */
	maxWorkers: number;
	/** Bytes of packs a restore reads and decodes at once. */
	restoreBytesInFlight: number;
	/** See {@link HEAP_GROWING_PERCENT}. */
	heapGrowingPercent: number;
}

const UNITS: Record<string, number> = {'': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4};

/**
 * Parses a memory size: a number of bytes, or a number with a binary unit (K, M, G, T, also
 * written KiB/KB…, any case), e.g. `512M`, `1.5GiB`. Throws an Error saying what is accepted
 * for anything else, or for a size below {@link MIN_MEMORY_LIMIT}.
 */
export function parseMemorySize(text: string, what = '--max-memory'): number {
	const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
	const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
	if (!match || unit === undefined) throw new Error(`${what}: "${text}" is not a memory size; give a number with a unit, e.g. 512M or 2G`);
	const bytes = Math.floor(Number(match[1]) * unit);
	if (bytes < MIN_MEMORY_LIMIT) throw new Error(`${what}: ${text} is too little; cairn needs at least ${MIN_MEMORY_LIMIT / 1024 ** 2}M`);
	return bytes;
}

/**
 * The memory cairn may plan for: the machine's RAM, or less when `env` limits it. An invalid
 * value in the environment is ignored here (the CLI rejects it before anything runs).
 */
export function findMemoryLimit(env: NodeJS.ProcessEnv = process.env, totalBytes = os.totalmem()): number {
	const text = env[MEMORY_LIMIT_ENV];
	if (text === undefined || text === '') return totalBytes;
	try {
		return Math.min(totalBytes, parseMemorySize(text, MEMORY_LIMIT_ENV));
	} catch {
		return totalBytes;
	}
}

/** The budget for `limitBytes` of memory (default: this machine's RAM or the user's limit). */
export function findMemoryBudget(limitBytes = findMemoryLimit()): MemoryBudget {
	const small = limitBytes < SMALL_MACHINE_BYTES;
	return {
		packBuffers: small ? 1 : 2,
		workerYoungGenerationMb: WORKER_YOUNG_GENERATION_MB,
		maxWorkers: limitBytes < ONE_WORKER_BYTES ? 1 : limitBytes < TWO_WORKER_BYTES ? 2 : 8,
		restoreBytesInFlight: (small ? 8 : 16) * 1024 * 1024,
		heapGrowingPercent: HEAP_GROWING_PERCENT,
	};
}

/** Whether {@link limitHeapGrowth} has run in this process. */
let heapGrowthLimited = false;

/**
 * Sets V8's heap growing factor (see {@link HEAP_GROWING_PERCENT}) for every isolate of this
 * process: V8 reads it at each full collection, so it applies from then on, also to worker
 * threads. Call on the main thread before a backup or restore starts its workers. Does nothing
 * when the user gave `--heap-growing-percent` (in the node flags or NODE_OPTIONS), or when it ran
 * before; returns whether it set the flag.
 */
export function limitHeapGrowth(budget: MemoryBudget = findMemoryBudget(), env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
	if (heapGrowthLimited) return false;
	const given = (text: string | undefined) => /--heap[-_]growing[-_]percent/.test(text ?? '');
	if (execArgv.some(given) || given(env.NODE_OPTIONS)) return false;
	heapGrowthLimited = true;
	v8.setFlagsFromString(`--heap-growing-percent=${budget.heapGrowingPercent}`);
	return true;
}
