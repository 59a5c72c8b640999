/**
 * `migrate`: the repository migrations cairn knows. Only `upgrade_repo_v2` applies to repositories
 * cairn can open (restic's S3 layout migrations concern restic's legacy S3 layout, which cairn
 * does not write).
 */
import {mkdtemp, rm, rmdir, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {sealBytes} from '../crypto/cipher.js';
import {CairnError} from '../errors.js';
import type {Repository} from '../repository/repository.js';

/** One migration. */
export interface Migration {
	readonly name: string;
	readonly description: string;
	/** Tells whether the migration applies to the repository. */
	check(repo: Repository): boolean;
	/** Whether a repository check must pass first. */
	readonly needsRepositoryCheck: boolean;
	apply(repo: Repository, signal?: AbortSignal): Promise<void>;
}

/**
 * Turns a version 1 repository into version 2: the config is saved again with version 2 (same
 * ID and chunker polynomial). The old config is first copied to a temporary directory; if saving
 * the new one fails the old one is put back, and the error names the copy.
 */
export const upgradeRepoV2: Migration = {
	name: 'upgrade_repo_v2',
	description: 'upgrade a repository to version 2',
	needsRepositoryCheck: true,
	check: (repo) => repo.version === 1,
	async apply(repo, signal) {
		const handle = {type: 'config' as const, name: ''};
		// The repository's own storage, not the cache wrapper: the config is never cached, but be direct.
		const storage = repo.storage;
		const raw = await storage.load(handle, {signal});
		const dir = await mkdtemp(join(tmpdir(), 'cairn-migrate-upgrade-repo-v2-'));
		const backup = join(dir, 'config');
		await writeFile(backup, raw, {mode: 0o600});
		try {
			if (!storage.capabilities.atomicSave) await storage.remove(handle, {signal});
			const config = {version: 2, id: repo.config.id, chunker_polynomial: repo.config.chunker_polynomial};
			await storage.save(handle, sealBytes(repo.key, Buffer.from(JSON.stringify(config))), {signal});
		} catch (error) {
			let restored = true;
			await storage.remove(handle).catch(() => undefined);
			await storage.save(handle, raw).catch(() => {
				restored = false;
			});
			throw new CairnError(`saving the new config failed (${(error as Error).message}); ${restored ? 'the old config was put back' : 'putting the old config back failed too'}; a copy of the old config is in ${backup}`, {cause: error});
		}
		await rm(backup, {force: true});
		await rmdir(dir).catch(() => undefined);
	},
};

/** Every migration, in the order restic lists them. */
export const MIGRATIONS: readonly Migration[] = [upgradeRepoV2];

/** The migration with this name, if any. */
export function findMigration(name: string): Migration | undefined {
	return MIGRATIONS.find((m) => m.name === name);
}
