import {describe, expect, it} from 'vitest';
import {buildTable, formatCpuTable, formatTable, type RunRecord} from '../../bench/report.js';

function run(tool: RunRecord['tool'], measure: RunRecord['measure'], wallSeconds: number, round = 1): RunRecord {
	return {round, tool, measure, wallSeconds, userSeconds: wallSeconds / 2, systemSeconds: wallSeconds / 4, peakRssKib: 1024 * (tool === 'cairn' ? 200 : 100)};
}

describe('benchmark report with floors', () => {
	it('keeps the best floor per measure and gives both tools\' ratios to it', () => {
		const runs = [
			run('floor', 'backup-initial', 2), run('floor', 'backup-initial', 1.5, 2),
			run('cairn', 'backup-initial', 3), run('restic', 'backup-initial', 4.5),
			run('floor', 'restore', 1), run('cairn', 'restore', 2.5), run('restic', 'restore', 2),
			run('cairn', 'backup-unchanged', 1), run('restic', 'backup-unchanged', 2),
		];
		const [initial, unchanged, restore] = buildTable(runs);
		expect(initial!.floor!.wallSeconds).toBe(1.5);
		expect(initial!.cairnPerFloor).toBeCloseTo(2, 10);
		expect(initial!.resticPerFloor).toBeCloseTo(3, 10);
		expect(unchanged!.floor).toBeUndefined();
		expect(unchanged!.cairnPerFloor).toBeUndefined();
		expect(restore!.cairnPerFloor).toBeCloseTo(2.5, 10);
		expect(restore!.wallRatio).toBeCloseTo(1.25, 10);

		const table = formatTable(buildTable(runs));
		expect(table.split('\n')[0]).toContain('cairn/floor');
		expect(table).toMatch(/backup, fresh repository.*1\.50\s+2\.00\s+3\.00/);
		expect(formatCpuTable(buildTable(runs))).toContain('restore latest, empty dir (floor)');
	});
});
