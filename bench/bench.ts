/**
 * The benchmark: times cairn and restic on the same corpora, in the same run (issue 14's
 * "How to measure honestly").
 *
 *   npm run bench -- [--corpus-kind small,files,large,system] [--rounds N] [--taskset CPUS]
 *                    [--runtimes node,PATH] [--size-mib N] [--file-counts N,N] [--large-mib N] ...
 *
 * Corpora and cases: see corpora.ts. For each case and round: the floors (what plain system
 * tools take for the same work: `tar -c | zstd -1 -T0 > /dev/null`, `ls -lR`, `cp -a`, or
 * `dd conv=fsync` for the 2 GiB restore), then each tool in turn: init (untimed), backup into
 * the fresh repository, backup of the unchanged tree, restore of the latest snapshot into an
 * empty directory (as the case's measures say), and a check of the restored tree against the
 * corpus (untimed).
 *
 * Fairness without dropping the page cache (which needs privileges): each case's files are
 * read once before anything is timed, so every run starts from a warm cache; `sync` runs
 * before each timed command so that earlier writes are not flushed during it; the order of the
 * tools alternates between rounds; of the rounds (default 3) the lowest wall time of each
 * measure is kept, with the CPU times of that same run, while the peak RSS is the highest
 * seen. With --taskset, every timed command (tools and floors) runs under `taskset -c`. See
 * measure.ts for how CPU time and peak RSS of a child are obtained.
 *
 * Results: bench/results/<date>-<corpus>.json per corpus kind, and bench/results/<date>.md, the
 * issue's targets table (measure | cairn/restic | target | met?) with the cost per file of the
 * generated trees. With --taskset the names end in `-taskset-<cpus>`.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, promises as fs} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describeZstd} from '../engine/format/compression.js';
import {prepareCases, type BenchCase} from './corpora.js';
import {chooseSample, hashFiles, takeInventory, warmUp, type Inventory} from './inventory.js';
import {detectMeasureMethod, runMeasured, type MeasureMethod} from './measure.js';
import {parseOptions, USAGE, type BenchOptions, type CorpusKind} from './options.js';
import {buildTable, costPerFile, formatCpuTable, formatTable, type MeasureName, type RunRecord, type TableRow} from './report.js';
import {checkTargets, compareAffinity, formatFileCosts, formatTargets, type CaseSummary} from './targets.js';
import {createCairn, createRestic, findSummary, nameCairnRunner, readNodeVersion, type Invocation, type RunPaths, type Tool} from './tools.js';
import {mergeVerifications, verifyRestore, type Verification} from './verify.js';
import {readLatestResults, writeResults} from './results.js';
import {copyBuild, readGitState} from './build-copy.js';

/** Cores' worth of CPU used by other processes during a run above which the run is flagged. */
const BUSY_MACHINE = 0.2;
const MIB = 1024 * 1024;

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

