/**
 * The cold snapshot listing: `cairn snapshots` of a repository with 10,000 snapshots and an empty
 * local cache, against `restic snapshots` with an empty `--cache-dir`; also both with their cache
 * warm (filled by the run before).
 *
 *   npm run build && node dist/bench/listing.js [--snapshots N] [--runs N] [--node PATH,PATH]
 *                                              [--work DIR] [--keep] [--no-restic]
 *
 * The repository is written once through the engine (bench/ui.ts's makeSnapshotRepository: one
 * small tree, then the snapshot files) and reused from --work. Each run is a fresh process; a
 * cold run removes the tool's cache directory first. Cold and warm runs of both tools alternate
 * who goes first. cairn runs under each Node given with --node (default: the one running this).
 * Wall time from spawn to exit (output into a pipe), CPU time and peak RSS from GNU time.
 * Results are printed and written to bench/results/listing/<date>.json.
 */
import {existsSync, promises as fs} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {makeSnapshotRepository} from './ui.js';
import {detectMeasureMethod, runMeasured, type MeasureMethod} from './measure.js';
import {writeResults} from './results.js';
import {readGitState} from './build-copy.js';

const PASSWORD = 'listing bench';
const distDir = fileURLToPath(new URL('../', import.meta.url));
let CLI = path.join(distDir, 'source', 'cli.js');
const projectRoot = path.resolve(distDir, '..');

interface Options {
	snapshots: number;
	runs: number;
	nodes: string[];
	work?: string;
	keep: boolean;
	restic: boolean;
	cli?: string;
}

const USAGE = `Usage: node dist/bench/listing.js [options]

Times listing a repository of many snapshots with an empty local cache (cold) and with a
filled one (warm): cairn snapshots against restic snapshots.

Options:
  --snapshots N    snapshots in the repository (default 10000)
  --runs N         runs of each measure; best and median are reported (default 5)
  --node LIST      Node executables to run cairn with, comma separated (default: this one)
  --work DIR       where the repository and caches go; the repository is reused (default: temp dir)
  --keep           keep the work dir
  --no-restic      time cairn only
  --cli PATH       the cairn CLI to time (default: this build's dist/source/cli.js), e.g. an older build
`;

function parseOptions(argv: string[]): Options | undefined {
	const {values} = parseArgs({args: argv, strict: true, options: {
		snapshots: {type: 'string'}, runs: {type: 'string'}, node: {type: 'string'}, work: {type: 'string'},
		keep: {type: 'boolean'}, 'no-restic': {type: 'boolean'}, cli: {type: 'string'}, help: {type: 'boolean', short: 'h'},
	}});
	if (values.help) return undefined;
	const count = (text: string | undefined, fallback: number, name: string): number => {
		if (text === undefined) return fallback;
		const n = Number(text);
		if (!Number.isSafeInteger(n) || n < 1) throw new Error(`invalid --${name} ${JSON.stringify(text)}: give a whole number of at least 1`);
		return n;
	};
	const nodes = (values.node ?? process.execPath).split(',').map((s) => s.trim()).filter(Boolean);
	return {
		snapshots: count(values.snapshots, 10_000, 'snapshots'), runs: count(values.runs, 5, 'runs'), nodes,
		work: values.work, keep: values.keep === true, restic: values['no-restic'] !== true, cli: values.cli,
	};
}

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

/** One measure's runs. */
interface Series {
	measure: string;
	tool: 'cairn' | 'restic';
	node?: string;
	cache: 'cold' | 'warm';
	wallSeconds: number[];
	cpuSeconds: number[];
	/** The user and system parts of the CPU time (system time is mostly the file system's: creating cache files). */
	userSeconds: number[];
	systemSeconds: number[];
	peakRssKib: number[];
	otherCpuSeconds: Array<number | undefined>;
}

interface Figures {
	best: number;
	median: number;
}

function summarize(values: number[]): Figures {
	const sorted = [...values].sort((a, b) => a - b);
	const round = (n: number): number => Math.round(n * 1000) / 1000;
	return {best: round(sorted[0]!), median: round(sorted[Math.floor((sorted.length - 1) / 2)]!)};
}

