/**
 * State of the snapshot browser: the directory shown, the cursor, the marked entries and the
 * search within the directory. Pure functions only; the screen loads trees and feeds the results
 * in as actions.
 */
import type {TreeNode} from '../../engine/format/tree.js';
import {EMPTY_LIST, moveList, type ListMove, type ListState} from './list.js';

/** The browser's state. */
export interface BrowserState {
	/** Names from the snapshot root to the directory shown. */
	readonly path: readonly string[];
	/** Tree IDs: `trees[i]` lists the directory `path.slice(0, i)`; one more than `path`. */
	readonly trees: readonly string[];
	/** The directory's entries (directories first), or undefined while it loads. */
	readonly entries?: readonly TreeNode[];
	readonly list: ListState;
	/** Cursor positions in the parent directories, to come back to when going up. */
	readonly parents: readonly ListState[];
	/** Marked entries as snapshot paths without a leading slash (`home/me/a.txt`), sorted. */
	readonly marks: readonly string[];
	/** Why the directory could not be loaded. */
	readonly error?: string;
	/** Name to put the cursor on once the directory has loaded (the directory just left). */
	readonly selectName?: string;
	/** False until the first directory to show has been chosen (see the `jump` action). */
	readonly started: boolean;
	/** Search within the directory shown: only entries whose name contains it are listed. */
	readonly filter: string;
	/** True while the search is being typed. */
	readonly editing: boolean;
	/** Indices (into `entries`) of the entries that match the search; undefined lists them all. */
	readonly shown?: readonly number[];
}

/** Changes to a {@link BrowserState}. */
export type BrowserAction =
	| {readonly type: 'loaded'; readonly treeId: string; readonly entries: readonly TreeNode[]}
	| {readonly type: 'failed'; readonly treeId: string; readonly message: string}
	| {readonly type: 'list'; readonly move: ListMove; readonly height: number}
	| {readonly type: 'enter'}
	| {readonly type: 'up'}
	| {readonly type: 'jump'; readonly path: readonly string[]; readonly trees: readonly string[]; readonly select?: string}
	| {readonly type: 'toggle-mark'; readonly height: number}
	| {readonly type: 'toggle-all'}
	| {readonly type: 'clear-marks'}
	| {readonly type: 'start-filter'}
	| {readonly type: 'set-filter'; readonly filter: string}
	| {readonly type: 'accept-filter'}
	| {readonly type: 'clear-filter'};

/** A browser at the root of the tree `rootTree`, loading it. */
export function createBrowserState(rootTree: string): BrowserState {
	return {path: [], trees: [rootTree], list: EMPTY_LIST, parents: [], marks: [], started: false, filter: '', editing: false};
}

/** The tree ID of the directory shown. */
export function currentTreeId(state: BrowserState): string {
	return state.trees[state.trees.length - 1]!;
}

/** The entries listed (those matching the search, or all), in order. */
export function countListed(state: BrowserState): number {
	return state.shown?.length ?? state.entries?.length ?? 0;
}

/** The listed entry at a list position. */
export function listedEntry(state: BrowserState, index: number): TreeNode | undefined {
	return state.entries?.[state.shown === undefined ? index : (state.shown[index] ?? -1)];
}

/** The entry under the cursor, if any. */
export function selectedEntry(state: BrowserState): TreeNode | undefined {
	return listedEntry(state, state.list.cursor);
}

/** Indices of the entries whose name contains `filter`, ignoring case; undefined when there is no filter. */
export function filterEntries(entries: readonly TreeNode[] | undefined, filter: string): number[] | undefined {
	const query = filter.toLowerCase();
	if (query === '' || entries === undefined) return undefined;
	const shown: number[] = [];
	for (let i = 0; i < entries.length; i++) if (entries[i]!.name.toLowerCase().includes(query)) shown.push(i);
	return shown;
}

/** The snapshot path (no leading slash) of an entry of the directory shown. */
export function pathOfEntry(state: BrowserState, name: string): string {
	return [...state.path, name].join('/');
}

/** Orders entries directories first, each group in the order the tree stores them (by name); linear time. */
export function sortEntries(entries: readonly TreeNode[]): TreeNode[] {
	const dirs: TreeNode[] = [];
	const others: TreeNode[] = [];
	for (const entry of entries) (entry.type === 'dir' ? dirs : others).push(entry);
	return dirs.length === 0 ? others : others.length === 0 ? dirs : dirs.concat(others);
}

/** How an entry is marked: itself, through a marked directory above it, or not. */
export function readMark(marks: readonly string[], path: string): 'marked' | 'inside' | undefined {
	for (const mark of marks) {
		if (mark === path) return 'marked';
		if (path.startsWith(mark + '/')) return 'inside';
	}
	return undefined;
}

/** Whether some marked entry lies below the directory `path`. */
export function hasMarksBelow(marks: readonly string[], path: string): boolean {
	return marks.some((mark) => mark.startsWith(path + '/'));
}

