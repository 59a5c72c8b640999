/**
 * Command-line options of the benchmark.
 */
import {parseArgs} from 'node:util';

/** The tools the benchmark can run. */
export type ToolName = 'cairn' | 'restic';

export const TOOL_NAMES: readonly ToolName[] = ['cairn', 'restic'];

/** Parsed options. */
export interface BenchOptions {
	/** Corpus size in MiB (regular files, large files included). */
	sizeMib: number;
	/** Reuse (or build into) this corpus directory instead of one in the work dir. */
	corpus?: string;
	/** Where repositories and restores go; default a fresh temp dir. */
	work?: string;
	/** Keep the work dir (and a corpus built inside it) afterwards. */
	keep: boolean;
	/** Tools to run. */
	tools: ToolName[];
	/** Times each tool runs the whole sequence; the best wall time of each measure is kept. */
	rounds: number;
	/** Seed of the pseudo-random large file. */
	seed: number;
	help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

Times cairn against restic on a corpus of real files: first backup into a fresh
repository, backup of the unchanged tree, full restore of the latest snapshot.

Options:
  --size-mib N     corpus size in MiB (default 1024)
  --corpus DIR     reuse the corpus in DIR, or build it there when DIR is empty
  --work DIR       where repositories and restores go (default: a fresh temp dir)
  --keep           keep the work dir (repositories, restores, built corpus)
  --only TOOL      run only cairn or only restic
  --rounds N       runs of each tool; the best wall time of each measure is kept (default 2)
  --seed N         seed of the pseudo-random large file (default 1)
  -h, --help       show this help
`;

function parsePositiveInteger(name: string, text: string | undefined, fallback: number): number {
	if (text === undefined) return fallback;
	const value = Number(text);
	if (!Number.isSafeInteger(value) || value < 1) throw new Error(`invalid --${name} ${JSON.stringify(text)}: give a whole number of at least 1`);
	return value;
}

/** Parses argv (without node and the script). Throws an Error with a message for a person. */
export function parseOptions(argv: string[]): BenchOptions {
	const {values} = parseArgs({
		args: argv,
		options: {
			'size-mib': {type: 'string'},
			corpus: {type: 'string'},
			work: {type: 'string'},
			keep: {type: 'boolean', default: false},
			only: {type: 'string'},
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
	return {
		sizeMib: parsePositiveInteger('size-mib', values['size-mib'], 1024),
		corpus: values.corpus,
		work: values.work,
		keep: values.keep ?? false,
		tools: only === undefined ? [...TOOL_NAMES] : [only as ToolName],
		rounds: parsePositiveInteger('rounds', values.rounds, 2),
		seed: parsePositiveInteger('seed', values.seed, 1),
		help: values.help ?? false,
	};
}
