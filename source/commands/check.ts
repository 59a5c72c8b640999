import {runCheck, type CheckProblem} from '../../engine/checker/checker.js';
import {UsageError} from '../../engine/errors.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {ProgressLine} from '../cli/format.js';

/** Flags of `cairn check`. */
export interface CheckFlags extends GlobalFlags {
	readData?: boolean;
	readDataSubset?: string;
}

/** Parses `N/M` or `P%` for --read-data-subset. */
export function parseSubset(text: string): {n: number; m: number} | {percent: number} {
	const fraction = /^(\d+)\/(\d+)$/.exec(text.trim());
	if (fraction) {
		const n = Number(fraction[1]);
		const m = Number(fraction[2]);
		if (m >= 1 && n >= 1 && n <= m) return {n, m};
	}
	const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
	if (percent) {
		const p = Number(percent[1]);
		if (p > 0 && p <= 100) return {percent: p};
	}
	throw new UsageError(`invalid --read-data-subset ${JSON.stringify(text)}: use N/M (e.g. 1/5, the first of five parts) or a percentage (e.g. 10%)`);
}

/** `cairn check`: exit 0 when the repository is sound, 1 when anything is wrong. */
export async function runCheckCommand(flags: CheckFlags, signal: AbortSignal): Promise<number> {
	const subset = flags.readDataSubset === undefined ? undefined : parseSubset(flags.readDataSubset);
	// Like restic's check, without the local cache: what is checked is the repository itself.
	const repo = await openRepository(flags, signal, {cache: false, lock: true});
	const line = new ProgressLine(!flags.json && !flags.quiet);
	const print = (problem: CheckProblem): void => {
		line.clear();
		if (flags.json) printJson({message_type: 'problem', ...problem});
		else process.stderr.write(`${problem.severity}: ${problem.file}: ${problem.message}\n`);
	};
	try {
		const report = await runCheck(repo, {readData: flags.readData, readDataSubset: subset, signal, onProblem: print, onProgress: (e) => line.update(e)});
		line.clear();
		const errors = report.problems.filter((p) => p.severity === 'error').length;
		const warnings = report.problems.length - errors;
		if (flags.json) printJson({message_type: 'summary', ok: report.ok, errors, warnings, packs: report.packs, snapshots: report.snapshots, trees: report.trees, blobs_checked: report.blobsChecked, packs_read: report.packsRead, bytes_read: report.bytesRead});
		else if (!flags.quiet) {
			process.stdout.write(`checked ${report.snapshots} snapshots, ${report.trees} trees, ${report.packs} packs${flags.readData || subset ? `, ${report.blobsChecked} blobs read (${report.packsRead} packs)` : ''}\n`);
			process.stdout.write(report.ok ? (warnings ? `no errors were found (${warnings} warnings)\n` : 'no errors were found\n') : `${errors} errors were found: the repository is damaged (see above)\n`);
		}
		return report.ok ? 0 : 1;
	} finally {
		line.clear();
		await repo.close();
	}
}
