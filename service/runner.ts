/**
 * One run of the service: what `cairn service run --once` does, and what the foreground
 * `cairn service run` does each time a job is due.
 *
 * Order: take the service lock; repair a state a killed run left; with `restore_snapshot_id`
 * set, do the one-time restore and nothing else; otherwise, inside a maintenance window, open
 * (or create) the repository, run before_backup, back up, run after_backup, apply the retention,
 * and prune or check when due. The state file is written atomically after every step and while
 * a backup runs. Failures run on_failure, are recorded and notified. No React here.
 */
import {lstat} from 'node:fs/promises';
import {hostname as osHostname} from 'node:os';
import {openRepositoryFrom, type RepositoryTarget} from '../access/open.js';
import {runBackup, type BackupSummary} from '../engine/archiver/archiver.js';
import {runCheck} from '../engine/checker/checker.js';
import {CancelledError} from '../engine/errors.js';
import type {ProgressEvent} from '../engine/progress.js';
import {runPrune} from '../engine/prune/prune.js';
import type {Repository} from '../engine/repository/repository.js';
import {findSnapshotId, listSnapshots} from '../engine/repository/snapshots.js';
import {runForget} from '../engine/retention/forget.js';
import type {ServiceConfig, HookName} from './config.js';
import {setRestoreSnapshotId} from './config-edit.js';
import {buildHookEnvironment, HookError, readSnapshotPaths, runHook} from './hooks.js';
import {acquireServiceLock, LOCKED_EXIT_CODE, ServiceLockedError} from './lock.js';
import type {ServiceLog} from './log.js';
import {postNotification, writePrometheusTextfile, type RunSummary} from './notify.js';
import {readServicePassword} from './password.js';
import {restoreInPlace} from './restore-in-place.js';
import {computeNextRun, isDue} from './schedule.js';
import {createServiceState, readServiceState, repairInterruptedState, writeServiceState, type ServiceOperation, type ServiceState, type StateSnapshot} from './state.js';
import {describeWindow} from './windows.js';
import {MEMORY_LIMIT_ENV} from '../engine/util/memory-budget.js';

/** Exit codes of a run. */
export const EXIT = {ok: 0, failure: 1, config: 2, locked: LOCKED_EXIT_CODE, interrupted: 143} as const;

/** How a run is asked for. */
export interface RunOnceOptions {
	/** Do everything now (backup, and prune and check when configured), whatever the schedules say. */
	readonly force?: boolean;
	/** Start even outside the maintenance windows (a person asked for it). */
	readonly ignoreWindow?: boolean;
	readonly log: ServiceLog;
	readonly signal?: AbortSignal;
	/** The clock (tests pass a fixed time). */
	readonly now?: () => Date;
	/** What started the run, for the lock file (e.g. `service run --once`). */
	readonly command?: string;
}

/** What a run did. */
export interface RunOutcome {
	readonly exitCode: number;
	readonly state: ServiceState;
	/** What was done, e.g. ['backup', 'retention']; empty when nothing was due or the window was closed. */
	readonly did: readonly string[];
}

