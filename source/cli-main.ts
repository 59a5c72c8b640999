/**
 * What the entry point (cli.tsx) runs once the process is set up: the full-screen app with no
 * arguments, the unattended service for `service`, else the scriptable CLI. The build bundles
 * this module and everything the CLI and the service load into a few files
 * (scripts/bundle-cli.mjs: source/cli-main.bundle.js and its chunks), which cli.tsx loads instead
 * of these modules while the bundle is at least as new as them.
 */

/** Runs cairn with the arguments after the program name; resolves with the exit code. */
export async function runMain(args: readonly string[]): Promise<number> {
	if (args.length === 0) {
		// The app has a bundle of its own (components/run-app.bundle.js); this import stays a module.
		const {startApp} = await import('./app.js');
		return startApp();
	}
	if (args[0] === 'service') {
		// The unattended service: its own entry point, without the CLI's parser or the app.
		const {runService} = await import('./service.js');
		return runService(args.slice(1));
	}
	const {runCli} = await import('./program.js');
	return runCli([...args]);
}
