/**
 * The UI benchmark: the three interface targets of issue 7, measured end to end.
 *
 *   node dist/bench/ui.js [--runs N] [--snapshots N] [--entries N] [--only startup,snapshots,ls]
 *                         [--work DIR] [--keep] [--no-restic]
 *
 * 1. startup: the app's first full frame, from launching `node dist/source/cli.js` (no
 *    arguments, an empty HOME, so it opens on the welcome screen of the default local
 *    repository) in a tmux pane until the frame is on the pane; also, in the process, when the
 *    frame was written (a preloaded probe, bench/ui-probe.ts).
 * 2. snapshots: a repository of 10,000 snapshots; `cairn snapshots` with and without --json,
 *    and the app from launch until the list is on screen, then again after `R` (read the list again).
 * 3. ls: a snapshot holding one directory of 100,000 entries; `cairn ls` of it (plain, --long,
 *    --json), and the app's browser from Enter on the directory until its listing is on screen.
 *
 * The repositories are made through the engine directly (one small tree, then the snapshot files;
 * one tree of 100,000 nodes). Every app run has its own HOME and XDG directories, so the local
 * cache starts empty in the first run of each measure and is warm in the later ones; the first
 * run is reported as `cold`, the best of the runs as `best`. Results go to bench/results/ui/.
 */
import {execFile, spawnSync} from 'node:child_process';
import {existsSync, readFileSync, promises as fs} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {parseArgs, promisify} from 'node:util';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {createLocalStorage} from '../adapters/local.js';
import {Repository} from '../engine/repository/repository.js';
import {saveSnapshot} from '../engine/repository/snapshots.js';
import {encodeTree, type TreeNode} from '../engine/format/tree.js';
import {formatGoTime} from '../engine/format/time.js';
import {mapConcurrent} from '../engine/util/concurrency.js';
import {detectMeasureMethod, runMeasured, type MeasureMethod} from './measure.js';
import {writeResults} from './results.js';
import {readGitState} from './build-copy.js';
import {findAppBundle} from '../source/app.js';
import type {ProbeReport} from './ui-probe.js';

const run = promisify(execFile);
const PASSWORD = 'bench-password';
const TMUX = existsSync('/usr/bin/tmux') ? '/usr/bin/tmux' : 'tmux';
const COLUMNS = 100;
const ROWS = 30;

const distDir = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(distDir, 'source', 'cli.js');
const PROBE = path.join(distDir, 'bench', 'ui-probe.js');
const projectRoot = path.resolve(distDir, '..');

/** The targets of issue 7, in milliseconds. */
const TARGETS = {startup: 300, snapshots: 1000, ls: 1000} as const;

interface UiOptions {
	runs: number;
	snapshots: number;
	entries: number;
	only: Set<string>;
	work?: string;
	keep: boolean;
	restic: boolean;
}

const USAGE = `Usage: node dist/bench/ui.js [options]

Measures the app's first frame, a list of many snapshots and a directory of many entries.

Options:
  --runs N         runs of each measure (default 5)
  --snapshots N    snapshots in the list repository (default 10000)
  --entries N      entries of the large directory (default 100000)
  --only LIST      startup, snapshots, ls (comma separated; default all)
  --work DIR       where repositories and homes go (default: a fresh temp dir)
  --keep           keep the work dir
  --no-restic      do not time restic on the same repositories
`;

