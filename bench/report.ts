/**
 * Summarising runs: the best wall time of each measure, peak RSS, ratios, and the tables printed
 * at the end of each case.
 *
 * Runners are named: `restic`, `floor` (plain system tools doing the same work), and one name per
 * cairn runtime (`cairn`, or `cairn-node20`, `cairn-node24`, ... when several runtimes run).
 */

/** The three timed operations. */
export type MeasureName = 'backup-initial' | 'backup-unchanged' | 'restore';

export const MEASURES: ReadonlyArray<{name: MeasureName; label: string}> = [
	{name: 'backup-initial', label: 'backup, fresh repository'},
	{name: 'backup-unchanged', label: 'backup, unchanged tree'},
	{name: 'restore', label: 'restore latest, empty dir'},
];

/** A runner's name: `floor`, `restic`, or a cairn runtime's name (starting with `cairn`). */
export type RunnerName = string;

/** True for the names of cairn runners. */
export function isCairn(runner: RunnerName): boolean {
	return runner === 'cairn' || runner.startsWith('cairn-');
}

/** One timed run of one runner. */
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

/** The figures kept for one runner and measure. */
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

/** One row of the comparison: every runner's best run of one measure. */
export interface TableRow {
	measure: MeasureName;
	label: string;
	/** By runner name; `floor` when the measure has one. */
	best: Record<RunnerName, BestRun>;
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

/** The runners present in `runs`: cairn runtimes first (in order of appearance), then restic, then floor. */
export function listRunners(runs: readonly RunRecord[]): RunnerName[] {
	const seen = [...new Set(runs.map((r) => r.tool))];
	return [...seen.filter(isCairn), ...seen.filter((r) => r === 'restic'), ...seen.filter((r) => r === 'floor')];
}

/** Builds the comparison rows (of the measures that ran) from all runs. */
export function buildTable(runs: readonly RunRecord[]): TableRow[] {
	const rows: TableRow[] = [];
	for (const {name, label} of MEASURES) {
		const best: Record<RunnerName, BestRun> = {};
		for (const runner of listRunners(runs)) {
			const summary = summarise(runs.filter((r) => r.tool === runner && r.measure === name));
			if (summary) best[runner] = summary;
		}
		if (Object.keys(best).length > 0) rows.push({measure: name, label, best});
	}
	return rows;
}

/** `a`'s wall time over `b`'s, when both ran. */
export function wallRatio(row: TableRow, a: RunnerName, b: RunnerName): number | undefined {
	const x = row.best[a];
	const y = row.best[b];
	return x && y ? x.wallSeconds / y.wallSeconds : undefined;
}

/** `a`'s peak RSS over `b`'s, when both ran. */
export function rssRatio(row: TableRow, a: RunnerName, b: RunnerName): number | undefined {
	const x = row.best[a];
	const y = row.best[b];
	return x && y ? x.peakRssMib / y.peakRssMib : undefined;
}

export function fixed(value: number | undefined, digits: number): string {
	return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** Lays out rows of cells as a text table with a rule under the header. */
export function layout(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The main table: wall time of every runner, each cairn runtime's ratio to restic, peak RSS and
 * its ratio, and every tool's wall time over the floor's.
 */
export function formatTable(rows: readonly TableRow[]): string {
	const runners = [...new Set(rows.flatMap((r) => Object.keys(r.best)))];
	const cairns = runners.filter(isCairn);
	const tools = runners.filter((r) => r !== 'floor');
	const hasRestic = runners.includes('restic');
	const hasFloor = runners.includes('floor');
	const header = ['measure', ...runners.map((r) => `${r} s`)];
	if (hasRestic) header.push(...cairns.map((c) => `${c}/restic`));
	header.push(...tools.map((t) => `${t} MiB`));
	if (hasRestic) header.push(...cairns.map((c) => `RSS ${c}/restic`));
	if (hasFloor) header.push(...tools.map((t) => `${t}/floor`));
	return layout(header, rows.map((row) => {
		const cells = [row.label, ...runners.map((r) => fixed(row.best[r]?.wallSeconds, 2))];
		if (hasRestic) cells.push(...cairns.map((c) => fixed(wallRatio(row, c, 'restic'), 2)));
		cells.push(...tools.map((t) => fixed(row.best[t]?.peakRssMib, 0)));
		if (hasRestic) cells.push(...cairns.map((c) => fixed(rssRatio(row, c, 'restic'), 2)));
		if (hasFloor) cells.push(...tools.map((t) => fixed(wallRatio(row, t, 'floor'), 2)));
		return cells;
	}));
}

/** The CPU table: user and system time of the best run and how many cores that kept busy. */
export function formatCpuTable(rows: readonly TableRow[]): string {
	const lines: string[][] = [];
	for (const row of rows) {
		for (const [runner, best] of Object.entries(row.best)) {
			lines.push([`${row.label} (${runner})`, fixed(best.wallSeconds, 2), fixed(best.userSeconds, 2), fixed(best.systemSeconds, 2), fixed(best.cpuPerWall, 2), fixed(best.peakRssMib, 0), fixed(best.otherCores, 2)]);
		}
	}
	return layout(['measure (runner)', 'wall s', 'user s', 'sys s', 'cpu/wall', 'peak MiB', 'others cores'], lines);
}

/** Cost per file of a first backup: wall and CPU time over the file count, in microseconds. */
export function costPerFile(best: BestRun, files: number): {wallMicros: number; cpuMicros: number} {
	return {wallMicros: (best.wallSeconds / files) * 1e6, cpuMicros: ((best.userSeconds + best.systemSeconds) / files) * 1e6};
}
