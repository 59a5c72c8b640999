/**
 * Backup and restore through a slow link: both tools against one REST server (`rclone serve
 * restic` on loopback) behind bench/delay-proxy.ts, which delays every chunk by --latency ms in
 * each direction.
 *
 *   npm run build && node dist/bench/link.js [--latency 50] [--files 3000] [--size-mib 32]
 *                                           [--rounds 2] [--only cairn|restic] [--work DIR] [--keep]
 *
 * Corpus (generated into the work dir, reused when there): --files small files (1 to 16 KiB,
 * half of them compressible text, half random bytes) in directories of 100, plus large files (of
 * 4 MiB at most, mixed text and random) until the total is --size-mib. On a slow link the time
 * goes to round trips, so the corpus is modest: what matters is how many requests each tool
 * makes in series and how many it keeps in flight.
 *
 * Per round and tool (the tools alternate who goes first): init (untimed) into a new repository
 * `rest:http://127.0.0.1:PROXY/<tool>-<round>/`, with a new --cache-dir; then timed: the first
 * backup, a backup of the unchanged tree, and a restore of `latest` into an empty directory
 * (compared with the corpus: paths and sizes of every file, bytes of a sample). The best wall
 * time of each measure over the rounds is kept with its CPU time; the highest peak RSS is
 * reported. Results go to bench/results/link/<date>.json.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {createCipheriv, createHash} from 'node:crypto';
import {existsSync, promises as fs} from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {startDelayProxy} from './delay-proxy.js';
import {detectMeasureMethod, runMeasured, type MeasureMethod, type Measurement} from './measure.js';
import {writeResults} from './results.js';
import {readGitState} from './build-copy.js';

const PASSWORD = 'link bench';
const distDir = fileURLToPath(new URL('../', import.meta.url));
let CLI = path.join(distDir, 'source', 'cli.js');
const projectRoot = path.resolve(distDir, '..');
const MEASURES = ['backup', 'unchanged', 'restore'] as const;
type MeasureName = (typeof MEASURES)[number];
type ToolName = 'cairn' | 'restic';

interface Options {
	latency: number;
	files: number;
	sizeMib: number;
	rounds: number;
	tools: ToolName[];
	work?: string;
	keep: boolean;
	cli?: string;
}

const USAGE = `Usage: node dist/bench/link.js [options]

Times cairn and restic backing up and restoring through a link with added latency
(a REST server on loopback behind a TCP delay proxy).

Options:
  --latency MS     added to every chunk in each direction (default 50)
  --files N        small files in the corpus (default 3000)
  --size-mib N     total corpus size in MiB (default 32)
  --rounds N       rounds; the best wall time of each measure is kept (default 2)
  --only TOOL      cairn or restic
  --work DIR       where the corpus, server data and restores go (default: a temp dir)
  --keep           keep the work dir
  --cli PATH       the cairn CLI to time (default: this build's dist/source/cli.js), e.g. an older build
`;

function parseOptions(argv: string[]): Options | undefined {
	const {values} = parseArgs({args: argv, strict: true, options: {
		latency: {type: 'string'}, files: {type: 'string'}, 'size-mib': {type: 'string'}, rounds: {type: 'string'},
		only: {type: 'string'}, work: {type: 'string'}, keep: {type: 'boolean'}, cli: {type: 'string'}, help: {type: 'boolean', short: 'h'},
	}});
	if (values.help) return undefined;
	const count = (text: string | undefined, fallback: number, name: string, min = 1): number => {
		if (text === undefined) return fallback;
		const n = Number(text);
		if (!Number.isSafeInteger(n) || n < min) throw new Error(`invalid --${name} ${JSON.stringify(text)}: give a whole number of at least ${min}`);
		return n;
	};
	if (values.only !== undefined && values.only !== 'cairn' && values.only !== 'restic') throw new Error(`invalid --only ${JSON.stringify(values.only)}: use cairn or restic`);
	return {
		latency: count(values.latency, 50, 'latency', 0), files: count(values.files, 3000, 'files'), sizeMib: count(values['size-mib'], 32, 'size-mib'),
		rounds: count(values.rounds, 2, 'rounds'), tools: values.only ? [values.only as ToolName] : ['cairn', 'restic'],
		work: values.work, keep: values.keep === true, cli: values.cli,
	};
}

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Corpus

/** A keystream of AES-256-CTR under a key made from `seed`: reproducible incompressible bytes. */
function randomStream(seed: string): (length: number) => Buffer {
	const key = createHash('sha256').update(seed).digest();
	const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
	return (length) => cipher.update(Buffer.alloc(length));
}