/** Local ISO 8601 with the zone offset, e.g. 2026-12-06T02:00:00+01:00. */
export function formatLocalTime(date: Date): string {
	const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');
	const offset = -date.getTimezoneOffset();
	const sign = offset >= 0 ? '+' : '-';
	return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/** Bytes for people: 3.2 MiB. */
export function formatSize(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Keeps the state and writes it atomically; writes are serialized, progress writes throttled. */
class StateKeeper {
	private writing: Promise<void> = Promise.resolve();
	private lastProgressWrite = 0;

	constructor(readonly path: string, public state: ServiceState, private readonly log: ServiceLog) {}

	/** Changes the state and writes it (awaiting the write). Strings are scrubbed of secrets. */
	async update(patch: Partial<ServiceState>): Promise<void> {
		Object.assign(this.state, patch);
		if (this.state.last_error !== null) this.state.last_error = this.log.scrub(this.state.last_error);
		this.state.last_status = this.log.scrub(this.state.last_status);
		const snapshot = structuredClone(this.state);
		this.writing = this.writing.then(() => writeServiceState(this.path, snapshot)).catch((error: unknown) => {
			this.log.error(`cannot write the state file ${this.path}: ${(error as Error).message}`);
		});
		await this.writing;
	}

	/** Records progress, writing at most twice a second. */
	progress(event: ProgressEvent): void {
		const current = this.state.current;
		if (current === null) return;
		current.files_done = event.filesDone;
		current.bytes_done = event.bytesDone;
		if (event.bytesTotal !== undefined) current.bytes_total = event.bytesTotal;
		this.state.progress = event.bytesTotal ? Math.min(99, Math.floor((event.bytesDone / event.bytesTotal) * 100)) : 0;
		const now = Date.now();
		if (now - this.lastProgressWrite < 500) return;
		this.lastProgressWrite = now;
		void this.update({});
	}

	async begin(operation: ServiceOperation): Promise<void> {
		await this.update({in_progress: true, progress: 0, current: {operation, started: new Date().toISOString(), pid: process.pid}});
	}
}

/**
 * Puts the config's `max_memory` where the memory budget and the worker threads read it (the
 * environment, as `--max-memory` does); it wins over CAIRN_MAX_MEMORY. Returns a function that
 * puts the environment back, so that a config reloaded without the field goes back to it.
 */
export function applyMemoryLimit(config: Pick<ServiceConfig, 'max_memory'>, env: NodeJS.ProcessEnv = process.env): () => void {
	if (config.max_memory === null) return () => undefined;
	const before = env[MEMORY_LIMIT_ENV];
	env[MEMORY_LIMIT_ENV] = String(config.max_memory);
	return () => {
		if (before === undefined) delete env[MEMORY_LIMIT_ENV];
		else env[MEMORY_LIMIT_ENV] = before;
	};
}

/** The repository target of a config, for the shared opener. */
export function readConfigTarget(config: ServiceConfig): RepositoryTarget {
	return {
		location: config.backend.location,
		options: config.backend.options,
		...(config.limit_upload !== null ? {limitUpload: config.limit_upload} : {}),
		...(config.limit_download !== null ? {limitDownload: config.limit_download} : {}),
	};
}

/** Reads the state of a config, repaired when a killed run left it in progress; a new one when there is none. */
export async function loadCurrentState(config: ServiceConfig, now = new Date()): Promise<ServiceState> {
	const found = await readServiceState(config.state_file).catch(() => undefined);
	const state = found === undefined ? createServiceState({name: config.name, config_path: config.path, repository: config.repository}, now) : repairInterruptedState(found, now);
	state.name = config.name;
	state.config_path = config.path;
	state.repository = config.repository;
	return state;
}

/** The time the schedule counts from: the start of the last run that tried a backup. */
function findLastAttempt(state: ServiceState): string | null {
	return state.last_run !== null && state.last_run.result !== 'skipped' ? state.last_run.started : null;
}

/** When the next backup is due (null without a schedule: the timer decides). */
export function computeStateNextRun(config: ServiceConfig, state: ServiceState, now: Date): string | null {
	if (config.schedule === null) return null;
	let next = computeNextRun(config.schedule, findLastAttempt(state), now);
	if (next.getTime() < now.getTime()) next = now;
	const window = describeWindow(config.maintenance_windows, next);
	if (!window.open && window.opensAt !== undefined) next = window.opensAt;
	return formatLocalTime(next);
}

function describeSnapshot(snapshot: {hostname?: string; tags?: string[]}): string {
	const parts = [`host ${snapshot.hostname ?? '?'}`];
	if (snapshot.tags?.length) parts.push(`tags ${snapshot.tags.join(',')}`);
	return parts.join(', ');
}

/** The snapshots as the state lists them, newest first; sizes known from earlier states are kept. */
async function listStateSnapshots(repo: Repository, config: ServiceConfig, previous: readonly StateSnapshot[], known: Map<string, number>): Promise<StateSnapshot[]> {
	const sizes = new Map(previous.map((s) => [s.id, s.size]));
	for (const [id, size] of known) sizes.set(id, size);
	const snapshots = await listSnapshots(repo, {onError: () => undefined});
	return snapshots.reverse().map((s) => ({
		id: s.id,
		time: s.time,
		size: sizes.get(s.id) ?? Number((s.summary as {total_bytes_processed?: unknown} | undefined)?.total_bytes_processed ?? 0),
		source: s.paths.join(', ') || config.paths.join(', '),
		description: describeSnapshot(s),
	}));
}

/** Everything one run works with. */
interface RunContext {
	readonly config: ServiceConfig;
	readonly options: RunOnceOptions;
	readonly log: ServiceLog;
	readonly keeper: StateKeeper;
	readonly started: Date;
	readonly did: string[];
	readonly knownSizes: Map<string, number>;
	repo?: Repository;
	summary?: BackupSummary;
	snapshotId?: string;
}

function hookEnvironment(ctx: RunContext, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
	return buildHookEnvironment({
		CAIRN_SOURCE_PATH: ctx.config.paths.join(':'),
		CAIRN_REPOSITORY: ctx.config.repository,
		CAIRN_SERVICE: ctx.config.name,
		CAIRN_CONFIG: ctx.config.path,
		...extra,
	});
}

async function runConfiguredHook(ctx: RunContext, name: HookName, extra: Record<string, string | undefined> = {}): Promise<string | undefined> {
	const hook = ctx.config.hooks[name];
	if (hook === undefined) return undefined;
	await ctx.keeper.begin('hook');
	const result = await runHook(name, hook, hookEnvironment(ctx, extra), ctx.log, ctx.options.signal);
	return result.stdout;
}

async function openRepository(ctx: RunContext): Promise<Repository> {
	const password = await readServicePassword(ctx.config.password);
	const {repository, created} = await openRepositoryFrom(readConfigTarget(ctx.config), {
		password,
		create: 'if-missing',
		// A backup takes its lock next: the lock files are listed while the key is derived.
		repository: {signal: ctx.options.signal, listLocksEarly: true, ...(ctx.config.compression !== null ? {compression: ctx.config.compression} : {})},
	});
	if (created) ctx.log.info(`created a new repository at ${ctx.config.repository}`);
	await ctx.keeper.update({repository_connected: true});
	return repository;
}

async function notify(ctx: RunContext, event: 'success' | 'failure', error: string | null): Promise<void> {
	const notifyConfig = ctx.config.notify;
	if (notifyConfig === null) return;
	const state = ctx.keeper.state;
	const finished = new Date();
	const summary: RunSummary = {
		service: ctx.config.name,
		event,
		status: state.last_status,
		repository: ctx.config.repository,
		host: ctx.config.host ?? osHostname(),
		paths: ctx.config.paths,
		started: ctx.started.toISOString(),
		finished: finished.toISOString(),
		duration_ms: finished.getTime() - ctx.started.getTime(),
		snapshot_id: ctx.snapshotId ?? null,
		files: ctx.summary?.total_files_processed ?? null,
		bytes_added: ctx.summary?.data_added ?? null,
		bytes_processed: ctx.summary?.total_bytes_processed ?? null,
		error: error === null ? null : ctx.log.scrub(error),
	};
	const target = event === 'failure' ? notifyConfig.failure_url : notifyConfig.url;
	if (target !== null && notifyConfig.on.includes(event)) {
		try {
			const status = await postNotification(target, summary, notifyConfig.timeout_ms);
			ctx.log.info(`notification sent (${event}, HTTP ${status})`);
		} catch (failure) {
			ctx.log.error(ctx.log.scrub((failure as Error).message));
		}
	}
	if (notifyConfig.prometheus_textfile !== null) {
		try {
			await writePrometheusTextfile(notifyConfig.prometheus_textfile, {
				service: ctx.config.name,
				success: event === 'success',
				lastBackup: state.last_backup === null ? null : Math.floor(new Date(state.last_backup).getTime() / 1000),
				durationSeconds: summary.duration_ms / 1000,
				bytesProcessed: summary.bytes_processed,
				bytesAdded: summary.bytes_added,
				files: summary.files,
				snapshots: state.available_snapshots.length,
				finished: Math.floor(finished.getTime() / 1000),
			});
		} catch (failure) {
			ctx.log.error(`cannot write the Prometheus textfile ${notifyConfig.prometheus_textfile}: ${(failure as Error).message}`);
		}
	}
}

/** Records a failure, runs on_failure (its own failure is only logged), notifies. */
async function recordFailure(ctx: RunContext, step: string, error: unknown): Promise<number> {
	const cancelled = error instanceof CancelledError || ctx.options.signal?.aborted === true;
	const message = ctx.log.scrub(cancelled ? `stopped during ${step}: the service was asked to stop (SIGTERM)` : `${step} failed: ${error instanceof Error ? error.message : String(error)}`);
	ctx.log.error(message);
	const finished = new Date();
	const state = ctx.keeper.state;
	await ctx.keeper.update({
		in_progress: false, progress: 0, current: null, last_error: message, last_status: message,
		last_run: {started: ctx.started.toISOString(), finished: finished.toISOString(), result: 'failure', snapshot_id: ctx.snapshotId ?? null, duration_ms: finished.getTime() - ctx.started.getTime()},
		restore: state.restore !== null && state.restore.result === 'running' ? {...state.restore, result: 'failure', error: message} : state.restore,
	});
	if (!cancelled && ctx.config.hooks.on_failure !== undefined) {
		try {
			await runConfiguredHook(ctx, 'on_failure', {CAIRN_ERROR: message, CAIRN_SNAPSHOT_ID: ctx.snapshotId});
		} catch (hookError) {
			ctx.log.error(`on_failure: ${(hookError as Error).message}`);
		}
		await ctx.keeper.update({in_progress: false, current: null});
	}
	await notify(ctx, 'failure', message);
	return cancelled ? EXIT.interrupted : EXIT.failure;
}

/** The backup part of a run (hooks, backup, retention, prune, check as due). */
async function runBackupJobs(ctx: RunContext, jobs: {backup: boolean; prune: boolean; check: boolean}): Promise<number> {
	const {config, keeper, log} = ctx;
	let step = 'opening the repository';
	try {
		ctx.repo = await openRepository(ctx);
		if (jobs.backup) {
			step = 'the before_backup hook';
			const stdout = await runConfiguredHook(ctx, 'before_backup');
			const {readFrom, problems} = readSnapshotPaths(stdout ?? '', config.paths);
			if (problems.length > 0) throw new Error(problems.join('; '));
			for (const [recorded, read] of Object.entries(readFrom)) log.info(`backing up ${recorded} from ${read} (CAIRN_SNAPSHOT_PATH)`);
			step = 'the backup';
			await keeper.begin('backup');
			const host = config.host ?? undefined;
			ctx.summary = await runBackup(ctx.repo, {
				paths: [...config.paths], excludes: [...config.excludes], tags: [...config.tags], ...(host !== undefined ? {host} : {}),
				readFrom, signal: ctx.options.signal, scan: true,
				onProgress: (event) => keeper.progress(event),
				onWarning: (path, message) => log.error(`warning: ${path}: ${message}`),
			});
			ctx.snapshotId = ctx.summary.snapshot_id;
			ctx.knownSizes.set(ctx.snapshotId, ctx.summary.total_bytes_processed);
			ctx.did.push('backup');
			const done = `backup done: snapshot ${ctx.snapshotId.slice(0, 8)}, ${ctx.summary.files_new} files new, ${ctx.summary.files_changed} changed, ${ctx.summary.files_unmodified} unmodified, ${formatSize(ctx.summary.data_added)} added${ctx.summary.errors > 0 ? `; ${ctx.summary.errors} entries could not be read` : ''}`;
			log.info(done);
			await keeper.update({in_progress: false, progress: 100, current: null, last_backup: new Date().toISOString(), last_status: done});
			step = 'the after_backup hook';
			await runConfiguredHook(ctx, 'after_backup', {CAIRN_SNAPSHOT_ID: ctx.snapshotId});
			if (config.retention !== null) {
				step = 'the retention';
				await keeper.begin('retention');
				const result = await runForget(ctx.repo, {
					policy: config.retention,
					filter: {hosts: [config.host ?? osHostname()], paths: [...config.paths]},
					signal: ctx.options.signal,
				});
				const notRemoved = result.failed.length > 0 ? `; ${result.failed.length} could not be removed` : '';
				log.info(`retention: ${result.removed.length} snapshot${result.removed.length === 1 ? '' : 's'} removed${notRemoved}`);
				ctx.did.push('retention');
			}
		}
		if (jobs.prune && config.prune !== null) {
			step = 'the prune';
			await keeper.begin('prune');
			const report = await runPrune(ctx.repo, {maxUnused: config.prune.max_unused, signal: ctx.options.signal});
			log.info(`prune done: ${report.removedPacks.length} packs removed, ${report.packsWritten} written${report.deleteFailures.length > 0 ? `, ${report.deleteFailures.length} could not be deleted (the next prune tries again)` : ''}`);
			ctx.did.push('prune');
			await keeper.update({last_prune: new Date().toISOString()});
			// The prune rewrote the index, which this open repository cannot see: open it again for what follows.
			await ctx.repo.close().catch(() => undefined);
			ctx.repo = undefined;
			ctx.repo = await openRepository(ctx);
		}
		if (jobs.check && config.check !== null) {
			step = 'the check';
			await keeper.begin('check');
			const subset = config.check.read_data_subset;
			const report = await runCheck(ctx.repo, {...(subset !== null ? {readDataSubset: subset} : {}), signal: ctx.options.signal, onProgress: (event) => keeper.progress(event)});
			const errors = report.problems.filter((p) => p.severity === 'error');
			await keeper.update({last_check: new Date().toISOString()});
			ctx.did.push('check');
			if (errors.length > 0) throw new Error(`${errors.length} error${errors.length === 1 ? '' : 's'} found, first: ${errors[0]!.file}: ${errors[0]!.message}; run \`cairn check\` for the full list`);
			log.info(`check done: no errors (${report.packs} packs, ${report.snapshots} snapshots)`);
		}
		step = 'listing the snapshots';
		const snapshots = await listStateSnapshots(ctx.repo, config, keeper.state.available_snapshots, ctx.knownSizes);
		const finished = new Date();
		const status = ctx.did.includes('backup') ? keeper.state.last_status : `${ctx.did.join(' and ')} done`;
		await keeper.update({
			in_progress: false, progress: 100, current: null, available_snapshots: snapshots, last_error: null, last_status: status,
			last_run: {started: ctx.started.toISOString(), finished: finished.toISOString(), result: 'success', snapshot_id: ctx.snapshotId ?? null, duration_ms: finished.getTime() - ctx.started.getTime()},
		});
		await keeper.update({next_run: computeStateNextRun(config, keeper.state, finished)});
		await notify(ctx, 'success', null);
		return EXIT.ok;
	} catch (error) {
		if (error instanceof HookError) step = `the ${error.hook} hook`;
		return recordFailure(ctx, step, error);
	}
}

/** The one-time restore of `restore_snapshot_id` (see docs/service.md). */
async function runOneTimeRestore(ctx: RunContext, requested: string): Promise<number> {
	const {config, keeper, log} = ctx;
	const setStep = (step: string, extra: Partial<NonNullable<ServiceState['restore']>> = {}) =>
		keeper.update({restore: {snapshot_id: keeper.state.restore?.snapshot_id ?? requested, step, result: 'running', safety_snapshot_id: keeper.state.restore?.safety_snapshot_id ?? null, error: null, ...extra}});
	let step = 'opening the repository';
	await keeper.update({restore: {snapshot_id: requested, step, result: 'running', safety_snapshot_id: null, error: null}, last_run: {started: ctx.started.toISOString(), finished: null, result: 'running', snapshot_id: null, duration_ms: null}});
	try {
		const password = await readServicePassword(config.password);
		ctx.repo = (await openRepositoryFrom(readConfigTarget(config), {password, repository: {signal: ctx.options.signal, listLocksEarly: true}})).repository;
		await keeper.update({repository_connected: true});
		step = 'finding the snapshot';
		const snapshotId = await findSnapshotId(ctx.repo, requested, {}, ctx.options.signal);
		await setStep('before_restore', {snapshot_id: snapshotId});
		step = 'the before_restore hook';
		await runConfiguredHook(ctx, 'before_restore', {CAIRN_SNAPSHOT_ID: snapshotId});
		step = 'the safety snapshot';
		await setStep('safety-snapshot');
		await keeper.begin('safety-snapshot');
		const present: string[] = [];
		for (const path of config.paths) if (await lstat(path).then(() => true, () => false)) present.push(path);
		let safetyId: string | null = null;
		if (present.length > 0) {
			// No excludes: everything the restore may remove must be in the safety snapshot.
			const safety = await runBackup(ctx.repo, {paths: present, tags: ['safety'], ...(config.host !== null ? {host: config.host} : {}), signal: ctx.options.signal, scan: true, onProgress: (event) => keeper.progress(event)});
			safetyId = safety.snapshot_id;
			ctx.knownSizes.set(safetyId, safety.total_bytes_processed);
			log.info(`safety snapshot ${safetyId.slice(0, 8)} of ${present.join(', ')} saved (tag safety)`);
		} else {
			log.info('no configured path exists: no safety snapshot needed');
		}
		await setStep('restore', {safety_snapshot_id: safetyId});
		step = 'the restore';
		await keeper.begin('restore');
		const restored = await restoreInPlace(ctx.repo, snapshotId, config.paths, {signal: ctx.options.signal, onProgress: (event) => keeper.progress(event)});
		log.info(`restored snapshot ${snapshotId.slice(0, 8)} in place: ${restored.files} files, ${formatSize(restored.bytes)}; ${restored.removedEntries} previous entries replaced`);
		await setStep('after_restore');
		step = 'the after_restore hook';
		await runConfiguredHook(ctx, 'after_restore', {CAIRN_SNAPSHOT_ID: snapshotId});
		step = 'clearing restore_snapshot_id in the config';
		await setStep('clear-config');
		await setRestoreSnapshotId(config.path, undefined, {expected: requested});
		ctx.did.push('restore');
		ctx.snapshotId = snapshotId;
		const snapshots = await listStateSnapshots(ctx.repo, config, keeper.state.available_snapshots, ctx.knownSizes);
		const finished = new Date();
		const status = `restore done: snapshot ${snapshotId.slice(0, 8)} restored in place over ${config.paths.join(', ')}${safetyId !== null ? `; safety snapshot ${safetyId.slice(0, 8)}` : ''}`;
		await keeper.update({
			in_progress: false, progress: 100, current: null, last_error: null, last_status: status, available_snapshots: snapshots,
			restore: {snapshot_id: snapshotId, step: 'done', result: 'success', safety_snapshot_id: safetyId, error: null},
			last_run: {started: ctx.started.toISOString(), finished: finished.toISOString(), result: 'success', snapshot_id: snapshotId, duration_ms: finished.getTime() - ctx.started.getTime()},
		});
		log.info(status);
		await notify(ctx, 'success', null);
		return EXIT.ok;
	} catch (error) {
		if (error instanceof HookError) step = `the ${error.hook} hook`;
		return recordFailure(ctx, `restore (${step})`, error);
	}
}

/**
 * Runs what is due now (everything with `force`) under the service lock, and records it in the
 * state file. Resolves with the exit code; a held lock gives {@link EXIT.locked} at once.
 */
export async function runServiceOnce(config: ServiceConfig, options: RunOnceOptions): Promise<RunOutcome> {
	const {log} = options;
	const clock = options.now ?? (() => new Date());
	let lock;
	try {
		lock = await acquireServiceLock(config.state_file, options.command ?? 'cairn service run --once');
	} catch (error) {
		if (error instanceof ServiceLockedError) {
			log.error(error.message);
			const state = await loadCurrentState(config, clock());
			return {exitCode: EXIT.locked, state, did: []};
		}
		throw error;
	}
	if (lock.tookOver !== undefined) log.info(`took over the service lock of process ${lock.tookOver.pid}, which no longer runs`);
	const now = clock();
	const found = await readServiceState(config.state_file).catch(() => undefined);
	const state = await loadCurrentState(config, now);
	if (found !== undefined && found.in_progress && !state.in_progress) log.error(state.last_status);
	const keeper = new StateKeeper(config.state_file, state, log);
	const ctx: RunContext = {config, options, log, keeper, started: now, did: [], knownSizes: new Map()};
	const restoreMemoryLimit = applyMemoryLimit(config);
	try {
		if (!config.enabled) {
			await keeper.update({last_status: 'disabled: enabled is false in the config', next_run: null, window: null});
			return {exitCode: EXIT.ok, state: keeper.state, did: []};
		}
		const window = describeWindow(config.maintenance_windows, now);
		const windowState = config.maintenance_windows.length === 0 ? null : {open: window.open, opens_at: window.opensAt ? formatLocalTime(window.opensAt) : null, closes_at: window.closesAt ? formatLocalTime(window.closesAt) : null};
		await keeper.update({window: windowState});
		const restoreId = config.restore_snapshot_id;
		const jobs = {
			backup: options.force === true || config.schedule === null || isDue(config.schedule, findLastAttempt(state), now),
			prune: config.prune !== null && (options.force === true || isDue(config.prune.schedule, state.last_prune, now)),
			check: config.check !== null && (options.force === true || isDue(config.check.schedule, state.last_check, now)),
		};
		if (restoreId === null && !jobs.backup && !jobs.prune && !jobs.check) {
			const next = computeStateNextRun(config, state, now);
			await keeper.update({next_run: next, last_status: state.last_status === 'never run' ? `nothing due: next backup ${next ?? 'at the next timer run'}` : state.last_status});
			log.info(`nothing due now; next backup ${next ?? 'at the next timer run'}`);
			return {exitCode: EXIT.ok, state: keeper.state, did: []};
		}
		if (!window.open && options.ignoreWindow !== true) {
			const opens = window.opensAt ? formatLocalTime(window.opensAt) : 'never';
			const message = `window closed: opens ${opens}; ${restoreId !== null ? `the restore of snapshot ${restoreId} waits for it` : 'no backup started'}`;
			log.info(message);
			await keeper.update({
				last_status: message, next_run: computeStateNextRun(config, state, now),
				last_run: {started: now.toISOString(), finished: new Date().toISOString(), result: 'skipped', snapshot_id: null, duration_ms: 0},
			});
			return {exitCode: EXIT.ok, state: keeper.state, did: []};
		}
		if (restoreId !== null) {
			log.info(`one-time restore of snapshot ${restoreId} over ${config.paths.join(', ')}`);
			const exitCode = await runOneTimeRestore(ctx, restoreId);
			return {exitCode, state: keeper.state, did: ctx.did};
		}
		await keeper.update({last_run: {started: now.toISOString(), finished: null, result: 'running', snapshot_id: null, duration_ms: null}});
		const exitCode = await runBackupJobs(ctx, jobs);
		return {exitCode, state: keeper.state, did: ctx.did};
	} finally {
		await ctx.repo?.close().catch(() => undefined);
		if (keeper.state.in_progress) await keeper.update({in_progress: false, current: null});
		restoreMemoryLimit();
		await lock.release();
	}
}
