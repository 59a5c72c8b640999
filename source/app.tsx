/**
 * The app root: starts the full-screen app of components/.
 *
 * Start-up time is mostly module loading (Ink, React and their few hundred small modules), so the
 * build can bundle the app into one file (scripts/bundle-app.mjs writes
 * components/run-app.bundle.js next to the compiled modules). That bundle is used when it is at
 * least as new as the compiled modules; after a plain `tsc` it is older, and the modules are
 * loaded one by one as usual.
 */
import {statSync} from 'node:fs';
import {isStandalone} from '../engine/util/embedded.js';

type RunAppModule = typeof import('../components/run-app.js');

/** The bundle's URL when it exists and is not older than the modules it was made from (never inside the executable). */
export function findAppBundle(base: string | URL = import.meta.url): string | undefined {
	// The single-file executable is one bundle already; never load files from beside it.
	if (isStandalone()) return undefined;
	const bundle = new URL('../components/run-app.bundle.js', base);
	try {
		const made = statSync(bundle).mtimeMs;
		const compiled = statSync(new URL('../components/run-app.js', base)).mtimeMs;
		return made >= compiled ? bundle.href : undefined;
	} catch {
		return undefined;
	}
}

/** Runs the app until the user quits; resolves with the exit code. */
export async function startApp(): Promise<number> {
	const bundle = findAppBundle();
	// React's production build loads and renders faster (the bundle has it built in). Only the
	// loading sees the variable: processes the app starts later get the environment as it was.
	const unset = process.env.NODE_ENV === undefined;
	if (unset) process.env.NODE_ENV = 'production';
	let app: RunAppModule;
	try {
		app = bundle === undefined ? await import('../components/run-app.js') : (await import(bundle)) as RunAppModule;
	} finally {
		if (unset) delete process.env.NODE_ENV;
	}
	return app.runApp();
}
