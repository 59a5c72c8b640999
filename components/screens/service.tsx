/**
 * The Service screen: what the unattended service (`cairn service`) does with one config. It shows
 * the state file's fields (connection, last backup and status, next run, maintenance window, last
 * prune and check, the last error) and a running backup's progress, read live from the state file.
 * `r` runs the service now as a child process (`cairn service run --once --force`); `s` picks a
 * snapshot to restore in place through the service's one-time restore (two confirmations, a
 * safety snapshot first). Nothing secret is read or shown: the state file holds none.
 */
import {useCallback, useEffect, useReducer, useRef, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {formatBar} from '../ui/progress-view.js';
import {useServiceStateFile} from '../ui/use-service-state.js';
import {createServiceScreenState, isRunActive, reduceServiceScreen, sortSnapshots, type ServiceRun, type ServiceScreenState} from '../state/service.js';
import {loadServiceConfigSummary, type ServiceConfigSummary, type ServiceState} from '../service-files.js';
import {setRestoreSnapshotId} from '../service-link.js';
import {buildRestoreArgs, buildRunNowArgs, buildServiceCommand, readLastLines, startServiceChild} from '../service-command.js';
import {fitText, formatBytes, formatDuration, formatLocalTime, formatRelativeTime, shortenId, truncateEnd, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: 'r', action: 'run now'},
	{keys: 's', action: 'restore a snapshot'},
	{keys: 'Esc', action: 'back'},
	{keys: 'r', action: 'run now: back up (and prune/check when due) at once, whatever the schedule says (asks when the window is closed)', more: true},
	{keys: 's', action: 'restore a snapshot in place: pick one, confirm twice; a safety snapshot is taken first', more: true},
	{keys: 'l', action: 'read the config and the state file again', more: true},
	{keys: '↑↓ Enter', action: 'in the snapshot list: move, choose', more: true},
];

const PICK_HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'restore this one'},
	{keys: 'Esc', action: 'cancel'},
];

/** Width of the labels of the overview. */
const LABEL = 13;

/** One row of the overview: label, value and how it is shown. */
export interface ServiceField {
	readonly label: string;
	readonly value: string;
	readonly tone?: 'error' | 'success' | 'warning' | 'dim';
}

/** A time from the state file as `2026-12-05 14:00 (3 h ago)`, or `never`. */
export function formatStateTime(text: string | null | undefined, now: number, future = false): string {
	if (text === null || text === undefined || text === '') return 'never';
	const date = new Date(text);
	if (Number.isNaN(date.getTime())) return text;
	const relative = future ? formatTimeUntil(date, now) : formatRelativeTime(date, now);
	return `${formatLocalTime(date)} (${relative})`;
}

/** How long until `date`: `in 5 min`, `in 2 h 5 min`, `in 30 h`, `in 3 days`, `due now`. */
export function formatTimeUntil(date: Date, now: number): string {
	const seconds = Math.round((date.getTime() - now) / 1000);
	if (seconds <= 0) return 'due now';
	if (seconds < 60) return 'in <1 min';
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `in ${minutes} min`;
	const hours = Math.floor(minutes / 60);
	if (hours < 10) return minutes % 60 === 0 ? `in ${hours} h` : `in ${hours} h ${minutes % 60} min`;
	if (hours < 48) return `in ${hours} h`;
	return `in ${Math.floor(hours / 24)} days`;
}

/** Whether a process is running (a process of another user counts as running). */
export function checkProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** The maintenance window line: from the config's windows at `now`, else as the state file last saw it. */
export function describeWindowField(config: ServiceConfigSummary | undefined, state: ServiceState | null | undefined, now: number): ServiceField {
	const live = config?.describeWindow(new Date(now));
	const window = live !== undefined
		? {open: live.open, opensAt: live.opensAt, closesAt: live.closesAt}
		: state?.window !== null && state?.window !== undefined
			? {open: state.window.open, opensAt: state.window.opens_at === null ? undefined : new Date(state.window.opens_at), closesAt: state.window.closes_at === null ? undefined : new Date(state.window.closes_at)}
			: undefined;
	if (window === undefined) return {label: 'Window', value: config !== undefined ? 'always open (no maintenance window)' : '?'};
	if (window.open) return {label: 'Window', value: window.closesAt === undefined ? 'open' : `open, closes ${formatLocalTime(window.closesAt)} (${formatTimeUntil(window.closesAt, now)})`, tone: 'success'};
	return {label: 'Window', value: window.opensAt === undefined ? 'closed' : `closed, opens ${formatLocalTime(window.opensAt)} (${formatTimeUntil(window.opensAt, now)})`, tone: 'warning'};
}

