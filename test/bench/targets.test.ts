import {describe, expect, it} from 'vitest';
import {buildTable, type RunRecord} from '../../bench/report.js';
import {checkTargets, compareAffinity, formatFileCosts, formatTargets, type CaseSummary} from '../../bench/targets.js';

function run(tool: string, measure: RunRecord['measure'], wallSeconds: number, rssMib: number, cpu = wallSeconds): RunRecord {
	return {round: 1, tool, measure, wallSeconds, userSeconds: cpu * 0.8, systemSeconds: cpu * 0.2, peakRssKib: rssMib * 1024};
}

function summary(name: string, role: CaseSummary['role'], runs: RunRecord[], extra: Partial<CaseSummary> = {}): CaseSummary {
	return {name, role, files: 1, bytes: 1, rows: buildTable(runs), ...extra};
}

describe('the targets table', () => {
	it('checks a tree against this round\'s limits, in the issue\'s layout', () => {
		const lines = checkTargets([summary('system', 'tree', [
			run('cairn', 'backup-initial', 6, 150), run('restic', 'backup-initial', 10, 160), run('floor', 'backup-initial', 2, 20),
			run('cairn', 'backup-unchanged', 6, 90), run('restic', 'backup-unchanged', 10, 100),
			run('cairn', 'restore', 9, 200), run('restic', 'restore', 10, 100),
		])]);
		const find = (measure: string) => lines.find((l) => l.measure === measure)!;
		expect(find('system: first backup')).toMatchObject({value: 0.6, limit: 0.65, met: true});
		expect(find('system: unchanged tree')).toMatchObject({value: 0.6, limit: 0.5, met: false});
		expect(find('system: full restore')).toMatchObject({value: 0.9, limit: 0.85, met: false});
		expect(find('system: peak RSS, full restore')).toMatchObject({value: 2, limit: 1, met: false});
		expect(find('system: peak RSS, first backup').met).toBe(true);
		const table = formatTargets(lines);
		const [header, rule, first] = table.split('\n');
		expect(header).toBe('| measure | cairn/restic | target | met? | cairn / restic |');
		expect(rule).toBe('|---|---|---|---|---|');
		expect(first).toBe('| system: first backup | 0.60 | ≤ 0.65 | yes | 6.00 s / 10.00 s, floor 2.00 s |');
		expect(table).toContain('| system: unchanged tree | 0.60 | ≤ 0.50 | **no** |');
	});

	it('uses the case targets: many files, one large file, the 2 GiB restore against dd', () => {
		const lines = checkTargets([
			summary('files-300000', 'tree', [run('cairn', 'backup-initial', 9, 100), run('restic', 'backup-initial', 10, 100)], {generatedFiles: true, files: 300_000}),
			summary('large-single', 'single', [run('cairn', 'backup-initial', 3, 100, 5.4), run('restic', 'backup-initial', 4, 100, 6), run('cairn', 'restore', 3, 100), run('restic', 'restore', 4, 100)]),
			summary('large-stream', 'stream', [run('cairn', 'restore', 10, 100), run('restic', 'restore', 12, 100), run('floor', 'restore', 9.5, 2)]),
		]);
		expect(lines.find((l) => l.measure === 'files-300000: first backup')).toMatchObject({limit: 1, met: true});
		const single = lines.find((l) => l.measure === 'large-single: one large file, backup')!;
		expect(single).toMatchObject({value: 0.75, limit: 0.7, met: false});
		expect(single.detail).toContain('cairn cpu/wall 1.80');
		const stream = lines.find((l) => l.measure === 'large-stream: restore + sync (cairn), % of disk write speed')!;
		expect(stream.value).toBeCloseTo(95, 10);
		expect(stream).toMatchObject({bound: 'min', limit: 90, met: true});
		expect(lines.find((l) => l.measure === 'large-stream: restore + sync (restic), % of disk write speed')!.met).toBe(false);
		expect(formatTargets(lines)).toContain('| large-stream: restore + sync (cairn), % of disk write speed | 95 % | ≥ 90 % | yes |');
		// with two runtimes, restic's line comes once
		const two = checkTargets([summary('large-stream', 'stream', [run('cairn-node20', 'restore', 10, 100), run('cairn-node24', 'restore', 11, 100), run('restic', 'restore', 12, 100), run('floor', 'restore', 9.5, 2)])]);
		expect(two.filter((l) => l.measure.includes('(restic), % of disk'))).toHaveLength(1);
		expect(two.filter((l) => l.measure.includes('% of disk')).map((l) => l.runner)).toEqual(['cairn-node20', 'restic', 'cairn-node24']);
	});

	it('adds a runtime column when several cairn runtimes ran, and the cost per file', () => {
		const runs = [run('cairn-node20', 'backup-initial', 12, 100), run('cairn-node24', 'backup-initial', 6, 100), run('restic', 'backup-initial', 10, 100)];
		const cases = [summary('files-100000', 'tree', runs, {generatedFiles: true, files: 100_000})];
		const table = formatTargets(checkTargets(cases));
		expect(table.split('\n')[0]).toBe('| measure | cairn runtime | cairn/restic | target | met? | cairn / restic |');
		expect(table).toContain('| files-100000: first backup | cairn-node20 | 1.20 | ≤ 1.00 | **no** |');
		expect(table).toContain('| files-100000: first backup | cairn-node24 | 0.60 | ≤ 1.00 | yes |');
		const costs = formatFileCosts(cases);
		expect(costs).toContain('cairn-node24 µs/file wall');
		expect(costs).toContain('| 100,000 | 120.0 | 120.0 | 60.0 | 60.0 | 100.0 | 100.0 |');
	});

	it('gives the marginal cost per file from one count to the next', () => {
		const at = (files: number, cairn: number, restic: number): CaseSummary => summary(`files-${files}`, 'tree', [run('cairn', 'backup-initial', cairn, 100), run('restic', 'backup-initial', restic, 100), run('floor', 'backup-initial', 1, 2)], {generatedFiles: true, files});
		const costs = formatFileCosts([at(10_000, 1, 0.5), at(100_000, 7, 4.5), at(300_000, 21, 12.5)]);
		expect(costs).toContain('| files | cairn Δµs/file wall | cairn Δµs/file CPU | restic Δµs/file wall | restic Δµs/file CPU |');
		expect(costs).toContain('| 10,000 → 100,000 | 66.7 | 66.7 | 44.4 | 44.4 |');
		expect(costs).toContain('| 100,000 → 300,000 | 70.0 | 70.0 | 40.0 | 40.0 |');
	});

	it('compares a run on one core with the same cases without taskset', () => {
		const one = [summary('system', 'tree', [run('cairn', 'backup-initial', 9, 100), run('restic', 'backup-initial', 10, 100), run('cairn', 'restore', 8, 100), run('restic', 'restore', 10, 100)])];
		const two = [summary('system', 'tree', [run('cairn', 'backup-initial', 5, 100), run('restic', 'backup-initial', 6, 100), run('cairn', 'restore', 4, 100), run('restic', 'restore', 4, 100)])];
		const lines = compareAffinity(one, two);
		expect(lines).toHaveLength(2);
		expect(lines[0]).toMatchObject({measure: 'system: first backup, one core', value: 0.9, met: false});
		expect(lines[0]!.limit).toBeCloseTo(5 / 6, 10);
		expect(lines[1]).toMatchObject({measure: 'system: full restore, one core', value: 0.8, limit: 1, met: true});
		expect(formatTargets(lines)).toContain('| system: full restore, one core | 0.80 | ≤ 1.00 (without taskset) | yes |');
		expect(compareAffinity(one, [])).toEqual([]);
	});
});
