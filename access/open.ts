/**
 * The one way to open a repository, shared by the three entry points: the CLI
 * (source/cli/context.ts), the app (components/session.ts) and the service (service/). Each of
 * them turns its own input (flags, a saved profile, a service config) into a
 * {@link RepositoryTarget} and a password, and calls {@link openRepositoryFrom}.
 *
 * It lives in access/, beside source/ and components/, because both import it and data flows
 * one way (source -> components -> engine -> adapters): access/ imports engine/ and adapters/
 * only, never components/ or source/. No React here.
 */
import '../adapters/index.js';
import type {Environment, OptionValues} from '../adapters/options.js';
import {openRepositoryStorage} from '../adapters/registry.js';
import type {Storage} from '../adapters/storage.js';
import {withRetry} from '../adapters/wrappers/retry.js';
import {withRateLimits} from '../adapters/wrappers/rate-limit.js';
import {RepositoryNotFoundError} from '../engine/errors.js';
import {Repository, type RepositoryOptions} from '../engine/repository/repository.js';

/**
 * Where a repository is and how its storage is reached.
 *
 * Contract: `location` is `<scheme>:<rest>` (or a plain local path) as the adapter registry
 * parses it; `options` are keyed `<scheme>.<name>` as with `-o`, and may hold secrets (they are
 * never put in messages: the registry redacts). `limitUpload`/`limitDownload` are KiB/s, positive
 * numbers for the rate-limit wrapper (undefined or 0: no limit).
 */
export interface RepositoryTarget {
	readonly location: string;
	readonly options?: OptionValues;
	/** Environment for option fallbacks (default process.env). */
	readonly env?: Environment;
	/** Retries of the retry wrapper (default: its own default). */
	readonly retries?: number;
	/** Upload limit in KiB/s (for the rate-limit wrapper). */
	readonly limitUpload?: number;
	/** Download limit in KiB/s (for the rate-limit wrapper). */
	readonly limitDownload?: number;
}

/** Opens the target's storage, wrapped as every entry point wraps it (rate limits, retries). Does not create a repository. */
export async function openTargetStorage(target: RepositoryTarget): Promise<Storage> {
	const storage = await openRepositoryStorage(target.location, target.options ?? {}, target.env ?? process.env);
	const limited = withRateLimits(storage, {uploadKiB: target.limitUpload, downloadKiB: target.limitDownload});
	return withRetry(limited, target.retries === undefined ? undefined : {retries: target.retries});
}

/** What {@link openRepositoryFrom} needs besides the target. */
export interface OpenRequest {
	/** The password, or a function asked for it once the storage is open (so location errors come first). */
	readonly password: string | (() => Promise<string>);
	/** Compression, pack size, cache, signal; a function is asked once the password is known (so its errors come last, as before). */
	readonly repository?: RepositoryOptions | (() => RepositoryOptions);
	/** `never` (default) opens an existing repository; `always` creates one; `if-missing` creates one when there is no config file. */
	readonly create?: 'never' | 'always' | 'if-missing';
	/** Opens the storage instead of {@link openTargetStorage} (the CLI asks for an SSH key passphrase there). */
	readonly openStorage?: (target: RepositoryTarget) => Promise<Storage>;
}

/** An open repository and whether this call created it. */
export interface OpenedRepository {
	readonly repository: Repository;
	readonly created: boolean;
}

/**
 * Opens (or creates) the repository of a target. On failure the storage is closed and the
 * engine's error is thrown as it is (RepositoryNotFoundError, WrongPasswordError, the adapters'
 * errors, …).
 */
export async function openRepositoryFrom(target: RepositoryTarget, request: OpenRequest): Promise<OpenedRepository> {
	const storage = await (request.openStorage ?? openTargetStorage)(target);
	try {
		const password = typeof request.password === 'string' ? request.password : await request.password();
		const options = (typeof request.repository === 'function' ? request.repository() : request.repository) ?? {};
		if (request.create === 'always') return {repository: await Repository.init(storage, password, options), created: true};
		try {
			return {repository: await Repository.open(storage, password, options), created: false};
		} catch (error) {
			if (request.create !== 'if-missing' || !(error instanceof RepositoryNotFoundError)) throw error;
			return {repository: await Repository.init(storage, password, options), created: true};
		}
	} catch (error) {
		await storage.close().catch(() => undefined);
		throw error;
	}
}
