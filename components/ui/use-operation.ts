/**
 * Runs a long engine operation from a screen: phases in a reducer, cancellation through an
 * AbortSignal, the operation registered with the app (so quitting stops it cleanly), and
 * problems batched so that thousands of them do not flood the renderer.
 */
import {useCallback, useEffect, useReducer, useRef, type Dispatch} from 'react';
import type {ProgressEvent} from '../../engine/progress.js';
import {createOperationState, reduceOperation, type OperationAction, type OperationIssue, type OperationState} from '../state/operation.js';
import {describeError} from '../session.js';
import {useAppContext} from './app-context.js';

/** What the operation's function receives. */
export interface OperationHooks {
	readonly signal: AbortSignal;
	onProgress(event: ProgressEvent): void;
	onIssue(path: string, message: string): void;
}

/** What {@link useOperation} gives a screen. */
export interface OperationControls<S> {
	readonly state: OperationState<S>;
	readonly dispatch: Dispatch<OperationAction<S>>;
	/** Starts `run`; its result or error moves the state to `done` or `failed`. */
	start(run: (hooks: OperationHooks) => Promise<S>): void;
	/** Aborts the running operation. */
	cancel(): void;
}

/** How often batched problems are shown, in ms. */
const ISSUE_FLUSH_MS = 200;

/** The hook. An operation still running when the screen goes away is cancelled. */
export function useOperation<S>(): OperationControls<S> {
	const {trackOperation} = useAppContext();
	const [state, dispatch] = useReducer(reduceOperation<S>, undefined, createOperationState<S>);
	const controller = useRef<AbortController | undefined>(undefined);

	const start = useCallback((run: (hooks: OperationHooks) => Promise<S>) => {
		const abort = new AbortController();
		controller.current = abort;
		dispatch({type: 'start'});
		let pending: OperationIssue[] = [];
		let timer: NodeJS.Timeout | undefined;
		const flush = (): void => {
			timer = undefined;
			if (pending.length === 0) return;
			dispatch({type: 'issues', issues: pending});
			pending = [];
		};
		const hooks: OperationHooks = {
			signal: abort.signal,
			onProgress: (progress) => dispatch({type: 'progress', progress}),
			onIssue: (path, message) => {
				pending.push({path, message});
				timer ??= setTimeout(flush, ISSUE_FLUSH_MS);
			},
		};
		const done = (async () => {
			try {
				const summary = await run(hooks);
				clearTimeout(timer);
				flush();
				dispatch({type: 'finish', summary});
			} catch (error) {
				clearTimeout(timer);
				flush();
				dispatch({type: 'fail', message: describeError(error), cancelled: abort.signal.aborted});
			}
		})();
		const untrack = trackOperation({cancel: () => abort.abort(), done});
		void done.finally(untrack);
	}, [trackOperation]);

	const cancel = useCallback(() => {
		controller.current?.abort();
		dispatch({type: 'cancel'});
	}, []);

	useEffect(() => () => controller.current?.abort(), []);

	return {state, dispatch, start, cancel};
}
