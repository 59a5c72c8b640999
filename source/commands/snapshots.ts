import {listSnapshots} from '../../engine/repository/snapshots.js';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {parseTimeMs} from '../../components/format.js';
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

function pad(n: number): string {
	return n < 10 ? `0${n}` : String(n);
}

/** Formats a snapshot time as local `YYYY-MM-DD HH:MM:SS` (the text itself when it is not a time). */
export function formatLocalTime(text: string): string {
	const ms = parseTimeMs(text);
	if (ms === undefined) return text;
	const d = new Date(ms);
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Collects lines and writes them to stdout in blocks of about 64 KiB: a listing of 100,000 lines
 * takes a few dozen writes instead of one per line. Call {@link OutputBuffer.flush} at the end.
 */
export class OutputBuffer {
	private parts: string[] = [];
	private size = 0;

	constructor(private readonly out: {write(text: string): unknown} = process.stdout, private readonly limit = 64 * 1024) {}

	/** Adds a line (without its line break). */
	line(text: string): void {
		this.parts.push(text);
		this.size += text.length + 1;
		if (this.size >= this.limit) this.flush();
	}

	/** Writes what has been collected. */
	flush(): void {
		if (this.parts.length === 0) return;
		this.parts.push('');
		this.out.write(this.parts.join('\n'));
		this.parts = [];
		this.size = 0;
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
		const widths = header.map((h) => h.length);
		for (const row of rows) for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i]!, row[i]!.length);
		const format = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
		const out = new OutputBuffer();
		out.line(format(header));
		out.line('-'.repeat(Math.min(100, widths.reduce((a, b) => a + b + 2, 0))));
		for (const row of rows) out.line(format(row));
		out.line(`${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}`);
		out.flush();
		return failed ? 1 : 0;
	} finally {
		await repo.close();
	}
}

export {printJson};
