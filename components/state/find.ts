/**
 * State of "find in snapshot": the query, the search running in the background, the results
 * as they arrive, and a cursor over them. Pure functions only.
 */
import type {FindMatch} from '../find.js';
import {EMPTY_LIST, moveList, type ListMove, type ListState} from './list.js';

/** The phases of a search. */
export type FindPhase = 'typing' | 'searching' | 'done' | 'cancelled' | 'failed';

/** The state of a search. */
export interface FindState {
	readonly query: string;
	readonly phase: FindPhase;
	readonly results: readonly FindMatch[];
	/** Entries looked at so far. */
	readonly checked: number;
	/** The search stopped at its limit. */
	readonly truncated: boolean;
	readonly list: ListState;
	readonly error?: string;
}

/** Changes to a {@link FindState}. */
export type FindAction =
	| {readonly type: 'type'; readonly query: string}
	| {readonly type: 'start'}
	| {readonly type: 'matches'; readonly matches: readonly FindMatch[]}
	| {readonly type: 'progress'; readonly checked: number}
	| {readonly type: 'finish'; readonly truncated: boolean; readonly checked: number}
	| {readonly type: 'cancel'}
	| {readonly type: 'fail'; readonly message: string}
	| {readonly type: 'edit'}
	| {readonly type: 'back'}
	| {readonly type: 'list'; readonly move: ListMove; readonly height: number};

/** A new search, with the query being typed. */
export function createFindState(query = ''): FindState {
	return {query, phase: 'typing', results: [], checked: 0, truncated: false, list: EMPTY_LIST};
}

/** Reducer of {@link FindState}. Results of a search that is no longer running are ignored. */
export function reduceFind(state: FindState, action: FindAction): FindState {
	switch (action.type) {
		case 'type':
			return state.phase === 'typing' ? {...state, query: action.query} : state;
		case 'start':
			return state.query.trim() === '' ? state : {...state, phase: 'searching', results: [], checked: 0, truncated: false, list: EMPTY_LIST, error: undefined};
		case 'matches':
			return state.phase === 'searching' && action.matches.length > 0 ? {...state, results: [...state.results, ...action.matches]} : state;
		case 'progress':
			return state.phase === 'searching' && action.checked !== state.checked ? {...state, checked: action.checked} : state;
		case 'finish':
			return state.phase === 'searching' ? {...state, phase: 'done', truncated: action.truncated, checked: action.checked} : state;
		case 'cancel':
			return state.phase === 'searching' ? {...state, phase: 'cancelled'} : state;
		case 'fail':
			return state.phase === 'searching' ? {...state, phase: 'failed', error: action.message} : state;
		case 'edit':
			return {...state, phase: 'typing'};
		case 'back':
			// Leaving the query unchanged shows the last results again.
			return state.phase === 'typing' && state.results.length > 0 ? {...state, phase: 'done'} : state;
		case 'list': {
			const list = moveList(state.list, action.move, {count: state.results.length, height: action.height});
			return list === state.list ? state : {...state, list};
		}
	}
}
