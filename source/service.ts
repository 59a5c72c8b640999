/**
 * Entry point of `cairn service …`, the unattended service: run (foreground), run --once, status,
 * install. source/cli.tsx hands argv here before the CLI parser loads; no React or Ink here.
 */
import {spawnSync} from 'node:child_process';
import {writeFile} from 'node:fs/promises';
import {defaultConfigPath, loadServiceConfig, ServiceConfigError, type ServiceConfig, type ServiceProfile} from '../service/config.js';
import {buildCronLine, buildSystemdUnits, findUnitDirectory, findUnitName, writeUnitFiles} from '../service/install.js';
import {createServiceLog, type ServiceLog} from '../service/log.js';
import {acquireServiceLock} from '../service/lock.js';
import {computeStateNextRun, EXIT, formatLocalTime, loadCurrentState, runServiceOnce} from '../service/runner.js';
import {computeNextRun} from '../service/schedule.js';
import {readServiceState, writeServiceState, type ServiceState} from '../service/state.js';
import {describeWindow} from '../service/windows.js';

const USAGE = `usage: cairn service <command> [--config FILE]

The unattended service: backups on a schedule, inside maintenance windows, with hooks,
retention, prune, check, notifications and a one-time restore, driven by one YAML config.

commands:
  run [--once] [--force] [--ignore-window]   run in the foreground, doing each job when it is due;
                                             with --once do what is due now (all of it with --force) and exit
  status [--json]                            show the state (last backup, snapshots, next run, window)
  install [--systemd | --cron] [--dry-run]   write a systemd service and timer (default) or print a crontab line
          [--on-calendar SPEC] [--cron-schedule EXPR] [--unit-dir DIR]

options:
  --config FILE   the config (default: ${defaultConfigPath()})

exit codes: 0 done (or nothing due), 1 a job failed, 2 bad config or usage,
            ${EXIT.locked} another run holds the lock, ${EXIT.interrupted} stopped by SIGTERM.
See docs/service.md for every config field.
`;

interface ServiceFlags {
	config?: string;
	once: boolean;
	force: boolean;
	ignoreWindow: boolean;
	json: boolean;
	systemd: boolean;
	cron: boolean;
	dryRun: boolean;
	onCalendar?: string;
	cronSchedule?: string;
	unitDir?: string;
	help: boolean;
}

class ServiceUsageError extends Error {}

function parseFlags(args: readonly string[]): {command: string | undefined; flags: ServiceFlags} {
	const flags: ServiceFlags = {once: false, force: false, ignoreWindow: false, json: false, systemd: false, cron: false, dryRun: false, help: false};
	let command: string | undefined;
	for (let i = 0; i < args.length; i++) {
		const arg = args[i]!;
		const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
		const value = (): string => {
			const next = inline ?? args[++i];
			if (next === undefined || next === '') throw new ServiceUsageError(`${name} needs a value`);
			return next;
		};
		switch (name) {
			case '--config': case '-c': flags.config = value(); break;
			case '--once': flags.once = true; break;
			case '--force': flags.force = true; break;
			case '--ignore-window': flags.ignoreWindow = true; break;
			case '--json': flags.json = true; break;
			case '--systemd': flags.systemd = true; break;
			case '--cron': flags.cron = true; break;
			case '--dry-run': flags.dryRun = true; break;
			case '--on-calendar': flags.onCalendar = value(); break;
			case '--cron-schedule': flags.cronSchedule = value(); break;
			case '--unit-dir': flags.unitDir = value(); break;
			case '--help': case '-h': flags.help = true; break;
			default:
				if (arg.startsWith('-')) throw new ServiceUsageError(`unknown option ${arg}`);
				if (command !== undefined) throw new ServiceUsageError(`unexpected argument ${JSON.stringify(arg)}`);
				command = arg;
		}
	}
	return {command, flags};
}

/** Looks up a profile saved by the app (loaded only when a config names one). */
async function findSavedProfile(name: string): Promise<ServiceProfile | undefined> {
	const {openProfileStore} = await import('../components/profiles.js');
	return openProfileStore(process.env).findProfile(name);
}

function loadConfig(flags: ServiceFlags, options: {skipPermissionCheck?: boolean} = {}): Promise<ServiceConfig> {
	return loadServiceConfig(flags.config ?? defaultConfigPath(), {findProfile: findSavedProfile, ...options});
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve();
		const timer = setTimeout(done, ms);
		function done(): void {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}
		signal.addEventListener('abort', done, {once: true});
	});
}

/** SIGTERM and SIGINT stop the work cleanly (locks released, state recorded); a second SIGINT quits at once. */
function handleStopSignals(log: () => ServiceLog | undefined): {signal: AbortSignal; dispose: () => void} {
	const controller = new AbortController();
	let count = 0;
	const onSignal = (name: NodeJS.Signals): void => {
		count++;
		if (count > 1 && name === 'SIGINT') process.exit(130);
		log()?.info(`${name}: stopping cleanly`);
		controller.abort(new Error(name));
	};
	const onTerm = () => onSignal('SIGTERM');
	const onInt = () => onSignal('SIGINT');
	const onHup = () => undefined;
	process.on('SIGTERM', onTerm);
	process.on('SIGINT', onInt);
	process.on('SIGHUP', onHup);
	return {signal: controller.signal, dispose: () => {
		process.off('SIGTERM', onTerm);
		process.off('SIGINT', onInt);
		process.off('SIGHUP', onHup);
	}};
}

