/**
 * The command line that runs cairn itself: used by `cairn service install` (units and crontab
 * lines point at the running program) and by the app to start `service run --once`.
 */
import {createRequire} from 'node:module';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

/** True when this process is a Node single executable application (cairn built into one binary). */
export function isSingleExecutable(): boolean {
	try {
		const sea = createRequire(import.meta.url)('node:sea') as {isSea?: () => boolean};
		return sea.isSea?.() === true;
	} catch {
		return false; // Node without node:sea (before 20.12)
	}
}

/** The absolute path of the compiled CLI entry point, dist/source/cli.js. */
export function findCliScript(): string {
	const file = fileURLToPath(import.meta.url);
	// Compiled, this file is dist/service/spawn.js; run from the sources (tests), it is service/spawn.ts.
	if (file.endsWith('.ts')) return resolve(join(dirname(file), '..', 'dist', 'source', 'cli.js'));
	return resolve(join(dirname(file), '..', 'source', 'cli.js'));
}

/**
 * The command that runs `cairn <args>`: the executable alone when running as a single executable,
 * else `process.execPath` with the absolute path of dist/source/cli.js first.
 */
export function buildServiceCommand(args: readonly string[]): {command: string; args: string[]} {
	if (isSingleExecutable()) return {command: process.execPath, args: [...args]};
	return {command: process.execPath, args: [findCliScript(), ...args]};
}
