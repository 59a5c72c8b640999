/**
 * The benchmark: times cairn and restic on the same corpus of real files, in the same run.
 *
 *   npm run bench -- [--size-mib N] [--corpus DIR] [--keep] [--only cairn|restic] [--rounds N]
 *
 * For each round, each tool runs: init (untimed), backup into the fresh repository, backup of
 * the unchanged tree, restore of the latest snapshot into an empty directory, and then the
 * restored tree is checked against the corpus (untimed).
 *
 * Fairness without dropping the page cache (which needs privileges): the corpus is read once
 * before anything is timed, so every run starts from a warm cache; `sync` runs before each
 * timed command so that earlier writes are not flushed during it; the order of the tools
 * alternates between rounds (cairn first in odd rounds, restic first in even ones); and of the
 * rounds (default 2) the lowest wall time of each measure is kept, with the CPU times of that
 * same run, while the peak RSS is the highest seen. See measure.ts for how CPU time and peak
 * RSS of a child are obtained. CPU used by other processes during each run is recorded and
 * flagged, since it skews wall times: run the benchmark on an otherwise idle machine.
 *
 * Results are printed as tables and written to bench/results/<date>.json.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, promises as fs} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describeZstd} from '../engine/format/compression.js';
import {prepareCorpus, type Corpus} from './corpus.js';
import {chooseSample, hashFiles, takeInventory, warmUp, type Inventory} from './inventory.js';
import {detectMeasureMethod, runMeasured, type MeasureMethod} from './measure.js';
import {parseOptions, USAGE, type BenchOptions} from './options.js';
import {buildTable, formatCpuTable, formatTable, type MeasureName, type RunRecord} from './report.js';
import {createCairn, createRestic, findSummary, type Invocation, type RunPaths, type Tool} from './tools.js';
import {verifyRestore, type Verification} from './verify.js';
import {writeResults} from './results.js';
import {copyBuild, readGitState} from './build-copy.js';

/** Cores' worth of CPU used by other processes during a run above which the run is flagged. */
const BUSY_MACHINE = 0.2;

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

