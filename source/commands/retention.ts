/**
 * `cairn retention extend`: extends the object lock of every file the repository's snapshots still
 * need (config, keys, snapshots, index files and every pack a snapshot references), so that
 * backups stay immutable past the lock each object got when it was written. Files that only
 * prune would remove are left alone, and no lock is ever shortened.
 */
import type {FileHandle} from '../../adapters/storage.js';
import {parseRetentionPeriod} from '../../adapters/s3/retention.js';
import {CancelledError, UsageError} from '../../engine/errors.js';
import type {Repository} from '../../engine/repository/repository.js';
import {listSnapshots} from '../../engine/repository/snapshots.js';
import {loadTree} from '../../engine/restorer/walk.js';
import {mapConcurrent} from '../../engine/util/concurrency.js';
import {openRepository, parseOptionFlags, printJson, type GlobalFlags} from '../cli/context.js';

/** Flags of `cairn retention`. */
export interface RetentionFlags extends GlobalFlags {
	period?: string;
	until?: string;
}

/** Reads the lock end from --until, --period, or the adapter's retention-period option. */
export function readRetentionEnd(flags: RetentionFlags, now: Date): Date {
	if (flags.until !== undefined && flags.period !== undefined) throw new UsageError('give --until or --period, not both');
	if (flags.until !== undefined) {
		const until = new Date(/^\d{4}-\d{2}-\d{2}$/.test(flags.until) ? `${flags.until}T00:00:00Z` : flags.until);
		if (Number.isNaN(until.getTime())) throw new UsageError(`invalid --until ${JSON.stringify(flags.until)}: give a date such as 2030-01-31 or 2030-01-31T12:00:00Z`);
		if (until.getTime() <= now.getTime()) throw new UsageError(`--until ${flags.until} is not in the future`);
		return until;
	}
	const period = flags.period ?? parseOptionFlags(flags.option)['s3.retention-period'];
	if (period === undefined) throw new UsageError('say how long to lock: --period 30d (also 12w, 1y, 48h) or --until 2030-01-31');
	const ms = parseRetentionPeriod(period);
	if (ms === undefined) throw new UsageError(`invalid period ${JSON.stringify(period)}: use a duration such as 30d, 12w, 1y or 48h`);
	return new Date(now.getTime() + ms);
}

/** Every pack that holds a tree or a file content of any of the repository's snapshots. */
export async function collectReferencedPacks(repo: Repository, signal?: AbortSignal): Promise<{packs: Set<string>; snapshots: string[]}> {
	const snapshots = await listSnapshots(repo, {signal});
	const packs = new Set<string>();
	const seenTrees = new Set<string>();
	const visit = async (treeId: string): Promise<void> => {
		if (seenTrees.has(treeId)) return;
		seenTrees.add(treeId);
		if (signal?.aborted) throw new CancelledError('retention extend cancelled: locks extended so far stay extended');
		const location = repo.index.lookup('tree', treeId);
		if (location !== undefined) packs.add(location.packId);
		for (const node of await loadTree(repo, treeId, signal)) {
			if (node.type === 'dir' && node.subtree) await visit(node.subtree);
			for (const blob of node.content ?? []) {
				const packId = repo.index.lookup('data', blob)?.packId;
				if (packId !== undefined) packs.add(packId);
			}
		}
	};
	for (const snapshot of snapshots) await visit(snapshot.tree);
	return {packs, snapshots: snapshots.map((snapshot) => snapshot.id ?? '')};
}

/** Runs `cairn retention extend`. Returns 0, or 1 when some locks could not be extended. */
export async function runRetention(action: string, flags: RetentionFlags, signal: AbortSignal): Promise<number> {
	if (action !== 'extend') throw new UsageError(`unknown action ${JSON.stringify(action)}: use cairn retention extend --period 30d`);
	const until = readRetentionEnd(flags, new Date());
	const repo = await openRepository(flags, signal);
	try {
		const extend = repo.storage.extendRetention?.bind(repo.storage);
		if (extend === undefined) {
			throw new UsageError(`${repo.storage.location} has no object lock: retention applies to S3 repositories opened with -o s3.retention-mode=GOVERNANCE|COMPLIANCE`);
		}
		await repo.loadIndex({signal});
		const {packs, snapshots} = await collectReferencedPacks(repo, signal);
		const handles: FileHandle[] = [{type: 'config', name: ''}];
		for (const type of ['keys', 'snapshots', 'index'] as const) {
			for (const name of await repo.listIds(type, signal)) handles.push({type, name});
		}
		for (const name of packs) handles.push({type: 'data', name});
		let extended = 0;
		let kept = 0;
		const failures: Array<{file: string; message: string}> = [];
		const talk = !flags.json && !flags.quiet;
		if (talk) process.stderr.write(`extending the object lock of ${handles.length} files (${packs.size} pack${packs.size === 1 ? '' : 's'} of ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}) to ${until.toISOString()}\n`);
		// The config first, alone: a setting that cannot work (no retention mode, no permission) stops here, not once per file.
		const first = await extend(handles[0]!, until, {signal});
		if (first.getTime() > until.getTime()) kept++;
		else extended++;
		await mapConcurrent(handles.slice(1), Math.max(1, repo.storage.capabilities.concurrency), async (handle) => {
			if (signal.aborted) throw new CancelledError('retention extend cancelled: locks extended so far stay extended');
			try {
				const result = await extend(handle, until, {signal});
				if (result.getTime() > until.getTime()) kept++;
				else extended++;
			} catch (error) {
				failures.push({file: handle.type === 'config' ? 'config' : `${handle.type}/${handle.name}`, message: (error as Error).message});
			}
		});
		if (flags.json) {
			printJson({until: until.toISOString(), files: handles.length, extended, already_longer: kept, failed: failures});
		} else {
			for (const failure of failures.slice(0, 20)) process.stderr.write(`error: ${failure.file}: ${failure.message}\n`);
			if (failures.length > 20) process.stderr.write(`… and ${failures.length - 20} more errors\n`);
			if (!flags.quiet) process.stdout.write(`locked ${extended} files until ${until.toISOString()}; ${kept} were already locked longer; ${failures.length} failed\n`);
		}
		return failures.length > 0 ? 1 : 0;
	} finally {
		await repo.close();
	}
}