/** The next run: as the state file says, else from the config's schedule. */
export function describeNextRun(config: ServiceConfigSummary | undefined, nextRun: string | null, lastRun: string | null, now: number): ServiceField {
	if (nextRun !== null) return {label: 'Next run', value: formatStateTime(nextRun, now, true)};
	if (config === undefined) return {label: 'Next run', value: '?'};
	if (config.schedule === undefined) return {label: 'Next run', value: 'when the timer or cron line runs it (no schedule)'};
	const next = config.computeNextRun(lastRun, new Date(now));
	return {label: 'Next run', value: next === undefined ? config.schedule : `${formatStateTime(next.toISOString(), now, true)}, ${config.schedule}`};
}

/** The progress of a run in progress: operation, figures and percentage. */
export function describeCurrent(state: ServiceState, now: number): string {
	const current = state.current;
	if (current === null) return `yes (${Math.round(state.progress)}%)`;
	const parts: string[] = [current.operation];
	if (current.files_done !== undefined) parts.push(`${current.files_done} files`);
	if (current.bytes_done !== undefined) parts.push(current.bytes_total !== undefined ? `${formatBytes(current.bytes_done)} of ${formatBytes(current.bytes_total)}` : formatBytes(current.bytes_done));
	const started = new Date(current.started);
	if (!Number.isNaN(started.getTime())) parts.push(`for ${formatDuration(Math.max(0, (now - started.getTime()) / 1000))}`);
	parts.push(`pid ${current.pid}`);
	return parts.join(', ');
}

/** The overview rows for the state file (without the run started here). */
export function describeServiceFields(config: ServiceConfigSummary | undefined, state: ServiceState, now: number, isAlive: (pid: number) => boolean = checkProcessAlive): ServiceField[] {
	const fields: ServiceField[] = [
		{label: 'Repository', value: state.repository},
		{label: 'Connected', value: state.repository_connected ? 'yes' : 'no', tone: state.repository_connected ? undefined : 'warning'},
		{label: 'Last backup', value: formatStateTime(state.last_backup, now)},
		{label: 'Last status', value: state.last_status || '—'},
		describeNextRun(config, state.next_run, state.last_run?.started ?? null, now),
		describeWindowField(config, state, now),
		{label: 'Prune, check', value: `pruned ${formatStateTime(state.last_prune, now)}, checked ${formatStateTime(state.last_check, now)}`},
		{label: 'Last error', value: state.last_error ?? 'none', tone: state.last_error === null ? undefined : 'error'},
	];
	if (!state.in_progress) fields.push({label: 'In progress', value: 'no'});
	else if (state.current !== null && !isAlive(state.current.pid)) fields.push({label: 'In progress', value: `interrupted: pid ${state.current.pid} is gone (${state.current.operation}); the next run recovers`, tone: 'warning'});
	else fields.push({label: 'In progress', value: describeCurrent(state, now), tone: 'success'});
	if (state.restore !== null) {
		const restore = state.restore;
		const safety = restore.safety_snapshot_id === null ? '' : `, safety snapshot ${shortenId(restore.safety_snapshot_id)}`;
		const tone = restore.result === 'failure' ? 'error' : restore.result === 'success' ? 'success' : undefined;
		fields.push({label: 'Restore', value: `${shortenId(restore.snapshot_id)}: ${restore.result} (${restore.step})${safety}${restore.error === null ? '' : `: ${restore.error}`}`, tone});
	}
	return fields;
}

