/**
 * Summarising runs: the best wall time of each measure, peak RSS, and the tables printed at the end.
 */
import type {ToolName} from './options.js';

/** The three timed operations. */
export type MeasureName = 'backup-initial' | 'backup-unchanged' | 'restore';

export const MEASURES: ReadonlyArray<{name: MeasureName; label: string}> = [
	{name: 'backup-initial', label: 'backup, fresh repository'},
	{name: 'backup-unchanged', label: 'backup, unchanged tree'},
	{name: 'restore', label: 'restore latest, empty dir'},
];

/**
 * What ran: one of the tools, or the floor, the time plain system tools take for the same work
 * (`tar -c | zstd -1 -T0 > /dev/null` for a first backup, `cp -a` for a restore).
 */
export type RunnerName = ToolName | 'floor';

/** One timed run of one tool (or of the floor). */
export interface RunRecord {
	round: number;
	tool: RunnerName;
	measure: MeasureName;
	wallSeconds: number;
	userSeconds: number;
	systemSeconds: number;
	peakRssKib: number;
	/** CPU seconds other processes used during the run (see measure.ts), when known. */
	otherCpuSeconds?: number;
	/** The tool's JSON summary, when it prints one. */
	summary?: Record<string, unknown>;
}

/** The figures kept for one tool and measure. */
export interface BestRun {
	/** The lowest wall time over the rounds, with the CPU times of that same run. */
	wallSeconds: number;
	userSeconds: number;
	systemSeconds: number;
	/** (user + system) / wall of that run: about 1 means one busy core, 2 both cores of this machine. */
	cpuPerWall: number;
	/** The highest peak RSS over the rounds, in MiB. */
	peakRssMib: number;
	/** Cores' worth of CPU that other processes used during the best run (0 on a quiet machine). */
	otherCores?: number;
	rounds: number;
}

/** One row of the comparison. */
export interface TableRow {
	measure: MeasureName;
	label: string;
	cairn?: BestRun;
	restic?: BestRun;
	/** The floor of this measure, when it has one. */
	floor?: BestRun;
	wallRatio?: number;
	rssRatio?: number;
	/** cairn's wall time over the floor's: how far is left. */
	cairnPerFloor?: number;
	resticPerFloor?: number;
}

function summarise(runs: readonly RunRecord[]): BestRun | undefined {
	if (runs.length === 0) return undefined;
	const best = runs.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
	return {
		wallSeconds: best.wallSeconds,
		userSeconds: best.userSeconds,
		systemSeconds: best.systemSeconds,
		cpuPerWall: (best.userSeconds + best.systemSeconds) / best.wallSeconds,
		peakRssMib: Math.max(...runs.map((r) => r.peakRssKib)) / 1024,
		otherCores: best.otherCpuSeconds === undefined ? undefined : best.otherCpuSeconds / best.wallSeconds,
		rounds: runs.length,
	};
}

/** Builds the comparison rows from all runs. */
export function buildTable(runs: readonly RunRecord[]): TableRow[] {
	return MEASURES.map(({name, label}) => {
		const cairn = summarise(runs.filter((r) => r.tool === 'cairn' && r.measure === name));
		const restic = summarise(runs.filter((r) => r.tool === 'restic' && r.measure === name));
		const floor = summarise(runs.filter((r) => r.tool === 'floor' && r.measure === name));
		return {
			measure: name,
			label,
			cairn,
			restic,
			floor,
			wallRatio: cairn && restic ? cairn.wallSeconds / restic.wallSeconds : undefined,
			rssRatio: cairn && restic ? cairn.peakRssMib / restic.peakRssMib : undefined,
			cairnPerFloor: cairn && floor ? cairn.wallSeconds / floor.wallSeconds : undefined,
			resticPerFloor: restic && floor ? restic.wallSeconds / floor.wallSeconds : undefined,
		};
	});
}

function fixed(value: number | undefined, digits: number): string {
	return value === undefined ? '-' : value.toFixed(digits);
}

/** Lays out rows of cells as a text table with a rule under the header. */
function layout(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The main table: wall time and peak RSS of both tools, with ratios, and the floors. */
export function formatTable(rows: readonly TableRow[]): string {
	return layout(
		['measure', 'cairn wall s', 'restic wall s', 'ratio c/r', 'cairn RSS MiB', 'restic RSS MiB', 'RSS ratio', 'floor wall s', 'cairn/floor', 'restic/floor'],
		rows.map((r) => [r.label, fixed(r.cairn?.wallSeconds, 2), fixed(r.restic?.wallSeconds, 2), fixed(r.wallRatio, 2), fixed(r.cairn?.peakRssMib, 0), fixed(r.restic?.peakRssMib, 0), fixed(r.rssRatio, 2), fixed(r.floor?.wallSeconds, 2), fixed(r.cairnPerFloor, 2), fixed(r.resticPerFloor, 2)]),
	);
}

/** The CPU table: user and system time of the best run and how many cores that kept busy. */
export function formatCpuTable(rows: readonly TableRow[]): string {
	const lines: string[][] = [];
	for (const row of rows) {
		for (const tool of ['cairn', 'restic', 'floor'] as const) {
			const best = row[tool];
			if (!best) continue;
			lines.push([`${row.label} (${tool})`, fixed(best.wallSeconds, 2), fixed(best.userSeconds, 2), fixed(best.systemSeconds, 2), fixed(best.cpuPerWall, 2), fixed(best.otherCores, 2)]);
		}
	}
	return layout(['measure (tool)', 'wall s', 'user s', 'sys s', 'cpu/wall', 'others cores'], lines);
}
