/**
 * How much memory the backup pipeline may hold, following the machine's RAM. cairn runs on NAS
 * boxes where 1–2 GiB is shared with everything else, so buffers that only buy speed on slow
 * storage are given up there.
 */
import * as os from 'node:os';

/** Machines with less RAM than this count as small. */
export const SMALL_MACHINE_BYTES = 4 * 1024 ** 3;

/**
 * Young generation of each worker isolate, in MiB: V8 sizes it as three semi-spaces, so 3 MiB is
 * a 1 MiB semi-space (the default grows to 16 MiB). Workers keep few objects, so their
 * scavenges stay cheap when they run more often.
 */
export const WORKER_YOUNG_GENERATION_MB = 3;

/** The memory-related choices of the backup pipeline. */
export interface MemoryBudget {
	/**
	 * Pack buffers a chunk worker may hold (about 17 MiB each): 2 lets it fill the next pack
	 * while a slow repository stores the last one; 1 makes it wait for the store instead.
	 */
	packBuffersPerWorker: number;
	/** Young generation of each worker isolate, in MiB (V8's default grows to 48). */
	workerYoungGenerationMb: number;
}

/** The budget for a machine with `totalBytes` of RAM (default: this machine's). */
export function findMemoryBudget(totalBytes = os.totalmem()): MemoryBudget {
	return {packBuffersPerWorker: totalBytes < SMALL_MACHINE_BYTES ? 1 : 2, workerYoungGenerationMb: WORKER_YOUNG_GENERATION_MB};
}
