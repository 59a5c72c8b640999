import {listSnapshots} from '../../engine/repository/snapshots.js';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {parseGoTime, toDate} from '../../engine/format/time.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';

/** Flags of `cairn snapshots`. */
export interface SnapshotsFlags extends GlobalFlags {
	host?: string[];
	tag?: string[];
	path?: string[];
}

/** The JSON shape of a snapshot, restic's field names plus `id` and `short_id`. */
export function toSnapshotJson(s: Snapshot): Record<string, unknown> {
	const {id, ...rest} = s;
	return {...rest, tags: s.tags ?? [], id, short_id: id.slice(0, 8)};
}

/** Formats a snapshot time as local `YYYY-MM-DD HH:MM:SS`. */
export function formatLocalTime(text: string): string {
	try {
		const d = toDate(parseGoTime(text));
		const pad = (n: number): string => String(n).padStart(2, '0');
		return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
	} catch {
		return text;
	}
}

/** Keeps snapshots matching every given filter. */
export function filterSnapshots(snapshots: Snapshot[], flags: {host?: string[]; tag?: string[]; path?: string[]}): Snapshot[] {
	return snapshots.filter((s) => (!flags.host?.length || flags.host.includes(s.hostname ?? ''))
		&& (!flags.tag?.length || flags.tag.some((t) => t.split(',').every((part) => (s.tags ?? []).includes(part))))
		&& (!flags.path?.length || flags.path.every((p) => s.paths.includes(p))));
}

/** `cairn snapshots`. */
export async function runSnapshots(flags: SnapshotsFlags, signal: AbortSignal): Promise<number> {
	const repo = await openRepository(flags, signal);
	try {
		let failed = 0;
		const snapshots = filterSnapshots(await listSnapshots(repo, {signal, onError: (id, error) => {
			failed++;
			process.stderr.write(`error: snapshot ${id.slice(0, 8)} cannot be read: ${error.message}\n`);
		}}), flags);
		if (failed) process.stderr.write(`${failed} snapshot file${failed === 1 ? '' : 's'} could not be read and ${failed === 1 ? 'is' : 'are'} not listed; run \`cairn check\` for a full report of the damage\n`);
		if (flags.json) {
			process.stdout.write(JSON.stringify(snapshots.map(toSnapshotJson)) + '\n');
			return failed ? 1 : 0;
		}
		const rows = snapshots.map((s) => [s.id.slice(0, 8), formatLocalTime(s.time), s.hostname ?? '', (s.tags ?? []).join(','), s.paths.join(', ')]);
		const header = ['ID', 'Time', 'Host', 'Tags', 'Paths'];
		const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
		const format = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
		process.stdout.write(format(header) + '\n' + '-'.repeat(Math.min(100, widths.reduce((a, b) => a + b + 2, 0))) + '\n');
		for (const row of rows) process.stdout.write(format(row) + '\n');
		process.stdout.write(`${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}\n`);
		return failed ? 1 : 0;
	} finally {
		await repo.close();
	}
}

export {printJson};
