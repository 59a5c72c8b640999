import {describe, expect, it} from 'vitest';
import {buildTable, costPerFile, formatCpuTable, formatTable, listRunners, rssRatio, wallRatio, type RunRecord} from '../../bench/report.js';

function run(tool: RunRecord['tool'], measure: RunRecord['measure'], wallSeconds: number, round = 1, rssMib = tool.startsWith('cairn') ? 200 : 100): RunRecord {
	return {round, tool, measure, wallSeconds, userSeconds: wallSeconds / 2, systemSeconds: wallSeconds / 4, peakRssKib: 1024 * rssMib};
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
		expect(initial!.best.floor!.wallSeconds).toBe(1.5);
		expect(wallRatio(initial!, 'cairn', 'floor')).toBeCloseTo(2, 10);
		expect(wallRatio(initial!, 'restic', 'floor')).toBeCloseTo(3, 10);
		expect(unchanged!.best.floor).toBeUndefined();
		expect(wallRatio(unchanged!, 'cairn', 'floor')).toBeUndefined();
		expect(wallRatio(restore!, 'cairn', 'floor')).toBeCloseTo(2.5, 10);
		expect(wallRatio(restore!, 'cairn', 'restic')).toBeCloseTo(1.25, 10);

		const table = formatTable(buildTable(runs));
		expect(table.split('\n')[0]).toContain('cairn/floor');
		expect(table).toMatch(/backup, fresh repository\s+3\.00\s+4\.50\s+1\.50\s+0\.67/);
		expect(formatCpuTable(buildTable(runs))).toContain('restore latest, empty dir (floor)');
	});

	it('gives each cairn runtime its own columns and ratios to the one restic', () => {
		const runs = [
			run('cairn-node20', 'backup-initial', 4, 1, 300), run('cairn-node20', 'backup-initial', 3, 2, 250),
			run('cairn-node24', 'backup-initial', 2, 1, 150),
			run('restic', 'backup-initial', 4, 1, 100), run('floor', 'backup-initial', 1),
		];
		expect(listRunners(runs)).toEqual(['cairn-node20', 'cairn-node24', 'restic', 'floor']);
		const [row] = buildTable(runs);
		// best wall time over the rounds, highest peak RSS over the rounds
		expect(row!.best['cairn-node20']!.wallSeconds).toBe(3);
		expect(row!.best['cairn-node20']!.peakRssMib).toBe(300);
		expect(row!.best['cairn-node20']!.rounds).toBe(2);
		expect(wallRatio(row!, 'cairn-node20', 'restic')).toBeCloseTo(0.75, 10);
		expect(wallRatio(row!, 'cairn-node24', 'restic')).toBeCloseTo(0.5, 10);
		expect(rssRatio(row!, 'cairn-node24', 'restic')).toBeCloseTo(1.5, 10);
		const header = formatTable([row!]).split('\n')[0]!;
		expect(header).toContain('cairn-node20/restic');
		expect(header).toContain('cairn-node24/restic');
		expect(header).toContain('RSS cairn-node24/restic');
	});

	it('gives the cost per file in microseconds of wall and CPU time', () => {
		const [row] = buildTable([run('cairn', 'backup-initial', 20)]);
		const cost = costPerFile(row!.best.cairn!, 300_000);
		expect(cost.wallMicros).toBeCloseTo((20 / 300_000) * 1e6, 6);
		expect(cost.cpuMicros).toBeCloseTo((15 / 300_000) * 1e6, 6);
	});
});
