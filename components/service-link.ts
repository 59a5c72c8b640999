/**
 * The one place the app reaches the service's modules (service/, SERVICE-CONTRACT.md): loading a
 * config, its state file, the edit of `restore_snapshot_id` and the maintenance windows. The app
 * keeps only what its Service screen shows; the config's secrets are never kept.
 */
import {defaultConfigPath, loadServiceConfig, type ServiceConfig} from '../service/config.js';
import {describeWindow} from '../service/windows.js';
import {computeNextRun} from '../service/schedule.js';
import type {ServiceConfigSummary} from './service-files.js';

export type {ServiceState} from '../service/state.js';
export {readServiceState} from '../service/state.js';
export {setRestoreSnapshotId} from '../service/config-edit.js';

/** The default config path of this user (`/etc/cairn/service.yaml` for root). */
export function findDefaultConfigPath(env: Readonly<Record<string, string | undefined>>): string {
	return defaultConfigPath(env);
}

/**
 * Loads and checks a config as the service would. `checkPermissions` false skips the refusal of
 * a config with a secret that others can read (for listing configs; the screen keeps the check,
 * so that it shows what the service would say).
 */
export function loadServiceFile(path: string, env: Readonly<Record<string, string | undefined>>, checkPermissions = true): Promise<ServiceConfig> {
	return loadServiceConfig(path, {env, skipPermissionCheck: !checkPermissions});
}

/** What the screen needs of a loaded config: no password, no backend option. */
export function describeServiceConfig(config: ServiceConfig): ServiceConfigSummary {
	const windows = config.maintenance_windows;
	const schedule = config.schedule;
	return {
		path: config.path,
		name: config.name,
		statePath: config.state_file,
		repository: config.repository,
		paths: [...config.paths],
		restoreSnapshotId: config.restore_snapshot_id === null || config.restore_snapshot_id === '' ? undefined : config.restore_snapshot_id,
		enabled: config.enabled,
		schedule: schedule?.text,
		describeWindow: (now) => (windows.length === 0 ? undefined : describeWindow(windows, now)),
		computeNextRun: (lastRun, now) => (schedule === null ? undefined : computeNextRun(schedule, lastRun, now)),
	};
}
