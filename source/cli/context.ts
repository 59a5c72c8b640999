/**
 * What every command needs: the global flags, the repository location and the open repository.
 */
import {RepositoryLocationError} from '../../adapters/registry.js';
import {withDryRun} from '../../adapters/wrappers/dry-run.js';
import {parseRateLimit, type RateLimits} from '../../adapters/wrappers/rate-limit.js';
import type {Storage} from '../../adapters/storage.js';
import type {Repository, RepositoryOptions} from '../../engine/repository/repository.js';
import {openRepositoryFrom, openTargetStorage, type RepositoryTarget} from '../../access/open.js';
import {findCacheDirectory} from '../../engine/repository/cache.js';
import {COMPRESSION_MODES, type CompressionMode} from '../../engine/format/compression.js';
import {UsageError} from '../../engine/errors.js';
import {resolvePassword, type PasswordFlags} from './password.js';
import {KeyPassphraseError} from '../../adapters/sftp/key-errors.js';
import {promptHidden} from './prompt.js';

/** Flags accepted by every command. */
export interface GlobalFlags extends PasswordFlags {
	repo?: string;
	option?: string[];
	json?: boolean;
	quiet?: boolean;
	compression?: string;
	packSize?: string;
	/** Base directory of the local cache (`--cache-dir`). */
	cacheDir?: string;
	/** False with `--no-cache`. */
	cache?: boolean;
	/** A profile saved by the app (`--profile NAME`); see {@link applyProfile}. */
	profile?: string;
	/** The password the profile saved, when the user let it save one (set by applyProfile). */
	profilePassword?: string;
	/** Set once the profile has been applied. */
	profileApplied?: boolean;
	/** `--limit-upload` in KiB/s (or CAIRN_LIMIT_UPLOAD, or the profile's). */
	limitUpload?: string;
	/** `--limit-download` in KiB/s (or CAIRN_LIMIT_DOWNLOAD, or the profile's). */
	limitDownload?: string;
}

type ProfilesModule = typeof import('../../components/profiles.js');
let profiles: ProfilesModule | undefined;

/**
 * Loads the support for saved profiles (conf, with its JSON-schema validator: the largest part of
 * a command's start-up), once. Only `--profile` needs it; call it before {@link applyProfile}.
 */
export async function loadProfiles(): Promise<void> {
	profiles ??= await import('../../components/profiles.js');
}

/**
 * Fills the flags from the saved profile named by `--profile` (once): the location (unless --repo
 * is given), its options before any -o (which win), its password file or command (unless one is
 * given), its saved password, compression and pack size. Throws a UsageError for an unknown name.
 */
export function applyProfile(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): GlobalFlags {
	if (flags.profile === undefined || flags.profileApplied) return flags;
	if (profiles === undefined) throw new Error('applyProfile: the profile support is not loaded (call loadProfiles first)');
	const store = profiles.openProfileStore(env);
	const profile = store.findProfile(flags.profile);
	if (profile === undefined) {
		const names = store.listProfiles().map((p) => p.name);
		throw new UsageError(`no profile named ${JSON.stringify(flags.profile)} in ${store.path}; ${names.length > 0 ? `saved profiles: ${names.join(', ')}` : 'no profile is saved yet: add one in the app (run cairn without arguments)'}`);
	}
	flags.profileApplied = true;
	flags.repo ??= profile.location;
	const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(profile.location)?.[1]?.toLowerCase() ?? 'local';
	flags.option = [...Object.entries(profile.options ?? {}).map(([name, value]) => `${scheme}.${name}=${value}`), ...(flags.option ?? [])];
	if (flags.passwordFile === undefined && flags.passwordCommand === undefined) {
		flags.passwordFile = profile.passwordFile;
		flags.passwordCommand = profile.passwordCommand;
		flags.profilePassword = profile.password;
	}
	flags.compression ??= profile.compression;
	if (flags.packSize === undefined && profile.packSizeMiB !== undefined) flags.packSize = String(profile.packSizeMiB);
	if (flags.limitUpload === undefined && profile.limitUploadKiB !== undefined) flags.limitUpload = String(profile.limitUploadKiB);
	if (flags.limitDownload === undefined && profile.limitDownloadKiB !== undefined) flags.limitDownload = String(profile.limitDownloadKiB);
	return flags;
}

/** The repository location from --repo, CAIRN_REPOSITORY or RESTIC_REPOSITORY. */
export function findRepositoryLocation(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): string {
	const location = flags.repo ?? env.CAIRN_REPOSITORY ?? env.RESTIC_REPOSITORY;
	if (!location) throw new UsageError('no repository given: use --repo LOCATION (or -r), or set CAIRN_REPOSITORY');
	return location;
}