function textBytes(length: number, seed: number): Buffer {
	const line = `line ${seed} of the generated corpus: the quick brown fox jumps over the lazy dog ${seed * 7919}\n`;
	return Buffer.from(line.repeat(Math.ceil(length / line.length)).slice(0, length));
}

/** Writes the corpus into `dir` (once: a marker file records the parameters). Returns its byte count. */
async function makeCorpus(dir: string, files: number, sizeMib: number): Promise<{files: number; bytes: number}> {
	const marker = path.join(dir, '..', `corpus-${files}-${sizeMib}.done`);
	if (existsSync(marker)) return JSON.parse(await fs.readFile(marker, 'utf8')) as {files: number; bytes: number};
	await fs.rm(dir, {recursive: true, force: true});
	const random = randomStream(`link bench ${files} ${sizeMib}`);
	let bytes = 0;
	let count = 0;
	for (let i = 0; i < files; i++) {
		const sub = path.join(dir, 'small', `d${String(Math.floor(i / 100)).padStart(3, '0')}`);
		if (i % 100 === 0) await fs.mkdir(sub, {recursive: true});
		const size = 1024 + ((i * 2654435761) >>> 0) % (15 * 1024);
		const body = i % 2 === 0 ? textBytes(size, i) : random(size);
		await fs.writeFile(path.join(sub, `f${i}.${i % 2 === 0 ? 'txt' : 'bin'}`), body);
		bytes += size;
		count++;
	}
	await fs.mkdir(path.join(dir, 'large'), {recursive: true});
	const target = sizeMib * 1024 * 1024;
	for (let i = 0; bytes < target; i++) {
		const size = Math.min(4 * 1024 * 1024, target - bytes);
		const half = Math.floor(size / 2);
		await fs.writeFile(path.join(dir, 'large', `blob${i}.img`), Buffer.concat([textBytes(half, 100_000 + i), random(size - half)]));
		bytes += size;
		count++;
	}
	const info = {files: count, bytes};
	await fs.writeFile(marker, JSON.stringify(info));
	return info;
}

/** Every regular file below `dir` with its size, by path relative to `dir`. */
async function listTree(dir: string): Promise<Map<string, number>> {
	const out = new Map<string, number>();
	for (const entry of await fs.readdir(dir, {recursive: true, withFileTypes: true})) {
		if (!entry.isFile()) continue;
		const full = path.join(entry.parentPath, entry.name);
		out.set(path.relative(dir, full), (await fs.stat(full)).size);
	}
	return out;
}

/** Compares a restore with the corpus: every path and size, and the bytes of every 37th file. */
async function verifyRestore(corpus: string, restored: string): Promise<string | undefined> {
	const want = await listTree(corpus);
	const got = await listTree(restored);
	if (want.size !== got.size) return `${got.size} files restored, the corpus has ${want.size}`;
	let i = 0;
	for (const [name, size] of want) {
		if (got.get(name) !== size) return `${name}: size ${got.get(name)} restored, ${size} in the corpus`;
		if (i++ % 37 === 0 && !(await fs.readFile(path.join(corpus, name))).equals(await fs.readFile(path.join(restored, name)))) return `${name}: contents differ`;
	}
	return undefined;
}

// ---------------------------------------------------------------------------------------------
// Server

async function findFreePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
	const deadline = Date.now() + 20_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`rclone serve restic exited (${child.exitCode}) before it listened`);
		const ok = await new Promise<boolean>((resolve) => {
			const socket = net.connect({host: '127.0.0.1', port}, () => {
				socket.destroy();
				resolve(true);
			});
			socket.on('error', () => resolve(false));
		});
		if (ok) return;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`rclone serve restic did not listen on port ${port} within 20 s`);
}

