/**
 * Saved repository profiles, kept with `conf` in `$XDG_CONFIG_HOME/cairn/config.json` (mode 0600).
 *
 * A profile holds what is needed to open a repository again: the location, the adapter's other
 * values, where the password comes from, and a few preferences (compression, pack size, the
 * last backup's paths, a retention policy). Secret adapter values and the password are saved only
 * when the user asked for it; otherwise they are asked again when the repository is opened.
 * No React here: the CLI's `--profile` reads the same store.
 */
import {homedir} from 'node:os';
import {join} from 'node:path';
import Conf from 'conf';

/** The compression modes a profile may ask for (as engine/format/compression.ts). */
export type ProfileCompression = 'off' | 'auto' | 'max';

/**
 * A saved repository.
 *
 * Contract: `name` and `location` are non-empty; `location` is `<scheme>:<rest>` as the adapter
 * registry parses it and never holds a secret. `options` holds adapter values by option name
 * (without the scheme prefix) that are not part of the location; secret values appear there only
 * when the user opted in. At most one of `password`, `passwordFile` and `passwordCommand` is set.
 */
export interface Profile {
	/** Unique name shown in the list, e.g. `default`. */
	readonly name: string;
	/** Repository location as the registry parses it, e.g. `local:/home/me/.local/share/cairn/repository`. */
	readonly location: string;
	/** Adapter values not in the location, by option name, e.g. `{region: 'eu-west-1'}`. */
	readonly options?: Readonly<Record<string, string>>;
	/** Secret options that were given when the profile was made but not saved: asked when opening. */
	readonly askSecrets?: readonly string[];
	/** The repository password, saved only when the user opted in. */
	readonly password?: string;
	/** A file whose content (without the final newline) is the password. */
	readonly passwordFile?: string;
	/** A shell command that prints the password. */
	readonly passwordCommand?: string;
	/** Compression of new data (default auto). */
	readonly compression?: ProfileCompression;
	/** Target pack size in MiB (default 16). */
	readonly packSizeMiB?: number;
	/** Upload limit in KiB/s (absent: unlimited), as `--limit-upload`. */
	readonly limitUploadKiB?: number;
	/** Download limit in KiB/s (absent: unlimited), as `--limit-download`. */
	readonly limitDownloadKiB?: number;
	/** The paths of the last backup made from the app, offered for the next one. */
	readonly backupPaths?: readonly string[];
	/** Exclude patterns of the last backup made from the app. */
	readonly excludes?: readonly string[];
	/** Tags of the last backup made from the app. */
	readonly tags?: readonly string[];
	/** Time of the newest snapshot seen or made (ISO 8601), for the repository list. */
	readonly lastBackup?: string;
	/** Retention policy: rule name (`keep-daily`, …) to its value as typed. */
	readonly retention?: Readonly<Record<string, string>>;
}