/** When the foreground loop should look again: the next due job or window opening, at most a minute away (config edits such as restore_snapshot_id are seen within a minute). */
function computeWakeDelay(config: ServiceConfig, state: ServiceState, now: Date): number {
	const candidates: number[] = [now.getTime() + 60_000];
	const next = computeStateNextRun(config, state, now);
	if (next !== null) candidates.push(new Date(next).getTime());
	if (config.prune !== null) candidates.push(computeNextRun(config.prune.schedule, state.last_prune, now).getTime());
	if (config.check !== null) candidates.push(computeNextRun(config.check.schedule, state.last_check, now).getTime());
	return Math.max(250, Math.min(...candidates) - now.getTime());
}

async function runForeground(flags: ServiceFlags): Promise<number> {
	let config = await loadConfig(flags);
	if (config.schedule === null && config.restore_snapshot_id === null) {
		throw new ServiceConfigError(config.path, [{line: null, field: 'schedule', message: 'missing: `cairn service run` in the foreground needs a schedule (e.g. schedule: "@every 6h"); without one, start `cairn service run --once` from a timer or cron (cairn service install)'}]);
	}
	let log = createServiceLog({secrets: config.secrets, file: config.log_file, name: config.name});
	const stop = handleStopSignals(() => log);
	log.info(`service started (pid ${process.pid}), config ${config.path}, state ${config.state_file}`);
	try {
		while (!stop.signal.aborted) {
			let delay: number;
			try {
				const outcome = await runServiceOnce(config, {log, signal: stop.signal, command: 'cairn service run'});
				if (stop.signal.aborted) break;
				delay = computeWakeDelay(config, outcome.state, new Date());
			} catch (error) {
				// Not a job's failure (those are recorded in the state): the state or lock file could not be used. Try again in a minute.
				log.error(`the run could not start: ${error instanceof Error ? error.message : String(error)}; trying again in 60 s`);
				delay = 60_000;
			}
			if (delay >= 1000) log.info(`next look in ${Math.round(delay / 1000)} s`);
			await sleep(delay, stop.signal);
			if (stop.signal.aborted) break;
			try {
				config = await loadConfig(flags);
				log = createServiceLog({secrets: config.secrets, file: config.log_file, name: config.name});
			} catch (error) {
				log.error(`the config is not valid now, going on with the last valid one: ${error instanceof Error ? error.message : String(error)}`);
			}
		}
		log.info('service stopped');
		return EXIT.ok;
	} finally {
		stop.dispose();
	}
}

async function runOnce(flags: ServiceFlags): Promise<number> {
	const config = await loadConfig(flags);
	const log = createServiceLog({secrets: config.secrets, file: config.log_file, name: config.name});
	const stop = handleStopSignals(() => log);
	try {
		const outcome = await runServiceOnce(config, {log, signal: stop.signal, force: flags.force, ignoreWindow: flags.ignoreWindow, command: `cairn service run --once${flags.force ? ' --force' : ''}`});
		return outcome.exitCode;
	} finally {
		stop.dispose();
	}
}

function formatStatus(state: ServiceState): string {
	const lines = [
		`service:              ${state.name} (${state.config_path})`,
		`repository:           ${state.repository}`,
		`repository_connected: ${state.repository_connected}`,
		`last_status:          ${state.last_status}`,
		`last_backup:          ${state.last_backup ?? 'never'}`,
		`last_error:           ${state.last_error ?? 'none'}`,
		`in_progress:          ${state.in_progress}${state.current ? ` (${state.current.operation} since ${state.current.started}, pid ${state.current.pid})` : ''}`,
		`progress:             ${state.progress}%`,
		`next_run:             ${state.next_run ?? 'at the next timer run (no schedule in the config)'}`,
		`window:               ${state.window === null ? 'no maintenance windows: any time' : state.window.open ? `open until ${state.window.closes_at}` : `closed, opens ${state.window.opens_at ?? 'never'}`}`,
		`last_prune:           ${state.last_prune ?? 'never'}`,
		`last_check:           ${state.last_check ?? 'never'}`,
	];
	if (state.restore !== null) lines.push(`restore:              ${state.restore.snapshot_id.slice(0, 8)} ${state.restore.result} at ${state.restore.step}${state.restore.safety_snapshot_id ? `, safety snapshot ${state.restore.safety_snapshot_id.slice(0, 8)}` : ''}${state.restore.error ? `: ${state.restore.error}` : ''}`);
	lines.push(`available_snapshots:  ${state.available_snapshots.length}`);
	for (const s of state.available_snapshots.slice(0, 20)) lines.push(`  ${s.id.slice(0, 8)}  ${s.time.slice(0, 19).replace('T', ' ')}  ${String(s.size).padStart(12)}  ${s.source}  (${s.description})`);
	if (state.available_snapshots.length > 20) lines.push(`  … ${state.available_snapshots.length - 20} more (cairn service status --json lists all)`);
	return lines.join('\n') + '\n';
}

