/**
 * The issue's targets (issue 14, "this round"), checked against a run: one markdown table in the
 * issue's layout (measure | cairn/restic | target | met?) plus the cost per file of the generated
 * trees. Pure: it only formats what the runs measured.
 */
import {costPerFile, fixed, isCairn, rssRatio, wallRatio, type MeasureName, type TableRow} from './report.js';

/** What a case is for, which decides its targets. */
export type CaseRole =
	/** a tree backed up and restored whole (small, files, large, system) */
	| 'tree'
	/** the single large file (1 GiB at full size), timed alone */
	| 'single'
	/** the 2 GiB single-file restore against the disk's sequential write speed */
	| 'stream';

/** The figures of one case, as the targets need them. */
export interface CaseSummary {
	/** e.g. `small`, `files-300000`, `large-single`, `system`. */
	name: string;
	role: CaseRole;
	/** Regular files backed up. */
	files: number;
	bytes: number;
	rows: TableRow[];
	/** Set for the generated trees of small files. */
	generatedFiles?: boolean;
}

/** One line of the targets table. */
export interface TargetLine {
	measure: string;
	/** The cairn runner compared. */
	runner: string;
	value?: number;
	/** How value is shown: a ratio (0.81) or a percentage (93 %). */
	unit: 'ratio' | 'percent';
	limit: number;
	/** `max`: value must be at most limit; `min`: at least. */
	bound: 'max' | 'min';
	met?: boolean;
	/** Times behind the value, for a person. */
	detail: string;
	/** Shown instead of the limit alone (e.g. where it comes from). */
	limitNote?: string;
}

/** This round's wall-time limits of cairn/restic (issue 14's table). */
const ROUND_LIMITS: Record<MeasureName, number> = {'backup-initial': 0.65, 'backup-unchanged': 0.5, restore: 0.85};
const MEASURE_TEXT: Record<MeasureName, string> = {'backup-initial': 'first backup', 'backup-unchanged': 'unchanged tree', restore: 'full restore'};
/** Peak RSS, each measure: at most restic's. */
const RSS_LIMIT = 1.0;
/** 300,000 files of about 1 KB: first backup at most restic's. */
const MANY_FILES_LIMIT = 1.0;
/** One large file: backup at most 0.7 of restic's. */
const SINGLE_FILE_LIMIT = 0.7;
/** Restore of one 2 GiB file: at least 90 % of the disk's sequential write speed. */
const STREAM_PERCENT = 90;

function seconds(row: TableRow, runner: string): string {
	const best = row.best[runner];
	return best ? `${best.wallSeconds.toFixed(2)} s` : '-';
}

function judge(value: number | undefined, limit: number, bound: 'max' | 'min'): boolean | undefined {
	if (value === undefined || !Number.isFinite(value)) return undefined;
	return bound === 'max' ? value <= limit + 1e-9 : value >= limit - 1e-9;
}

/** The targets each case is checked against, for every cairn runner in it. */
export function checkTargets(cases: readonly CaseSummary[]): TargetLine[] {
	const lines: TargetLine[] = [];
	const add = (line: Omit<TargetLine, 'met'>): void => {
		lines.push({...line, met: judge(line.value, line.limit, line.bound)});
	};
	for (const summary of cases) {
		const runners = [...new Set(summary.rows.flatMap((r) => Object.keys(r.best)))].filter(isCairn);
		for (const [index, runner] of runners.entries()) {
			for (const row of summary.rows) {
				const restic = row.best.restic;
				const cairn = row.best[runner];
				if (!cairn) continue;
				const floorText = row.best.floor ? `, floor ${seconds(row, 'floor')}` : '';
				const timed = `${seconds(row, runner)} / ${seconds(row, 'restic')}${floorText}`;
				if (summary.role === 'stream' && row.measure === 'restore') {
					const floor = row.best.floor;
					// restic's own line once, beside the first cairn runtime's.
					for (const tool of index === 0 ? [runner, 'restic'] : [runner]) {
						const best = row.best[tool];
						if (!best || !floor) continue;
						add({measure: `${summary.name}: restore + sync (${tool}), % of disk write speed`, runner: tool, value: (floor.wallSeconds / best.wallSeconds) * 100, unit: 'percent', limit: STREAM_PERCENT, bound: 'min', detail: `${best.wallSeconds.toFixed(2)} s, dd conv=fsync ${floor.wallSeconds.toFixed(2)} s`});
					}
					add({measure: `${summary.name}: restore + sync`, runner, value: wallRatio(row, runner, 'restic'), unit: 'ratio', limit: ROUND_LIMITS.restore, bound: 'max', detail: timed});
				} else if (summary.role === 'single' && row.measure === 'backup-initial') {
					add({measure: `${summary.name}: one large file, backup`, runner, value: wallRatio(row, runner, 'restic'), unit: 'ratio', limit: SINGLE_FILE_LIMIT, bound: 'max', detail: `${timed}; cairn cpu/wall ${cairn.cpuPerWall.toFixed(2)}${restic ? `, restic ${restic.cpuPerWall.toFixed(2)}` : ''}`});
				} else {
					const limit = summary.generatedFiles && row.measure === 'backup-initial' ? MANY_FILES_LIMIT : ROUND_LIMITS[row.measure];
					add({measure: `${summary.name}: ${MEASURE_TEXT[row.measure]}`, runner, value: wallRatio(row, runner, 'restic'), unit: 'ratio', limit, bound: 'max', detail: timed});
				}
				add({measure: `${summary.name}: peak RSS, ${MEASURE_TEXT[row.measure]}`, runner, value: rssRatio(row, runner, 'restic'), unit: 'ratio', limit: RSS_LIMIT, bound: 'max', detail: `${fixed(cairn.peakRssMib, 0)} / ${fixed(restic?.peakRssMib, 0)} MiB`});
			}
		}
	}
	return lines;
}

