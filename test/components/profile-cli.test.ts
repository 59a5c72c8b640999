/**
 * `cairn --profile NAME`: the command line uses a profile saved by the app (for cron), with the
 * location, options, password source, compression and pack size it holds.
 */
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {execFile} from 'node:child_process';
import {afterEach, describe, expect, it} from 'vitest';
import {applyProfile, loadProfiles} from '../../source/cli/context.js';
import {cleanEnv, type RunResult} from '../helpers/cli.js';
import {createRepository, createTestEnvironment, saveProfile, writeTree, type TestEnvironment} from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Runs the CLI from its TypeScript sources (no build needed), in a clean environment plus `env`. */
function runSourceCli(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
	return new Promise((resolve) => {
		execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'source', 'cli.tsx'), ...args], {cwd: ROOT, env: cleanEnv(env), timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, signal: null, stdout: String(stdout), stderr: String(stderr)});
		});
	});
}

function describeRun(result: RunResult): string {
	return `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

let environment: TestEnvironment | undefined;
afterEach(async () => {
	await environment?.dispose();
	environment = undefined;
});

describe('--profile', () => {
	it('fills the flags from the saved profile; given flags win', async () => {
		{
			environment = await createTestEnvironment();
			saveProfile(environment.env, {name: 'nas', location: 'local:/srv/repo', options: {connections: '4'}, passwordFile: '/etc/pw', compression: 'max', packSizeMiB: 32});
			await loadProfiles();
			const flags = applyProfile({profile: 'nas', option: ['local.connections=8']}, environment.env);
			expect(flags).toMatchObject({repo: 'local:/srv/repo', option: ['local.connections=4', 'local.connections=8'], passwordFile: '/etc/pw', compression: 'max', packSize: '32'});
			const given = applyProfile({profile: 'nas', repo: '/other', passwordCommand: 'echo pw', compression: 'off'}, environment.env);
			expect(given).toMatchObject({repo: '/other', passwordCommand: 'echo pw', compression: 'off'});
			expect(given.passwordFile).toBeUndefined();
			expect(() => applyProfile({profile: 'nope'}, environment!.env)).toThrow(/no profile named "nope" .*saved profiles: nas/);
		}
	});

	it('lets cron use a profile: location and password file from the profile, or its saved password', async () => {
		environment = await createTestEnvironment();
		const repo = join(environment.root, 'repo');
		const source = join(environment.root, 'docs');
		await writeTree(source, {'a.txt': 'alpha\n'});
		await createRepository(repo, 'secret', [{paths: [source]}]);
		const passwordFile = join(environment.root, 'pw.txt');
		await writeFile(passwordFile, 'secret\n');
		saveProfile(environment.env, {name: 'nightly', location: `local:${repo}`, passwordFile});
		saveProfile(environment.env, {name: 'saved', location: `local:${repo}`, password: 'secret'});
		const env = {HOME: environment.env.HOME, XDG_CONFIG_HOME: environment.env.XDG_CONFIG_HOME};
		for (const name of ['nightly', 'saved']) {
			const listed = await runSourceCli(['--profile', name, 'snapshots', '--json'], env);
			expect(listed.code, describeRun(listed)).toBe(0);
			const snapshots = JSON.parse(listed.stdout) as Array<{paths: string[]}>;
			expect(snapshots.map((s) => s.paths)).toEqual([[source]]);
		}
		const backup = await runSourceCli(['--profile', 'nightly', 'backup', source, '--json'], env);
		expect(backup.code, describeRun(backup)).toBe(0);
		const unknown = await runSourceCli(['--profile', 'nope', 'snapshots'], env);
		expect(unknown.code).not.toBe(0);
		expect(unknown.stderr).toContain('no profile named "nope"');
		expect(unknown.stderr).toContain('saved profiles: nightly, saved');
	}, 60_000);
});
