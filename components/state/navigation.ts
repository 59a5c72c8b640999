/**
 * Which screen is shown: a stack of routes. Esc pops, opening something pushes.
 */
import type {Snapshot} from '../../engine/format/snapshot.js';
import type {TreeNode} from '../../engine/format/tree.js';
import type {Profile} from '../profiles.js';
import type {WizardIntent} from './wizard.js';

/** One screen and what it shows. */
export type Route =
	| {readonly name: 'welcome'}
	| {readonly name: 'quick-start'}
	| {readonly name: 'add-repository'; readonly intent?: WizardIntent; readonly edit?: Profile}
	| {readonly name: 'repositories'}
	| {readonly name: 'unlock'; readonly profile: Profile; readonly saveProfile: boolean}
	| {readonly name: 'snapshots'}
	/** `open`: a path in the snapshot to show (its directory, with the entry selected). */
	| {readonly name: 'browser'; readonly snapshot: Snapshot; readonly open?: string}
	| {readonly name: 'diff'; readonly before: Snapshot; readonly after: Snapshot}
	| {readonly name: 'preview'; readonly snapshot: Snapshot; readonly path: string; readonly node: TreeNode}
	| {readonly name: 'restore'; readonly snapshot: Snapshot; readonly includes: readonly string[]}
	| {readonly name: 'backup'}
	| {readonly name: 'retention'}
	| {readonly name: 'copy'; readonly snapshots: readonly Snapshot[]}
	| {readonly name: 'service'; readonly configPath: string};

/** The names of routes that need an open repository. */
export const SESSION_ROUTES: ReadonlySet<Route['name']> = new Set(['snapshots', 'browser', 'diff', 'preview', 'restore', 'backup', 'retention', 'copy']);

/** The stack of routes; the last one is shown. Never empty. */
export interface NavigationState {
	readonly stack: readonly Route[];
}

/** Changes to the stack. */
export type NavigationAction =
	| {readonly type: 'push'; readonly route: Route}
	| {readonly type: 'pop'}
	| {readonly type: 'replace'; readonly route: Route}
	| {readonly type: 'reset'; readonly stack: readonly Route[]};

/** The route shown. */
export function currentRoute(state: NavigationState): Route {
	return state.stack[state.stack.length - 1]!;
}

/** Whether any route on the stack needs an open repository. */
export function needsSession(state: NavigationState): boolean {
	return state.stack.some((route) => SESSION_ROUTES.has(route.name));
}

/** Reducer of {@link NavigationState}. Popping the last route does nothing. */
export function reduceNavigation(state: NavigationState, action: NavigationAction): NavigationState {
	switch (action.type) {
		case 'push':
			return {stack: [...state.stack, action.route]};
		case 'pop':
			return state.stack.length <= 1 ? state : {stack: state.stack.slice(0, -1)};
		case 'replace':
			return {stack: [...state.stack.slice(0, -1), action.route]};
		case 'reset':
			return action.stack.length === 0 ? state : {stack: action.stack};
	}
}

/** The first screens: a quick start without profiles, the password of the only profile, or the list. */
export function createNavigation(profiles: readonly Profile[]): NavigationState {
	if (profiles.length === 0) return {stack: [{name: 'welcome'}]};
	if (profiles.length === 1) return {stack: [{name: 'repositories'}, {name: 'unlock', profile: profiles[0]!, saveProfile: false}]};
	return {stack: [{name: 'repositories'}]};
}