function showValue(line: TargetLine): string {
	if (line.value === undefined || !Number.isFinite(line.value)) return '-';
	return line.unit === 'percent' ? `${line.value.toFixed(0)} %` : line.value.toFixed(2);
}

function showLimit(line: TargetLine): string {
	const sign = line.bound === 'max' ? '≤' : '≥';
	const text = line.unit === 'percent' ? `${sign} ${line.limit} %` : `${sign} ${line.limit.toFixed(2)}`;
	return line.limitNote ? `${text} (${line.limitNote})` : text;
}

/** The targets as a markdown table in the issue's layout; a runner column when several cairn runtimes ran. */
export function formatTargets(lines: readonly TargetLine[]): string {
	const several = new Set(lines.map((l) => l.runner).filter(isCairn)).size > 1;
	const header = several ? ['measure', 'cairn runtime', 'cairn/restic', 'target', 'met?', 'cairn / restic'] : ['measure', 'cairn/restic', 'target', 'met?', 'cairn / restic'];
	const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
	for (const line of lines) {
		const met = line.met === undefined ? '-' : line.met ? 'yes' : '**no**';
		const cells = several ? [line.measure, line.runner, showValue(line), showLimit(line), met, line.detail] : [line.measure, showValue(line), showLimit(line), met, line.detail];
		out.push(`| ${cells.join(' | ')} |`);
	}
	return out.join('\n');
}

/** The cost per new file of the generated trees' first backups, per runner, as a markdown table. */
export function formatFileCosts(cases: readonly CaseSummary[]): string {
	const generated = cases.filter((c) => c.generatedFiles);
	if (generated.length === 0) return '';
	const runners = [...new Set(generated.flatMap((c) => c.rows.flatMap((r) => Object.keys(r.best))))];
	const header = ['files', ...runners.flatMap((r) => [`${r} µs/file wall`, `${r} µs/file CPU`])];
	const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
	for (const summary of generated) {
		const row = summary.rows.find((r) => r.measure === 'backup-initial');
		const cells = [summary.files.toLocaleString('en-US')];
		for (const runner of runners) {
			const best = row?.best[runner];
			const cost = best ? costPerFile(best, summary.files) : undefined;
			cells.push(fixed(cost?.wallMicros, 1), fixed(cost?.cpuMicros, 1));
		}
		out.push(`| ${cells.join(' | ')} |`);
	}
	// The marginal cost: what each further file cost from one count to the next (start-up and fixed costs drop out).
	const sorted = [...generated].sort((a, b) => a.files - b.files);
	if (sorted.length > 1) {
		const tools = runners.filter((r) => r !== 'floor');
		const head = ['files', ...tools.flatMap((r) => [`${r} Δµs/file wall`, `${r} Δµs/file CPU`])];
		out.push('', 'Marginal cost per file, from the previous count:', '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
		for (let i = 1; i < sorted.length; i++) {
			const [a, b] = [sorted[i - 1]!, sorted[i]!];
			const files = b.files - a.files;
			const cells = [`${a.files.toLocaleString('en-US')} → ${b.files.toLocaleString('en-US')}`];
			for (const runner of tools) {
				const x = a.rows.find((r) => r.measure === 'backup-initial')?.best[runner];
				const y = b.rows.find((r) => r.measure === 'backup-initial')?.best[runner];
				const ok = x && y && files > 0;
				cells.push(fixed(ok ? ((y.wallSeconds - x.wallSeconds) / files) * 1e6 : undefined, 1), fixed(ok ? ((y.userSeconds + y.systemSeconds - x.userSeconds - x.systemSeconds) / files) * 1e6 : undefined, 1));
			}
			out.push(`| ${cells.join(' | ')} |`);
		}
	}
	return out.join('\n');
}

/**
 * "On one core, no ratio worse than on two": each cairn/restic wall-time ratio of a run under
 * taskset (`oneCore`) against the same case, measure and runner of a run without it.
 */
export function compareAffinity(oneCore: readonly CaseSummary[], twoCores: readonly CaseSummary[]): TargetLine[] {
	const lines: TargetLine[] = [];
	for (const summary of oneCore) {
		const other = twoCores.find((c) => c.name === summary.name);
		if (!other) continue;
		for (const row of summary.rows) {
			const otherRow = other.rows.find((r) => r.measure === row.measure);
			if (!otherRow) continue;
			for (const runner of Object.keys(row.best).filter(isCairn)) {
				const value = wallRatio(row, runner, 'restic');
				const limit = wallRatio(otherRow, runner, 'restic');
				if (value === undefined || limit === undefined) continue;
				lines.push({measure: `${summary.name}: ${summary.role === 'stream' ? 'restore + sync' : MEASURE_TEXT[row.measure]}, one core`, runner, value, unit: 'ratio', limit, bound: 'max', met: judge(value, limit, 'max'), limitNote: 'without taskset', detail: `${seconds(row, runner)} / ${seconds(row, 'restic')}`});
			}
		}
	}
	return lines;
}
