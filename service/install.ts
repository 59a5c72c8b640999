/**
 * `cairn service install`: a systemd service and timer (Persistent=true, so a run missed while
 * the machine was off happens at the next boot) or a crontab line, pointing at the running
 * program (see spawn.ts). The texts are built by pure functions; writing them is separate.
 */
import {mkdir, writeFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type {ServiceConfig} from './config.js';
import {buildServiceCommand} from './spawn.js';

/** Exit codes systemd should not count as failures: 75 (another run held the lock), 143 (stopped by SIGTERM). */
const SUCCESS_EXIT_STATUS = '75 143';

/** Quotes one argument for a systemd ExecStart= line (double quotes; `%` and `$` escaped). */
export function quoteSystemdArgument(arg: string): string {
	const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
	if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return escaped;
	return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Quotes one argument for /bin/sh (single quotes). */
export function quoteShellArgument(arg: string): string {
	if (/^[A-Za-z0-9_@+=:,./-]+$/.test(arg)) return arg;
	return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The unit name of a config: `cairn-<name>` with characters systemd does not allow replaced. */
export function findUnitName(config: Pick<ServiceConfig, 'name'>): string {
	return `cairn-${config.name.replace(/[^A-Za-z0-9:_.-]/g, '_')}`;
}

/**
 * How often the timer or cron line starts `run --once`. With a `schedule` in the config the run
 * itself decides whether a backup is due, so the timer only has to come often enough (every 5
 * minutes; a cron expression is used as it is). Without one, the timer is the schedule: daily at
 * 03:00 unless `onCalendar` / `cronSchedule` says otherwise.
 */
function chooseTimes(config: Pick<ServiceConfig, 'schedule'>, override: {onCalendar?: string; cron?: string}): {onCalendar: string; cron: string} {
	if (config.schedule === null) return {onCalendar: override.onCalendar ?? '*-*-* 03:00:00', cron: override.cron ?? '0 3 * * *'};
	const cron = config.schedule.kind === 'cron' && config.schedule.expression.split(' ').length === 5 ? config.schedule.expression : '*/5 * * * *';
	return {onCalendar: override.onCalendar ?? '*:0/5', cron: override.cron ?? cron};
}

/** The generated files: name and content. */
export interface UnitFile {
	readonly name: string;
	readonly content: string;
}

/** The systemd service (Type=oneshot, runs `service run --once`) and its timer. */
export function buildSystemdUnits(config: Pick<ServiceConfig, 'name' | 'path' | 'schedule'>, options: {onCalendar?: string; command?: {command: string; args: string[]}} = {}): UnitFile[] {
	const unit = findUnitName(config);
	const command = options.command ?? buildServiceCommand(['service', 'run', '--once', '--config', config.path]);
	const exec = [command.command, ...command.args].map(quoteSystemdArgument).join(' ');
	const {onCalendar} = chooseTimes(config, {onCalendar: options.onCalendar});
	const service = [
		'[Unit]',
		`Description=cairn backup service (${config.name})`,
		'Wants=network-online.target',
		'After=network-online.target',
		'',
		'[Service]',
		'Type=oneshot',
		`ExecStart=${exec}`,
		`SuccessExitStatus=${SUCCESS_EXIT_STATUS}`,
		'Nice=10',
		'IOSchedulingClass=best-effort',
		'IOSchedulingPriority=7',
		'',
	].join('\n');
	const timer = [
		'[Unit]',
		`Description=Start the cairn backup service (${config.name})`,
		'',
		'[Timer]',
		`OnCalendar=${onCalendar}`,
		'Persistent=true',
		`Unit=${unit}.service`,
		'',
		'[Install]',
		'WantedBy=timers.target',
		'',
	].join('\n');
	return [{name: `${unit}.service`, content: service}, {name: `${unit}.timer`, content: timer}];
}

/** A crontab line running `service run --once` (for `crontab -e`; `%` escaped as cron needs). */
export function buildCronLine(config: Pick<ServiceConfig, 'name' | 'path' | 'schedule'>, options: {cronSchedule?: string; command?: {command: string; args: string[]}} = {}): string {
	const command = options.command ?? buildServiceCommand(['service', 'run', '--once', '--config', config.path]);
	const shell = [command.command, ...command.args].map(quoteShellArgument).join(' ').replace(/%/g, '\\%');
	const {cron} = chooseTimes(config, {cron: options.cronSchedule});
	return `${cron} ${shell} # cairn service ${config.name}`;
}

/** Where units go: /etc/systemd/system for root, ~/.config/systemd/user otherwise. */
export function findUnitDirectory(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): string {
	if (isRoot) return '/etc/systemd/system';
	return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'systemd', 'user');
}

/** Writes the units into `directory`; returns their paths. */
export async function writeUnitFiles(units: readonly UnitFile[], directory: string): Promise<string[]> {
	await mkdir(directory, {recursive: true});
	const written: string[] = [];
	for (const unit of units) {
		const path = join(directory, unit.name);
		await writeFile(path, unit.content, {mode: 0o644});
		written.push(path);
	}
	return written;
}