/** Parses repeated `-o key=value` flags. */
export function parseOptionFlags(list: readonly string[] = []): Record<string, string> {
	const options: Record<string, string> = {};
	for (const item of list) {
		const eq = item.indexOf('=');
		if (eq <= 0) throw new UsageError(`invalid option ${JSON.stringify(item)}: use -o name=value, for example -o local.path=/srv/backup`);
		options[item.slice(0, eq).trim()] = item.slice(eq + 1);
	}
	return options;
}

/** The bandwidth limits of the flags, else of CAIRN_LIMIT_UPLOAD / CAIRN_LIMIT_DOWNLOAD. */
export function readRateLimits(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): RateLimits {
	try {
		return {
			uploadKiB: parseRateLimit(flags.limitUpload ?? env.CAIRN_LIMIT_UPLOAD, '--limit-upload'),
			downloadKiB: parseRateLimit(flags.limitDownload ?? env.CAIRN_LIMIT_DOWNLOAD, '--limit-download'),
		};
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
}

/** The repository target named by the flags (after applying `--profile`), with its rate limits. */
export function readRepositoryTarget(flags: GlobalFlags): RepositoryTarget {
	applyProfile(flags);
	const limits = readRateLimits(flags);
	return {location: findRepositoryLocation(flags), options: parseOptionFlags(flags.option), limitUpload: limits.uploadKiB, limitDownload: limits.downloadKiB};
}

/** Opens a target's storage; on a terminal, asks for an SSH key's passphrase when the key needs one. */
async function openStorageAsking(target: RepositoryTarget): Promise<Storage> {
	try {
		return await openTargetStorage(target);
	} catch (error) {
		if (error instanceof RepositoryLocationError) throw new UsageError(error.message, {cause: error});
		if (error instanceof KeyPassphraseError && process.stdin.isTTY) {
			const passphrase = await promptHidden(`enter the passphrase of the SSH key ${error.keyFile}: `);
			return openTargetStorage({...target, options: {...target.options, 'sftp.key-passphrase': passphrase}});
		}
		throw error;
	}
}

/** Opens the storage named by the flags (with retries around it). */
export async function openStorage(flags: GlobalFlags): Promise<Storage> {
	if (flags.profile !== undefined) await loadProfiles();
	return openStorageAsking(readRepositoryTarget(flags));
}

/** Repository options from the global flags. */
export function readRepositoryOptions(flags: GlobalFlags): RepositoryOptions {
	const options: RepositoryOptions = {};
	if (flags.compression !== undefined) {
		if (!COMPRESSION_MODES.includes(flags.compression as CompressionMode)) {
			throw new UsageError(`invalid --compression ${JSON.stringify(flags.compression)}: use off, auto or max`);
		}
		options.compression = flags.compression as CompressionMode;
	}
	if (flags.packSize !== undefined) {
		const mib = Number(flags.packSize);
		if (!Number.isInteger(mib) || mib < 4 || mib > 128) throw new UsageError(`invalid --pack-size ${JSON.stringify(flags.packSize)}: give a size in MiB from 4 to 128`);
		options.packSize = mib * 1024 * 1024;
	}
	const cacheDir = findCacheDirectory({cacheDir: flags.cacheDir, noCache: flags.cache === false});
	if (cacheDir !== undefined) {
		options.cacheDir = cacheDir;
		// Say so only when the cache was asked for by name; the default location fails quietly.
		if (flags.cacheDir !== undefined || process.env.CAIRN_CACHE_DIR) {
			options.onCacheError = (error) => process.stderr.write(`warning: cannot use the cache in ${cacheDir}: ${error.message}; going on without it\n`);
		}
	}
	return options;
}

/**
 * Opens the repository named by the flags, asking for the password as needed. With `cache: false`
 * it reads everything from the repository (check must verify the repository, not the cache).
 * With `lock` (the command locks the repository right after opening) the lock files are listed
 * while the key is derived.
 */
export async function openRepository(flags: GlobalFlags, signal?: AbortSignal, open: {cache?: boolean; dryRun?: boolean; lock?: boolean} = {}): Promise<Repository> {
	if (flags.profile !== undefined) await loadProfiles();
	const target = readRepositoryTarget(flags);
	const {repository} = await openRepositoryFrom(target, {
		// A dry run reads the repository and writes nothing to it (restic's backup --dry-run).
		openStorage: async (t) => (open.dryRun ? withDryRun(await openStorageAsking(t)) : openStorageAsking(t)),
		password: async () => {
			const saved = flags.profilePassword !== undefined && !process.env.CAIRN_PASSWORD ? flags.profilePassword : undefined;
			return saved ?? (await resolvePassword(flags));
		},
		repository: () => ({...readRepositoryOptions(open.cache === false ? {...flags, cache: false} : flags), signal, listLocksEarly: open.lock === true}),
	});
	return repository;
}

/** Writes one JSON document as a line on stdout. */
export function printJson(value: unknown): void {
	process.stdout.write(JSON.stringify(value) + '\n');
}