/** The line about the run started from this screen (`state`: the state file, to tell a run that did nothing). */
export function describeRun(run: ServiceRun, now: number, state?: ServiceState): ServiceField {
	const what = run.kind === 'restore' ? `Restore of ${shortenId(run.snapshotId ?? '')}` : 'Run now';
	if (run.exit === undefined) return {label: 'This run', value: `${what}: running (pid ${run.pid ?? '?'}, ${formatDuration(Math.max(0, (now - run.started) / 1000))})`};
	const took = formatDuration(Math.max(0, (run.exit.finished - run.started) / 1000));
	const lastRun = state?.last_run;
	if (run.exit.code === 0 && lastRun?.result === 'skipped' && Date.parse(lastRun.started) >= run.started - 1000) return {label: 'This run', value: `${what}: nothing done (exit 0): ${state!.last_status}`, tone: 'warning'};
	if (run.exit.code === 0) return {label: 'This run', value: `${what}: finished after ${took} (exit 0)`, tone: 'success'};
	const how = run.exit.code === null ? (run.exit.signal === null ? 'could not start' : `stopped by ${run.exit.signal}`) : `failed with exit code ${run.exit.code}`;
	return {label: 'This run', value: `${what}: ${how} after ${took}`, tone: 'error'};
}

/** Colour of a tone (none without colour). */
function toneColor(tone: ServiceField['tone'], color: boolean): string | undefined {
	if (!color) return undefined;
	return tone === 'error' ? 'red' : tone === 'success' ? 'green' : tone === 'warning' ? 'yellow' : undefined;
}

function FieldRow({field, width}: {field: ServiceField; width: number}) {
	const {color} = useAppContext();
	return (
		<Text>
			<Text bold>{fitText(field.label, LABEL)}</Text>
			<Text color={toneColor(field.tone, color)} bold={field.tone === 'error'} dimColor={field.tone === 'dim'}>
				{truncateEnd(field.value, Math.max(1, width - LABEL))}
			</Text>
		</Text>
	);
}

/** The snapshot rows: ID, time, size and source; the cursor's row inverted when picking. */
function SnapshotRows({snapshots, start, rows, cursor, width, now}: {snapshots: ServiceState['available_snapshots']; start: number; rows: number; cursor?: number; width: number; now: number}) {
	const shown = snapshots.slice(start, start + rows);
	return (
		<>
			{shown.map((snapshot, offset) => {
				const index = start + offset;
				const date = new Date(snapshot.time);
				const line = `${index === cursor ? '›' : ' '} ${fitText(shortenId(snapshot.id), 9)}${fitText(formatLocalTime(date), 17)}${fitText(formatRelativeTime(date, now), 12)}${fitText(formatBytes(snapshot.size), 11)}${snapshot.source}${snapshot.description === '' ? '' : `  ${snapshot.description}`}`;
				return (
					<Text key={snapshot.id} inverse={index === cursor}>
						{fitText(line, width)}
					</Text>
				);
			})}
		</>
	);
}

/** Props of {@link ServiceScreen}. */
export interface ServiceScreenProps {
	readonly configPath: string;
}

