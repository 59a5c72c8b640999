/**
 * The cold-storage step of `cairn restore --thaw`, and `cairn thaw`: explains the cost and time,
 * requests thaws for the packs needed, shows their status and waits until they are readable.
 */
import {thawPackIds, thawSnapshotPacks, type ThawEvent, type ThawResult} from '../../engine/restorer/thaw.js';
import type {Repository} from '../../engine/repository/repository.js';
import {findSnapshotId} from '../../engine/repository/snapshots.js';
import {UsageError} from '../../engine/errors.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {formatBytes} from '../cli/format.js';

/** Flags of `cairn restore` that drive the thaw step. */
export interface ThawFlags extends GlobalFlags {
	thaw?: boolean;
	/** Seconds between status checks (string from the command line). */
	thawPoll?: string;
	/** False with `--no-wait`. */
	wait?: boolean;
	include?: string[];
}

/** What cold storage costs and how long thawing takes, said once before anything is requested. */
export const THAW_EXPLANATION =
	'Thawing asks the provider for a temporary readable copy of each cold pack. Amazon S3 GLACIER takes 1-5 minutes (Expedited), ' +
	'3-5 hours (Standard) or 5-12 hours (Bulk); DEEP_ARCHIVE takes up to 12 hours (Standard) or 48 hours (Bulk); Azure Archive ' +
	'rehydration takes up to 15 hours (Standard) or under 1 hour for small blobs (High). Retrieval is billed per GB and per request ' +
	'(Bulk is cheapest, Expedited and High dearest), and S3 bills the copies as standard storage for as long as they are kept. ' +
	'Choose with -o s3.thaw-tier=Standard|Bulk|Expedited and -o s3.thaw-days=N, or -o azure.thaw-priority=Standard|High. ' +
	'Thaws keep running if cairn stops; running the same command again picks them up without asking twice.';

/** Reads `--thaw-poll`: seconds between checks, default 600. */
export function readPollInterval(value: string | undefined): number {
	if (value === undefined) return 600_000;
	const seconds = Number(value);
	if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) throw new UsageError(`invalid --thaw-poll ${JSON.stringify(value)}: give the seconds between checks, from 0.01 to 86400`);
	return Math.round(seconds * 1000);
}

/**
 * Runs the thaw step for a restore of `snapshotId`. Resolves true when every pack is readable
 * (the restore may go ahead) and false when packs are still thawing (with `--no-wait`).
 */
export async function runThawStep(repo: Repository, snapshotId: string, flags: ThawFlags, signal: AbortSignal): Promise<boolean> {
	return runThaw(repo, flags, signal, (options) => thawSnapshotPacks(repo, snapshotId, {...options, includes: flags.include}));
}

/** Flags of `cairn thaw`. */
export interface ThawCommandFlags extends ThawFlags {
	trees?: boolean;
	all?: boolean;
}

/**
 * `cairn thaw [SNAPSHOT] [--include P] | --trees | --all`: thaws what a restore of the snapshot
 * needs, every pack holding directory trees (what ls, check, prune and fast incremental backups
 * read), or every pack (for check --read-data). Returns 0 when all are readable, 1 otherwise.
 */
export async function runThawCommand(snapshotRef: string | undefined, flags: ThawCommandFlags, signal: AbortSignal): Promise<number> {
	const modes = [snapshotRef !== undefined, flags.trees === true, flags.all === true].filter(Boolean).length;
	if (modes !== 1) throw new UsageError('say what to thaw: a snapshot (cairn thaw latest [--include PATH]), --trees (what ls, check and prune read) or --all (every pack, for check --read-data)');
	const repo = await openRepository(flags, signal);
	try {
		await repo.loadIndex({signal});
		let thaw: (options: ThawRunOptions) => Promise<ThawResult>;
		if (snapshotRef !== undefined) {
			const id = await findSnapshotId(repo, snapshotRef, {}, signal);
			thaw = (options) => thawSnapshotPacks(repo, id, {...options, includes: flags.include});
		} else {
			const packs = new Set<string>();
			for (const entry of repo.index.entries()) if (flags.all === true || entry.type === 'tree') packs.add(entry.location.packId);
			thaw = (options) => thawPackIds(repo, flags.all === true ? 'data' : 'trees', packs, options);
		}
		const ready = await runThaw(repo, flags, signal, thaw);
		if (ready && !flags.json && !flags.quiet) process.stdout.write('everything asked for is readable now\n');
		return ready ? 0 : 1;
	} finally {
		await repo.close();
	}
}

