/**
 * A reader that closes standard output early (`cairn ls latest | head`, `cairn backup --json |
 * head -1`): cairn stops the command cleanly, exits 141 (as a shell reports SIGPIPE) without a
 * stack trace, and leaves the repository consistent and unlocked.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {describeRun, listRepoFiles, makeTempDir, startCairn, type RunResult} from '../helpers/cli.js';
import {cairnOk, listSnapshotIds, resticOk} from './lifecycle-helpers.js';

const PASSWORD = 'closed output password';
const env = {env: {CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD}};

let base: string;
let source: string;
let repo: string;

beforeAll(async () => {
	base = await makeTempDir('cairn-closed-output-');
	source = path.join(base, 'src');
	for (let dir = 0; dir < 40; dir++) {
		const folder = path.join(source, `d${dir}`);
		await fs.mkdir(folder, {recursive: true});
		await Promise.all(Array.from({length: 100}, (_, file) => fs.writeFile(path.join(folder, `f${file}`), `file ${dir}/${file}\n`.repeat(file + 1))));
	}
	repo = path.join(base, 'repo');
	await cairnOk(['init', '--repo', repo], env);
	await cairnOk(['backup', '--repo', repo, source], env);
});
afterAll(async () => {
	await fs.rm(base, {recursive: true, force: true});
});

/** Runs cairn and closes its standard output as soon as the first bytes arrive, as `head -c 1` does. */
async function runClosingOutput(args: readonly string[]): Promise<RunResult & {firstBytes: number}> {
	const running = startCairn(args, env);
	let firstBytes = 0;
	running.child.stdout!.once('data', (chunk: string) => {
		firstBytes = chunk.length;
		running.child.stdout!.destroy();
	});
	return {...(await running.done), firstBytes};
}

describe('standard output closed by its reader', () => {
	it('ends `ls --json` with 141 and no stack trace', async () => {
		const result = await runClosingOutput(['ls', '--repo', repo, '--json', 'latest']);
		expect(result.firstBytes).toBeGreaterThan(0);
		expect(result.code, describeRun(result)).toBe(141);
		expect(result.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
	});

	it('stops a backup cleanly: 141, no stack trace, no lock left, the repository checks clean', async () => {
		const before = await listSnapshotIds(repo, env);
		const result = await runClosingOutput(['backup', '--repo', repo, '--json', '--force', source]);
		expect(result.firstBytes).toBeGreaterThan(0);
		expect(result.code, describeRun(result)).toBe(141);
		expect(result.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
		expect(await listRepoFiles(repo, 'locks')).toEqual([]);
		const after = await listSnapshotIds(repo, env);
		// Either stopped before its snapshot, or the output closed only at the closing summary.
		expect(after.length - before.length).toBeLessThanOrEqual(1);
		const check = await resticOk(['check', '--repo', repo], env);
		expect(check.stdout).toContain('no errors were found');
	});
});
