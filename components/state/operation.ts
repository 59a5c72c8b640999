/**
 * The phases of a long engine operation (backup, restore) as the screen shows them:
 * editing the settings, running with progress, asking before cancelling, and the end.
 */
import type {ProgressEvent} from '../../engine/progress.js';

/** A problem met along the way: the path and what went wrong. */
export interface OperationIssue {
	readonly path: string;
	readonly message: string;
}

/** State of one operation screen; `S` is the engine's summary type. */
export type OperationState<S> =
	| {readonly phase: 'edit'; readonly error?: string}
	| {readonly phase: 'running'; readonly progress?: ProgressEvent; readonly issues: readonly OperationIssue[]; readonly confirmCancel: boolean; readonly cancelling: boolean}
	| {readonly phase: 'done'; readonly summary: S; readonly progress?: ProgressEvent; readonly issues: readonly OperationIssue[]}
	| {readonly phase: 'failed'; readonly message: string; readonly cancelled: boolean; readonly issues: readonly OperationIssue[]};

/** Changes to an {@link OperationState}. */
export type OperationAction<S> =
	| {readonly type: 'invalid'; readonly error: string}
	| {readonly type: 'start'}
	| {readonly type: 'progress'; readonly progress: ProgressEvent}
	| {readonly type: 'issues'; readonly issues: readonly OperationIssue[]}
	| {readonly type: 'ask-cancel'}
	| {readonly type: 'keep-going'}
	| {readonly type: 'cancel'}
	| {readonly type: 'finish'; readonly summary: S}
	| {readonly type: 'fail'; readonly message: string; readonly cancelled: boolean}
	| {readonly type: 'edit'};

/** At most this many issues are kept (the count of errors stays exact in the progress). */
export const MAX_ISSUES = 500;

/** The first phase. */
export function createOperationState<S>(): OperationState<S> {
	return {phase: 'edit'};
}

/** Reducer of {@link OperationState}. Actions that do not fit the phase are ignored. */
export function reduceOperation<S>(state: OperationState<S>, action: OperationAction<S>): OperationState<S> {
	switch (action.type) {
		case 'invalid':
			return state.phase === 'edit' ? {phase: 'edit', error: action.error} : state;
		case 'start':
			return state.phase === 'edit' ? {phase: 'running', issues: [], confirmCancel: false, cancelling: false} : state;
		case 'progress':
			return state.phase === 'running' ? {...state, progress: action.progress} : state;
		case 'issues':
			if (state.phase !== 'running' || state.issues.length >= MAX_ISSUES || action.issues.length === 0) return state;
			return {...state, issues: [...state.issues, ...action.issues].slice(0, MAX_ISSUES)};
		case 'ask-cancel':
			return state.phase === 'running' && !state.cancelling ? {...state, confirmCancel: true} : state;
		case 'keep-going':
			return state.phase === 'running' ? {...state, confirmCancel: false} : state;
		case 'cancel':
			return state.phase === 'running' ? {...state, confirmCancel: false, cancelling: true} : state;
		case 'finish':
			return state.phase === 'running' ? {phase: 'done', summary: action.summary, progress: state.progress, issues: state.issues} : state;
		case 'fail':
			return state.phase === 'running' || state.phase === 'edit'
				? {phase: 'failed', message: action.message, cancelled: action.cancelled, issues: state.phase === 'running' ? state.issues : []}
				: state;
		case 'edit':
			return state.phase === 'failed' || state.phase === 'done' ? {phase: 'edit'} : state;
	}
}