/** The Service screen of the config at `configPath`. */
export function ServiceScreen({configPath}: ServiceScreenProps) {
	const context = useAppContext();
	const {navigate, env, cwd, color, trackOperation} = context;
	const {width, height} = useBodySize();
	const [screen, dispatch] = useReducer(reduceServiceScreen, undefined, createServiceScreenState);
	const screenRef = useRef<ServiceScreenState>(screen);
	screenRef.current = screen;
	const mounted = useRef(true);
	const [, forceTick] = useReducer((tick: number) => tick + 1, 0);
	useEffect(() => () => {
		mounted.current = false;
	}, []);
	const safeDispatch: typeof dispatch = useCallback((action) => {
		if (mounted.current) dispatch(action);
	}, []);

	const loadConfig = useCallback(() => {
		loadServiceConfigSummary(configPath, env).then(
			(config) => safeDispatch({type: 'config-loaded', config}),
			(error: unknown) => safeDispatch({type: 'config-failed', error: error instanceof Error ? error.message : String(error)}),
		);
	}, [configPath, env, safeDispatch]);
	useEffect(loadConfig, [loadConfig]);

	const readStateNow = useServiceStateFile(screen.config?.statePath, {
		onState: (state) => safeDispatch({type: 'state-read', state}),
		onError: (error) => safeDispatch({type: 'state-failed', error}),
	}, context.statePollMs);

	// Times shown relative to now (and a running child's duration) move on once a second.
	useEffect(() => {
		const timer = setInterval(forceTick, 1000);
		return () => clearInterval(timer);
	}, []);

	const startChild = useCallback(async (kind: 'run' | 'restore', snapshotId?: string, ignoreWindow = false) => {
		const args = kind === 'run' ? buildRunNowArgs(configPath, ignoreWindow) : buildRestoreArgs(configPath);
		const command = (context.buildServiceCommand ?? buildServiceCommand)(args);
		const child = startServiceChild(command, env, cwd);
		safeDispatch({type: 'run-started', kind, pid: child.pid, started: Date.now(), snapshotId});
		const untrack = trackOperation({cancel: () => child.stop(), done: child.exited});
		const exit = await child.exited;
		untrack();
		// The child's last write to the state file is shown together with its exit.
		await readStateNow().catch(() => undefined);
		safeDispatch({type: 'run-exited', code: exit.code, signal: exit.signal, stderrTail: exit.stderrTail, finished: Date.now()});
		// The run may have cleared restore_snapshot_id: read the config again.
		if (mounted.current) loadConfig();
	}, [configPath, context, env, cwd, trackOperation, safeDispatch, loadConfig, readStateNow]);

	const state = screen.state ?? undefined;
	const snapshots = sortSnapshots(screen.state);
	const config = screen.config;
	const running = isRunActive(screen);
	const otherRun = state !== undefined && state.in_progress && state.current !== null && state.current.pid !== screen.run?.pid && checkProcessAlive(state.current.pid) ? state.current.pid : undefined;
	const pickRows = Math.max(1, height - 4);

	useScreenKeys((input, key) => {
		const mode = screen.mode;
		if (mode.name === 'window') {
			dispatch({type: 'back'});
			if (input === 'y' || input === 'Y') void startChild('run', undefined, true);
			else dispatch({type: 'notice', text: 'Not run: the service backs up when the window opens.'});
			return;
		}
		if (mode.name === 'confirm') {
			if (input === 'y' || input === 'Y') {
				if (mode.step === 1) dispatch({type: 'confirm'});
				else {
					const id = mode.snapshotId;
					dispatch({type: 'back'});
					dispatch({type: 'back'});
					setRestoreSnapshotId(configPath, id).then(
						() => startChild('restore', id),
						(error: unknown) => safeDispatch({type: 'notice', text: `restore_snapshot_id could not be set: ${error instanceof Error ? error.message : String(error)}`}),
					);
				}
			} else {
				dispatch({type: 'back'});
				dispatch({type: 'notice', text: 'Restore cancelled: nothing was changed.'});
			}
			return;
		}
		if (mode.name === 'pick') {
			if (key.escape) dispatch({type: 'back'});
			else if (key.return) dispatch({type: 'choose'});
			else if (key.upArrow || input === 'k') dispatch({type: 'move', cursor: mode.cursor - 1, rows: pickRows});
			else if (key.downArrow || input === 'j') dispatch({type: 'move', cursor: mode.cursor + 1, rows: pickRows});
			else if (key.pageUp) dispatch({type: 'move', cursor: mode.cursor - pickRows, rows: pickRows});
			else if (key.pageDown) dispatch({type: 'move', cursor: mode.cursor + pickRows, rows: pickRows});
			else if (key.home || input === 'g') dispatch({type: 'move', cursor: 0, rows: pickRows});
			else if (key.end || input === 'G') dispatch({type: 'move', cursor: snapshots.length - 1, rows: pickRows});
			return;
		}
		if (key.escape) navigate({type: 'pop'});
		else if (input === 'l') {
			loadConfig();
			dispatch({type: 'notice', text: 'Read the config again.'});
		} else if (input === 'r' || input === 's') {
			if (config === undefined) dispatch({type: 'notice', text: 'The config cannot be used: fix it first (the error is shown above).'});
			else if (running) dispatch({type: 'notice', text: 'A run started here is still going: wait for it to end.'});
			else if (otherRun !== undefined) dispatch({type: 'notice', text: `The service is running already (pid ${otherRun}): wait for it to end.`});
			else if (input === 'r' && config.restoreSnapshotId !== undefined) dispatch({type: 'notice', text: `restore_snapshot_id ${shortenId(config.restoreSnapshotId)} is set: a run would restore it. Press s to restore (with confirmations) or clear the field.`});
			else if (input === 'r') {
				const window = config.describeWindow(new Date());
				if (window !== undefined && !window.open) dispatch({type: 'ask-window', opensAt: window.opensAt?.getTime()});
				else void startChild('run');
			}
			else dispatch({type: 'open-picker'});
		}
	});

	const now = Date.now();
	const title = `Service: ${config?.name ?? configPath.replace(/^.*\//, '').replace(/\.[^.]*$/, '')}`;

	// The status line: a confirmation, a notice, a problem reading the state, or a summary.
	let status: StatusMessage;
	if (screen.mode.name === 'window') {
		const opens = screen.mode.opensAt === undefined ? '' : ` until ${formatLocalTime(new Date(screen.mode.opensAt))}`;
		status = {text: `Window closed${opens}: back up anyway? y = yes, other keys = no`, tone: 'warning'};
	} else if (screen.mode.name === 'confirm') {
		status = screen.mode.step === 1
			? {text: `Restore ${shortenId(screen.mode.snapshotId)} in place? y = continue (one more question), other keys = cancel`, tone: 'warning'}
			: {text: 'y = overwrite now, other keys = cancel', tone: 'error'};
	} else if (screen.notice !== undefined) status = {text: screen.notice, tone: 'warning'};
	else if (screen.stateError !== undefined) status = {text: screen.stateError, tone: 'error'};
	else if (screen.mode.name === 'pick') status = {text: `${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}: Enter restores the selected one in place (you confirm twice)`};
	else if (running) status = {text: `${screen.run?.kind === 'restore' ? 'Restoring' : 'Running'}… progress is read from the state file`};
	else status = {text: config === undefined ? 'Reading the config…' : `State file: ${truncateStart(config.statePath, Math.max(10, width - 12))}`};

	const wide = width >= 110;
	const leftWidth = wide ? Math.floor(width * 0.55) : width;
	const rightWidth = width - leftWidth - 2;

	// The overview.
	const lines: ReactNode[] = [];
	const push = (field: ServiceField) => lines.push(<FieldRow key={lines.length} field={field} width={leftWidth} />);
	if (screen.configError !== undefined) {
		lines.push(<Text key="e0" bold color={color ? 'red' : undefined}>{truncateEnd('This config cannot be used:', width)}</Text>);
		for (const line of screen.configError.split('\n').slice(0, Math.max(1, height - 4))) lines.push(<Text key={lines.length}>{truncateEnd(line, width)}</Text>);
		lines.push(<Text key="e1">{truncateEnd('Fix the file, then press l to read it again.', width)}</Text>);
	} else {
		push({label: 'Config', value: truncateStart(configPath, Math.max(10, leftWidth - LABEL))});
		if (config !== undefined && !config.enabled) push({label: 'Enabled', value: 'no: the service does nothing with this config (enabled: false)', tone: 'warning'});
		if (config?.restoreSnapshotId !== undefined) push({label: 'Restore set', value: `restore_snapshot_id ${shortenId(config.restoreSnapshotId)}: the next run restores it in place`, tone: 'warning'});
		if (screen.state === null) {
			push({label: 'State', value: 'no state file yet: the service has not run with this config', tone: 'warning'});
			if (config !== undefined) push({label: 'Repository', value: config.repository});
			push(describeNextRun(config, null, null, now));
			push(describeWindowField(config, null, now));
			push({label: '', value: 'Press r to run it now (back up at once).'});
		} else if (state !== undefined) {
			for (const field of describeServiceFields(config, state, now)) push(field);
			if (state.in_progress && (state.current === null || checkProcessAlive(state.current.pid))) {
				const percent = `${Math.floor(Math.max(0, Math.min(100, state.progress)))}%`;
				lines.push(
					<Text key="bar">
						{' '.repeat(LABEL)}
						<Text color={color ? 'cyan' : undefined}>{formatBar(state.progress / 100, Math.max(10, leftWidth - LABEL - 6))}</Text>
						<Text bold>{' ' + percent.padStart(4)}</Text>
					</Text>,
				);
			}
		} else if (config !== undefined) push({label: 'State', value: 'reading…'});
		if (screen.run !== undefined) {
			push(describeRun(screen.run, now, state));
			if (screen.run.exit !== undefined && screen.run.exit.code !== 0) {
				for (const line of readLastLines(screen.run.exit.stderrTail, 3)) push({label: '', value: line, tone: 'error'});
			}
		}
	}

	// The snapshots (or the picker, or a confirmation).
	const side: ReactNode[] = [];
	const sideWidth = wide ? rightWidth : width;
	const sideRows = wide ? height - 1 : Math.max(0, height - lines.length - 1);
	if (screen.mode.name === 'confirm') {
		const id = screen.mode.snapshotId;
		const snapshot = snapshots.find((item) => item.id === id);
		const paths = config?.paths ?? [];
		const text = screen.mode.step === 1
			? [`Restore snapshot ${shortenId(id)} (${snapshot === undefined ? '?' : formatLocalTime(new Date(snapshot.time))}) in place?`, 'The service takes a safety snapshot of the configured paths first, then restores.']
			: [
				'Second confirmation. This overwrites, in place:',
				...paths.map((path) => `  ${path}`),
				'Files that are not in the snapshot are removed.',
				'They are kept in the safety snapshot (tag "safety") taken just before.',
				...(config?.describeWindow(new Date(now))?.open === false ? ['The maintenance window is closed: the restore runs now all the same.'] : []),
			];
		return (
			<ScreenFrame title={title} help={[{keys: 'y', action: 'yes'}, {keys: 'other', action: 'cancel'}]} status={status}>
				<Box flexDirection="column">
					{text.slice(0, Math.max(1, height - 1)).map((line, index) => (
						<Text key={index} bold={index === 0}>
							{truncateEnd(line, width)}
						</Text>
					))}
				</Box>
			</ScreenFrame>
		);
	}
	if (screen.mode.name === 'pick') {
		return (
			<ScreenFrame title={`${title} › Restore in place`} help={PICK_HELP} status={status}>
				<Box flexDirection="column">
					<Text bold>{truncateEnd(`Pick the snapshot to restore in place over ${(config?.paths ?? []).join(' ') || 'the configured paths'}:`, width)}</Text>
					<Text bold>{fitText(`  ${fitText('ID', 9)}${fitText('Time', 17)}${fitText('', 12)}${fitText('Size', 11)}Source`, width)}</Text>
					<SnapshotRows snapshots={snapshots} start={screen.mode.offset} rows={pickRows} cursor={screen.mode.cursor} width={width} now={now} />
				</Box>
			</ScreenFrame>
		);
	}
	if (state !== undefined && sideRows >= 2) {
		side.push(<Text key="h" bold>{truncateEnd(snapshots.length === 0 ? 'No snapshots yet.' : `Snapshots (${snapshots.length}), newest first`, sideWidth)}</Text>);
		if (snapshots.length > 0) side.push(<SnapshotRows key="rows" snapshots={snapshots} start={0} rows={sideRows - 1} width={sideWidth} now={now} />);
	}
	return (
		<ScreenFrame title={title} help={HELP} status={status}>
			{wide ? (
				<Box flexDirection="row">
					<Box flexDirection="column" width={leftWidth}>{lines}</Box>
					<Box width={2} />
					<Box flexDirection="column" width={rightWidth}>{side}</Box>
				</Box>
			) : (
				<Box flexDirection="column">
					{lines}
					{side.length > 0 ? <Text> </Text> : null}
					{side}
				</Box>
			)}
		</ScreenFrame>
	);
}