function formatMib(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Flushes dirty pages so that earlier writes are not written back during a timed run. */
function syncDisks(): void {
	spawnSync('sync', [], {stdio: 'ignore'});
}

/** Runs an untimed setup command; throws with its output when it fails. */
function runSetup(tool: Tool, invocation: Invocation): void {
	const result = spawnSync(invocation.command, invocation.args, {env: tool.env, encoding: 'utf8'});
	if (result.error || result.status !== 0) {
		throw new Error(`${tool.name} ${invocation.args.join(' ')} failed (exit ${result.status}): ${result.error?.message ?? result.stderr.trim().slice(-2000)}`);
	}
}

interface Context {
	options: BenchOptions;
	method: MeasureMethod;
	workDir: string;
	corpus: Corpus;
	inventory: Inventory;
	sampleHashes: Map<string, string>;
	runs: RunRecord[];
	verifications: Array<{round: number; tool: string} & Verification>;
	repoSizes: Array<{round: number; tool: string; bytes: number; files: number}>;
}

/** Runs and records one timed command. */
async function timeCommand(ctx: Context, tool: Pick<Tool, 'name' | 'env'> | {name: 'floor'; env: NodeJS.ProcessEnv}, round: number, measure: MeasureName, invocation: Invocation): Promise<void> {
	syncDisks();
	const result = await runMeasured(invocation.command, invocation.args, {env: tool.env, method: ctx.method});
	if (result.exitCode !== 0) {
		throw new Error(`${tool.name} ${measure} failed (exit ${result.exitCode}):\n${result.stderr.trim().slice(-4000)}`);
	}
	const summary = findSummary(result.stdout);
	ctx.runs.push({round, tool: tool.name, measure, wallSeconds: result.wallSeconds, userSeconds: result.userSeconds, systemSeconds: result.systemSeconds, peakRssKib: result.peakRssKib, otherCpuSeconds: result.otherCpuSeconds, summary});
	const others = result.otherCpuSeconds === undefined ? 0 : result.otherCpuSeconds / result.wallSeconds;
	log(`  ${tool.name} ${measure}: ${result.wallSeconds.toFixed(2)} s wall, ${result.userSeconds.toFixed(2)} s user, ${result.systemSeconds.toFixed(2)} s sys, peak RSS ${(result.peakRssKib / 1024).toFixed(0)} MiB${others >= BUSY_MACHINE ? ` (warning: other processes kept ${others.toFixed(2)} cores busy)` : ''}`);
}

/** One tool's sequence for one round: init, two backups, restore, check. */
async function runSequence(ctx: Context, tool: Tool, round: number): Promise<void> {
	const base = path.join(ctx.workDir, `round${round}-${tool.name}`);
	const paths: RunPaths = {repo: path.join(base, 'repo'), cache: path.join(base, 'cache')};
	const target = path.join(base, 'restore');
	await fs.mkdir(base, {recursive: true});
	runSetup(tool, tool.init(paths));
	await timeCommand(ctx, tool, round, 'backup-initial', tool.backup(paths, ctx.corpus.dataDir));
	await timeCommand(ctx, tool, round, 'backup-unchanged', tool.backup(paths, ctx.corpus.dataDir));
	const repo = await takeInventory(paths.repo);
	ctx.repoSizes.push({round, tool: tool.name, bytes: repo.bytes, files: repo.files.size});
	log(`  ${tool.name} repository: ${formatMib(repo.bytes)} in ${repo.files.size} files`);
	await fs.mkdir(target);
	await timeCommand(ctx, tool, round, 'restore', tool.restore(paths, target));
	// Both tools restore a snapshot's absolute paths below the target.
	const verification = await verifyRestore(path.join(target, ctx.corpus.dataDir), ctx.inventory, ctx.sampleHashes);
	ctx.verifications.push({round, tool: tool.name, ...verification});
	log(`  ${tool.name} restored tree: ${verification.ok ? 'matches' : 'DIFFERS from'} the corpus (${verification.files} files, ${verification.symlinks} symlinks, ${verification.hashed} hashed)`);
	for (const problem of verification.problems) log(`    ${problem}`);
	if (!ctx.options.keep) await fs.rm(base, {recursive: true, force: true});
}

/**
 * The floors of one round: what plain system tools take for the same work, so that ratios show
 * how far is left. A first backup's floor reads every file and compresses the stream with zstd
 * level 1 on every core (`tar -c | zstd -1 -T0 > /dev/null`); a restore's copies the tree
 * (`cp -a` into an empty directory).
 */
async function runFloors(ctx: Context, round: number): Promise<void> {
	const floor = {name: 'floor' as const, env: process.env};
	const source = ctx.corpus.dataDir;
	await timeCommand(ctx, floor, round, 'backup-initial', {command: 'sh', args: ['-c', 'tar -cf - -C "$1" . | zstd -1 -T0 -q > /dev/null', 'floor', source]});
	const target = path.join(ctx.workDir, `round${round}-floor`);
	await fs.mkdir(target, {recursive: true});
	await timeCommand(ctx, floor, round, 'restore', {command: 'cp', args: ['-a', source, path.join(target, 'copy')]});
	await fs.rm(target, {recursive: true, force: true});
}

async function main(): Promise<number> {
	let options: BenchOptions;
	try {
		options = parseOptions(process.argv.slice(2));
	} catch (error) {
		log(`${(error as Error).message}\n\n${USAGE}`);
		return 2;
	}
	if (options.help) {
		process.stdout.write(USAGE);
		return 0;
	}
	if (!existsSync(path.join(projectRoot, 'dist', 'source', 'cli.js'))) throw new Error('dist/source/cli.js is missing: build first (npm run build)');
	const method = detectMeasureMethod();
	const gitState = readGitState(projectRoot);

	const ownWorkDir = options.work === undefined;
	const workDir = options.work ? path.resolve(options.work) : await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-bench-'));
	await fs.mkdir(workDir, {recursive: true});
	const corpusDir = options.corpus ? path.resolve(options.corpus) : path.join(workDir, 'corpus');
	const buildDir = path.join(workDir, 'cairn-build');
	log(`work dir ${workDir}; CPU time and peak RSS via ${method === 'gnu-time' ? '/usr/bin/time (wait4 rusage)' : 'polling /proc/<pid>'}`);
	let corpusReused = false;
	try {
		const tools: Tool[] = [];
		for (const name of options.tools) tools.push(name === 'cairn' ? createCairn(await copyBuild(projectRoot, buildDir)) : createRestic());
		const versions = Object.fromEntries(tools.map((tool) => [tool.name, tool.version()]));
		log(`${Object.values(versions).join('; ')}; sources at ${gitState.commit?.slice(0, 12) ?? 'unknown commit'}${gitState.changed.length ? ` with ${gitState.changed.length} changed file(s)` : ''}`);
		const buildStarted = performance.now();
		const corpus = await prepareCorpus(corpusDir, {sizeMib: options.sizeMib, seed: options.seed, projectRoot, log});
		corpusReused = !corpus.built;
		if (corpus.built) log(`corpus built in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);
		const inventory = await takeInventory(corpus.dataDir);
		log(`corpus ${corpus.dataDir}: ${inventory.files.size} files, ${inventory.symlinks.size} symlinks, ${inventory.dirs} dirs, ${inventory.bytes} bytes (${formatMib(inventory.bytes)})`);
		const warmStarted = performance.now();
		await warmUp(corpus.dataDir, inventory);
		const sampleHashes = await hashFiles(corpus.dataDir, chooseSample(inventory));
		syncDisks();
		log(`warm-up read of the corpus and sample hashing: ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`);

		const ctx: Context = {options, method, workDir, corpus, inventory, sampleHashes, runs: [], verifications: [], repoSizes: []};
		for (let round = 1; round <= options.rounds; round++) {
			const order = round % 2 === 1 ? tools : [...tools].reverse();
			log(`round ${round}/${options.rounds}: floor`);
			await runFloors(ctx, round);
			for (const tool of order) {
				log(`round ${round}/${options.rounds}: ${tool.name}`);
				await runSequence(ctx, tool, round);
			}
		}

		const table = buildTable(ctx.runs);
		process.stdout.write(`\ncorpus: ${inventory.files.size} files, ${inventory.symlinks.size} symlinks, ${inventory.bytes} bytes (${formatMib(inventory.bytes)}); ${options.rounds} round(s), best wall time kept, peak RSS the highest seen\n\n`);
		process.stdout.write(`${formatTable(table)}\n\n${formatCpuTable(table)}\n\n`);
		const busy = ctx.runs.filter((r) => r.otherCpuSeconds !== undefined && r.otherCpuSeconds / r.wallSeconds >= BUSY_MACHINE);
		if (busy.length > 0) process.stdout.write(`warning: other processes used ${BUSY_MACHINE} cores or more during ${busy.length} of ${ctx.runs.length} runs; wall times are skewed (CPU times less so)\n`);
		const failed = ctx.verifications.filter((v) => !v.ok);
		process.stdout.write(failed.length === 0 ? 'restored trees: all match the corpus\n' : `restored trees: ${failed.length} DIFFER from the corpus (${failed.map((v) => `${v.tool} round ${v.round}`).join(', ')})\n`);

		const file = await writeResults(path.join(projectRoot, 'bench', 'results'), {
			date: new Date().toISOString(),
			machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMib: Math.round(os.totalmem() / 1024 / 1024), kernel: os.release(), platform: os.platform()},
			versions: {...versions, node: process.version, cairnZstd: describeZstd()},
			sources: gitState,
			method: {
				wall: 'monotonic clock from spawn to exit of the child',
				cpuAndPeakRss: method === 'gnu-time' ? '/usr/bin/time -f "%U %S %M" (rusage of the child from wait4)' : 'polling /proc/<pid>/status VmHWM and /proc/<pid>/stat every 20 ms',
				otherCpu: 'CPU seconds other processes used during each run: /proc/stat busy time less the child and the benchmark itself',
				cache: 'corpus read once before timing (warm page cache); sync before each timed command; tool order alternates per round',
				floor: 'per round: first backup = sh -c "tar -cf - -C <corpus> . | zstd -1 -T0 -q > /dev/null"; restore = cp -a <corpus> <empty dir>',
				selection: 'per tool and measure: lowest wall time over the rounds (with that run\'s CPU times); peak RSS is the highest over the rounds',
				settings: 'repository version 2, default compression (auto) and pack size for both; restic uses a private --cache-dir per repository',
			},
			options: {sizeMib: options.sizeMib, rounds: options.rounds, tools: options.tools, seed: options.seed, corpusReused: !corpus.built},
			corpus: {files: inventory.files.size, symlinks: inventory.symlinks.size, dirs: inventory.dirs, bytes: inventory.bytes, manifest: corpus.manifest},
			table,
			runs: ctx.runs,
			repositories: ctx.repoSizes,
			verifications: ctx.verifications,
		});
		process.stdout.write(`results written to ${path.relative(projectRoot, file)}\n`);
		return failed.length === 0 ? 0 : 1;
	} finally {
		if (options.keep) {
			log(`kept ${workDir}`);
		} else if (ownWorkDir && !options.corpus) {
			await fs.rm(workDir, {recursive: true, force: true});
		} else {
			// Remove only what this run made: the round folders, the build copy, and a corpus it built in the work dir.
			for (const name of await fs.readdir(workDir).catch(() => [] as string[])) {
				if (/^round\d+-/.test(name)) await fs.rm(path.join(workDir, name), {recursive: true, force: true});
			}
			await fs.rm(buildDir, {recursive: true, force: true});
			if (!options.corpus && !corpusReused) await fs.rm(corpusDir, {recursive: true, force: true});
			if (ownWorkDir) await fs.rm(workDir, {recursive: true, force: true});
		}
	}
}

main().then((code) => {
	process.exitCode = code;
}, (error: unknown) => {
	log(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
});
