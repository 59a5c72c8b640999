/**
 * Browsing a repository behind a slow link, with and without the local cache.
 *
 *   npm run build && node dist/bench/latency.js [--corpus DIR] [--work DIR] [--snapshots N]
 *                                              [--backups N] [--latency MS] [--rounds N]
 *
 * Setup (untimed, reused when --work already holds the repository): a local repository with
 * `--backups` real backups of the corpus's file tree plus a small scratch directory changed before
 * each backup, then copies of those snapshots (the same trees, other times) until it holds
 * `--snapshots` snapshots; the copies are real snapshot files, made without re-reading the tree.
 *
 * Measured, through adapters/wrappers/latency.ts (every request waits `--latency` ms first) over
 * the local storage, each with a new Repository in this process:
 *   1. open: the repository (keys, config) and the snapshot list (list + every snapshot file);
 *   2. index: list and load every index file (the app loads it once it is open);
 *   3. directory: read the trees from the latest snapshot's root down to its largest directory.
 * Three ways: without a cache, with a cold (empty) cache, and with that cache warm; each the
 * best of `--rounds` rounds. Requests per step are counted as well.
 *
 * restic is not timed here: it has no way to add latency to a local repository.
 * Results are printed and written to bench/results/latency/<date>.json.
 */
import {promises as fs} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import '../adapters/index.js';
import {createLocalStorage} from '../adapters/local.js';
import type {FileInfo, Storage} from '../adapters/storage.js';
import {withLatency} from '../adapters/wrappers/latency.js';
import {runBackup} from '../engine/archiver/archiver.js';
import {decodeTree, type TreeNode} from '../engine/format/tree.js';
import {formatGoTime, parseGoTime} from '../engine/format/time.js';
import {Repository} from '../engine/repository/repository.js';
import {listSnapshots, saveSnapshot} from '../engine/repository/snapshots.js';
import {writeResults} from './results.js';

const PASSWORD = 'latency bench';
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Options {
	corpus: string;
	work?: string;
	snapshots: number;
	backups: number;
	latency: number;
	rounds: number;
	keep: boolean;
}

const USAGE = `Usage: node dist/bench/latency.js [options]

Times opening a repository and a directory through a storage that adds latency to every
request: without a cache, with a cold cache and with a warm one.

Options:
  --corpus DIR     the files to back up (default /tmp/cairn-bench-corpus/data/tree)
  --work DIR       where the repository goes; reused when it is already there (default: a temp dir)
  --snapshots N    snapshots in the repository (default 150)
  --backups N      of which real backups (default 3)
  --latency MS     added to every request (default 50)
  --rounds N       rounds of the three measures; the best of each is kept (default 3)
  --keep           keep the work dir
`;

function parseOptions(argv: string[]): Options | undefined {
	const {values} = parseArgs({
		args: argv,
		options: {
			corpus: {type: 'string'}, work: {type: 'string'}, snapshots: {type: 'string'}, backups: {type: 'string'},
			latency: {type: 'string'}, rounds: {type: 'string'}, keep: {type: 'boolean', default: false}, help: {type: 'boolean', short: 'h', default: false},
		},
		strict: true,
	});
	if (values.help) return undefined;
	const number = (name: string, text: string | undefined, fallback: number, min: number): number => {
		if (text === undefined) return fallback;
		const value = Number(text);
		if (!Number.isSafeInteger(value) || value < min) throw new Error(`invalid --${name} ${JSON.stringify(text)}: give a whole number of at least ${min}`);
		return value;
	};
	const backups = number('backups', values.backups, 3, 1);
	return {
		corpus: path.resolve(values.corpus ?? '/tmp/cairn-bench-corpus/data/tree'),
		work: values.work,
		backups,
		snapshots: Math.max(backups, number('snapshots', values.snapshots, 150, 1)),
		latency: number('latency', values.latency, 50, 0),
		rounds: number('rounds', values.rounds, 3, 1),
		keep: values.keep === true || Boolean(values.work),
	};
}

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

