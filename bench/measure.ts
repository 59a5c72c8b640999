/**
 * Runs a child process and measures it: wall time (here, with a monotonic clock from spawn to
 * exit), CPU time (user, system) and peak resident set size of the child.
 *
 * Method: when GNU time is at /usr/bin/time, the child runs under `/usr/bin/time -f '%U %S %M'`,
 * which reports the child's rusage from wait4(2): ru_utime, ru_stime and ru_maxrss (the
 * high-water mark of its RSS, in KiB, over all its threads; a child the tool itself waited for
 * would be folded in too). Without GNU time, /proc/<pid>/status (VmHWM) and /proc/<pid>/stat
 * (utime, stime) are polled every 20 ms; VmHWM is a high-water mark, so only growth in the last
 * interval before exit is missed, but the CPU times are short by up to one interval.
 *
 * Other work on the machine skews wall times, so the CPU time the rest of the system used
 * during the run is measured too (on Linux): busy time from /proc/stat over the run, less the
 * child's and the benchmark's own CPU time.
 */
import {spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** How the child's CPU time and peak RSS are obtained. */
export type MeasureMethod = 'gnu-time' | 'proc-poll';

/** What one run of a child cost. */
export interface Measurement {
	wallSeconds: number;
	userSeconds: number;
	systemSeconds: number;
	/** Peak resident set size in KiB. */
	peakRssKib: number;
	exitCode: number;
	/** CPU seconds used by other processes during the run; undefined when /proc/stat is unavailable. */
	otherCpuSeconds?: number;
	/** The last part of stdout and stderr (at most {@link KEEP_OUTPUT} bytes each). */
	stdout: string;
	stderr: string;
}

const GNU_TIME = '/usr/bin/time';
const KEEP_OUTPUT = 256 * 1024;
const POLL_MS = 20;

/** Tells which method this machine supports: GNU time when it runs and prints a number for %M. */
export function detectMeasureMethod(): MeasureMethod {
	if (existsSync(GNU_TIME)) {
		const probe = spawnSync(GNU_TIME, ['-f', '%M', 'true'], {encoding: 'utf8'});
		if (probe.status === 0 && /^\d+\s*$/.test(probe.stderr.trim().split('\n').at(-1) ?? '')) return 'gnu-time';
	}
	if (existsSync('/proc/self/status')) return 'proc-poll';
	throw new Error('cannot measure child processes here: neither GNU time (/usr/bin/time) nor /proc is available');
}

/** Keeps the tail of a stream. */
class Tail {
	private parts: Buffer[] = [];
	private size = 0;

	push(chunk: Buffer): void {
		this.parts.push(chunk);
		this.size += chunk.length;
		while (this.size - this.parts[0]!.length >= KEEP_OUTPUT) this.size -= this.parts.shift()!.length;
	}

	text(): string {
		return Buffer.concat(this.parts).toString('utf8');
	}
}

/** Reads VmHWM (KiB) and utime + stime (seconds) of a live process; undefined once it is gone. */
async function readProcUsage(pid: number): Promise<{peakRssKib: number; user: number; system: number} | undefined> {
	try {
		const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
		const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
		// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const ticks = 100; // USER_HZ, 100 on every Linux build in use
		return {peakRssKib: hwm ? Number(hwm[1]) : 0, user: Number(fields[11]) / ticks, system: Number(fields[12]) / ticks};
	} catch {
		return undefined;
	}
}

/** Busy CPU seconds of the whole machine since boot (all but idle and iowait), from /proc/stat. */
async function readSystemBusySeconds(): Promise<number | undefined> {
	try {
		const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
		// cpu user nice system idle iowait irq softirq steal (guest time is already in user)
		const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
		return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / 100;
	} catch {
		return undefined;
	}
}

/** Runs `command args` and measures it with the given method. Never rejects for a non-zero exit. */
export async function runMeasured(command: string, args: readonly string[], options: {env: NodeJS.ProcessEnv; method: MeasureMethod}): Promise<Measurement> {
	const tempDir = options.method === 'gnu-time' ? await mkdtemp(path.join(os.tmpdir(), 'cairn-bench-time-')) : undefined;
	const timeFile = tempDir ? path.join(tempDir, 'time.txt') : undefined;
	const [file, argv] = timeFile
		? [GNU_TIME, ['-f', '%U %S %M', '-o', timeFile, command, ...args]]
		: [command, [...args]];
	const stdout = new Tail();
	const stderr = new Tail();
	const busyBefore = await readSystemBusySeconds();
	const ownBefore = process.cpuUsage();
	const started = performance.now();
	const child = spawn(file, argv, {env: options.env, stdio: ['ignore', 'pipe', 'pipe']});
	child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
	child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
	let polled: {peakRssKib: number; user: number; system: number} | undefined;
	let polling: NodeJS.Timeout | undefined;
	if (!timeFile && child.pid !== undefined) {
		const pid = child.pid;
		let busy = false;
		polling = setInterval(() => {
			if (busy) return;
			busy = true;
			void readProcUsage(pid).then((usage) => {
				if (usage) polled = {peakRssKib: Math.max(polled?.peakRssKib ?? 0, usage.peakRssKib), user: usage.user, system: usage.system};
				busy = false;
			});
		}, POLL_MS);
	}
	const exitCode = await new Promise<number>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
	});
	const wallSeconds = (performance.now() - started) / 1000;
	const busyAfter = await readSystemBusySeconds();
	const own = process.cpuUsage(ownBefore);
	if (polling) clearInterval(polling);
	let usage = polled ?? {peakRssKib: 0, user: 0, system: 0};
	if (timeFile) {
		const text = await readFile(timeFile, 'utf8').catch(() => '');
		await rm(tempDir!, {recursive: true, force: true});
		// GNU time puts "Command exited with non-zero status N" or "Command terminated by signal N" first.
		const last = text.trim().split('\n').at(-1) ?? '';
		const match = /^([\d.]+) ([\d.]+) (\d+)$/.exec(last);
		if (!match) throw new Error(`cannot read the measurements of ${command}: GNU time wrote ${JSON.stringify(text)}`);
		usage = {user: Number(match[1]), system: Number(match[2]), peakRssKib: Number(match[3])};
	}
	const otherCpuSeconds = busyBefore === undefined || busyAfter === undefined
		? undefined
		: Math.max(0, busyAfter - busyBefore - usage.user - usage.system - (own.user + own.system) / 1e6);
	return {
		wallSeconds,
		userSeconds: usage.user,
		systemSeconds: usage.system,
		peakRssKib: usage.peakRssKib,
		exitCode,
		otherCpuSeconds,
		stdout: stdout.text(),
		stderr: stderr.text(),
	};
}
