/**
 * The cairn build under test. The benchmark runs a private copy of dist/ (taken when it starts)
 * so that a rebuild during a run of several minutes cannot mix two versions into one result;
 * package.json comes along (ESM), node_modules is linked. The git state of the sources is
 * recorded with the results.
 */
import {spawnSync} from 'node:child_process';
import {promises as fs} from 'node:fs';
import * as path from 'node:path';

/** Copies `<projectRoot>/dist` (without the benchmark itself) below `dir`; returns the copied CLI entry. */
export async function copyBuild(projectRoot: string, dir: string): Promise<string> {
	const dist = path.join(projectRoot, 'dist');
	await fs.rm(dir, {recursive: true, force: true});
	await fs.mkdir(dir, {recursive: true});
	await fs.cp(dist, path.join(dir, 'dist'), {recursive: true, filter: (source) => source !== path.join(dist, 'bench')});
	await fs.copyFile(path.join(projectRoot, 'package.json'), path.join(dir, 'package.json'));
	await fs.symlink(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'));
	return path.join(dir, 'dist', 'source', 'cli.js');
}

/** The commit checked out and the product files changed since it (what the build may differ by). */
export function readGitState(projectRoot: string): {commit?: string; changed: string[]} {
	const git = (args: string[]): string | undefined => {
		const result = spawnSync('git', ['-C', projectRoot, ...args], {encoding: 'utf8'});
		return result.status === 0 ? result.stdout.trim() : undefined;
	};
	const status = git(['status', '--porcelain', '--', 'source', 'engine', 'adapters', 'package.json']) ?? '';
	return {commit: git(['rev-parse', 'HEAD']), changed: status.split('\n').filter(Boolean).map((line) => line.slice(3))};
}
