/**
 * The CLI round trip every network adapter's tests run: `cairn init`, `cairn backup` of a varied
 * tree and `cairn restore` through the built CLI with `--repo <location>` and `-o` options, then a
 * byte-for-byte comparison of the restored tree with the original.
 */

import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {expect} from 'vitest';

import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunOptions, type RunResult} from '../cli.js';

/** The repository password the round trips use. */
export const ROUND_TRIP_PASSWORD = 'round trip password';

/** What {@link runCliRoundTrip} needs. */
export interface RoundTripOptions {
	/** The `--repo` location. */
	readonly repo: string;
	/** `-o key=value` options. */
	readonly options?: readonly string[];
	/** Extra environment for cairn (the password is added). */
	readonly env?: Record<string, string | undefined>;
	/** Size of the large file of the tree (default 3 MiB, so that several packs are written with --pack-size 4). */
	readonly bigFileSize?: number;
}

/** What a round trip leaves for further checks. */
export interface RoundTripResult {
	/** Where the source tree and the restore live; removed by `cleanup`. */
	readonly directory: string;
	readonly source: string;
	/** The snapshot ID printed by backup. */
	readonly snapshot: string;
	/** Runs cairn against the same repository with the same options. */
	cairn(args: readonly string[], options?: RunOptions): Promise<RunResult>;
	cleanup(): Promise<void>;
}

/** The global arguments for a repository: `--repo` and each `-o`. */
export function buildRepositoryArguments(repo: string, options: readonly string[] = []): string[] {
	return ['--repo', repo, ...options.flatMap((option) => ['-o', option])];
}

/** Runs init, backup and restore through the CLI and checks that the restored tree is identical. */
export async function runCliRoundTrip(settings: RoundTripOptions): Promise<RoundTripResult> {
	const directory = await makeTempDir('cairn-round-trip-');
	const source = join(directory, 'source');
	await makeVariedTree(source, {seed: settings.repo, bigFileSize: settings.bigFileSize ?? 3 * 1024 * 1024});
	const base = buildRepositoryArguments(settings.repo, settings.options);
	const env = {CAIRN_PASSWORD: ROUND_TRIP_PASSWORD, ...settings.env};
	const cairn = (args: readonly string[], options: RunOptions = {}) => runCairn([...base, ...args], {...options, env: {...env, ...options.env}});

	const init = await cairn(['init']);
	expect(init.code, describeRun(init)).toBe(0);
	const backup = await cairn(['--pack-size', '4', 'backup', source]);
	expect(backup.code, describeRun(backup)).toBe(0);
	const snapshot = /snapshot ([0-9a-f]{8}) saved/.exec(backup.stdout)?.[1];
	expect(snapshot, describeRun(backup)).toBeDefined();
	const target = join(directory, 'restore');
	const restore = await cairn(['restore', snapshot!, '--target', target]);
	expect(restore.code, describeRun(restore)).toBe(0);
	expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	await rm(target, {recursive: true, force: true});
	return {directory, source, snapshot: snapshot!, cairn, cleanup: () => rm(directory, {recursive: true, force: true})};
}
