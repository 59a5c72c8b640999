#!/usr/bin/env node
/**
 * Entry point: with no arguments, the full-screen app; with a subcommand, the scriptable CLI.
 */
import {runCli} from './program.js';
import {limitMallocArenas} from './allocator.js';

const DATA_COMMANDS = new Set(['backup', 'restore', 'check', 'prune', 'forget', 'service']);

// File reads and zstd jobs share libuv's thread pool (4 threads by default); give reads room.
// This must happen before the first asynchronous file operation starts the pool.
process.env.UV_THREADPOOL_SIZE ??= '8';
// Likewise before the pool and the worker threads start, for the commands that move data (the
// others start faster without loading the FFI package, and keep little memory anyway).
if (process.argv.slice(2).some((arg) => DATA_COMMANDS.has(arg))) limitMallocArenas();

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	if (args.length === 0) {
		const {startApp} = await import('./app.js');
		process.exitCode = await startApp();
		return;
	}
	if (args[0] === 'service') {
		// The unattended service: its own entry point, without the CLI's parser or the app.
		const {runService} = await import('./service.js');
		process.exitCode = await runService(args.slice(1));
		return;
	}
	process.exitCode = await runCli(args);
}

main().catch((error: unknown) => {
	process.stderr.write(`Fatal: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exitCode = 1;
});
