/**
 * Preloaded into the app by the UI benchmark (`node --import <this file> dist/source/cli.js`):
 * records, in milliseconds since the process started (`performance.now()`), when each of a list
 * of marks appears in what the app writes to its terminal, and writes them as JSON when the
 * process exits (and whenever a mark appears). It only wraps `process.stdout.write`; it does not touch stdin (Ink reads it).
 *
 * Environment: CAIRN_UI_PROBE_OUT (the JSON file to write), CAIRN_UI_PROBE_MARKS (a JSON array
 * of strings to look for), CAIRN_UI_PROBE_EXIT_AFTER (a mark: end the process once it has been
 * written, e.g. to profile start-up alone with `node --cpu-prof`).
 */
import {writeFileSync} from 'node:fs';

/** What the probe writes. */
export interface ProbeReport {
	/** When the first byte was written to the terminal. */
	firstWriteMs?: number;
	/**
	 * When each mark appeared, by mark: the writes holding it whose previous frame did not (the
	 * first {@link MAX_TIMES} times). Ink writes whole frames; writes without a line break
	 * (cursor movements) are not frames and do not count.
	 */
	marks: Record<string, number[]>;
	/** CPU time (user and system, all threads) the process had used when each mark first appeared, in ms. */
	cpuMs: Record<string, number>;
	/** How many writes there were and how many characters they held. */
	writes: number;
	characters: number;
}

/** Appearances of a mark recorded at most. */
export const MAX_TIMES = 20;

const out = process.env.CAIRN_UI_PROBE_OUT;
const marks: string[] = JSON.parse(process.env.CAIRN_UI_PROBE_MARKS ?? '[]') as string[];
const exitAfter = process.env.CAIRN_UI_PROBE_EXIT_AFTER;

if (out !== undefined) {
	const report: ProbeReport = {marks: {}, cpuMs: {}, writes: 0, characters: 0};
	const showing = new Set<string>();
	// eslint-disable-next-line @typescript-eslint/unbound-method
	const original = process.stdout.write;
	const wrapped = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
		const now = performance.now();
		const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
		report.writes++;
		report.characters += text.length;
		report.firstWriteMs ??= now;
		const frame = text.includes('\n');
		for (const mark of marks) {
			const shown = text.includes(mark);
			if (shown && !showing.has(mark)) {
				const times = (report.marks[mark] ??= []);
				if (times.length < MAX_TIMES) times.push(now);
				if (report.cpuMs[mark] === undefined) {
					const usage = process.cpuUsage();
					report.cpuMs[mark] = (usage.user + usage.system) / 1000;
				}
				// Written at once too, so that the benchmark can follow the app while it runs.
				writeFileSync(out, JSON.stringify(report));
				if (mark === exitAfter) setImmediate(() => process.exit(0));
			}
			if (shown) showing.add(mark);
			else if (frame) showing.delete(mark);
		}
		return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
	};
	process.stdout.write = wrapped as typeof process.stdout.write;
	process.on('exit', () => {
		writeFileSync(out, JSON.stringify(report));
	});
}