type ThawRunOptions = {signal: AbortSignal; wait: boolean; pollIntervalMs: number; onEvent: (event: ThawEvent) => void};

/** Runs a thaw with the CLI's reporting; resolves true when everything is readable. */
async function runThaw(repo: Repository, flags: ThawFlags, signal: AbortSignal, thaw: (options: ThawRunOptions) => Promise<ThawResult>): Promise<boolean> {
	const pollMs = readPollInterval(flags.thawPoll);
	const talk = !flags.json && !flags.quiet;
	let explained = false;
	const say = (text: string): void => {
		if (talk) process.stderr.write(`${text}\n`);
	};
	const onEvent = (event: ThawEvent): void => {
		if (flags.json) {
			printJson({message_type: 'thaw', event: event.type, stage: event.stage, packs: event.packs, bytes: event.bytes, ready: event.ready, pending: event.pending, frozen: event.frozen, started: event.started, thawing: event.thawing.length});
			return;
		}
		const what = event.stage === 'trees' ? 'holding directory trees' : 'holding file contents';
		switch (event.type) {
			case 'plan': {
				const cold = event.frozen + event.pending;
				say(`thaw: ${event.packs} pack${event.packs === 1 ? '' : 's'} (${formatBytes(event.bytes)}) ${what} ${event.packs === 1 ? 'is' : 'are'} needed; ${cold} of them ${cold === 1 ? 'is' : 'are'} in cold storage (${event.frozen} to request, ${event.pending} already thawing)`);
				if (event.frozen > 0 && !explained) {
					explained = true;
					say(THAW_EXPLANATION);
				}
				break;
			}
			case 'requested':
				say(`thaw: requested ${event.started} thaw${event.started === 1 ? '' : 's'}; ${event.ready} of ${event.packs} packs readable, ${event.thawing.length} thawing`);
				break;
			case 'waiting':
				say(`thaw: ${event.ready} of ${event.packs} packs readable, ${event.thawing.length} still thawing; checking again in ${describeWait(pollMs)} (Ctrl-C stops waiting; the thaws go on)`);
				break;
			case 'ready':
				say(`thaw: ${event.packs === 1 ? 'the pack' : `all ${event.packs} packs`} ${what} ${event.packs === 1 ? 'is' : 'are'} readable`);
				break;
		}
	};
	const result = await thaw({signal, wait: flags.wait !== false, pollIntervalMs: pollMs, onEvent});
	if (!result.supported) {
		say(`thaw: ${repo.storage.location} has no cold storage classes; nothing to thaw`);
		return true;
	}
	if (result.ready) return true;
	const listed = result.thawing.slice(0, 10).map((id) => `  data/${id.slice(0, 2)}/${id}`).join('\n');
	process.stderr.write(
		`${result.thawing.length} pack${result.thawing.length === 1 ? ' is' : 's are'} still thawing (${result.stage === 'trees' ? 'directory trees' : 'file contents'}):\n${listed}${result.thawing.length > 10 ? `\n  … and ${result.thawing.length - 10} more` : ''}\n` +
			'Run the same command again once they are readable (or leave out --no-wait to let cairn wait).\n',
	);
	return false;
}

function describeWait(ms: number): string {
	if (ms < 1000) return `${ms} ms`;
	if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
	return `${Math.round(ms / 60_000)} min`;
}
