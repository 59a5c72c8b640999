/**
 * How each tool is invoked. Both get the same settings: repository format version 2, their
 * default compression (`auto`: zstd at its default speed), default pack size (16 MiB), the
 * password from the environment, and JSON output where the command has it.
 *
 * restic keeps a local metadata cache; it gets a private one per repository (--cache-dir in the
 * work dir) so that runs do not share it and the user's cache is left alone; so does cairn.
 */
import {spawnSync} from 'node:child_process';
import type {ToolName} from './options.js';

/** A command line. */
export interface Invocation {
	command: string;
	args: string[];
}

/** The paths one run of a tool uses. */
export interface RunPaths {
	repo: string;
	/** The private cache directory of this run (both tools keep one). */
	cache: string;
}

/** One tool's command lines and environment. */
export interface Tool {
	/** The runner's name in the results: `restic`, `cairn`, or `cairn-node24` etc. when several runtimes run. */
	name: string;
	family: ToolName;
	env: NodeJS.ProcessEnv;
	version(): string;
	init(paths: RunPaths): Invocation;
	backup(paths: RunPaths, sources: readonly string[]): Invocation;
	restore(paths: RunPaths, target: string): Invocation;
}

const PASSWORD = 'cairn-bench-password';

/** The environment without any repository, password or cache settings of either tool. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!key.startsWith('CAIRN_') && !key.startsWith('RESTIC_')) env[key] = value;
	}
	return {...env, ...extra};
}

function readVersion(command: string, args: string[]): string {
	const result = spawnSync(command, args, {encoding: 'utf8'});
	if (result.error || result.status !== 0) throw new Error(`cannot run ${command} ${args.join(' ')}: ${result.error?.message ?? result.stderr.trim()}`);
	return result.stdout.trim();
}

/** The version of a Node binary (`v24.22.3`). */
export function readNodeVersion(node: string): string {
	return readVersion(node, ['--version']);
}

/** A runner name for cairn on a runtime: `cairn-node24` for v24.x. */
export function nameCairnRunner(nodeVersion: string): string {
	return `cairn-node${/^v?(\d+)/.exec(nodeVersion)?.[1] ?? nodeVersion}`;
}

/** cairn, run from the built CLI by the given Node binary. */
export function createCairn(cliPath: string, node: string = process.execPath, name = 'cairn'): Tool {
	const nodeVersion = readNodeVersion(node);
	const cli = (args: string[]): Invocation => ({command: node, args: [cliPath, ...args]});
	return {
		name,
		family: 'cairn',
		env: cleanEnv({CAIRN_PASSWORD: PASSWORD}),
		version: () => `cairn ${readVersion(node, [cliPath, '--version'])} (node ${nodeVersion}, ${node})`,
		init: ({repo, cache}) => cli(['init', '--repo', repo, '--cache-dir', cache, '--repository-version', '2', '--quiet']),
		backup: ({repo, cache}, sources) => cli(['backup', '--repo', repo, '--cache-dir', cache, '--json', ...sources]),
		restore: ({repo, cache}, target) => cli(['restore', 'latest', '--repo', repo, '--cache-dir', cache, '--target', target, '--json']),
	};
}

/** restic from PATH. */
export function createRestic(): Tool {
	const restic = (paths: RunPaths, args: string[]): Invocation => ({command: 'restic', args: ['--repo', paths.repo, '--cache-dir', paths.cache, ...args]});
	return {
		name: 'restic',
		family: 'restic',
		env: cleanEnv({RESTIC_PASSWORD: PASSWORD}),
		version: () => readVersion('restic', ['version']),
		init: (paths) => restic(paths, ['init', '--repository-version', '2', '--quiet']),
		backup: (paths, sources) => restic(paths, ['backup', '--json', ...sources]),
		// restic 0.14 restore prints no JSON.
		restore: (paths, target) => restic(paths, ['restore', 'latest', '--target', target]),
	};
}

/** The last JSON line of a tool's stdout with `message_type: "summary"`, if any. */
export function findSummary(stdout: string): Record<string, unknown> | undefined {
	const lines = stdout.trim().split('\n');
	for (let i = lines.length - 1; i >= 0; i--) {
		const line = lines[i]!.trim();
		if (!line.startsWith('{')) continue;
		try {
			const value = JSON.parse(line) as Record<string, unknown>;
			if (value.message_type === 'summary') return value;
		} catch {
			// not JSON
		}
	}
	return undefined;
}
