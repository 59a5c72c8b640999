/**
 * `cairn copy`: copies snapshots from the repository given with --from-repo (or a saved profile
 * with --from-profile) into the one given with --repo (restic's `copy`). Shared locks on both.
 */
import {readFile} from 'node:fs/promises';
import {UsageError} from '../../engine/errors.js';
import {copySnapshots, type CopyProgress} from '../../engine/maintenance/copy.js';
import {selectSnapshots} from '../../engine/maintenance/select.js';
import {acquireLock, type HeldLock} from '../../engine/repository/lock.js';
import {Repository} from '../../engine/repository/repository.js';
import {filterSnapshots} from '../../engine/retention/plan.js';
import {listSnapshots} from '../../engine/repository/snapshots.js';
import {openRepository, openStorage, readRepositoryOptions, type GlobalFlags} from '../cli/context.js';
import {formatBytes} from '../cli/format.js';
import {resolvePassword} from '../cli/password.js';
import {describeSnapshotLine, makeUnresolvedReporter, makeVerbose, readSnapshotFilter, type SnapshotFilterFlags} from './maintenance-common.js';

/** Flags of `cairn copy`. */
export interface CopyFlags extends GlobalFlags, SnapshotFilterFlags {
	fromRepo?: string;
	fromRepositoryFile?: string;
	fromPasswordFile?: string;
	fromPasswordCommand?: string;
	fromOption?: string[];
	fromProfile?: string;
}

/**
 * The environment the source's password is looked up in: CAIRN_FROM_* and RESTIC_FROM_* stand in
 * for CAIRN_* and RESTIC_* (pure).
 */
export function sourceEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	return {
		CAIRN_PASSWORD: env.CAIRN_FROM_PASSWORD,
		CAIRN_PASSWORD_FILE: env.CAIRN_FROM_PASSWORD_FILE,
		CAIRN_PASSWORD_COMMAND: env.CAIRN_FROM_PASSWORD_COMMAND,
		RESTIC_PASSWORD: env.RESTIC_FROM_PASSWORD,
		RESTIC_PASSWORD_FILE: env.RESTIC_FROM_PASSWORD_FILE,
		RESTIC_PASSWORD_COMMAND: env.RESTIC_FROM_PASSWORD_COMMAND,
	};
}

