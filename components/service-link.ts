/**
 * The one place the app reaches the service's modules (service/, SERVICE-CONTRACT.md).
 *
 * TEMPORARY: until branch svc's service/config.ts, state.ts, config-edit.ts and windows.ts are
 * merged, this holds minimal stand-ins written against the contract (JSON configs only). Once they
 * are, this module only re-exports and adapts them.
 */
import {readFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type {ServiceConfigSummary} from './service-files.js';

/** The state file the service writes (SERVICE-CONTRACT.md). */
export interface ServiceState {
	version: 1;
	name: string;
	config_path: string;
	repository: string;
	repository_connected: boolean;
	last_backup: string | null;
	last_status: string;
	in_progress: boolean;
	progress: number;
	current: null | {operation: 'backup' | 'restore' | 'safety-snapshot' | 'prune' | 'check' | 'retention' | 'hook'; started: string; pid: number; files_done?: number; bytes_done?: number; bytes_total?: number};
	available_snapshots: Array<{id: string; time: string; size: number; source: string; description: string}>;
	next_run: string | null;
	window: null | {open: boolean; opens_at: string | null; closes_at: string | null};
	last_error: string | null;
	last_prune: string | null;
	last_check: string | null;
	last_run: null | {started: string; finished: string | null; result: 'success' | 'failure' | 'skipped' | 'running'; snapshot_id: string | null; duration_ms: number | null};
	restore: null | {snapshot_id: string; step: string; result: 'running' | 'success' | 'failure'; safety_snapshot_id: string | null; error: string | null};
	updated: string;
}

/** A config as loaded (stand-in). */
export interface LoadedServiceConfig {
	readonly raw: Record<string, unknown>;
}

function isRoot(): boolean {
	return process.getuid?.() === 0;
}

/** The default config path of this user. */
export function findDefaultConfigPath(env: Readonly<Record<string, string | undefined>>): string {
	if (isRoot()) return '/etc/cairn/service.yaml';
	const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
	return join(config, 'cairn', 'service.yaml');
}

/** Loads and checks a config. */
export async function loadServiceFile(path: string): Promise<LoadedServiceConfig> {
	const text = await readFile(path, 'utf8');
	const raw: unknown = JSON.parse(text);
	if (typeof raw !== 'object' || raw === null || !('backend' in raw)) throw new Error(`${path}: not a service config (no backend)`);
	return {raw: raw as Record<string, unknown>};
}

/** What the screen needs of a loaded config. */
export function describeServiceConfig(path: string, config: LoadedServiceConfig, env: Readonly<Record<string, string | undefined>>): ServiceConfigSummary {
	const name = path.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
	const stateDir = isRoot() ? '/var/lib/cairn' : join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'cairn');
	const raw = config.raw;
	return {
		path,
		name,
		statePath: typeof raw.state_file === 'string' ? raw.state_file : join(stateDir, `${name}.state.json`),
		paths: Array.isArray(raw.paths) ? raw.paths.map(String) : [],
		restoreSnapshotId: typeof raw.restore_snapshot_id === 'string' && raw.restore_snapshot_id !== '' ? raw.restore_snapshot_id : undefined,
		enabled: raw.enabled !== false,
		schedule: typeof raw.schedule === 'string' ? raw.schedule : undefined,
		describeWindow: () => undefined,
	};
}

/** Reads the state file; undefined when there is none yet. */
export async function readServiceState(path: string): Promise<ServiceState | undefined> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	return JSON.parse(text) as ServiceState;
}

/** Sets or clears `restore_snapshot_id` in the config file, keeping the rest. */
export async function setRestoreSnapshotId(_path: string, _id: string | undefined): Promise<void> {
	throw new Error('setting restore_snapshot_id needs service/config-edit.ts (branch svc)');
}
