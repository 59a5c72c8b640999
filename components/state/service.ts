/**
 * The Service screen's state: the config and state file read, a child run ("run now" or the
 * one-time restore) and its exit, and the snapshot picker with its two confirmations.
 * Pure: the screen feeds it what it reads from disk and from the child process.
 */
import type {ServiceConfigSummary, ServiceState} from '../service-files.js';

/** A child run started from the screen. */
export interface ServiceRun {
	readonly kind: 'run' | 'restore';
	readonly pid: number | undefined;
	/** ms since the epoch. */
	readonly started: number;
	/** Snapshot restored (kind `restore`). */
	readonly snapshotId?: string;
	/** Set once the child has ended. */
	readonly exit?: {readonly code: number | null; readonly signal: string | null; readonly stderrTail: string; readonly finished: number};
}

/** What takes the keys: the overview, the snapshot picker, or one of the two confirmations. */
export type ServiceMode =
	| {readonly name: 'view'}
	| {readonly name: 'pick'; readonly cursor: number; readonly offset: number}
	/** "Run now" while the maintenance window is closed: run anyway (`--ignore-window`)? */
	| {readonly name: 'window'; readonly opensAt?: number}
	| {readonly name: 'confirm'; readonly step: 1 | 2; readonly snapshotId: string; readonly cursor: number; readonly offset: number};

/** The screen's state. */
export interface ServiceScreenState {
	/** The config, once read; `configError` when it could not be. */
	readonly config?: ServiceConfigSummary;
	readonly configError?: string;
	/** The state file: undefined until read, null when there is none yet. */
	readonly state?: ServiceState | null;
	/** Why the state file could not be read (the last good state stays shown). */
	readonly stateError?: string;
	/** The last child run started here. */
	readonly run?: ServiceRun;
	readonly mode: ServiceMode;
	/** A one-off message (e.g. why a key did nothing). */
	readonly notice?: string;
}

/** Changes to {@link ServiceScreenState}. */
export type ServiceAction =
	| {readonly type: 'config-loaded'; readonly config: ServiceConfigSummary}
	| {readonly type: 'config-failed'; readonly error: string}
	| {readonly type: 'state-read'; readonly state: ServiceState | null}
	| {readonly type: 'state-failed'; readonly error: string}
	| {readonly type: 'run-started'; readonly kind: 'run' | 'restore'; readonly pid: number | undefined; readonly started: number; readonly snapshotId?: string}
	| {readonly type: 'run-exited'; readonly code: number | null; readonly signal: string | null; readonly stderrTail: string; readonly finished: number}
	| {readonly type: 'open-picker'}
	| {readonly type: 'ask-window'; readonly opensAt?: number}
	| {readonly type: 'move'; readonly cursor: number; readonly rows: number}
	| {readonly type: 'choose'}
	| {readonly type: 'confirm'}
	| {readonly type: 'back'}
	| {readonly type: 'notice'; readonly text: string | undefined};

/** The first state. */
export function createServiceScreenState(): ServiceScreenState {
	return {mode: {name: 'view'}};
}

/** The snapshots, newest first. */
export function sortSnapshots(state: ServiceState | null | undefined): ServiceState['available_snapshots'] {
	if (state === null || state === undefined) return [];
	return [...state.available_snapshots].sort((a, b) => (Date.parse(b.time) || 0) - (Date.parse(a.time) || 0));
}

/** Whether a child run started here is still going. */
export function isRunActive(state: ServiceScreenState): boolean {
	return state.run !== undefined && state.run.exit === undefined;
}

/** Keeps the cursor visible in a list of `rows` rows. */
function scroll(cursor: number, offset: number, rows: number): number {
	if (cursor < offset) return cursor;
	if (cursor >= offset + rows) return cursor - rows + 1;
	return offset;
}

/** Reducer of {@link ServiceScreenState}. Actions that do not fit the mode are ignored. */
export function reduceServiceScreen(state: ServiceScreenState, action: ServiceAction): ServiceScreenState {
	switch (action.type) {
		case 'config-loaded':
			return {...state, config: action.config, configError: undefined};
		case 'config-failed':
			return {...state, configError: action.error};
		case 'state-read':
			return {...state, state: action.state, stateError: undefined};
		case 'state-failed':
			return {...state, stateError: action.error};
		case 'run-started':
			return {...state, run: {kind: action.kind, pid: action.pid, started: action.started, snapshotId: action.snapshotId}, mode: {name: 'view'}, notice: undefined};
		case 'run-exited':
			if (state.run === undefined || state.run.exit !== undefined) return state;
			return {...state, run: {...state.run, exit: {code: action.code, signal: action.signal, stderrTail: action.stderrTail, finished: action.finished}}};
		case 'ask-window':
			return state.mode.name === 'view' ? {...state, mode: {name: 'window', opensAt: action.opensAt}, notice: undefined} : state;
		case 'open-picker':
			if (state.mode.name !== 'view') return state;
			if (sortSnapshots(state.state).length === 0) return {...state, notice: 'No snapshot to restore: the state file lists none yet.'};
			return {...state, mode: {name: 'pick', cursor: 0, offset: 0}, notice: undefined};
		case 'move': {
			if (state.mode.name !== 'pick') return state;
			const count = sortSnapshots(state.state).length;
			const cursor = Math.max(0, Math.min(count - 1, action.cursor));
			return {...state, mode: {name: 'pick', cursor, offset: scroll(cursor, state.mode.offset, Math.max(1, action.rows))}};
		}
		case 'choose': {
			if (state.mode.name !== 'pick') return state;
			const snapshot = sortSnapshots(state.state)[state.mode.cursor];
			if (snapshot === undefined) return state;
			return {...state, mode: {name: 'confirm', step: 1, snapshotId: snapshot.id, cursor: state.mode.cursor, offset: state.mode.offset}};
		}
		case 'confirm':
			if (state.mode.name !== 'confirm' || state.mode.step !== 1) return state;
			return {...state, mode: {...state.mode, step: 2}};
		case 'back':
			if (state.mode.name === 'confirm') return {...state, mode: {name: 'pick', cursor: state.mode.cursor, offset: state.mode.offset}};
			if (state.mode.name === 'pick' || state.mode.name === 'window') return {...state, mode: {name: 'view'}};
			return state;
		case 'notice':
			return {...state, notice: action.text};
	}
}
