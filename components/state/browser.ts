/**
 * State of the snapshot browser: the directory shown, the cursor, and the marked entries.
 * Pure functions only; the screen loads trees and feeds the results in as actions.
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
	| {readonly type: 'clear-marks'};

/** A browser at the root of the tree `rootTree`, loading it. */
export function createBrowserState(rootTree: string): BrowserState {
	return {path: [], trees: [rootTree], list: EMPTY_LIST, parents: [], marks: [], started: false};
}

/** The tree ID of the directory shown. */
export function currentTreeId(state: BrowserState): string {
	return state.trees[state.trees.length - 1]!;
}

/** The entry under the cursor, if any. */
export function selectedEntry(state: BrowserState): TreeNode | undefined {
	return state.entries?.[state.list.cursor];
}

/** The snapshot path (no leading slash) of an entry of the directory shown. */
export function pathOfEntry(state: BrowserState, name: string): string {
	return [...state.path, name].join('/');
}

/** Sorts entries directories first, then by name as the tree stores them. */
export function sortEntries(entries: readonly TreeNode[]): TreeNode[] {
	return entries
		.map((node, index) => ({node, index}))
		.sort((a, b) => Number(b.node.type === 'dir') - Number(a.node.type === 'dir') || a.index - b.index)
		.map((item) => item.node);
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
			const wanted = state.selectName === undefined ? -1 : entries.findIndex((entry) => entry.name === state.selectName);
			const cursor = Math.max(0, Math.min(wanted >= 0 ? wanted : state.list.cursor, entries.length - 1));
			return {...state, entries, error: undefined, selectName: undefined, list: {cursor, offset: Math.min(state.list.offset, cursor)}};
		}
		case 'failed':
			if (action.treeId !== currentTreeId(state)) return state;
			return {...state, entries: [], error: action.message};
		case 'list': {
			const list = moveList(state.list, action.move, {count: state.entries?.length ?? 0, height: action.height});
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
				error: undefined,
				list: EMPTY_LIST,
				selectName: action.select,
				started: true,
			};
		case 'toggle-mark': {
			const entry = selectedEntry(state);
			if (entry === undefined) return state;
			const marks = toggleMark(state.marks, pathOfEntry(state, entry.name));
			const list = moveList(state.list, {type: 'move', delta: 1}, {count: state.entries?.length ?? 0, height: action.height});
			return {...state, marks, list};
		}
		case 'toggle-all': {
			const entries = state.entries ?? [];
			if (entries.length === 0) return state;
			const paths = entries.map((entry) => pathOfEntry(state, entry.name));
			const allMarked = paths.every((p) => readMark(state.marks, p) !== undefined);
			if (allMarked) return {...state, marks: state.marks.filter((mark) => !paths.includes(mark))};
			let marks = state.marks;
			for (const p of paths) if (readMark(marks, p) === undefined) marks = toggleMark(marks, p);
			return {...state, marks};
		}
		case 'clear-marks':
			return state.marks.length === 0 ? state : {...state, marks: []};
	}
}