/** Reads and writes the saved profiles. */
export interface ProfileStore {
	/** The config file. */
	readonly path: string;
	/** Every profile, in the order they were added. */
	listProfiles(): Profile[];
	/** The profile with this name, if any. */
	findProfile(name: string): Profile | undefined;
	/** Adds a profile or replaces the one with the same name (keeping its place). */
	saveProfile(profile: Profile): void;
	/** Replaces the profile `oldName` by `profile` at the same place (a rename when the names differ). */
	replaceProfile(oldName: string, profile: Profile): void;
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

function readString(value: unknown): string | undefined {
	return typeof value === 'string' && value !== '' ? value : undefined;
}

function readStringList(value: unknown): string[] | undefined {
	return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

function readStringRecord(value: unknown): Record<string, string> | undefined {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
	const record: Record<string, string> = {};
	for (const [key, item] of Object.entries(value as Record<string, unknown>)) if (typeof item === 'string') record[key] = item;
	return record;
}

/** Keeps one well-formed profile from what the file holds (unknown fields are dropped), or undefined. */
export function readProfile(item: unknown): Profile | undefined {
	if (item === null || typeof item !== 'object') return undefined;
	const raw = item as Record<string, unknown>;
	const name = readString(raw.name);
	const location = readString(raw.location);
	if (name === undefined || location === undefined) return undefined;
	const profile: Record<string, unknown> = {name, location};
	const options = readStringRecord(raw.options);
	if (options !== undefined && Object.keys(options).length > 0) profile.options = options;
	const askSecrets = readStringList(raw.askSecrets);
	if (askSecrets !== undefined && askSecrets.length > 0) profile.askSecrets = askSecrets;
	for (const key of ['password', 'passwordFile', 'passwordCommand', 'lastBackup'] as const) {
		const value = readString(raw[key]);
		if (value !== undefined) profile[key] = value;
	}
	if (raw.compression === 'off' || raw.compression === 'auto' || raw.compression === 'max') profile.compression = raw.compression;
	if (typeof raw.packSizeMiB === 'number' && Number.isInteger(raw.packSizeMiB) && raw.packSizeMiB > 0) profile.packSizeMiB = raw.packSizeMiB;
	for (const key of ['limitUploadKiB', 'limitDownloadKiB'] as const) {
		const value = raw[key];
		if (typeof value === 'number' && Number.isFinite(value) && value > 0) profile[key] = value;
	}
	for (const key of ['backupPaths', 'excludes', 'tags'] as const) {
		const list = readStringList(raw[key]);
		if (list !== undefined) profile[key] = list;
	}
	const retention = readStringRecord(raw.retention);
	if (retention !== undefined && Object.keys(retention).length > 0) profile.retention = retention;
	return profile as unknown as Profile;
}

/** Keeps only well-formed profiles from what the file holds. */
function readProfiles(value: unknown): Profile[] {
	if (!Array.isArray(value)) return [];
	const profiles: Profile[] = [];
	for (const item of value) {
		const profile = readProfile(item);
		if (profile !== undefined && !profiles.some((p) => p.name === profile.name)) profiles.push(profile);
	}
	return profiles;
}

/** Drops the fields that are undefined, so that the file holds only what is set. */
function cleanProfile(profile: Profile): Profile {
	return Object.fromEntries(Object.entries(profile).filter(([, value]) => value !== undefined)) as unknown as Profile;
}

/** Opens the profile store of the environment (the paths are read now, from `env`). The file is created with mode 0600. */
export function openProfileStore(env: PathEnvironment): ProfileStore {
	const conf = new Conf<StoredConfig>({projectName: 'cairn', cwd: findConfigDirectory(env), configFileMode: 0o600});
	const list = (): Profile[] => readProfiles(conf.get('profiles'));
	const replace = (oldName: string, profile: Profile): void => {
		const profiles = list().filter((p) => p.name !== profile.name || p.name === oldName);
		const index = profiles.findIndex((p) => p.name === oldName);
		if (index >= 0) profiles[index] = cleanProfile(profile);
		else profiles.push(cleanProfile(profile));
		conf.set('profiles', profiles);
	};
	return {
		path: conf.path,
		listProfiles: list,
		findProfile: (name) => list().find((p) => p.name === name),
		saveProfile: (profile) => replace(profile.name, profile),
		replaceProfile: replace,
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

/** Checks a profile name; returns what is wrong, or undefined. `taken` are the other profiles' names. */
export function checkProfileName(name: string, taken: readonly string[]): string | undefined {
	const trimmed = name.trim();
	if (trimmed === '') return 'Give the repository a name, e.g. "laptop" or "usb-disk".';
	if (/[\u0000-\u001f\u007f]/.test(trimmed)) return 'The name cannot hold control characters.';
	if (trimmed.length > 64) return 'Keep the name to 64 characters or fewer.';
	if (taken.includes(trimmed)) return `A repository named "${trimmed}" is already saved. Choose another name.`;
	return undefined;
}