async function showStatus(flags: ServiceFlags): Promise<number> {
	const config = await loadConfig(flags, {skipPermissionCheck: true});
	const now = new Date();
	const found = await readServiceState(config.state_file);
	const state = await loadCurrentState(config, now);
	if (found !== undefined && found.in_progress && !state.in_progress) {
		// A killed run: record it as interrupted, unless a run has started meanwhile (it holds the lock).
		const lock = await acquireServiceLock(config.state_file, 'cairn service status').catch(() => undefined);
		if (lock !== undefined) {
			try {
				await writeServiceState(config.state_file, state);
			} finally {
				await lock.release();
			}
		}
	}
	if (!state.in_progress) state.next_run = config.enabled ? computeStateNextRun(config, state, now) : null;
	const window = describeWindow(config.maintenance_windows, now);
	state.window = config.maintenance_windows.length === 0 ? null : {open: window.open, opens_at: window.opensAt ? formatLocalTime(window.opensAt) : null, closes_at: window.closesAt ? formatLocalTime(window.closesAt) : null};
	process.stdout.write(flags.json ? JSON.stringify(state, null, 2) + '\n' : formatStatus(state));
	return EXIT.ok;
}

async function install(flags: ServiceFlags): Promise<number> {
	if (flags.systemd && flags.cron) throw new ServiceUsageError('give --systemd or --cron, not both');
	const config = await loadConfig(flags);
	if (flags.cron) {
		const line = buildCronLine(config, {cronSchedule: flags.cronSchedule});
		if (flags.dryRun) {
			process.stdout.write(line + '\n');
			return EXIT.ok;
		}
		if (process.getuid?.() === 0) {
			const file = `/etc/cron.d/${findUnitName(config)}`;
			const [schedule, ...rest] = [line.split(' ').slice(0, 5).join(' '), line.split(' ').slice(5).join(' ')];
			await writeFile(file, `# written by cairn service install --cron\nSHELL=/bin/sh\n${schedule} root ${rest.join(' ')}\n`, {mode: 0o644});
			process.stdout.write(`wrote ${file}\n`);
			return EXIT.ok;
		}
		const current = spawnSync('crontab', ['-l'], {encoding: 'utf8'});
		if (current.error !== undefined) throw new ServiceUsageError(`cannot run crontab (${current.error.message}); add this line with crontab -e:\n${line}`);
		const existing = current.status === 0 ? current.stdout : '';
		const kept = existing.split('\n').filter((l) => l.trim() !== '' && !l.endsWith(`# cairn service ${config.name}`));
		const written = spawnSync('crontab', ['-'], {input: [...kept, line].join('\n') + '\n', encoding: 'utf8'});
		if (written.status !== 0) throw new ServiceUsageError(`crontab refused the new table: ${written.stderr.trim()}; add this line with crontab -e:\n${line}`);
		process.stdout.write(`added to your crontab:\n${line}\n`);
		return EXIT.ok;
	}
	const units = buildSystemdUnits(config, {onCalendar: flags.onCalendar});
	if (flags.dryRun) {
		for (const unit of units) process.stdout.write(`# ${unit.name}\n${unit.content}\n`);
		return EXIT.ok;
	}
	const directory = flags.unitDir ?? findUnitDirectory();
	const paths = await writeUnitFiles(units, directory);
	const user = process.getuid?.() === 0 ? '' : ' --user';
	process.stdout.write(`wrote ${paths.join(' and ')}\nstart the timer with:\n  systemctl${user} daemon-reload && systemctl${user} enable --now ${findUnitName(config)}.timer\n`);
	return EXIT.ok;
}

/** Runs `cairn service <args>`; resolves with the exit code. */
export async function runService(args: readonly string[]): Promise<number> {
	try {
		const {command, flags} = parseFlags(args);
		if (flags.help || command === undefined || command === 'help') {
			(command === undefined && !flags.help ? process.stderr : process.stdout).write(USAGE);
			return command === undefined && !flags.help ? EXIT.config : EXIT.ok;
		}
		switch (command) {
			case 'run': return flags.once ? await runOnce(flags) : await runForeground(flags);
			case 'status': return await showStatus(flags);
			case 'install': return await install(flags);
			default: throw new ServiceUsageError(`unknown service command ${JSON.stringify(command)}: use run, status or install`);
		}
	} catch (error) {
		if (error instanceof ServiceConfigError || error instanceof ServiceUsageError) {
			process.stderr.write(`cairn service: ${error.message}\n`);
			if (error instanceof ServiceUsageError) process.stderr.write('run `cairn service --help` for the usage\n');
			return EXIT.config;
		}
		process.stderr.write(`cairn service: ${error instanceof Error ? error.message : String(error)}\n`);
		return EXIT.failure;
	}
}
