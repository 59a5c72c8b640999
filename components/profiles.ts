/**
 * Saved repository profiles: a name and a location, kept with `conf` in
 * `$XDG_CONFIG_HOME/cairn/config.json` (mode 0600). Passwords are never saved.
 */
import {homedir} from 'node:os';
import {join} from 'node:path';
import Conf from 'conf';

/** A saved repository. */
export interface Profile {
	/** Unique name shown in the list, e.g. `default`. */
	readonly name: string;
	/** Repository location as the registry parses it, e.g. `local:/home/me/.local/share/cairn/repository`. */
	readonly location: string;
	/** The paths of the last backup made from the app, offered for the next one. */
	readonly backupPaths?: readonly string[];
}

/** Reads and writes the saved profiles. */
export interface ProfileStore {
	/** The config file. */
	readonly path: string;
	/** Every profile, in the order they were added. */
	listProfiles(): Profile[];
	/** Adds a profile or replaces the one with the same name. */
	saveProfile(profile: Profile): void;
	/** Removes the profile with this name, if any. */
	removeProfile(name: string): void;
}

/** The environment variables the app reads paths from. */
export type PathEnvironment = Readonly<Record<string, string | undefined>>;

/** The user's home directory: `$HOME`, else the account's. */
export function findHomeDirectory(env: PathEnvironment): string {
	return env.HOME || homedir();
}

/** `$XDG_CONFIG_HOME/cairn` (default `~/.config/cairn`). */
export function findConfigDirectory(env: PathEnvironment): string {
	return join(env.XDG_CONFIG_HOME || join(findHomeDirectory(env), '.config'), 'cairn');
}

/** Where the quick start puts a repository: `$XDG_DATA_HOME/cairn/repository` (default `~/.local/share/cairn/repository`). */
export function findDefaultRepositoryPath(env: PathEnvironment): string {
	return join(env.XDG_DATA_HOME || join(findHomeDirectory(env), '.local', 'share'), 'cairn', 'repository');
}

interface StoredConfig {
	profiles?: unknown;
}

/** Keeps only well-formed profiles from what the file holds. */
function readProfiles(value: unknown): Profile[] {
	if (!Array.isArray(value)) return [];
	const profiles: Profile[] = [];
	for (const item of value) {
		if (item === null || typeof item !== 'object') continue;
		const {name, location, backupPaths} = item as Record<string, unknown>;
		if (typeof name !== 'string' || typeof location !== 'string' || name === '' || location === '') continue;
		const paths = Array.isArray(backupPaths) ? backupPaths.filter((p): p is string => typeof p === 'string') : undefined;
		profiles.push(paths === undefined ? {name, location} : {name, location, backupPaths: paths});
	}
	return profiles;
}

/** Opens the profile store of the environment (the paths are read now, from `env`). */
export function openProfileStore(env: PathEnvironment): ProfileStore {
	const conf = new Conf<StoredConfig>({projectName: 'cairn', cwd: findConfigDirectory(env), configFileMode: 0o600});
	const list = (): Profile[] => readProfiles(conf.get('profiles'));
	return {
		path: conf.path,
		listProfiles: list,
		saveProfile(profile) {
			const profiles = list();
			const index = profiles.findIndex((p) => p.name === profile.name);
			if (index >= 0) profiles[index] = profile;
			else profiles.push(profile);
			conf.set('profiles', profiles);
		},
		removeProfile(name) {
			conf.set('profiles', list().filter((p) => p.name !== name));
		},
	};
}

/** A name not yet used by any profile: `base`, else `base-2`, `base-3`, … */
export function chooseProfileName(profiles: readonly Profile[], base: string): string {
	const taken = new Set(profiles.map((p) => p.name));
	if (!taken.has(base)) return base;
	for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}
