#!/usr/bin/env node
/**
 * Entry point: with no arguments, the full-screen app; with a subcommand, the scriptable CLI.
 */
import {runCli} from './program.js';

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	if (args.length === 0) {
		const {startApp} = await import('./app.js');
		process.exitCode = await startApp();
		return;
	}
	process.exitCode = await runCli(args);
}

main().catch((error: unknown) => {
	process.stderr.write(`Fatal: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exitCode = 1;
});