/** The source's flags: location, options, profile and password sources, from the --from-* flags and the environment. */
export async function readSourceFlags(flags: CopyFlags, env: NodeJS.ProcessEnv = process.env): Promise<GlobalFlags> {
	let repo = flags.fromRepo ?? env.CAIRN_FROM_REPOSITORY ?? env.RESTIC_FROM_REPOSITORY;
	const repositoryFile = flags.fromRepositoryFile ?? env.CAIRN_FROM_REPOSITORY_FILE ?? env.RESTIC_FROM_REPOSITORY_FILE;
	if (repo !== undefined && repositoryFile !== undefined) throw new UsageError('give the source repository either with --from-repo or with --from-repository-file, not both');
	if (repositoryFile !== undefined) {
		try {
			repo = (await readFile(repositoryFile, 'utf8')).trim();
		} catch (error) {
			throw new UsageError(`cannot read the repository file ${repositoryFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
		}
	}
	if (repo === undefined && flags.fromProfile === undefined) {
		throw new UsageError('no source repository given: use --from-repo LOCATION (or CAIRN_FROM_REPOSITORY), or --from-profile NAME for a repository saved in the app');
	}
	return {
		repo,
		profile: flags.fromProfile,
		option: flags.fromOption,
		passwordFile: flags.fromPasswordFile,
		passwordCommand: flags.fromPasswordCommand,
		cacheDir: flags.cacheDir,
		cache: flags.cache,
	};
}

/** Opens the source repository (its password from the --from-* flags, CAIRN_FROM_* or RESTIC_FROM_*, or a prompt). */
export async function openSourceRepository(flags: CopyFlags, signal: AbortSignal): Promise<Repository> {
	const source = await readSourceFlags(flags);
	const storage = await openStorage(source);
	try {
		const fromEnv = sourceEnvironment(process.env);
		const saved = source.profilePassword !== undefined && !fromEnv.CAIRN_PASSWORD ? source.profilePassword : undefined;
		const password = saved ?? (await resolvePassword(source, {prompt: 'enter password for source repository: '}, fromEnv));
		return await Repository.open(storage, password, {...readRepositoryOptions(source), signal});
	} catch (error) {
		await storage.close().catch(() => undefined);
		throw error;
	}
}

function formatCopyProgress(progress: CopyProgress): string {
	const percent = progress.bytesTotal > 0 ? ((progress.bytesDone / progress.bytesTotal) * 100).toFixed(1) : '100.0';
	return `[${percent}%] ${progress.blobsDone} / ${progress.blobsTotal} blobs, ${formatBytes(progress.bytesDone)} / ${formatBytes(progress.bytesTotal)}`;
}

/** `cairn copy [ID...]`. */
export async function runCopyCommand(ids: string[], flags: CopyFlags, signal: AbortSignal): Promise<number> {
	const verbose = makeVerbose(flags);
	const filter = readSnapshotFilter(flags);
	const src = await openSourceRepository(flags, signal);
	const locks: HeldLock[] = [];
	try {
		const dst = await openRepository(flags, signal);
		try {
			locks.push(await acquireLock(src, {exclusive: false, signal}));
			locks.push(await acquireLock(dst, {exclusive: false, signal}));
			const unresolved = makeUnresolvedReporter();
			const snapshots = await selectSnapshots(src, ids, {onUnresolved: unresolved.onUnresolved, filter, signal, onUnreadable: (id, error) => process.stderr.write(`error: source snapshot ${id.slice(0, 8)} cannot be read and is skipped: ${error.message}\n`)});
			await src.loadIndex({signal});
			await dst.loadIndex({signal});
			const destinationSnapshots = filterSnapshots(await listSnapshots(dst, {signal, onError: () => undefined}), filter);
			const live = process.stderr.isTTY && !flags.quiet && !flags.json;
			let lastDraw = 0;
			const outcomes = await copySnapshots(src, dst, snapshots, {
				signal, destinationSnapshots,
				onSnapshot: (snapshot) => verbose(`\n${describeSnapshotLine(snapshot)}\n`),
				onProgress: (progress) => {
					if (progress.phase === 'scan') verbose('  copy started, this may take a while...\n');
					if (!live || progress.phase !== 'copy') return;
					const now = Date.now();
					if (now - lastDraw < 200 && progress.blobsDone < progress.blobsTotal) return;
					lastDraw = now;
					process.stderr.write(`\r${formatCopyProgress(progress)}\x1b[K${progress.blobsDone === progress.blobsTotal ? '\n' : ''}`);
				},
				onOutcome: (outcome) => {
					if (outcome.kind === 'skipped') verbose(`skipping source snapshot ${outcome.snapshot.id.slice(0, 8)}, was already copied to snapshot ${outcome.existing.slice(0, 8)}\n`);
					else verbose(`snapshot ${outcome.newId.slice(0, 8)} saved\n`);
				},
			});
			if (flags.json) {
				for (const outcome of outcomes) {
					process.stdout.write(JSON.stringify(outcome.kind === 'skipped'
						? {message_type: 'skipped', source_snapshot_id: outcome.snapshot.id, existing_snapshot_id: outcome.existing}
						: {message_type: 'copied', source_snapshot_id: outcome.snapshot.id, new_snapshot_id: outcome.newId, blobs: outcome.blobs, bytes: outcome.bytes}) + '\n');
				}
			}
			return unresolved.count > 0 ? 1 : 0;
		} finally {
			for (const lock of locks.reverse()) await lock.release();
			await dst.close();
		}
	} finally {
		await src.close();
	}
}