function parseOptions(argv: string[]): UiOptions | undefined {
	const {values} = parseArgs({args: argv, options: {
		runs: {type: 'string'}, snapshots: {type: 'string'}, entries: {type: 'string'}, only: {type: 'string'},
		work: {type: 'string'}, keep: {type: 'boolean'}, 'no-restic': {type: 'boolean'}, help: {type: 'boolean', short: 'h'},
	}});
	if (values.help) return undefined;
	const count = (text: string | undefined, fallback: number, name: string): number => {
		if (text === undefined) return fallback;
		const n = Number(text);
		if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive whole number`);
		return n;
	};
	const only = new Set((values.only ?? 'startup,snapshots,ls').split(',').map((s) => s.trim()).filter(Boolean));
	for (const name of only) if (!['startup', 'snapshots', 'ls'].includes(name)) throw new Error(`--only: unknown measure ${name}`);
	return {
		runs: count(values.runs, 5, 'runs'), snapshots: count(values.snapshots, 10_000, 'snapshots'), entries: count(values.entries, 100_000, 'entries'),
		only, work: values.work, keep: values.keep === true, restic: values['no-restic'] !== true,
	};
}

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

function readLoad(): number[] {
	return os.loadavg().map((n) => Math.round(n * 100) / 100);
}

/** Lowest, median and first of a list of milliseconds (undefined entries are failed runs). */
interface Figures {
	best: number;
	median: number;
	cold: number;
	runs: number[];
}

function summarize(values: number[]): Figures {
	const sorted = [...values].sort((a, b) => a - b);
	const round = (n: number): number => Math.round(n * 10) / 10;
	return {best: round(sorted[0]!), median: round(sorted[Math.floor((sorted.length - 1) / 2)]!), cold: round(values[0]!), runs: values.map(round)};
}

// ---------------------------------------------------------------------------------------------
// Repositories

function fileNode(name: string, index: number, content: {id: string; size: number}): TreeNode {
	const time = formatGoTime(BigInt(1_700_000_000 + index) * 1_000_000_000n + BigInt(index % 1000) * 1000n);
	return {name, type: 'file', mode: 0o644, mtime: time, atime: time, ctime: time, uid: 1000, gid: 1000, user: 'bench', group: 'bench', inode: 1_000_000 + index, device_id: 2049, size: content.size, links: 1, content: [content.id]};
}

function dirNode(name: string, subtree: string): TreeNode {
	const time = formatGoTime(1_700_000_000n * 1_000_000_000n);
	return {name, type: 'dir', mode: 0o20000000755, mtime: time, atime: time, ctime: time, uid: 1000, gid: 1000, user: 'bench', group: 'bench', inode: 42, device_id: 2049, content: null, subtree};
}

/** A few small data blobs that the files share. */
async function saveContents(repo: Repository): Promise<Array<{id: string; size: number}>> {
	const contents: Array<{id: string; size: number}> = [];
	for (let i = 0; i < 8; i++) {
		const bytes = Buffer.from(`file contents number ${i}\n`.repeat(i + 1));
		const saved = await repo.saveBlob('data', bytes);
		contents.push({id: saved.id, size: bytes.length});
	}
	return contents;
}

/** A repository of `count` snapshots of one small tree, with varied times, hosts, paths and tags. */
export async function makeSnapshotRepository(dir: string, count: number, password = PASSWORD): Promise<void> {
	const repo = await Repository.init(createLocalStorage(dir), password);
	const contents = await saveContents(repo);
	const tree = await repo.saveBlob('tree', encodeTree([fileNode('notes.txt', 1, contents[1]!), fileNode('todo.txt', 2, contents[2]!)]));
	const root = await repo.saveBlob('tree', encodeTree([dirNode('home', tree.id)]));
	await repo.flush();
	const hosts = ['laptop', 'desktop', 'server-1', 'server-2', 'nas'];
	const paths = [['/home/me'], ['/home/me/docs', '/home/me/photos'], ['/etc'], ['/srv/www', '/var/lib/db'], ['/home/me/projects']];
	const tags = [[], ['daily'], ['weekly', 'manual'], ['cron'], []];
	const start = 1_600_000_000;
	await mapConcurrent(Array.from({length: count}, (_, i) => i), 32, async (i) => {
		const seconds = start + i * 3_600 + (i * 7919) % 1_800;
		await saveSnapshot(repo, {
			time: formatGoTime(BigInt(seconds) * 1_000_000_000n + BigInt(i * 104_729 % 1_000_000_000)),
			tree: root.id,
			paths: paths[i % paths.length]!,
			hostname: hosts[(i * 3) % hosts.length]!,
			username: 'me',
			uid: 1000,
			gid: 1000,
			tags: tags[i % tags.length]!,
			program_version: 'cairn bench',
			// Half of them record their size (restic 0.17 writes a summary), half are counted by the app.
			...(i % 2 === 0 ? {summary: {total_files_processed: 2, total_bytes_processed: contents[1]!.size + contents[2]!.size}} : {}),
		});
	});
	await repo.close();
}

/** A repository with one snapshot of `/data/big`, a directory of `entries` files. Returns the snapshot ID. */
async function makeLargeDirectoryRepository(dir: string, entries: number): Promise<string> {
	const repo = await Repository.init(createLocalStorage(dir), PASSWORD);
	const contents = await saveContents(repo);
	const nodes = Array.from({length: entries}, (_, i) => fileNode(`file-${String(i).padStart(7, '0')}.txt`, i, contents[i % contents.length]!));
	const big = await repo.saveBlob('tree', encodeTree(nodes));
	const data = await repo.saveBlob('tree', encodeTree([dirNode('big', big.id)]));
	const root = await repo.saveBlob('tree', encodeTree([dirNode('data', data.id)]));
	await repo.flush();
	const bytes = nodes.reduce((sum, node) => sum + (node.size ?? 0), 0);
	const id = await saveSnapshot(repo, {
		time: formatGoTime(BigInt(Date.now()) * 1_000_000n), tree: root.id, paths: ['/data/big'], hostname: 'laptop', username: 'me',
		summary: {total_files_processed: entries, total_bytes_processed: bytes},
	});
	await repo.close();
	return id;
}

// ---------------------------------------------------------------------------------------------
// The command line

interface CommandResult {
	command: string;
	tool: 'cairn' | 'restic';
	/** Wall milliseconds of each run (the first with an empty cache). */
	figures: Figures;
	cpuSeconds: number[];
	peakRssKib: number[];
	otherCpuSeconds: Array<number | undefined>;
	outputLines?: number;
}

async function timeCommand(method: MeasureMethod, tool: 'cairn' | 'restic', args: string[], env: NodeJS.ProcessEnv, runs: number, cacheDir: string): Promise<CommandResult> {
	const walls: number[] = [];
	const cpu: number[] = [];
	const rss: number[] = [];
	const other: Array<number | undefined> = [];
	let lines: number | undefined;
	await fs.rm(cacheDir, {recursive: true, force: true});
	for (let i = 0; i < runs; i++) {
		const [command, argv] = tool === 'cairn' ? [process.execPath, [CLI, ...args]] : ['restic', ['--cache-dir', cacheDir, ...args]];
		const result = await runMeasured(command, argv, {env, method});
		if (result.exitCode !== 0) throw new Error(`${tool} ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-2000)}`);
		walls.push(result.wallSeconds * 1000);
		cpu.push(Math.round((result.userSeconds + result.systemSeconds) * 100) / 100);
		rss.push(result.peakRssKib);
		other.push(result.otherCpuSeconds === undefined ? undefined : Math.round(result.otherCpuSeconds * 100) / 100);
		if (i === 0 && result.stdout.length < 200 * 1024) lines = result.stdout.split('\n').filter(Boolean).length;
	}
	return {command: `${tool} ${args.join(' ')}`, tool, figures: summarize(walls), cpuSeconds: cpu, peakRssKib: rss, otherCpuSeconds: other, outputLines: lines};
}

// ---------------------------------------------------------------------------------------------
// The app, in a tmux pane

/** A tmux server of its own with one pane running a plain shell in an empty environment. */
class Pane {
	private readonly socket = `cairn-ui-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
	private socketPath?: string;

	constructor(readonly home: string) {}

	async tmux(...args: string[]): Promise<string> {
		const {stdout} = await run(TMUX, ['-L', this.socket, ...args]);
		return stdout;
	}

	/** Starts the shell and waits for its prompt. */
	async start(): Promise<void> {
		const env = [
			`HOME=${this.home}`,
			`XDG_CONFIG_HOME=${path.join(this.home, '.config')}`,
			`XDG_DATA_HOME=${path.join(this.home, '.local', 'share')}`,
			`XDG_CACHE_HOME=${path.join(this.home, '.cache')}`,
			`PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
			'TERM=xterm-256color',
			'PS1=UI-BENCH$ ',
		];
		await this.tmux('new-session', '-d', '-s', 'ui', '-x', String(COLUMNS), '-y', String(ROWS), '-c', this.home, 'env', '-i', ...env, 'bash', '--norc', '--noprofile');
		await this.waitFor((pane) => pane.includes('UI-BENCH$'), 10_000);
		this.socketPath = (await this.tmux('display-message', '-p', '#{socket_path}')).trim() || undefined;
	}

	capture(): Promise<string> {
		return this.tmux('capture-pane', '-p', '-t', 'ui');
	}

	async send(...keys: string[]): Promise<void> {
		await this.tmux('send-keys', '-t', 'ui', ...keys);
	}

	/** Polls the pane as fast as tmux answers; resolves with the time (performance.now()) the pane first matched. */
	async waitFor(test: (pane: string) => boolean, timeoutMs: number): Promise<number> {
		const deadline = performance.now() + timeoutMs;
		let pane = '';
		while (performance.now() < deadline) {
			pane = await this.capture();
			if (test(pane)) return performance.now();
		}
		throw new Error(`timed out; the pane shows:\n${pane}`);
	}

	/** Ends the server and removes its socket file (tmux leaves it behind). */
	async stop(): Promise<void> {
		await this.tmux('kill-server').catch(() => undefined);
		if (this.socketPath !== undefined) await fs.rm(this.socketPath, {force: true});
	}
}

/** The probe's report so far, if it wrote one. */
function readProbe(file: string): ProbeReport | undefined {
	try {
		return JSON.parse(readFileSync(file, 'utf8')) as ProbeReport;
	} catch {
		return undefined;
	}
}

/** A fresh home for one app run: optionally a saved profile with its password. */
async function makeHome(dir: string, profile?: {location: string}): Promise<string> {
	await fs.rm(dir, {recursive: true, force: true, maxRetries: 5, retryDelay: 100});
	await fs.mkdir(dir, {recursive: true});
	if (profile !== undefined) {
		const config = path.join(dir, '.config', 'cairn');
		await fs.mkdir(config, {recursive: true});
		await fs.writeFile(path.join(config, 'config.json'), JSON.stringify({profiles: [{name: 'bench', location: profile.location, password: PASSWORD}]}), {mode: 0o600});
	}
	return dir;
}

/** A step of an app run: press keys (optionally), then wait until the pane (and the probe's report so far) show something. */
interface AppStep {
	name: string;
	keys?: string[];
	until: (pane: string, probe: ProbeReport | undefined) => boolean;
	timeoutMs?: number;
}

/** One launch of the app: what the pane showed when, and what the probe saw in the process. */
interface AppRun {
	/** Milliseconds from sending the command line to the pane until each step was seen on the pane. */
	pane: Record<string, number>;
	/** Milliseconds since the process started when each mark was written (the probe), by mark. */
	process: Record<string, number[]>;
	/** CPU milliseconds the process had used when each mark first appeared. */
	cpu: Record<string, number>;
}

/**
 * Launches the app in a fresh pane, then goes through `steps`: each waits for its text on the pane
 * (and may press keys first). Quits with `q` and reads the probe's report.
 */
async function runApp(home: string, marks: string[], steps: AppStep[]): Promise<AppRun> {
	const pane = new Pane(home);
	const probeFile = path.join(home, 'probe.json');
	try {
		await pane.start();
		// A script keeps the marks off the command line, where the pane would show them.
		const script = path.join(home, 'launch.sh');
		const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
		await fs.writeFile(script, `export CAIRN_UI_PROBE_OUT=${quote(probeFile)}\nexport CAIRN_UI_PROBE_MARKS=${quote(JSON.stringify(marks))}\nexec ${quote(process.execPath)} --import ${quote(PROBE)} ${quote(CLI)}\n`);
		await pane.send('-l', `sh ${script}; echo "CAIRN-EXIT=$?"`);
		const started = performance.now();
		await pane.send('Enter');
		const seen: Record<string, number> = {};
		for (const step of steps) {
			const from = performance.now();
			if (step.keys !== undefined) await pane.send(...step.keys);
			const at = await pane.waitFor((text) => step.until(text, readProbe(probeFile)), step.timeoutMs ?? 60_000);
			seen[step.name] = Math.round((at - started) * 10) / 10;
			if (step.keys !== undefined) seen[`${step.name} (from the key)`] = Math.round((at - from) * 10) / 10;
		}
		await pane.send('q');
		await pane.waitFor((text) => /CAIRN-EXIT=\d/.test(text), 20_000);
		const report = JSON.parse(await fs.readFile(probeFile, 'utf8')) as ProbeReport;
		const inProcess: Record<string, number[]> = {};
		if (report.firstWriteMs !== undefined) inProcess['first write'] = [Math.round(report.firstWriteMs * 10) / 10];
		for (const [mark, times] of Object.entries(report.marks)) inProcess[mark] = times.map((at) => Math.round(at * 10) / 10);
		const cpu = Object.fromEntries(Object.entries(report.cpuMs).map(([mark, ms]) => [mark, Math.round(ms)]));
		return {pane: seen, process: inProcess, cpu};
	} finally {
		await pane.stop();
	}
}

/** When a mark was written the `index`-th time (from 0), in ms since the process started. */
function nth(result: AppRun, mark: string, index: number): number {
	const at = result.process[mark]?.[index];
	if (at === undefined) throw new Error(`the app never wrote ${JSON.stringify(mark)} (${index + 1} times); it wrote ${JSON.stringify(result.process)}`);
	return at;
}

function first(result: AppRun, mark: string): number {
	return nth(result, mark, 0);
}

/** When a mark was first written after `time`. */
function after(result: AppRun, mark: string, time: number): number {
	const at = result.process[mark]?.find((t) => t > time);
	if (at === undefined) throw new Error(`the app never wrote ${JSON.stringify(mark)} after ${time} ms`);
	return at;
}

/** The first frame: title bar, body and key help all on the pane. */
function isWelcomeFrame(pane: string): boolean {
	return pane.includes('cairn › Welcome') && pane.includes('Welcome to cairn.') && pane.includes('? help');
}

// ---------------------------------------------------------------------------------------------

interface Line {
	measure: string;
	target?: number;
	figures: Figures;
	note?: string;
}

function formatLine(line: Line): string {
	const verdict = line.target === undefined ? '' : line.figures.best <= line.target ? '  met' : '  MISSED';
	const target = line.target === undefined ? '' : `< ${line.target} ms`;
	return `${line.measure.padEnd(58)} ${`${line.figures.best.toFixed(0)} ms`.padStart(9)} ${`${line.figures.median.toFixed(0)} ms`.padStart(9)} ${`${line.figures.cold.toFixed(0)} ms`.padStart(9)}  ${target.padEnd(10)}${verdict}${line.note ? `  (${line.note})` : ''}`;
}

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2));
	if (options === undefined) {
		process.stdout.write(USAGE);
		return 0;
	}
	if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: build first (npm run build)`);
	if (spawnSync(TMUX, ['-V']).status !== 0) throw new Error('tmux is needed to measure the app in a terminal');
	const method = detectMeasureMethod();
	const bundled = findAppBundle(pathToFileURL(path.join(distDir, 'source', 'app.js'))) !== undefined;
	if (!bundled) log(`note: ${path.join(distDir, 'components', 'run-app.bundle.js')} is missing or older than the compiled modules, so the app starts from its modules (slower); make it with \`node scripts/bundle-app.mjs ${path.relative(projectRoot, distDir) || '.'}\``);
	const hasRestic = options.restic && spawnSync('restic', ['version']).status === 0;
	const workDir = options.work ?? await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-ui-bench-'));
	await fs.mkdir(workDir, {recursive: true});
	const loadBefore = readLoad();
	const lines: Line[] = [];
	const commands: CommandResult[] = [];
	const apps: Record<string, AppRun[]> = {};
	const addApp = (name: string, result: AppRun): void => {
		(apps[name] ??= []).push(result);
	};
	const env = {...process.env, CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};
	try {
		if (options.only.has('startup')) {
			log(`startup: ${options.runs} launches of the app with an empty home`);
			for (let i = 0; i < options.runs; i++) {
				const home = await makeHome(path.join(workDir, 'home-startup'));
				addApp('startup', await runApp(home, ['cairn › Welcome', 'Quick start: create a new repository at'], [
					{name: 'first frame', until: isWelcomeFrame},
					{name: 'default repository looked up', until: (pane) => pane.includes('Quick start: create a new repository at')},
				]));
			}
			const runs = apps.startup!;
			lines.push({measure: 'app: first frame on the terminal (launch → pane)', target: TARGETS.startup, figures: summarize(runs.map((r) => r.pane['first frame']!))});
			lines.push({measure: 'app: first frame written (in the process, since its start)', figures: summarize(runs.map((r) => first(r, 'cairn › Welcome')))});
			lines.push({measure: 'app: CPU time used until the first frame (in the process)', figures: summarize(runs.map((r) => r.cpu['cairn › Welcome']!))});
			lines.push({measure: 'app: default repository looked up (launch → pane)', figures: summarize(runs.map((r) => r.pane['default repository looked up']!))});
		}

		if (options.only.has('snapshots')) {
			const repoDir = path.join(workDir, 'repo-snapshots');
			if (!existsSync(path.join(repoDir, 'config'))) {
				log(`snapshots: writing a repository of ${options.snapshots} snapshots`);
				const started = performance.now();
				await fs.rm(repoDir, {recursive: true, force: true});
				await makeSnapshotRepository(repoDir, options.snapshots);
				log(`  written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
			}
			const cacheDir = path.join(workDir, 'cache-cli');
			const cliEnv = {...env, CAIRN_CACHE_DIR: cacheDir, XDG_CACHE_HOME: cacheDir};
			for (const json of [false, true]) {
				const args = ['-r', `local:${repoDir}`, 'snapshots', ...(json ? ['--json'] : [])];
				log(`snapshots: cairn ${args.slice(2).join(' ')}`);
				const result = await timeCommand(method, 'cairn', args, cliEnv, options.runs, cacheDir);
				commands.push(result);
				lines.push({measure: `cli: cairn snapshots${json ? ' --json' : ''} (${options.snapshots} snapshots)`, target: TARGETS.snapshots, figures: result.figures, note: `CPU ${Math.min(...result.cpuSeconds).toFixed(2)} s`});
			}
			if (hasRestic) {
				const result = await timeCommand(method, 'restic', ['-r', repoDir, '--no-lock', 'snapshots', '--json'], env, Math.min(3, options.runs), path.join(workDir, 'cache-restic'));
				commands.push(result);
				lines.push({measure: 'reference: restic snapshots --json', figures: result.figures});
			}
			log(`snapshots: ${options.runs} launches of the app on it`);
			const marks = ['Loading snapshots…', ` snapshots from `];
			const listed = (pane: string): boolean => new RegExp(`${options.snapshots} snapshots? from \\d+ source`).test(pane);
			const home = path.join(workDir, 'home-snapshots');
			await makeHome(home, {location: `local:${repoDir}`});
			for (let i = 0; i < options.runs; i++) {
				// The same home every time: the first run fills the local cache, the later ones use it.
				await fs.rm(path.join(home, 'probe.json'), {force: true});
				addApp('snapshots', await runApp(home, marks, [
					{name: 'list shown', until: listed},
					// The pane shows the same list before and after: follow the probe.
					{name: 'list read again', keys: ['R'], until: (pane, probe) => (probe?.marks['Loading snapshots…']?.length ?? 0) >= 2 && (probe?.marks[' snapshots from ']?.length ?? 0) >= 2},
				]));
			}
			const runs = apps.snapshots!;
			lines.push({measure: `app: launch → ${options.snapshots} snapshots listed (pane)`, figures: summarize(runs.map((r) => r.pane['list shown']!))});
			lines.push({measure: 'app: snapshot screen shown → list drawn (in the process)', target: TARGETS.snapshots, figures: summarize(runs.map((r) => first(r, ' snapshots from ') - first(r, 'Loading snapshots…')))});
			lines.push({measure: 'app: CPU time from the snapshot screen shown to the list drawn', figures: summarize(runs.map((r) => r.cpu[' snapshots from ']! - r.cpu['Loading snapshots…']!))});
			lines.push({measure: 'app: R (read again) → list drawn (in the process)', target: TARGETS.snapshots, figures: summarize(runs.map((r) => after(r, ' snapshots from ', nth(r, 'Loading snapshots…', 1)) - nth(r, 'Loading snapshots…', 1)))});
		}

		if (options.only.has('ls')) {
			const repoDir = path.join(workDir, 'repo-directory');
			const idFile = path.join(workDir, 'repo-directory.snapshot');
			if (!existsSync(idFile)) {
				log(`ls: writing a snapshot with a directory of ${options.entries} entries`);
				await fs.rm(repoDir, {recursive: true, force: true});
				await fs.writeFile(idFile, await makeLargeDirectoryRepository(repoDir, options.entries));
			}
			const id = (await fs.readFile(idFile, 'utf8')).trim();
			const cacheDir = path.join(workDir, 'cache-cli');
			const cliEnv = {...env, CAIRN_CACHE_DIR: cacheDir, XDG_CACHE_HOME: cacheDir};
			for (const flags of [[], ['--long'], ['--json']]) {
				const args = ['-r', `local:${repoDir}`, 'ls', ...flags, id, '/data/big'];
				log(`ls: cairn ls ${flags.join(' ')}`);
				const result = await timeCommand(method, 'cairn', args, cliEnv, options.runs, cacheDir);
				commands.push(result);
				lines.push({measure: `cli: cairn ls ${flags.length > 0 ? flags.join(' ') + ' ' : ''}of ${options.entries} entries`, target: TARGETS.ls, figures: result.figures, note: `CPU ${Math.min(...result.cpuSeconds).toFixed(2)} s`});
			}
			if (hasRestic) {
				const result = await timeCommand(method, 'restic', ['-r', repoDir, '--no-lock', 'ls', id, '/data/big'], env, Math.min(3, options.runs), path.join(workDir, 'cache-restic'));
				commands.push(result);
				lines.push({measure: 'reference: restic ls', figures: result.figures});
			}
			log(`ls: ${options.runs} launches of the app, opening the directory`);
			const opened = `/data/big  ·  ${options.entries} entries`;
			const home = path.join(workDir, 'home-directory');
			await makeHome(home, {location: `local:${repoDir}`});
			for (let i = 0; i < options.runs; i++) {
				await fs.rm(path.join(home, 'probe.json'), {force: true});
				addApp('ls', await runApp(home, ['/data/big  ·  loading…', opened], [
					{name: 'snapshot listed', until: (pane) => /1 snapshot from 1 source/.test(pane)},
					{name: 'browser', keys: ['Enter'], until: (pane) => pane.includes('/data  ·  1 entry')},
					{name: 'directory listed', keys: ['Enter'], until: (pane) => pane.includes(opened)},
				]));
			}
			const runs = apps.ls!;
			lines.push({measure: `app: Enter on the directory → ${options.entries} entries listed (pane)`, target: TARGETS.ls, figures: summarize(runs.map((r) => r.pane['directory listed (from the key)']!))});
			lines.push({measure: 'app: directory opened → listed (in the process)', figures: summarize(runs.map((r) => first(r, opened) - first(r, '/data/big  ·  loading…')))});
			lines.push({measure: 'app: CPU time from the directory opened to listed (all threads)', figures: summarize(runs.map((r) => r.cpu[opened]! - r.cpu['/data/big  ·  loading…']!))});
		}
	} finally {
		if (!options.keep && options.work === undefined) await fs.rm(workDir, {recursive: true, force: true});
		else log(`kept ${workDir}`);
	}
	const loadAfter = readLoad();

	process.stdout.write(`\n${'measure'.padEnd(58)} ${'best'.padStart(9)} ${'median'.padStart(9)} ${'cold'.padStart(9)}  target\n`);
	for (const line of lines) process.stdout.write(formatLine(line) + '\n');
	process.stdout.write(`\n${options.runs} runs each; cold = the first run (empty local cache); the app ${bundled ? 'bundled' : 'NOT bundled (from its modules)'}; load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')} (${os.cpus().length} cores)\n`);
	const file = await writeResults(path.join(projectRoot, 'bench', 'results', 'ui'), {
		date: new Date().toISOString(),
		machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMib: Math.round(os.totalmem() / 1024 / 1024), kernel: os.release(), platform: os.platform(), loadBefore, loadAfter},
		versions: {node: process.version},
		appBundled: bundled,
		sources: readGitState(projectRoot),
		method: {
			pane: `tmux ${COLUMNS}x${ROWS}, the pane polled with capture-pane as fast as tmux answers; times from sending Enter on the command line (or the key) until the text is on the pane`,
			process: 'bench/ui-probe.ts preloaded with --import: performance.now() (ms since the process started) of the first write holding each mark',
			cli: 'wall time from spawn to exit, output to a pipe; CPU and peak RSS from GNU time (rusage)',
			cache: 'the first run of each measure starts with an empty local cache (cold), later runs use it (warm)',
			homes: 'each app run has HOME and the XDG directories in the work dir; startup runs start from an empty home each',
		},
		options: {runs: options.runs, snapshots: options.snapshots, entries: options.entries, only: [...options.only]},
		targetsMs: TARGETS,
		table: lines,
		commands,
		apps,
	});
	process.stdout.write(`results written to ${path.relative(projectRoot, file)}\n`);
	return 0;
}

// Run only as the script itself: bench/listing.ts imports the repository makers.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main().then((code) => {
		process.exitCode = code;
	}, (error: unknown) => {
		log(`ui bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
		process.exitCode = 1;
	});
}
