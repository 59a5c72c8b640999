import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {limitMallocArenas, MAIN_SEMI_SPACE_MB, restartWithMemoryLimits} from '../../source/allocator.js';
import {makeTempDir} from '../helpers/cli.js';

/** Whether this process runs on glibc (the only allocator the limit applies to). */
function isGlibc(): boolean {
	const report = process.report?.getReport?.() as {header?: {glibcVersionRuntime?: string}} | undefined;
	return Boolean(report?.header?.glibcVersionRuntime);
}

describe('limitMallocArenas', () => {
	it('leaves a MALLOC_ARENA_MAX the user set alone', () => {
		expect(limitMallocArenas({MALLOC_ARENA_MAX: '4'})).toBe('user-set');
	});

	it('sets the limit through mallopt on glibc', () => {
		expect(limitMallocArenas({}, 2)).toBe(isGlibc() ? 'set' : 'unsupported');
	});

	it('runs before the libuv pool in a real process that then does file I/O', () => {
		// A child that limits the arenas first and then keeps the pool busy must work normally.
		const script = `
			const {limitMallocArenas} = await import(${JSON.stringify(new URL('../../source/allocator.ts', import.meta.url).href)});
			const result = limitMallocArenas({});
			const fs = await import('node:fs/promises');
			const reads = await Promise.all(Array.from({length: 16}, () => fs.readFile(process.execPath)));
			console.log(JSON.stringify({result, same: reads.every((r) => r.length === reads[0].length && r.length > 0)}));
		`;
		const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {encoding: 'utf8', env: {...process.env, MALLOC_ARENA_MAX: ''}});
		const parsed = JSON.parse(output.trim()) as {result: string; same: boolean};
		expect(parsed.result).toBe(isGlibc() ? 'set' : 'unsupported');
		expect(parsed.same).toBe(true);
	});
});

describe('restartWithMemoryLimits', () => {
	let dir: string;
	let script: string;

	beforeAll(async () => {
		dir = await makeTempDir('cairn-restart-');
		script = path.join(dir, 'restart.mjs');
		// Writes what it sees before the restart on stderr, then restarts; after the restart it
		// reports its state as JSON on stdout (so the standard descriptors must survive execve).
		await fs.writeFile(script, `
			const {restartWithMemoryLimits} = await import(${JSON.stringify(new URL('../../source/allocator.ts', import.meta.url).href)});
			const v8 = await import('node:v8');
			if (!process.env.CAIRN_MEMORY_RESTART) process.stderr.write('pid ' + process.pid + '\\n');
			const result = restartWithMemoryLimits();
			let keep = [];
			for (let i = 0; i < 2e6; i++) { keep.push({i}); if (keep.length > 1000) keep = []; }
			const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
			console.log(JSON.stringify({result, pid: process.pid, execArgv: process.execArgv, args: process.argv.slice(2), arena: process.env.MALLOC_ARENA_MAX ?? null, mark: process.env.CAIRN_MEMORY_RESTART ?? null, newSpace}));
		`);
	});

	afterAll(async () => {
		await fs.rm(dir, {recursive: true, force: true});
	});

	/** Runs the script (arguments `backup`, `a b`) without any restart mark or arena setting in its environment. */
	function runScript(execArgv: string[] = []): Record<string, unknown> {
		const env = {...process.env};
		delete env.CAIRN_MEMORY_RESTART;
		delete env.MALLOC_ARENA_MAX;
		const output = execFileSync(process.execPath, ['--import', 'tsx', ...execArgv, script, 'backup', 'a b'], {encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe']});
		return JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
	}

	it('starts the process again in place with a small young generation', () => {
		const report = runScript() as {result: string; execArgv: string[]; args: string[]; arena: string | null; mark: string | null; newSpace: number};
		if (!isGlibc()) {
			expect(report.result).toBe('unsupported');
			return;
		}
		expect(report.result).toBe('restarted-before');
		expect(report.execArgv).toContain(`--max-semi-space-size=${MAIN_SEMI_SPACE_MB}`);
		expect(report.execArgv).toContain('--import');
		expect(report.args).toEqual(['backup', 'a b']);
		// What the restart added to the environment is gone again, so child processes do not inherit it.
		expect(report.arena).toBeNull();
		expect(report.mark).toBeNull();
		expect(report.newSpace).toBeLessThanOrEqual(2 * MAIN_SEMI_SPACE_MB * 1024 * 1024);
	});

	it('keeps the same process (PID) across the restart', async () => {
		const env = {...process.env};
		delete env.CAIRN_MEMORY_RESTART;
		delete env.MALLOC_ARENA_MAX;
		const {spawn} = await import('node:child_process');
		const child = spawn(process.execPath, ['--import', 'tsx', script, 'backup'], {env, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
		expect(code).toBe(0);
		const report = JSON.parse(stdout.trim()) as {pid: number};
		expect(stderr.trim()).toBe(`pid ${report.pid}`);
		expect(report.pid).toBe(child.pid);
	});

	it('leaves a young generation the user chose alone', () => {
		const report = runScript(['--max-semi-space-size=4']);
		expect(report.result).toBe('user-set');
		expect(report.execArgv).not.toContain(`--max-semi-space-size=${MAIN_SEMI_SPACE_MB}`);
	});

	it('removes what it added when it finds its mark', () => {
		const env: NodeJS.ProcessEnv = {CAIRN_MEMORY_RESTART: 'MALLOC_ARENA_MAX', MALLOC_ARENA_MAX: '2', OTHER: 'x'};
		expect(restartWithMemoryLimits(env)).toBe('restarted-before');
		expect(env).toEqual({OTHER: 'x'});
	});
});
