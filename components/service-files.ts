/**
 * The service's files as the app sees them: which service configs exist for this user, what the
 * Service screen needs of a config, and the state file the service writes (SERVICE-CONTRACT.md).
 * Reading and validating a config is the service's own code (service/config.ts); nothing here
 * holds or shows a secret of the config.
 */
import {readdir, stat} from 'node:fs/promises';
import {basename, dirname, extname, join, resolve} from 'node:path';
import {describeServiceConfig, loadServiceFile, readServiceState, findDefaultConfigPath, type ServiceState} from './service-link.js';

export type {ServiceState} from './service-link.js';

/** What the Service screen shows of a config (no secret is kept). */
export interface ServiceConfigSummary {
	/** Absolute path of the config file. */
	readonly path: string;
	/** The config's name: the file name without extension. */
	readonly name: string;
	/** Where the service writes its state for this config. */
	readonly statePath: string;
	/** The repository's location without secrets. */
	readonly repository: string;
	/** The configured paths (what a restore in place overwrites). */
	readonly paths: readonly string[];
	/** The snapshot a pending one-time restore will restore, when set. */
	readonly restoreSnapshotId?: string;
	/** Whether the config is enabled. */
	readonly enabled: boolean;
	/** The schedule as written (`@every 6h`, a cron line), when set. */
	readonly schedule?: string;
	/**
	 * Whether a backup may start at `now` (the maintenance windows), with the next opening or
	 * closing; undefined when the config has no window (always open).
	 */
	describeWindow(now: Date): {open: boolean; opensAt?: Date; closesAt?: Date} | undefined;
	/** When the schedule makes the next backup due after `lastRun`; undefined without a schedule. */
	computeNextRun(lastRun: string | null, now: Date): Date | undefined;
}

/** A service config found for the repository list. */
export interface ServiceConfigEntry {
	readonly path: string;
	readonly name: string;
	/** Why the config cannot be used (then the screen shows it); undefined when it loads. */
	readonly error?: string;
	/** The last successful backup from the state file, when there is one. */
	readonly lastBackup?: string;
}

/** Environment variable naming one more service config for the app to list. */
export const SERVICE_CONFIG_ENV = 'CAIRN_SERVICE_CONFIG';

/** File extensions a service config may have. */
const CONFIG_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The config name of a path: the file name without its extension. */
export function nameServiceConfig(path: string): string {
	return basename(path, extname(path));
}

/**
 * Reads a config for the screen. Throws the service's error (file, line, field) when the service
 * would refuse it; `checkPermissions` false accepts a config others can read.
 */
export async function loadServiceConfigSummary(path: string, env: Readonly<Record<string, string | undefined>>, checkPermissions = true): Promise<ServiceConfigSummary> {
	return describeServiceConfig(await loadServiceFile(resolve(path), env, checkPermissions));
}

/** Reads the state file: undefined when there is none yet. */
export function readServiceStateFile(path: string): Promise<ServiceState | undefined> {
	return readServiceState(path);
}

/**
 * The service configs of this user: the default config (listed with its problem when it exists
 * but does not load), the other `*.yaml`, `*.yml` and `*.json` files in its directory that load
 * as service configs, and what `CAIRN_SERVICE_CONFIG` names: a config file (listed with its problem
 * too) or a directory (searched as the default one). Sorted by name; each path at most once.
 */
export async function discoverServiceConfigs(env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): Promise<ServiceConfigEntry[]> {
	const defaultPath = findDefaultConfigPath(env);
	const directories = [dirname(defaultPath)];
	const explicit = new Set([defaultPath]);
	const extra = env[SERVICE_CONFIG_ENV]?.trim();
	if (extra !== undefined && extra !== '') {
		const path = resolve(cwd, extra);
		const isDirectory = await stat(path).then((info) => info.isDirectory(), () => false);
		if (isDirectory) directories.push(path);
		else explicit.add(path);
	}
	const paths = new Set<string>();
	for (const directory of directories) {
		try {
			for (const entry of await readdir(directory, {withFileTypes: true})) {
				if (entry.isFile() && CONFIG_EXTENSIONS.has(extname(entry.name).toLowerCase())) paths.add(join(directory, entry.name));
			}
		} catch {
			// No such directory: nothing there.
		}
	}
	// An explicit file is listed even when missing or invalid (with why); the default one only when it exists.
	for (const path of explicit) if (path !== defaultPath) paths.add(path);
	const candidates = [...paths].map((path) => ({path, explicit: explicit.has(path)}));
	const found = await Promise.all(candidates.map(async ({path, explicit}): Promise<ServiceConfigEntry | undefined> => {
		try {
			const summary = await loadServiceConfigSummary(path, env, false);
			const state = await readServiceStateFile(summary.statePath).catch(() => undefined);
			return {path, name: summary.name, lastBackup: state?.last_backup ?? undefined};
		} catch (error) {
			return explicit ? {path, name: nameServiceConfig(path), error: error instanceof Error ? error.message : String(error)} : undefined;
		}
	}));
	return found.filter((entry): entry is ServiceConfigEntry => entry !== undefined).sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
}
