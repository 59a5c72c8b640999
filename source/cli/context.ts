/**
 * What every command needs: the global flags, the repository location and the open repository.
 */
import '../../adapters/index.js';
import {openRepositoryStorage, RepositoryLocationError} from '../../adapters/registry.js';
import {withRetry} from '../../adapters/wrappers/retry.js';
import type {Storage} from '../../adapters/storage.js';
import {Repository, type RepositoryOptions} from '../../engine/repository/repository.js';
import {COMPRESSION_MODES, type CompressionMode} from '../../engine/format/compression.js';
import {UsageError} from '../../engine/errors.js';
import {resolvePassword, type PasswordFlags} from './password.js';

/** Flags accepted by every command. */
export interface GlobalFlags extends PasswordFlags {
	repo?: string;
	option?: string[];
	json?: boolean;
	quiet?: boolean;
	compression?: string;
	packSize?: string;
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

/** Opens the storage named by the flags (with retries around it). */
export async function openStorage(flags: GlobalFlags): Promise<Storage> {
	const location = findRepositoryLocation(flags);
	try {
		const storage = await openRepositoryStorage(location, parseOptionFlags(flags.option));
		return withRetry(storage);
	} catch (error) {
		if (error instanceof RepositoryLocationError) throw new UsageError(error.message, {cause: error});
		throw error;
	}
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
	return options;
}

/** Opens the repository named by the flags, asking for the password as needed. */
export async function openRepository(flags: GlobalFlags, signal?: AbortSignal): Promise<Repository> {
	const storage = await openStorage(flags);
	try {
		const password = await resolvePassword(flags);
		return await Repository.open(storage, password, {...readRepositoryOptions(flags), signal});
	} catch (error) {
		await storage.close().catch(() => undefined);
		throw error;
	}
}

/** Writes one JSON document as a line on stdout. */
export function printJson(value: unknown): void {
	process.stdout.write(JSON.stringify(value) + '\n');
}
