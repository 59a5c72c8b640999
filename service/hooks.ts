/**
 * Hooks: shell commands run before and after a backup or a restore, and on failure. Each runs
 * with /bin/sh -c in its own process group, with a time limit (the whole group is killed when it
 * passes), and its output goes to the service's log. The environment carries CAIRN_* variables
 * and never a secret: the service's own CAIRN_PASSWORD / RESTIC_* / AWS secrets are removed.
 */
import {spawn} from 'node:child_process';
import type {HookCommand, HookName} from './config.js';
import type {ServiceLog} from './log.js';

/** What a hook did. */
export interface HookResult {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly timedOut: boolean;
	readonly stdout: string;
	readonly stderr: string;
}

/** A hook that failed (non-zero exit, killed, or timed out). */
export class HookError extends Error {
	constructor(readonly hook: HookName, readonly result: HookResult) {
		const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ').slice(0, 300);
		const how = result.timedOut ? 'timed out and was killed' : result.signal !== null ? `was killed by ${result.signal}` : `exited with code ${String(result.code)}`;
		super(`the ${hook} hook ${how}${tail ? `: ${tail}` : ''}`);
		Object.defineProperty(this, 'name', {value: 'HookError', enumerable: false});
	}
}

/** Variables never passed to hooks: they may hold the repository password or storage credentials. */
const SECRET_VARIABLE = /^(CAIRN_PASSWORD.*|RESTIC_PASSWORD.*|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AZURE_STORAGE_KEY|AZURE_STORAGE_SAS_TOKEN|AZURE_STORAGE_CONNECTION_STRING|B2_ACCOUNT_KEY|GOOGLE_APPLICATION_CREDENTIALS|OS_PASSWORD|ST_KEY|RCLONE_CONFIG_PASS)$/;

/** The environment of a hook: the service's, without secrets, plus `extra` (CAIRN_SOURCE_PATH, …). */
export function buildHookEnvironment(extra: Readonly<Record<string, string | undefined>>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(base)) if (!SECRET_VARIABLE.test(key)) env[key] = value;
	for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
	return env;
}

/**
 * Runs a hook and resolves with what it did; rejects with HookError when it fails. The signal
 * kills the hook's process group (SIGTERM, then SIGKILL after 5 s).
 */
export function runHook(name: HookName, hook: HookCommand, env: NodeJS.ProcessEnv, log: ServiceLog, signal?: AbortSignal): Promise<HookResult> {
	log.info(`hook ${name}: running ${hook.command}`);
	return new Promise((resolve, reject) => {
		const child = spawn('/bin/sh', ['-c', hook.command], {env, detached: true, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		let timedOut = false;
		const killGroup = (sig: NodeJS.Signals) => {
			try {
				if (child.pid !== undefined) process.kill(-child.pid, sig);
			} catch {
				// already gone
			}
		};
		let hardKill: NodeJS.Timeout | undefined;
		const stop = () => {
			killGroup('SIGTERM');
			hardKill ??= setTimeout(() => killGroup('SIGKILL'), 5000);
		};
		const timer = setTimeout(() => {
			timedOut = true;
			log.error(`hook ${name}: still running after ${Math.round(hook.timeout_ms / 1000)} s: killing it`);
			stop();
		}, hook.timeout_ms);
		const onAbort = () => stop();
		signal?.addEventListener('abort', onAbort, {once: true});
		const logLines = (text: string, stream: 'stdout' | 'stderr') => {
			for (const line of text.split('\n')) if (line.trim() !== '') log.info(`hook ${name} ${stream}: ${line}`);
		};
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
			logLines(chunk, 'stdout');
		});
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
			logLines(chunk, 'stderr');
		});
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code, sig) => {
			clearTimeout(timer);
			if (hardKill !== undefined) clearTimeout(hardKill);
			signal?.removeEventListener('abort', onAbort);
			const result: HookResult = {code, signal: sig, timedOut, stdout, stderr};
			if (code === 0 && !timedOut) {
				log.info(`hook ${name}: done`);
				resolve(result);
			} else {
				const error = new HookError(name, result);
				log.error(error.message);
				reject(error);
			}
		});
	});
}

/**
 * The `CAIRN_SNAPSHOT_PATH=DIR` lines a before_backup hook printed, as recorded path -> path read.
 * With one configured path, `CAIRN_SNAPSHOT_PATH=DIR` redirects it; with several, each line names
 * the configured path first: `CAIRN_SNAPSHOT_PATH=/srv/data=/mnt/snap/data`.
 * Returns problems for lines that name no configured path.
 */
export function readSnapshotPaths(stdout: string, paths: readonly string[]): {readFrom: Record<string, string>; problems: string[]} {
	const readFrom: Record<string, string> = {};
	const problems: string[] = [];
	for (const line of stdout.split('\n')) {
		const match = /^\s*CAIRN_SNAPSHOT_PATH=(.+?)\s*$/.exec(line);
		if (match === null) continue;
		const value = match[1]!;
		if (paths.length === 1 && !paths.some((p) => value.startsWith(`${p}=`))) {
			readFrom[paths[0]!] = value;
			continue;
		}
		const configured = paths.find((p) => value.startsWith(`${p}=`));
		if (configured === undefined) problems.push(`CAIRN_SNAPSHOT_PATH=${value} names no configured path: with several paths write CAIRN_SNAPSHOT_PATH=<configured path>=<directory to read>`);
		else readFrom[configured] = value.slice(configured.length + 1);
	}
	return {readFrom, problems};
}