/** `rclone serve restic` over `root` on a free loopback port. */
async function startRestServer(root: string): Promise<{port: number; stop: () => Promise<void>}> {
	await fs.mkdir(root, {recursive: true});
	const port = await findFreePort();
	const child = spawn('rclone', ['serve', 'restic', '--addr', `127.0.0.1:${port}`, root], {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => {
		stderr = (stderr + chunk.toString()).slice(-4000);
	});
	try {
		await waitForPort(port, child);
	} catch (error) {
		child.kill();
		throw new Error(`${(error as Error).message}: ${stderr.trim()}`);
	}
	return {
		port,
		stop: () => new Promise<void>((resolve) => {
			if (child.exitCode !== null) return resolve();
			child.once('exit', () => resolve());
			child.kill('SIGTERM');
		}),
	};
}

// ---------------------------------------------------------------------------------------------
// Tools

interface Invocation {
	command: string;
	args: string[];
}

function toolCommands(tool: ToolName, url: string, cache: string): Record<'init' | 'backup' | 'restore', (arg: string) => Invocation> {
	if (tool === 'cairn') {
		const cli = (...args: string[]): Invocation => ({command: process.execPath, args: [CLI, '-r', `rest:${url}`, '--cache-dir', cache, ...args]});
		return {
			init: () => cli('init', '--repository-version', '2', '--quiet'),
			backup: (source) => cli('backup', '--json', source),
			restore: (target) => cli('restore', 'latest', '--target', target, '--json'),
		};
	}
	const restic = (...args: string[]): Invocation => ({command: 'restic', args: ['-r', `rest:${url}`, '--cache-dir', cache, ...args]});
	return {
		init: () => restic('init', '--repository-version', '2', '--quiet'),
		backup: (source) => restic('backup', '--json', source),
		restore: (target) => restic('restore', 'latest', '--target', target),
	};
}

function readVersion(command: string, args: string[]): string {
	const result = spawnSync(command, args, {encoding: 'utf8'});
	return result.status === 0 ? result.stdout.trim() : 'unknown';
}

interface Run {
	tool: ToolName;
	round: number;
	measure: MeasureName;
	wallSeconds: number;
	cpuSeconds: number;
	peakRssKib: number;
	otherCpuSeconds?: number;
}

async function runStep(method: MeasureMethod, env: NodeJS.ProcessEnv, what: string, invocation: Invocation): Promise<Measurement> {
	spawnSync('sync');
	const result = await runMeasured(invocation.command, invocation.args, {env, method});
	if (result.exitCode !== 0) throw new Error(`${what} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-2000)}`);
	return result;
}

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2));
	if (!options) {
		process.stdout.write(USAGE);
		return 0;
	}
	if (options.cli !== undefined) CLI = path.resolve(options.cli);
	if (options.tools.includes('cairn') && !existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
	const method = detectMeasureMethod();
	const workDir = options.work ?? await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-link-bench-'));
	const corpusDir = path.join(workDir, 'corpus');
	log(`corpus: ${options.files} small files, ${options.sizeMib} MiB in all, in ${corpusDir}`);
	const corpus = await makeCorpus(corpusDir, options.files, options.sizeMib);
	const serverRoot = path.join(workDir, 'server');
	await fs.rm(serverRoot, {recursive: true, force: true});
	const server = await startRestServer(serverRoot);
	const proxy = await startDelayProxy({targetHost: '127.0.0.1', targetPort: server.port, latencyMs: options.latency});
	log(`rclone serve restic on port ${server.port}, delay proxy (${options.latency} ms each way) on port ${proxy.port}`);
	const base: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CAIRN_') && !key.startsWith('RESTIC_')) base[key] = value;
	const env = {...base, CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};
	const runs: Run[] = [];
	const verification: Array<{tool: ToolName; round: number; problem?: string}> = [];
	const loadBefore = os.loadavg();
	try {
		for (let round = 1; round <= options.rounds; round++) {
			const order = round % 2 === 1 ? options.tools : [...options.tools].reverse();
			for (const tool of order) {
				const name = `${tool}-${round}`;
				const url = `http://127.0.0.1:${proxy.port}/${name}/`;
				const cache = path.join(workDir, 'caches', name);
				const target = path.join(workDir, 'restores', name);
				await fs.rm(cache, {recursive: true, force: true});
				await fs.rm(target, {recursive: true, force: true});
				const commands = toolCommands(tool, url, cache);
				log(`round ${round}, ${tool}: init`);
				await runStep(method, env, `${tool} init`, commands.init(''));
				for (const measure of MEASURES) {
					log(`round ${round}, ${tool}: ${measure}`);
					const invocation = measure === 'restore' ? commands.restore(target) : commands.backup(corpusDir);
					const result = await runStep(method, env, `${tool} ${measure}`, invocation);
					runs.push({tool, round, measure, wallSeconds: result.wallSeconds, cpuSeconds: result.userSeconds + result.systemSeconds, peakRssKib: result.peakRssKib, otherCpuSeconds: result.otherCpuSeconds});
					log(`  ${result.wallSeconds.toFixed(2)} s wall, ${(result.userSeconds + result.systemSeconds).toFixed(2)} s CPU, ${Math.round(result.peakRssKib / 1024)} MiB`);
				}
				// restic restores the absolute path below the target; so does cairn.
				const problem = await verifyRestore(corpusDir, path.join(target, corpusDir));
				verification.push({tool, round, ...(problem ? {problem} : {})});
				if (problem) log(`  restore differs from the corpus: ${problem}`);
				await fs.rm(target, {recursive: true, force: true});
			}
		}
	} finally {
		await proxy.close();
		await server.stop();
		if (!options.keep && options.work === undefined) await fs.rm(workDir, {recursive: true, force: true});
		else log(`kept ${workDir}`);
	}
	const loadAfter = os.loadavg();

	const best = (tool: ToolName, measure: MeasureName): Run | undefined => runs.filter((r) => r.tool === tool && r.measure === measure).sort((a, b) => a.wallSeconds - b.wallSeconds)[0];
	const table = MEASURES.map((measure) => {
		const row: Record<string, unknown> = {measure};
		for (const tool of options.tools) {
			const b = best(tool, measure);
			const peak = Math.max(...runs.filter((r) => r.tool === tool && r.measure === measure).map((r) => r.peakRssKib));
			row[tool] = b ? {wallSeconds: Math.round(b.wallSeconds * 1000) / 1000, cpuSeconds: Math.round(b.cpuSeconds * 100) / 100, peakRssMib: Math.round(peak / 1024)} : undefined;
		}
		const c = best('cairn', measure);
		const r = best('restic', measure);
		if (c && r) row.ratio = {wall: Math.round(c.wallSeconds / r.wallSeconds * 100) / 100, cpu: Math.round(c.cpuSeconds / r.cpuSeconds * 100) / 100};
		return row;
	});
	process.stdout.write(`\n${'measure'.padEnd(10)} ${options.tools.map((t) => `${t} wall / CPU / RSS`.padStart(28)).join(' ')}  cairn/restic wall (CPU)\n`);
	for (const row of table) {
		const cells = options.tools.map((t) => {
			const v = row[t] as {wallSeconds: number; cpuSeconds: number; peakRssMib: number} | undefined;
			return (v ? `${v.wallSeconds.toFixed(2)} s / ${v.cpuSeconds.toFixed(2)} s / ${v.peakRssMib} MiB` : '-').padStart(28);
		});
		const ratio = row.ratio as {wall: number; cpu: number} | undefined;
		process.stdout.write(`${String(row.measure).padEnd(10)} ${cells.join(' ')}  ${ratio ? `${ratio.wall.toFixed(2)} (${ratio.cpu.toFixed(2)})` : ''}\n`);
	}
	process.stdout.write(`\n${options.rounds} rounds, ${options.latency} ms each way, ${corpus.files} files, ${(corpus.bytes / 1048576).toFixed(1)} MiB; load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, after ${loadAfter.map((n) => n.toFixed(2)).join(' ')}\n`);
	const failed = verification.filter((v) => v.problem);
	const file = await writeResults(path.join(projectRoot, 'bench', 'results', 'link'), {
		date: new Date().toISOString(),
		machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMib: Math.round(os.totalmem() / 1024 / 1024), kernel: os.release(), loadBefore, loadAfter},
		versions: {node: process.version, restic: readVersion('restic', ['version']), rclone: readVersion('rclone', ['version']).split('\n')[0]},
		sources: readGitState(projectRoot),
		cairnCli: CLI,
		method: {
			link: `bench/delay-proxy.ts: every chunk delayed ${options.latency} ms in each direction, order kept; in front of rclone serve restic on loopback`,
			steps: 'per round and tool: init (untimed, new repository and cache dir), first backup, unchanged backup, restore of latest; sync before each step; tools alternate order',
			timing: 'wall from spawn to exit; CPU (user+sys) and peak RSS from GNU time; best wall of the rounds with its CPU, highest peak RSS',
		},
		options,
		corpus,
		table,
		runs,
		verification,
	});
	process.stdout.write(`results written to ${path.relative(projectRoot, file)}\n`);
	return failed.length > 0 ? 1 : 0;
}

main().then((code) => {
	process.exitCode = code;
}, (error: unknown) => {
	log(`link bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
	process.exitCode = 1;
});
