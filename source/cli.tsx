#!/usr/bin/env node
/**
 * Entry point: with no arguments, the full-screen app; with a subcommand, the scriptable CLI.
 */
import {availableParallelism} from 'node:os';
import {limitMallocArenas, restartWithMemoryLimits} from './allocator.js';
import {findCliBundle} from './cli-bundle.js';

const DATA_COMMANDS = new Set(['backup', 'restore', 'check', 'prune', 'forget', 'service']);

// File reads and zstd jobs share libuv's thread pool; more threads than twice the cores buy
// nothing but memory (each keeps its own zstd context and malloc arena). This must happen before
// the first asynchronous file operation starts the pool.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, 2 * availableParallelism()));
// The commands that move data start again once with a small young generation and two malloc
// arenas (see allocator.ts); everything else is imported only after that. The others start faster
// without it, and keep little memory anyway.
if (process.argv.slice(2).some((arg) => DATA_COMMANDS.has(arg))) {
	const restart = restartWithMemoryLimits();
	if (restart !== 'restarted-before') limitMallocArenas();
}

async function main(): Promise<void> {
	const bundle = findCliBundle();
	const {runMain} = bundle === undefined ? await import('./cli-main.js') : (await import(bundle)) as typeof import('./cli-main.js');
	process.exitCode = await runMain(process.argv.slice(2));
}

main().catch((error: unknown) => {
	process.stderr.write(`Fatal: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exitCode = 1;
});
