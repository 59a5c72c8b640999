/**
 * The add-or-connect wizard as a pure state machine: pick a backend, fill its form, test the
 * connection, give the password, then name the profile (and the advanced settings) and create or
 * connect. Going back never loses what was typed; a failed test or a failed last step returns to
 * the step to fix with the problem shown.
 */
import type {ListMove} from './list.js';
import {moveList, type ListState} from './list.js';
import {createFormState, reduceForm, type FormAction, type FormField, type FormState} from './form.js';

/** Whether the wizard makes a new repository or connects to one that exists. */
export type WizardIntent = 'create' | 'connect';

/** The steps, in order; `problem` shows a failed test, `testing` and `working` wait for the backend. */
export type WizardStep = 'backend' | 'form' | 'testing' | 'problem' | 'password' | 'finish' | 'working';

/** A failed connection test as the wizard shows it. */
export interface WizardProblem {
	readonly message: string;
	/** The field to fix, focused when going back to the form. */
	readonly field?: string;
	/** The other intent would work here (c switches). */
	readonly suggest?: WizardIntent;
	/** An unknown host key can be trusted (t). */
	readonly canTrust?: boolean;
}

/** The wizard's state. */
export interface WizardState {
	readonly intent: WizardIntent;
	readonly step: WizardStep;
	/** Cursor in the backend list. */
	readonly backends: ListState;
	/** The chosen backend's scheme (set from the form step on). */
	readonly scheme?: string;
	/** Form state per scheme, kept when another backend is tried. */
	readonly forms: Readonly<Record<string, FormState>>;
	readonly password: FormState;
	readonly finish: FormState;
	/** The last failed test (shown on the problem step). */
	readonly problem?: WizardProblem;
	/** The location the last successful test reached, without secrets. */
	readonly location?: string;
	/** A message about the step shown (e.g. a wrong password). */
	readonly message?: string;
}

/** Changes to a {@link WizardState}. Form actions carry the fields they apply to. */
export type WizardAction =
	| {readonly type: 'move-backend'; readonly move: ListMove; readonly count: number; readonly height: number}
	| {readonly type: 'choose-backend'; readonly scheme: string; readonly fields: readonly FormField[]; readonly values?: Readonly<Record<string, string>>}
	| {readonly type: 'form'; readonly action: FormAction; readonly fields: readonly FormField[]}
	| {readonly type: 'test-start'}
	| {readonly type: 'test-failed'; readonly problem: WizardProblem; readonly fields: readonly FormField[]}
	| {readonly type: 'test-passed'; readonly location: string}
	| {readonly type: 'switch-intent'}
	| {readonly type: 'fix'; readonly fields: readonly FormField[]}
	| {readonly type: 'password'; readonly action: FormAction; readonly fields: readonly FormField[]}
	| {readonly type: 'password-done'}
	| {readonly type: 'finish'; readonly action: FormAction; readonly fields: readonly FormField[]}
	| {readonly type: 'work-start'}
	| {readonly type: 'work-failed'; readonly message: string; readonly step: 'password' | 'finish' | 'form'}
	| {readonly type: 'set-message'; readonly message?: string}
	| {readonly type: 'back'};

/** Where a wizard starts. */
export interface WizardStart {
	readonly intent: WizardIntent;
	/** Initial values of the finish step (profile name, advanced settings). */
	readonly finish: Readonly<Record<string, string>>;
	/** Initial values of the password step. */
	readonly password?: Readonly<Record<string, string>>;
	/** Start at the form of this backend (editing a profile) instead of the backend list. */
	readonly scheme?: string;
	readonly fields?: readonly FormField[];
	readonly values?: Readonly<Record<string, string>>;
	/** Cursor position in the backend list. */
	readonly backendIndex?: number;
}

/** A new wizard. */
export function createWizardState(start: WizardStart): WizardState {
	const base: WizardState = {
		intent: start.intent,
		step: 'backend',
		backends: {cursor: start.backendIndex ?? 0, offset: 0},
		forms: {},
		password: {values: {source: 'ask', ...(start.password ?? {})}, errors: {}, focus: 0},
		finish: {values: {...start.finish}, errors: {}, focus: 0},
	};
	if (start.scheme === undefined || start.fields === undefined) return base;
	return {...base, step: 'form', scheme: start.scheme, forms: {[start.scheme]: createFormState(start.fields, start.values ?? {})}};
}