/** Adds or removes a mark. Marking a directory drops marks below it; entries inside a marked directory cannot be toggled. */
export function toggleMark(marks: readonly string[], path: string): readonly string[] {
	const state = readMark(marks, path);
	if (state === 'inside') return marks;
	if (state === 'marked') return marks.filter((mark) => mark !== path);
	return [...marks.filter((mark) => !mark.startsWith(path + '/')), path].sort();
}

/** Reducer of {@link BrowserState}. */
export function reduceBrowser(state: BrowserState, action: BrowserAction): BrowserState {
	switch (action.type) {
		case 'loaded': {
			if (action.treeId !== currentTreeId(state) || state.entries !== undefined) return state;
			const entries = sortEntries(action.entries);
			const shown = filterEntries(entries, state.filter);
			let wanted = -1;
			if (state.selectName !== undefined) {
				const index = entries.findIndex((entry) => entry.name === state.selectName);
				wanted = shown === undefined ? index : shown.indexOf(index);
			}
			const count = shown?.length ?? entries.length;
			const cursor = Math.max(0, Math.min(wanted >= 0 ? wanted : state.list.cursor, count - 1));
			return {...state, entries, shown, error: undefined, selectName: undefined, list: {cursor, offset: Math.min(state.list.offset, cursor)}};
		}
		case 'failed':
			if (action.treeId !== currentTreeId(state)) return state;
			return {...state, entries: [], shown: undefined, error: action.message};
		case 'list': {
			const list = moveList(state.list, action.move, {count: countListed(state), height: action.height});
			return list === state.list ? state : {...state, list};
		}
		case 'enter': {
			const entry = selectedEntry(state);
			if (entry?.type !== 'dir' || !entry.subtree) return state;
			return {
				...state,
				path: [...state.path, entry.name],
				trees: [...state.trees, entry.subtree],
				parents: [...state.parents, state.list],
				entries: undefined,
				shown: undefined,
				filter: '',
				editing: false,
				error: undefined,
				selectName: undefined,
				list: EMPTY_LIST,
			};
		}
		case 'up': {
			if (state.path.length === 0) return state;
			const left = state.path[state.path.length - 1]!;
			const saved = state.parents[state.parents.length - 1];
			return {
				...state,
				path: state.path.slice(0, -1),
				trees: state.trees.slice(0, -1),
				parents: state.parents.slice(0, -1),
				entries: undefined,
				shown: undefined,
				filter: '',
				editing: false,
				error: undefined,
				list: saved ?? EMPTY_LIST,
				selectName: left,
			};
		}
		case 'jump':
			return {
				...state,
				path: action.path,
				trees: action.trees,
				parents: action.path.map(() => EMPTY_LIST),
				entries: undefined,
				shown: undefined,
				filter: '',
				editing: false,
				error: undefined,
				list: EMPTY_LIST,
				selectName: action.select,
				started: true,
			};
		case 'toggle-mark': {
			const entry = selectedEntry(state);
			if (entry === undefined) return state;
			const marks = toggleMark(state.marks, pathOfEntry(state, entry.name));
			const list = moveList(state.list, {type: 'move', delta: 1}, {count: countListed(state), height: action.height});
			return {...state, marks, list};
		}
		case 'toggle-all': {
			const entries = state.shown === undefined ? (state.entries ?? []) : state.shown.map((index) => state.entries![index]!);
			if (entries.length === 0) return state;
			// Inside a marked directory, entries cannot be toggled one by one.
			if (state.path.length > 0 && readMark(state.marks, state.path.join('/')) !== undefined) return state;
			// Sets keep this linear, also for directories of 100,000 entries.
			const paths = new Set(entries.map((entry) => pathOfEntry(state, entry.name)));
			const marked = new Set(state.marks);
			const allMarked = [...paths].every((p) => marked.has(p));
			if (allMarked) return {...state, marks: state.marks.filter((mark) => !paths.has(mark))};
			const prefix = state.path.length === 0 ? '' : state.path.join('/') + '/';
			const kept = state.marks.filter((mark) => {
				if (!mark.startsWith(prefix)) return true;
				const slash = mark.indexOf('/', prefix.length);
				// A mark below an entry that is now marked whole is dropped.
				return slash < 0 || !paths.has(mark.slice(0, slash));
			});
			const keptSet = new Set(kept);
			return {...state, marks: [...kept, ...[...paths].filter((p) => !keptSet.has(p))].sort()};
		}
		case 'clear-marks':
			return state.marks.length === 0 ? state : {...state, marks: []};
		case 'start-filter':
			return {...state, editing: true};
		case 'set-filter':
			if (action.filter === state.filter) return state;
			return {...state, filter: action.filter, shown: filterEntries(state.entries, action.filter), list: EMPTY_LIST};
		case 'accept-filter':
			return {...state, editing: false};
		case 'clear-filter': {
			if (state.filter === '' && !state.editing) return state;
			// Keep the cursor on the entry it was on.
			const entry = selectedEntry(state);
			const index = entry === undefined ? 0 : Math.max(0, state.entries?.indexOf(entry) ?? 0);
			return {...state, filter: '', editing: false, shown: undefined, list: {cursor: index, offset: Math.max(0, index - 5)}};
		}
	}
}