function formatMib(bytes: number): string {
	return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** Flushes dirty pages so that earlier writes are not written back during a timed run. */
function syncDisks(): void {
	spawnSync('sync', [], {stdio: 'ignore'});
}

/** Runs an untimed setup command; throws with its output when it fails. */
function runSetup(tool: Tool, invocation: Invocation): void {
	const result = spawnSync(invocation.command, invocation.args, {env: tool.env, encoding: 'utf8', maxBuffer: 256 * MIB});
	if (result.error || result.status !== 0) {
		throw new Error(`${tool.name} ${invocation.args.join(' ')} failed (exit ${result.status}): ${result.error?.message ?? result.stderr.trim().slice(-2000)}`);
	}
}

/** What one folder of a case holds, read before timing. */
interface FolderState {
	path: string;
	inventory: Inventory;
	sampleHashes: Map<string, string>;
}

/** One case's records. */
interface CaseRecord {
	benchCase: BenchCase;
	folders: FolderState[];
	files: number;
	bytes: number;
	runs: RunRecord[];
	verifications: Array<{round: number; tool: string} & Verification>;
	repoSizes: Array<{round: number; tool: string; bytes: number; files: number}>;
}

interface Shared {
	options: BenchOptions;
	method: MeasureMethod;
	workDir: string;
	tools: Tool[];
}

/** The invocation under `taskset -c` when asked for. */
function pin(shared: Shared, invocation: Invocation): Invocation {
	if (shared.options.taskset === undefined) return invocation;
	return {command: 'taskset', args: ['-c', shared.options.taskset, invocation.command, ...invocation.args]};
}

/** Runs and records one timed command. */
async function timeCommand(shared: Shared, record: CaseRecord, runner: {name: string; env: NodeJS.ProcessEnv}, round: number, measure: MeasureName, invocation: Invocation): Promise<void> {
	syncDisks();
	const pinned = pin(shared, invocation);
	const result = await runMeasured(pinned.command, pinned.args, {env: runner.env, method: shared.method});
	if (result.exitCode !== 0) {
		throw new Error(`${runner.name} ${measure} of ${record.benchCase.name} failed (exit ${result.exitCode}):\n${result.stderr.trim().slice(-4000)}`);
	}
	const summary = findSummary(result.stdout);
	record.runs.push({round, tool: runner.name, measure, wallSeconds: result.wallSeconds, userSeconds: result.userSeconds, systemSeconds: result.systemSeconds, peakRssKib: result.peakRssKib, otherCpuSeconds: result.otherCpuSeconds, summary});
	const others = result.otherCpuSeconds === undefined ? 0 : result.otherCpuSeconds / result.wallSeconds;
	log(`  ${runner.name} ${measure}: ${result.wallSeconds.toFixed(2)} s wall, ${result.userSeconds.toFixed(2)} s user, ${result.systemSeconds.toFixed(2)} s sys, peak RSS ${(result.peakRssKib / 1024).toFixed(0)} MiB${others >= BUSY_MACHINE ? ` (warning: other processes kept ${others.toFixed(2)} cores busy)` : ''}`);
}

/** `cmd args...` followed by `sync`, as one command (GNU time then measures both; sync adds no RSS). */
function withSync(invocation: Invocation): Invocation {
	return {command: 'sh', args: ['-c', '"$@" && sync', 'restore-and-sync', invocation.command, ...invocation.args]};
}

/** One tool's sequence for one round: init, backups, restore, check. */
async function runSequence(shared: Shared, record: CaseRecord, tool: Tool, round: number): Promise<void> {
	const {benchCase} = record;
	const base = path.join(shared.workDir, `round${round}-${benchCase.name}-${tool.name}`);
	const paths: RunPaths = {repo: path.join(base, 'repo'), cache: path.join(base, 'cache')};
	const target = path.join(base, 'restore');
	await fs.mkdir(base, {recursive: true});
	try {
		runSetup(tool, tool.init(paths));
		const backup = tool.backup(paths, benchCase.paths);
		if (benchCase.measures.includes('backup-initial')) await timeCommand(shared, record, tool, round, 'backup-initial', backup);
		else runSetup(tool, backup);
		if (benchCase.measures.includes('backup-unchanged')) await timeCommand(shared, record, tool, round, 'backup-unchanged', backup);
		const repo = await takeInventory(paths.repo);
		record.repoSizes.push({round, tool: tool.name, bytes: repo.bytes, files: repo.files.size});
		log(`  ${tool.name} repository: ${formatMib(repo.bytes)} in ${repo.files.size} files`);
		await fs.mkdir(target);
		const restore = tool.restore(paths, target);
		await timeCommand(shared, record, tool, round, 'restore', benchCase.syncAfterRestore ? withSync(restore) : restore);
		// Both tools restore a snapshot's absolute paths below the target.
		const parts: Verification[] = [];
		for (const folder of record.folders) parts.push(await verifyRestore(path.join(target, folder.path), folder.inventory, folder.sampleHashes));
		const verification = mergeVerifications(parts);
		record.verifications.push({round, tool: tool.name, ...verification});
		log(`  ${tool.name} restored tree: ${verification.ok ? 'matches' : 'DIFFERS from'} the corpus (${verification.files} files, ${verification.symlinks} symlinks, ${verification.hashed} hashed)`);
		for (const problem of verification.problems) log(`    ${problem}`);
	} finally {
		if (!shared.options.keep) await fs.rm(base, {recursive: true, force: true});
	}
}

/**
 * The floors of one round: a first backup's reads every file and compresses the stream with
 * zstd level 1 on every core (`tar -c | zstd -1 -T0 > /dev/null`); an unchanged backup's lists
 * the tree with every entry's lstat (`ls -lR > /dev/null`); a restore's copies the tree (`cp -a`
 * into an empty directory) or, for the stream case, writes as many bytes with dd and fsyncs them.
 */
async function runFloors(shared: Shared, record: CaseRecord, round: number): Promise<void> {
	const floor = {name: 'floor', env: process.env};
	const {benchCase} = record;
	const relative = benchCase.paths.map((p) => path.relative('/', p));
	if (benchCase.measures.includes('backup-initial')) {
		await timeCommand(shared, record, floor, round, 'backup-initial', {command: 'sh', args: ['-c', 'tar -cf - -C / "$@" | zstd -1 -T0 -q > /dev/null', 'floor', ...relative]});
	}
	if (benchCase.measures.includes('backup-unchanged')) {
		await timeCommand(shared, record, floor, round, 'backup-unchanged', {command: 'sh', args: ['-c', 'ls -lR --color=never -- "$@" > /dev/null', 'floor', ...benchCase.paths]});
	}
	const target = path.join(shared.workDir, `round${round}-${benchCase.name}-floor`);
	await fs.mkdir(target, {recursive: true});
	try {
		if (benchCase.restoreFloor === 'dd') {
			const mib = Math.max(1, Math.ceil(record.bytes / MIB));
			await timeCommand(shared, record, floor, round, 'restore', {command: 'dd', args: ['if=/dev/zero', `of=${path.join(target, 'dd.bin')}`, 'bs=1M', `count=${mib}`, 'conv=fsync', 'status=none']});
		} else {
			// From / with relative paths: cp --parents copies each parent folder's attributes and needs them relative.
			await timeCommand(shared, record, floor, round, 'restore', {command: 'sh', args: ['-c', 'target="$1"; shift; cd / && exec cp -a --parents -t "$target" -- "$@"', 'floor', target, ...relative]});
		}
	} finally {
		await fs.rm(target, {recursive: true, force: true});
	}
}

/** Reads a case's folders (inventory, warm-up, sample hashes), then runs its rounds. */
async function runCase(shared: Shared, benchCase: BenchCase): Promise<CaseRecord> {
	const started = performance.now();
	const folders: FolderState[] = [];
	for (const folder of benchCase.paths) {
		const inventory = await takeInventory(folder);
		await warmUp(folder, inventory);
		folders.push({path: folder, inventory, sampleHashes: await hashFiles(folder, chooseSample(inventory))});
	}
	const record: CaseRecord = {
		benchCase,
		folders,
		files: folders.reduce((n, f) => n + f.inventory.files.size, 0),
		bytes: folders.reduce((n, f) => n + f.inventory.bytes, 0),
		runs: [],
		verifications: [],
		repoSizes: [],
	};
	const symlinks = folders.reduce((n, f) => n + f.inventory.symlinks.size, 0);
	const dirs = folders.reduce((n, f) => n + f.inventory.dirs, 0);
	syncDisks();
	log(`case ${benchCase.name}: ${record.files} files, ${symlinks} symlinks, ${dirs} dirs, ${formatMib(record.bytes)} in ${benchCase.paths.join(', ')} (read and sampled in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
	const rounds = shared.options.rounds;
	for (let round = 1; round <= rounds; round++) {
		const order = round % 2 === 1 ? shared.tools : [...shared.tools].reverse();
		log(`${benchCase.name} round ${round}/${rounds}: floor`);
		await runFloors(shared, record, round);
		for (const tool of order) {
			log(`${benchCase.name} round ${round}/${rounds}: ${tool.name}`);
			await runSequence(shared, record, tool, round);
		}
	}
	return record;
}

/** Prints one case's tables. */
function printCase(record: CaseRecord, table: TableRow[], rounds: number): void {
	const {benchCase} = record;
	process.stdout.write(`\n== ${benchCase.name}: ${record.files} files, ${record.bytes} bytes (${formatMib(record.bytes)}); ${rounds} round(s), best wall time kept, peak RSS the highest seen\n\n`);
	process.stdout.write(`${formatTable(table)}\n\n${formatCpuTable(table)}\n`);
	if (benchCase.generatedFiles) {
		const initial = table.find((r) => r.measure === 'backup-initial');
		for (const [runner, best] of Object.entries(initial?.best ?? {})) {
			const cost = costPerFile(best, record.files);
			process.stdout.write(`${runner}: ${cost.wallMicros.toFixed(1)} µs of wall time and ${cost.cpuMicros.toFixed(1)} µs of CPU per new file\n`);
		}
	}
	if (benchCase.role === 'stream') {
		const restore = table.find((r) => r.measure === 'restore');
		const floor = restore?.best.floor;
		for (const [runner, best] of Object.entries(restore?.best ?? {})) {
			process.stdout.write(`${runner}: ${(record.bytes / MIB / best.wallSeconds).toFixed(0)} MiB/s${floor && runner !== 'floor' ? `, ${((floor.wallSeconds / best.wallSeconds) * 100).toFixed(0)} % of dd conv=fsync` : ''}\n`);
		}
	}
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
	if (options.taskset !== undefined && spawnSync('taskset', ['-c', options.taskset, 'true']).status !== 0) throw new Error(`taskset -c ${options.taskset} does not run here (is util-linux installed, and are those CPUs online?)`);
	const method = detectMeasureMethod();
	const gitState = readGitState(projectRoot);

	const ownWorkDir = options.work === undefined;
	const workDir = options.work ? path.resolve(options.work) : await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-bench-'));
	await fs.mkdir(workDir, {recursive: true});
	const corpusRoot = options.corpus ? path.resolve(options.corpus) : path.join(workDir, 'corpora');
	await fs.mkdir(corpusRoot, {recursive: true});
	const buildDir = path.join(workDir, 'cairn-build');
	log(`work dir ${workDir}, corpora in ${corpusRoot}; CPU time and peak RSS via ${method === 'gnu-time' ? '/usr/bin/time (wait4 rusage)' : 'polling /proc/<pid>'}${options.taskset === undefined ? '' : `; every timed command under taskset -c ${options.taskset}`}`);
	try {
		const tools: Tool[] = [];
		const runtimes: Array<{runner: string; node: string; version: string}> = [];
		if (options.tools.includes('cairn')) {
			const cli = await copyBuild(projectRoot, buildDir);
			for (const node of options.runtimes) {
				const version = readNodeVersion(node);
				let name = options.runtimes.length === 1 ? 'cairn' : nameCairnRunner(version);
				if (runtimes.some((r) => r.runner === name)) name = `${name}-${runtimes.length + 1}`;
				runtimes.push({runner: name, node, version});
				tools.push(createCairn(cli, node, name));
			}
		}
		if (options.tools.includes('restic')) tools.push(createRestic());
		const versions = Object.fromEntries(tools.map((tool) => [tool.name, tool.version()]));
		log(`${Object.values(versions).join('; ')}; sources at ${gitState.commit?.slice(0, 12) ?? 'unknown commit'}${gitState.changed.length ? ` with ${gitState.changed.length} changed file(s)` : ''}`);
		const shared: Shared = {options, method, workDir, tools};
		const resultsDir = options.results ?? path.join(projectRoot, 'bench', 'results');
		const suffix = options.taskset === undefined ? '' : `-taskset-${options.taskset.replaceAll(',', '_')}`;
		const header = {
			machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMib: Math.round(os.totalmem() / MIB), kernel: os.release(), platform: os.platform(), loadAverage: os.loadavg()},
			versions: {...versions, benchNode: process.version, cairnZstd: describeZstd()},
			runtimes,
			taskset: options.taskset ?? null,
			sources: gitState,
			method: {
				wall: 'monotonic clock from spawn to exit of the child',
				cpuAndPeakRss: method === 'gnu-time' ? '/usr/bin/time -f "%U %S %M" of the whole process (rusage from wait4)' : 'polling /proc/<pid>/status VmHWM and /proc/<pid>/stat every 20 ms',
				otherCpu: 'CPU seconds other processes used during each run: /proc/stat busy time less the child and the benchmark itself',
				cache: 'each case read once before timing (warm page cache); sync before each timed command; tool order alternates per round',
				floor: 'per round: first backup = sh -c "tar -cf - -C / <paths> | zstd -1 -T0 -q > /dev/null"; unchanged = ls -lR <paths> > /dev/null; restore = (cd / && cp -a --parents -t <empty dir> <paths relative to />), or for the stream case dd if=/dev/zero bs=1M count=<size> conv=fsync (its restores are timed with a sync after them)',
				taskset: options.taskset === undefined ? 'none' : `every timed command (tools and floors) under taskset -c ${options.taskset}`,
				selection: 'per runner and measure: lowest wall time over the rounds (with that run\'s CPU times); peak RSS is the highest over the rounds',
				settings: 'repository version 2, default compression (auto) and pack size for both; each run a private --cache-dir',
			},
			options: {...options, help: undefined},
		};

		const summaries: CaseSummary[] = [];
		const failures: string[] = [];
		const written: string[] = [];
		const twoCoreCases: CaseSummary[] = [];
		const twoCoreFiles: string[] = [];
		for (const kind of options.kinds) {
			const cases = await prepareCases(kind, options, corpusRoot, projectRoot, log);
			const records: Array<Record<string, unknown>> = [];
			for (const benchCase of cases) {
				const record = await runCase(shared, benchCase);
				const table = buildTable(record.runs);
				printCase(record, table, options.rounds);
				const busy = record.runs.filter((r) => r.otherCpuSeconds !== undefined && r.otherCpuSeconds / r.wallSeconds >= BUSY_MACHINE);
				if (busy.length > 0) process.stdout.write(`warning: other processes used ${BUSY_MACHINE} cores or more during ${busy.length} of ${record.runs.length} runs; wall times are skewed (CPU times less so)\n`);
				const failed = record.verifications.filter((v) => !v.ok);
				process.stdout.write(failed.length === 0 ? 'restored trees: all match the corpus\n' : `restored trees: ${failed.length} DIFFER from the corpus (${failed.map((v) => `${v.tool} round ${v.round}`).join(', ')})\n`);
				failures.push(...failed.map((v) => `${benchCase.name}: ${v.tool} round ${v.round}`));
				summaries.push({name: benchCase.name, role: benchCase.role, files: record.files, bytes: record.bytes, rows: table, generatedFiles: benchCase.generatedFiles});
				records.push({
					name: benchCase.name,
					role: benchCase.role,
					paths: benchCase.paths,
					measures: benchCase.measures,
					corpus: {files: record.files, bytes: record.bytes, symlinks: record.folders.reduce((n, f) => n + f.inventory.symlinks.size, 0), dirs: record.folders.reduce((n, f) => n + f.inventory.dirs, 0), manifest: benchCase.manifest},
					table,
					runs: record.runs,
					repositories: record.repoSizes,
					verifications: record.verifications,
				});
			}
			if (options.taskset !== undefined) {
				// Before writing this run's file: the newest run of this kind without taskset, for "on one core, no ratio worse than on two".
				const previous = await readLatestResults(resultsDir, kind);
				if (previous) {
					twoCoreFiles.push(path.basename(previous.file));
					twoCoreCases.push(...readCaseSummaries(previous.results));
				}
			}
			written.push(await writeResults(resultsDir, {date: new Date().toISOString(), corpusKind: kind, ...header, cases: records}, `${kind}${suffix}`));
		}

		let markdown = formatSummary(summaries, options, runtimes, header.versions);
		if (options.taskset !== undefined) {
			const affinity = compareAffinity(summaries, twoCoreCases);
			markdown += affinity.length > 0
				? `\nOn CPUs ${options.taskset} only (taskset) against the run without it (${twoCoreFiles.join(', ')}): no ratio worse than there.\n\n${formatTargets(affinity)}\n`
				: `\nNo run of these corpora without taskset found in ${resultsDir} to compare with: run the same command without --taskset first.\n`;
		}
		process.stdout.write(`\n${markdown}\n`);
		written.push(await writeResults(resultsDir, markdown, suffix ? suffix.slice(1) : undefined, 'md'));
		process.stdout.write(`results written to ${written.map((file) => (file.startsWith(projectRoot) ? path.relative(projectRoot, file) : file)).join(', ')}\n`);
		if (failures.length > 0) process.stdout.write(`restored trees that DIFFER from the corpus: ${failures.join('; ')}\n`);
		return failures.length === 0 ? 0 : 1;
	} finally {
		if (options.keep) {
			log(`kept ${workDir}`);
		} else {
			// Remove what this run made: the round folders, the build copy, and corpora it built in its own work dir.
			for (const name of await fs.readdir(workDir).catch(() => [] as string[])) {
				if (/^round\d+-/.test(name)) await fs.rm(path.join(workDir, name), {recursive: true, force: true});
			}
			await fs.rm(buildDir, {recursive: true, force: true});
			if (!options.corpus) await fs.rm(corpusRoot, {recursive: true, force: true});
			if (ownWorkDir) await fs.rm(workDir, {recursive: true, force: true});
		}
	}
}

/** The case summaries of a results file written by this benchmark. */
function readCaseSummaries(results: Record<string, unknown>): CaseSummary[] {
	const cases = Array.isArray(results.cases) ? (results.cases as Array<Record<string, unknown>>) : [];
	return cases.map((c) => {
		const corpus = (c.corpus ?? {}) as {files?: number; bytes?: number};
		return {name: String(c.name), role: c.role as CaseSummary['role'], files: corpus.files ?? 0, bytes: corpus.bytes ?? 0, rows: (c.table ?? []) as TableRow[], generatedFiles: String(c.name).startsWith('files-')};
	});
}

/** The closing summary: how the run was made, the targets table, the cost per file. */
function formatSummary(summaries: readonly CaseSummary[], options: BenchOptions, runtimes: ReadonlyArray<{runner: string; version: string}>, versions: Record<string, unknown>): string {
	const kinds: CorpusKind[] = options.kinds;
	const lines = [
		`# cairn/restic, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
		'',
		`Corpora: ${kinds.join(', ')}; best of ${options.rounds} round(s) (lowest wall time; peak RSS the highest over the rounds, /usr/bin/time -f %M of the whole process); ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / MIB / 1024)} GiB of memory${options.taskset === undefined ? '' : `; every command under taskset -c ${options.taskset}`}.`,
		`Runtimes: ${runtimes.map((r) => `${r.runner} = node ${r.version}`).join(', ') || 'none'}; ${String(versions.restic ?? 'restic not run')}.`,
		'',
		formatTargets(checkTargets(summaries)),
	];
	const costs = formatFileCosts(summaries);
	if (costs) lines.push('', 'Cost per new file (first backup, best run):', '', costs);
	return lines.join('\n') + '\n';
}

main().then((code) => {
	process.exitCode = code;
}, (error: unknown) => {
	log(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
});