function readVersion(command: string, args: string[]): string {
	const result = spawnSync(command, args, {encoding: 'utf8'});
	return result.status === 0 ? result.stdout.trim() : `unknown (${command} ${args.join(' ')} failed)`;
}

/** The command of one run: cairn (under `node`) or restic, listing with `cacheDir`. */
function commandOf(series: Series, repo: string, cacheDir: string): [string, string[]] {
	if (series.tool === 'cairn') return [series.node!, [CLI, '-r', `local:${repo}`, '--cache-dir', cacheDir, 'snapshots']];
	return ['restic', ['-r', repo, '--cache-dir', cacheDir, '--no-lock', 'snapshots']];
}

async function runOnce(method: MeasureMethod, series: Series, repo: string, cacheDir: string, env: NodeJS.ProcessEnv, expectLines: number): Promise<void> {
	if (series.cache === 'cold') await fs.rm(cacheDir, {recursive: true, force: true});
	const [command, args] = commandOf(series, repo, cacheDir);
	const result = await runMeasured(command, args, {env, method});
	if (result.exitCode !== 0) throw new Error(`${series.measure} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-2000)}`);
	// The tail kept of stdout is enough to see the last snapshot's line; both tools print a count at the end.
	if (!new RegExp(`\\b${expectLines} snapshots\\b`).test(result.stdout)) {
		throw new Error(`${series.measure}: the output does not end with "${expectLines} snapshots": ${result.stdout.trim().slice(-300)}`);
	}
	series.wallSeconds.push(result.wallSeconds);
	series.cpuSeconds.push(result.userSeconds + result.systemSeconds);
	series.userSeconds.push(result.userSeconds);
	series.systemSeconds.push(result.systemSeconds);
	series.peakRssKib.push(result.peakRssKib);
	series.otherCpuSeconds.push(result.otherCpuSeconds);
}

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2));
	if (!options) {
		process.stdout.write(USAGE);
		return 0;
	}
	if (options.cli !== undefined) CLI = path.resolve(options.cli);
	if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
	const method = detectMeasureMethod();
	const workDir = options.work ?? await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-listing-bench-'));
	const repo = path.join(workDir, `repo-${options.snapshots}`);
	const done = path.join(repo, '.bench-complete');
	if (!existsSync(done)) {
		log(`writing a repository of ${options.snapshots} snapshots into ${repo}`);
		await fs.rm(repo, {recursive: true, force: true});
		await makeSnapshotRepository(repo, options.snapshots, PASSWORD);
		await fs.writeFile(done, '');
	}
	const base: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CAIRN_') && !key.startsWith('RESTIC_')) base[key] = value;
	const env = {...base, CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};

	const series: Series[] = [];
	const make = (tool: 'cairn' | 'restic', cache: 'cold' | 'warm', node?: string): Series => {
		const label = tool === 'cairn' ? `cairn snapshots (node ${readVersion(node!, ['--version'])})` : 'restic snapshots';
		const s: Series = {measure: `${label}, ${cache} cache`, tool, node, cache, wallSeconds: [], cpuSeconds: [], userSeconds: [], systemSeconds: [], peakRssKib: [], otherCpuSeconds: []};
		series.push(s);
		return s;
	};
	const tools: Array<{cold: Series; warm: Series; cacheDir: string}> = options.nodes.map((node, i) => ({cold: make('cairn', 'cold', node), warm: make('cairn', 'warm', node), cacheDir: path.join(workDir, `cache-cairn-${i}`)}));
	if (options.restic) tools.push({cold: make('restic', 'cold'), warm: make('restic', 'warm'), cacheDir: path.join(workDir, 'cache-restic')});
	const loadBefore = os.loadavg();
	try {
		for (let round = 0; round < options.runs; round++) {
			const order = round % 2 === 0 ? tools : [...tools].reverse();
			for (const tool of order) {
				log(`round ${round + 1}: ${tool.cold.measure}`);
				await runOnce(method, tool.cold, repo, tool.cacheDir, env, options.snapshots);
				log(`round ${round + 1}: ${tool.warm.measure}`);
				await runOnce(method, tool.warm, repo, tool.cacheDir, env, options.snapshots);
			}
		}
	} finally {
		if (!options.keep && options.work === undefined) await fs.rm(workDir, {recursive: true, force: true});
		else log(`kept ${workDir}`);
	}
	const loadAfter = os.loadavg();

	const resticOf = (cache: 'cold' | 'warm'): Series | undefined => series.find((s) => s.tool === 'restic' && s.cache === cache);
	const table = series.map((s) => {
		const wall = summarize(s.wallSeconds);
		const cpu = summarize(s.cpuSeconds);
		const user = summarize(s.userSeconds);
		const system = summarize(s.systemSeconds);
		const restic = s.tool === 'cairn' ? resticOf(s.cache) : undefined;
		const ratio = restic ? {wall: Math.round(wall.best / summarize(restic.wallSeconds).best * 100) / 100, cpu: Math.round(cpu.best / summarize(restic.cpuSeconds).best * 100) / 100} : undefined;
		return {measure: s.measure, wall, cpu, user, system, peakRssMib: Math.round(Math.max(...s.peakRssKib) / 1024), ratioToRestic: ratio};
	});
	process.stdout.write(`\n${'measure'.padEnd(48)} ${'wall best'.padStart(9)} ${'median'.padStart(7)} ${'CPU best'.padStart(9)} ${'median'.padStart(7)} ${'user'.padStart(6)} ${'sys'.padStart(6)} ${'RSS MiB'.padStart(8)}  cairn/restic (wall, CPU)\n`);
	for (const line of table) {
		const ratio = line.ratioToRestic ? `${line.ratioToRestic.wall.toFixed(2)}, ${line.ratioToRestic.cpu.toFixed(2)}` : '';
		process.stdout.write(`${line.measure.padEnd(48)} ${line.wall.best.toFixed(3).padStart(9)} ${line.wall.median.toFixed(3).padStart(7)} ${line.cpu.best.toFixed(2).padStart(9)} ${line.cpu.median.toFixed(2).padStart(7)} ${line.user.best.toFixed(2).padStart(6)} ${line.system.best.toFixed(2).padStart(6)} ${String(line.peakRssMib).padStart(8)}  ${ratio}\n`);
	}
	process.stdout.write(`\n${options.runs} runs each (seconds); load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, after ${loadAfter.map((n) => n.toFixed(2)).join(' ')} (${os.cpus().length} cores)\n`);
	const file = await writeResults(path.join(projectRoot, 'bench', 'results', 'listing'), {
		date: new Date().toISOString(),
		machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMib: Math.round(os.totalmem() / 1024 / 1024), kernel: os.release(), loadBefore, loadAfter},
		versions: {restic: options.restic ? readVersion('restic', ['version']) : undefined, nodes: options.nodes.map((node) => ({path: node, version: readVersion(node, ['--version'])}))},
		sources: readGitState(projectRoot),
		cairnCli: CLI,
		method: {
			repository: 'bench/ui.ts makeSnapshotRepository: one small tree, then the snapshot files (varied times, hosts, paths, tags; half with a summary)',
			cold: 'the tool\'s cache directory is removed before the run (cairn --cache-dir, restic --cache-dir)',
			warm: 'right after the cold run, with the cache it filled',
			timing: 'wall from spawn to exit, output into a pipe; CPU (user+sys) and peak RSS from GNU time; tools alternate order per round',
			commands: {cairn: 'node dist/source/cli.js -r local:REPO --cache-dir DIR snapshots', restic: 'restic -r REPO --cache-dir DIR --no-lock snapshots'},
		},
		options: {snapshots: options.snapshots, runs: options.runs},
		table,
		series,
	});
	process.stdout.write(`results written to ${path.relative(projectRoot, file)}\n`);
	return 0;
}

main().then((code) => {
	process.exitCode = code;
}, (error: unknown) => {
	log(`listing bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
	process.exitCode = 1;
});
