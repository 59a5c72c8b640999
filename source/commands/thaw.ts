/**
 * The cold-storage step of `cairn restore --thaw`: explains the cost and time, requests thaws for
 * the packs the restore needs, shows their status and waits until they are readable.
 */
import {thawSnapshotPacks, type ThawEvent} from '../../engine/restorer/thaw.js';
import type {Repository} from '../../engine/repository/repository.js';
import {UsageError} from '../../engine/errors.js';
import {printJson, type GlobalFlags} from '../cli/context.js';
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
		const what = event.stage === 'trees' ? 'holding the snapshot\'s directory trees' : 'holding the file contents';
		switch (event.type) {
			case 'plan': {
				const cold = event.frozen + event.pending;
				say(`thaw: the restore needs ${event.packs} pack${event.packs === 1 ? '' : 's'} (${formatBytes(event.bytes)}) ${what}; ${cold} of them ${cold === 1 ? 'is' : 'are'} in cold storage (${event.frozen} to request, ${event.pending} already thawing)`);
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
				say(`thaw: all ${event.packs} packs ${what} are readable`);
				break;
		}
	};
	const result = await thawSnapshotPacks(repo, snapshotId, {includes: flags.include, signal, wait: flags.wait !== false, pollIntervalMs: pollMs, onEvent});
	if (!result.supported) {
		say(`thaw: ${repo.storage.location} has no cold storage classes; nothing to thaw`);
		return true;
	}
	if (result.ready) return true;
	const listed = result.thawing.slice(0, 10).map((id) => `  data/${id.slice(0, 2)}/${id}`).join('\n');
	process.stderr.write(
		`${result.thawing.length} pack${result.thawing.length === 1 ? ' is' : 's are'} still thawing (${result.stage === 'trees' ? 'directory trees' : 'file contents'}):\n${listed}${result.thawing.length > 10 ? `\n  … and ${result.thawing.length - 10} more` : ''}\n` +
			'Nothing was restored. Run the same command again once they are readable (or leave out --no-wait to let cairn wait).\n',
	);
	return false;
}

function describeWait(ms: number): string {
	if (ms < 1000) return `${ms} ms`;
	if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
	return `${Math.round(ms / 60_000)} min`;
}
