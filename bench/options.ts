/**
 * Command-line options of the benchmark.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {parseArgs} from 'node:util';

/** The tools the benchmark can run. */
export type ToolName = 'cairn' | 'restic';

export const TOOL_NAMES: readonly ToolName[] = ['cairn', 'restic'];

/** The corpora: see corpora.ts. */
export type CorpusKind = 'small' | 'files' | 'large' | 'system';

export const CORPUS_KINDS: readonly CorpusKind[] = ['small', 'files', 'large', 'system'];

/** Parsed options. */
export interface BenchOptions {
	/** Corpora to run, in this order (default all: the suite). */
	kinds: CorpusKind[];
	/** Size of the small (mixed) corpus in MiB (regular files, large files included). */
	sizeMib: number;
	/** File counts of the generated trees of about 1 KB files. */
	fileCounts: number[];
	/** Size of the single large file in MiB (1024: the 1 GiB file); the other large files scale with it. */
	largeMib: number;
	/** System folders backed up in place; undefined: /usr/share plus enough of /usr/lib to make {@link systemMib}. */
	systemPaths?: string[];
	/** Target size of the default system corpus in MiB. */
	systemMib: number;
	/** Root folder of the built corpora (one folder per corpus inside); reused when present. */
	corpus?: string;
	/** Where repositories and restores go; default a fresh temp dir. */
	work?: string;
	/** Where results are written (default bench/results of the project). */
	results?: string;
	/** Keep the work dir (and corpora built inside it) afterwards. */
	keep: boolean;
	/** Tools to run. */
	tools: ToolName[];
	/** Node binaries that run cairn (each is a separate cairn column); restic runs once. */
	runtimes: string[];
	/** CPU list for `taskset -c` around every timed command (tools and floors), or undefined. */
	taskset?: string;
	/** Times each tool runs the whole sequence; the best wall time of each measure is kept. */
	rounds: number;
	/** Seed of the pseudo-random data. */
	seed: number;
	help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

Times cairn against restic on the same corpora in the same run: first backup into a
fresh repository, backup of the unchanged tree, full restore of the latest snapshot,
each beside a floor (tar -c | zstd -1 -T0 > /dev/null; cp -a; dd ... conv=fsync).

Corpora (default: all of them, the suite):
  --corpus-kind K[,K]   small   the mixed corpus of real files and two large files
                        files   generated trees of about 1 KB files, one per --file-counts
                        large   VM-image-like files; one 1 GiB file alone; one 2 GiB restore
                        system  system folders backed up in place (read only)
  --suite               all four kinds (the default)
  --size-mib N          size of the small corpus (default 1024)
  --file-counts N[,N]   generated tree sizes (default 10000,100000,300000)
  --large-mib N         size of the single large file (default 1024); the large corpus
                        holds files of N, N/2 and N/4 MiB, and the restore case 2N MiB
  --system-paths P[,P]  folders of the system corpus (default /usr/share plus enough
                        of /usr/lib to make --system-mib)
  --system-mib N        size of the default system corpus (default 2048)

Runs:
  --rounds N            rounds; the best wall time of each measure is kept (default 3)
  --only TOOL           run only cairn or only restic
  --node PATH           the Node binary that runs cairn (default: this one)
  --runtimes P[,P]      several Node binaries, each a cairn column (restic runs once);
                        "node" is the one running the benchmark
  --taskset CPUS        run tools and floors under taskset -c CPUS (e.g. 0)
  --corpus DIR          build the corpora in DIR (one folder each) or reuse them there
  --work DIR            where repositories and restores go (default: a fresh temp dir)
  --results DIR         write the results there (default bench/results)
  --keep                keep the work dir (repositories, restores, built corpora)
  --seed N              seed of the generated data (default 1)
  -h, --help            show this help

Tiny check of every corpus: --size-mib 64 --file-counts 2000 --large-mib 32 --system-mib 128 --rounds 1
`;

function parsePositiveInteger(name: string, text: string | undefined, fallback: number): number {
	if (text === undefined) return fallback;
	const value = Number(text);
	if (!Number.isSafeInteger(value) || value < 1) throw new Error(`invalid --${name} ${JSON.stringify(text)}: give a whole number of at least 1`);
	return value;
}

function splitList(text: string): string[] {
	return text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
}

/** Expands a leading `~/` to the home directory. */
function expandHome(file: string): string {
	return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}

/** Parses argv (without node and the script). Throws an Error with a message for a person. */
export function parseOptions(argv: string[]): BenchOptions {
	const {values} = parseArgs({
		args: argv,
		options: {
			'corpus-kind': {type: 'string'},
			suite: {type: 'boolean', default: false},
			'size-mib': {type: 'string'},
			'file-counts': {type: 'string'},
			'large-mib': {type: 'string'},
			'system-paths': {type: 'string'},
			'system-mib': {type: 'string'},
			corpus: {type: 'string'},
			work: {type: 'string'},
			results: {type: 'string'},
			keep: {type: 'boolean', default: false},
			only: {type: 'string'},
			node: {type: 'string'},
			runtimes: {type: 'string'},
			taskset: {type: 'string'},
			rounds: {type: 'string'},
			seed: {type: 'string'},
			help: {type: 'boolean', short: 'h', default: false},
		},
		strict: true,
		allowPositionals: false,
	});
	const only = values.only;
	if (only !== undefined && !TOOL_NAMES.includes(only as ToolName)) {
		throw new Error(`invalid --only ${JSON.stringify(only)}: use cairn or restic`);
	}
	let kinds: CorpusKind[] = [...CORPUS_KINDS];
	if (values['corpus-kind'] !== undefined) {
		if (values.suite) throw new Error('give either --suite or --corpus-kind, not both');
		kinds = [];
		for (const kind of splitList(values['corpus-kind'])) {
			if (!CORPUS_KINDS.includes(kind as CorpusKind)) throw new Error(`invalid --corpus-kind ${JSON.stringify(kind)}: use ${CORPUS_KINDS.join(', ')} (comma-separated)`);
			if (!kinds.includes(kind as CorpusKind)) kinds.push(kind as CorpusKind);
		}
		if (kinds.length === 0) throw new Error('--corpus-kind needs at least one kind');
	}
	const fileCounts = values['file-counts'] === undefined ? [10_000, 100_000, 300_000] : splitList(values['file-counts']).map((text) => parsePositiveInteger('file-counts', text, 0));
	if (fileCounts.length === 0) throw new Error('--file-counts needs at least one count');
	if (values.node !== undefined && values.runtimes !== undefined) throw new Error('give either --node or --runtimes, not both');
	const runtimeList = values.runtimes !== undefined ? splitList(values.runtimes) : [values.node ?? process.execPath];
	if (runtimeList.length === 0) throw new Error('--runtimes needs at least one Node binary');
	const runtimes = runtimeList.map((entry) => (entry === 'node' ? process.execPath : path.resolve(expandHome(entry))));
	const taskset = values.taskset;
	if (taskset !== undefined && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(taskset)) throw new Error(`invalid --taskset ${JSON.stringify(taskset)}: give a CPU list such as 0 or 0,1 or 0-1`);
	const systemPaths = values['system-paths'] === undefined ? undefined : splitList(values['system-paths']).map((entry) => path.resolve(expandHome(entry)));
	if (systemPaths !== undefined && systemPaths.length === 0) throw new Error('--system-paths needs at least one folder');
	return {
		kinds,
		sizeMib: parsePositiveInteger('size-mib', values['size-mib'], 1024),
		fileCounts,
		largeMib: parsePositiveInteger('large-mib', values['large-mib'], 1024),
		systemPaths,
		systemMib: parsePositiveInteger('system-mib', values['system-mib'], 2048),
		corpus: values.corpus,
		work: values.work,
		results: values.results === undefined ? undefined : path.resolve(expandHome(values.results)),
		keep: values.keep ?? false,
		tools: only === undefined ? [...TOOL_NAMES] : [only as ToolName],
		runtimes: [...new Set(runtimes)],
		taskset,
		rounds: parsePositiveInteger('rounds', values.rounds, 3),
		seed: parsePositiveInteger('seed', values.seed, 1),
		help: values.help ?? false,
	};
}