/** Counts requests by operation and file type; never closes the storage it wraps before `close`. */
function withCounter(inner: Storage): Storage & {counts: Map<string, number>; take(): Record<string, number>} {
	const counts = new Map<string, number>();
	const add = (key: string): void => {
		counts.set(key, (counts.get(key) ?? 0) + 1);
	};
	return {
		location: inner.location,
		capabilities: inner.capabilities,
		counts,
		take() {
			const taken = Object.fromEntries([...counts].sort());
			counts.clear();
			return taken;
		},
		create: (o) => inner.create(o),
		save: (h, d, o) => inner.save(h, d, o),
		load: (h, o) => {
			add(`load ${h.type}`);
			return inner.load(h, o);
		},
		stat: (h, o) => {
			add(`stat ${h.type}`);
			return inner.stat(h, o);
		},
		async *list(t, o): AsyncIterable<FileInfo> {
			add(`list ${t}`);
			yield* inner.list(t, o);
		},
		remove: (h, o) => inner.remove(h, o),
		close: () => inner.close(),
	};
}

/** Makes the repository: real backups, then copies of their snapshots at other times. */
async function prepareRepository(repoDir: string, scratch: string, options: Options): Promise<void> {
	if (await fs.stat(path.join(repoDir, 'config')).then(() => true, () => false)) {
		log(`reusing the repository in ${repoDir}`);
		return;
	}
	log(`making the repository in ${repoDir}: ${options.backups} backups of ${options.corpus}, ${options.snapshots} snapshots in all`);
	const repo = await Repository.init(createLocalStorage(repoDir), PASSWORD);
	await fs.mkdir(scratch, {recursive: true});
	for (let i = 0; i < options.backups; i++) {
		await fs.writeFile(path.join(scratch, 'changed.txt'), `backup ${i} at ${new Date().toISOString()}\n`);
		await fs.writeFile(path.join(scratch, `added-${i}.txt`), `file added before backup ${i}\n`);
		const started = Date.now();
		const summary = await runBackup(repo, {paths: [options.corpus, scratch], host: 'latency-bench'});
		log(`  backup ${i + 1}/${options.backups}: ${summary.snapshot_id.slice(0, 8)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	}
	const real = await listSnapshots(repo);
	const first = parseGoTime(real[0]!.time);
	for (let i = real.length; i < options.snapshots; i++) {
		const {id: _id, ...json} = real[i % real.length]!;
		// Spread the copies over the hours before the first real backup.
		await saveSnapshot(repo, {...json, time: formatGoTime(first - BigInt(options.snapshots - i) * 3_600_000_000_000n)});
	}
	await repo.close();
}

/** The path (names from the root) of the largest directory of the latest snapshot. */
async function findLargestDirectory(repoDir: string): Promise<{names: string[]; entries: number}> {
	const repo = await Repository.open(createLocalStorage(repoDir), PASSWORD);
	try {
		await repo.loadIndex();
		const latest = (await listSnapshots(repo)).at(-1)!;
		let best = {names: [] as string[], entries: -1};
		const visit = async (treeId: string, names: string[]): Promise<void> => {
			const nodes = decodeTree(await repo.loadBlob('tree', treeId), treeId).nodes;
			if (nodes.length > best.entries) best = {names, entries: nodes.length};
			for (const node of nodes) if (node.type === 'dir' && node.subtree) await visit(node.subtree, [...names, node.name]);
		};
		await visit(latest.tree, []);
		return best;
	} finally {
		await repo.close();
	}
}

/** Times of one open, in milliseconds, and the requests of each step. */
interface OpenTiming {
	open: number;
	index: number;
	directory: number;
	requests: {open: Record<string, number>; index: Record<string, number>; directory: Record<string, number>};
}

async function timeOpen(repoDir: string, latency: number, cacheDir: string | undefined, target: readonly string[]): Promise<OpenTiming> {
	const counter = withCounter(withLatency(createLocalStorage(repoDir), latency));
	let mark = performance.now();
	const lap = (): number => {
		const now = performance.now();
		const took = now - mark;
		mark = now;
		return took;
	};
	const repo = await Repository.open(counter, PASSWORD, {cacheDir});
	const snapshots = await listSnapshots(repo);
	const open = lap();
	const openRequests = counter.take();
	await repo.loadIndex();
	const index = lap();
	const indexRequests = counter.take();
	let treeId = snapshots.at(-1)!.tree;
	let nodes: TreeNode[] = decodeTree(await repo.loadBlob('tree', treeId), treeId).nodes;
	for (const name of target) {
		treeId = nodes.find((n) => n.name === name)!.subtree!;
		nodes = decodeTree(await repo.loadBlob('tree', treeId), treeId).nodes;
	}
	const directory = lap();
	const directoryRequests = counter.take();
	await repo.close();
	return {open, index, directory, requests: {open: openRequests, index: indexRequests, directory: directoryRequests}};
}

async function sizeOf(dir: string): Promise<{files: number; bytes: number}> {
	let files = 0;
	let bytes = 0;
	for (const entry of await fs.readdir(dir, {recursive: true, withFileTypes: true})) {
		if (!entry.isFile()) continue;
		files++;
		bytes += (await fs.stat(path.join(entry.parentPath, entry.name))).size;
	}
	return {files, bytes};
}

function formatMs(ms: number): string {
	return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function describeRequests(requests: Record<string, number>): string {
	return Object.entries(requests).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
}

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2));
	if (options === undefined) {
		process.stdout.write(USAGE);
		return 0;
	}
	const work = options.work ? path.resolve(options.work) : await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-latency-'));
	await fs.mkdir(work, {recursive: true});
	const repoDir = path.join(work, 'repo');
	try {
		await prepareRepository(repoDir, path.join(work, 'scratch'), options);
		const target = await findLargestDirectory(repoDir);
		log(`directory: /${target.names.join('/')} (${target.entries} entries, ${target.names.length} levels below the root)`);

		const caches = path.join(work, 'caches');
		await fs.rm(caches, {recursive: true, force: true});
		const results: Record<string, OpenTiming> = {};
		log(`latency ${options.latency} ms per request`);
		const best = (a: OpenTiming | undefined, b: OpenTiming): OpenTiming => (a === undefined || b.open + b.index + b.directory < a.open + a.index + a.directory ? b : a);
		let none: OpenTiming | undefined;
		let cold: OpenTiming | undefined;
		let warm: OpenTiming | undefined;
		for (let round = 0; round < options.rounds; round++) {
			// Each round: no cache, then a fresh (cold) cache, then that cache again (warm).
			const cacheDir = path.join(caches, `cache-${round}`);
			none = best(none, await timeOpen(repoDir, options.latency, undefined, target.names));
			cold = best(cold, await timeOpen(repoDir, options.latency, cacheDir, target.names));
			warm = best(warm, await timeOpen(repoDir, options.latency, cacheDir, target.names));
		}
		results['no cache'] = none!;
		results['cold cache'] = cold!;
		results['warm cache'] = warm!;
		const cached = await sizeOf(path.join(caches, 'cache-0'));

		const rows = Object.entries(results).map(([name, t]) => [name, formatMs(t.open), formatMs(t.index), formatMs(t.directory)]);
		const header = ['', 'open + snapshot list', 'index', 'directory'];
		const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
		const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
		process.stdout.write(`\n${options.snapshots} snapshots, directory of ${target.entries} entries ${target.names.length} levels down, ${options.latency} ms per request\n`);
		process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n\n`);
		for (const [name, t] of Object.entries(results)) {
			process.stdout.write(`${name}: open ${describeRequests(t.requests.open)}; index ${describeRequests(t.requests.index)}; directory ${describeRequests(t.requests.directory)}\n`);
		}
		process.stdout.write(`cache: ${cached.files} files, ${(cached.bytes / 1024 / 1024).toFixed(1)} MiB\n`);
		process.stdout.write('restic: not timed (it cannot add latency to a local repository)\n');

		const file = await writeResults(path.join(projectRoot, 'bench', 'results', 'latency'), {
			date: new Date().toISOString(),
			machine: {cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, platform: `${os.type()} ${os.release()}`},
			method: 'in-process Repository over withLatency(local storage); open = Repository.open + listSnapshots; index = loadIndex; directory = trees from the root of the latest snapshot to its largest directory; each the best of the rounds',
			options: {...options, work: undefined},
			directory: {path: `/${target.names.join('/')}`, entries: target.entries, depth: target.names.length},
			results,
			cache: cached,
		});
		log(`results written to ${path.relative(projectRoot, file)}`);
		return 0;
	} finally {
		if (!options.keep) await fs.rm(work, {recursive: true, force: true});
	}
}

main().then((code) => {
	process.exitCode = code;
}, (error: unknown) => {
	log(`latency bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
	process.exitCode = 1;
});
