/**
 * Start-up of the single-file executable against `node dist/source/cli.js`:
 *
 *   node dist/bench/startup.js [--exe dist/pkg/cairn-linux-x64] [--node24 PATH] [--runs N]
 *
 * For each way of starting cairn (the executable; `node dist/source/cli.js` on the Node.js
 * running this script; and on the Node.js 24 binary inside the executable, when --node24 names
 * it, e.g. the one scripts/package.mjs keeps in ~/.cache/cairn-package), N runs, alternating:
 *
 * - `--version`, and `cairn snapshots` of a small repository (5 snapshots, local cache warm):
 *   wall time from spawn to exit and the child's CPU time (bench/measure.ts);
 * - the app's first frame: launched in a tmux pane (empty HOME, so it opens on the welcome
 *   screen), the time until the pane shows the welcome text, polled every 5 ms. Polling tmux adds
 *   a few milliseconds to every run alike.
 *
 * Prints the median and the best of each, and writes them to bench/results/startup/.
 */
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {parseArgs, promisify} from 'node:util';
import {fileURLToPath} from 'node:url';
import {detectMeasureMethod, runMeasured} from './measure.js';
import {writeResults} from './results.js';

const run = promisify(execFile);
const TMUX = existsSync('/usr/bin/tmux') ? '/usr/bin/tmux' : 'tmux';
const distDir = fileURLToPath(new URL('../', import.meta.url));
const projectRoot = path.resolve(distDir, '..');
const CLI = path.join(distDir, 'source', 'cli.js');
const PASSWORD = 'bench-password';

interface Launcher {
	name: string;
	command: string[];
}

function quote(text: string): string {
	return `'${text.replaceAll("'", "'\\''")}'`;
}

function summarize(values: number[]): {median: number; best: number; runs: number[]} {
	const sorted = [...values].sort((a, b) => a - b);
	return {median: sorted[Math.floor((sorted.length - 1) / 2)]!, best: sorted[0]!, runs: values.map((v) => Math.round(v))};
}

/** Milliseconds from launching `command` in a fresh tmux pane until the welcome screen is on it. */
async function measureFirstFrame(socket: string, command: string[], home: string): Promise<number> {
	await rm(home, {recursive: true, force: true});
	await mkdir(home, {recursive: true});
	const script = path.join(path.dirname(home), 'launch.sh');
	await writeFile(script, `export HOME=${quote(home)} TERM=xterm-256color\nexec ${command.map(quote).join(' ')}\n`);
	await run(TMUX, ['-L', socket, 'new-session', '-d', '-s', 'wait', '-x', '100', '-y', '30', 'sleep 600']).catch(() => undefined);
	const started = performance.now();
	await run(TMUX, ['-L', socket, 'new-window', '-t', 'wait', '-n', 'app', `sh ${quote(script)}`]);
	for (;;) {
		const {stdout} = await run(TMUX, ['-L', socket, 'capture-pane', '-p', '-t', 'wait:app']);
		if (stdout.includes('Quick start')) break;
		if (performance.now() - started > 30_000) throw new Error(`no first frame after 30 s:\n${stdout}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	const elapsed = performance.now() - started;
	await run(TMUX, ['-L', socket, 'kill-window', '-t', 'wait:app']);
	return elapsed;
}

async function main(): Promise<void> {
	const {values} = parseArgs({options: {exe: {type: 'string'}, node24: {type: 'string'}, runs: {type: 'string', default: '10'}}});
	const exe = path.resolve(values.exe ?? path.join(distDir, 'pkg', 'cairn-linux-x64'));
	if (!existsSync(exe)) throw new Error(`${exe} does not exist: run npm run package first`);
	const runs = Number(values.runs);
	const launchers: Launcher[] = [{name: 'executable', command: [exe]}, {name: `node ${process.version} dist`, command: [process.execPath, CLI]}];
	if (values.node24) launchers.push({name: 'node 24 dist', command: [path.resolve(values.node24), CLI]});

	const work = await mkdtemp(path.join(os.tmpdir(), 'cairn-bench-startup-'));
	const socket = `cairn-bench-startup-${process.pid}`;
	const method = detectMeasureMethod();
	try {
		const repo = path.join(work, 'repo');
		const source = path.join(work, 'source');
		await mkdir(source);
		await writeFile(path.join(source, 'file.txt'), 'start-up benchmark\n');
		const env = {...process.env, CAIRN_PASSWORD: PASSWORD, CAIRN_CACHE_DIR: path.join(work, 'cache'), HOME: work};
		await runMeasured(exe, ['-r', repo, 'init'], {env, method});
		for (let i = 0; i < 5; i++) await runMeasured(exe, ['-r', repo, 'backup', '--host', `host-${i}`, source], {env, method});

		const results: Record<string, Record<string, ReturnType<typeof summarize>>> = {};
		const samples = new Map<string, Record<string, number[]>>(launchers.map((l) => [l.name, {versionWall: [], versionCpu: [], snapshotsWall: [], snapshotsCpu: [], firstFrame: []}]));
		for (let i = 0; i < runs; i++) {
			for (const launcher of launchers) {
				const [command, ...args] = launcher.command;
				const sample = samples.get(launcher.name)!;
				const version = await runMeasured(command!, [...args, '--version'], {env, method});
				sample.versionWall!.push(version.wallSeconds * 1000);
				sample.versionCpu!.push((version.userSeconds + version.systemSeconds) * 1000);
				const snapshots = await runMeasured(command!, [...args, '-r', repo, 'snapshots'], {env, method});
				if (snapshots.exitCode !== 0) throw new Error(`${launcher.name} snapshots failed: ${snapshots.stderr}`);
				sample.snapshotsWall!.push(snapshots.wallSeconds * 1000);
				sample.snapshotsCpu!.push((snapshots.userSeconds + snapshots.systemSeconds) * 1000);
				sample.firstFrame!.push(await measureFirstFrame(socket, launcher.command, path.join(work, 'home')));
			}
		}
		for (const [name, sample] of samples) {
			results[name] = Object.fromEntries(Object.entries(sample).map(([key, list]) => [key, summarize(list)]));
			const line = Object.entries(results[name]!).map(([key, s]) => `${key} ${Math.round(s.median)} (best ${Math.round(s.best)})`).join(', ');
			process.stdout.write(`${name}: ${line} ms\n`);
		}
		const file = await writeResults(path.join(projectRoot, 'bench', 'results', 'startup'), {date: new Date().toISOString(), runs, method, exe, node: process.version, results});
		process.stdout.write(`results: ${path.relative(projectRoot, file)}\n`);
	} finally {
		await run(TMUX, ['-L', socket, 'kill-server']).catch(() => undefined);
		await rm(work, {recursive: true, force: true});
	}
}

await main();