/** The form state of the chosen backend. */
export function currentForm(state: WizardState): FormState | undefined {
	return state.scheme === undefined ? undefined : state.forms[state.scheme];
}

/** Reducer of {@link WizardState}. Actions that do not fit the step are ignored. */
export function reduceWizard(state: WizardState, action: WizardAction): WizardState {
	switch (action.type) {
		case 'move-backend': {
			if (state.step !== 'backend') return state;
			const backends = moveList(state.backends, action.move, {count: action.count, height: action.height});
			return backends === state.backends ? state : {...state, backends};
		}
		case 'choose-backend': {
			if (state.step !== 'backend') return state;
			const existing = state.forms[action.scheme];
			const form = existing ?? createFormState(action.fields, action.values ?? {});
			return {...state, step: 'form', scheme: action.scheme, forms: {...state.forms, [action.scheme]: form}, problem: undefined, message: undefined};
		}
		case 'form': {
			const form = currentForm(state);
			if (state.step !== 'form' || form === undefined) return state;
			const next = reduceForm(form, action.action, action.fields);
			return next === form ? state : {...state, forms: {...state.forms, [state.scheme!]: next}, message: undefined};
		}
		case 'test-start':
			return state.step === 'form' || state.step === 'problem' ? {...state, step: 'testing', problem: undefined, message: undefined} : state;
		case 'test-failed': {
			if (state.step !== 'testing') return state;
			return {...state, step: 'problem', problem: action.problem};
		}
		case 'fix': {
			// Back to the form, on the field to fix, with the problem next to it.
			const form = currentForm(state);
			if (state.step !== 'problem' || form === undefined) return state;
			const field = state.problem?.field;
			const index = field === undefined ? -1 : action.fields.findIndex((f) => f.name === field);
			let next = form;
			if (index >= 0) {
				next = reduceForm(next, {type: 'set-error', name: field!, error: state.problem!.message}, action.fields);
				next = {...next, focus: index};
			}
			return {...state, step: 'form', forms: {...state.forms, [state.scheme!]: next}, message: index >= 0 ? undefined : state.problem?.message};
		}
		case 'test-passed':
			return state.step === 'testing' ? {...state, step: 'password', location: action.location, problem: undefined, message: undefined} : state;
		case 'switch-intent':
			if (state.step !== 'problem' || state.problem?.suggest === undefined) return state;
			return {...state, intent: state.problem.suggest, step: 'testing', problem: undefined, message: undefined};
		case 'password': {
			if (state.step !== 'password') return state;
			const next = reduceForm(state.password, action.action, action.fields);
			return next === state.password ? state : {...state, password: next, message: undefined};
		}
		case 'password-done':
			return state.step === 'password' ? {...state, step: 'finish', message: undefined} : state;
		case 'finish': {
			if (state.step !== 'finish') return state;
			const next = reduceForm(state.finish, action.action, action.fields);
			return next === state.finish ? state : {...state, finish: next, message: undefined};
		}
		case 'work-start':
			return state.step === 'finish' ? {...state, step: 'working', message: undefined} : state;
		case 'work-failed':
			if (state.step !== 'working') return state;
			if (action.step === 'password') return {...state, step: 'password', message: action.message, password: {...state.password, values: {...state.password.values, password: '', repeat: ''}, focus: 0}};
			return {...state, step: action.step, message: action.message};
		case 'set-message':
			return state.message === action.message ? state : {...state, message: action.message};
		case 'back':
			switch (state.step) {
				case 'form':
					return {...state, step: 'backend', message: undefined};
				case 'testing':
				case 'problem':
					return {...state, step: 'form', problem: undefined};
				case 'password':
					return {...state, step: 'form', message: undefined};
				case 'finish':
					return {...state, step: 'password', message: undefined};
				default:
					return state;
			}
	}
}
