/**
 * A cursor over a long list and the window of rows that is drawn. Only the rows of the window
 * are ever rendered, so lists of tens of thousands of entries stay fluid.
 */

/** Cursor position and the first row drawn. */
export interface ListState {
	/** Index of the selected row (0 when the list is empty). */
	readonly cursor: number;
	/** Index of the first row drawn. */
	readonly offset: number;
}

/** How many rows exist and how many fit on screen. */
export interface ListView {
	readonly count: number;
	readonly height: number;
}

/** A cursor movement. */
export type ListMove =
	| {readonly type: 'move'; readonly delta: number}
	| {readonly type: 'page'; readonly direction: 1 | -1}
	| {readonly type: 'first'}
	| {readonly type: 'last'}
	| {readonly type: 'select'; readonly index: number};

/** The start of a list. */
export const EMPTY_LIST: ListState = {cursor: 0, offset: 0};

/** Puts the cursor on `index` (clamped) and scrolls the least needed to keep it visible. */
export function placeCursor(state: ListState, index: number, view: ListView): ListState {
	const height = Math.max(1, view.height);
	if (view.count <= 0) return EMPTY_LIST;
	const cursor = Math.min(Math.max(0, index), view.count - 1);
	let offset = Math.min(state.offset, Math.max(0, view.count - height));
	if (cursor < offset) offset = cursor;
	else if (cursor >= offset + height) offset = cursor - height + 1;
	offset = Math.max(0, offset);
	if (cursor === state.cursor && offset === state.offset) return state;
	return {cursor, offset};
}

/** Applies a movement to the cursor. */
export function moveList(state: ListState, move: ListMove, view: ListView): ListState {
	const height = Math.max(1, view.height);
	switch (move.type) {
		case 'move':
			return placeCursor(state, state.cursor + move.delta, view);
		case 'page': {
			const moved = placeCursor(state, state.cursor + move.direction * height, view);
			// Scroll by a whole page where possible, so that paging feels like turning pages.
			const offset = Math.min(Math.max(0, state.offset + move.direction * height), Math.max(0, view.count - height));
			// Already showing the first or last page: go to its first or last row.
			if (offset === state.offset) return placeCursor(state, move.direction > 0 ? view.count - 1 : 0, view);
			return placeCursor({cursor: moved.cursor, offset}, moved.cursor, view);
		}
		case 'first':
			return placeCursor(state, 0, view);
		case 'last':
			return placeCursor(state, view.count - 1, view);
		case 'select':
			return placeCursor(state, move.index, view);
	}
}

/** The indices `[start, end)` of the rows to draw. */
export function visibleRange(state: ListState, view: ListView): {start: number; end: number} {
	const fixed = placeCursor(state, state.cursor, view);
	const start = fixed.offset;
	return {start, end: Math.min(view.count, start + Math.max(1, view.height))};
}

/** Tells which movement a key asks for (arrows, j/k, PgUp/PgDn, Home/End, g/G), if any. */
export function readListMove(input: string, key: {upArrow: boolean; downArrow: boolean; pageUp: boolean; pageDown: boolean; home: boolean; end: boolean}): ListMove | undefined {
	if (key.upArrow || input === 'k') return {type: 'move', delta: -1};
	if (key.downArrow || input === 'j') return {type: 'move', delta: 1};
	if (key.pageUp) return {type: 'page', direction: -1};
	if (key.pageDown) return {type: 'page', direction: 1};
	if (key.home || input === 'g') return {type: 'first'};
	if (key.end || input === 'G') return {type: 'last'};
	return undefined;
}

/**
 * Indices of the items whose text contains every word of `query` (case-insensitive).
 * `haystacks` must be lowercase already (prepare them once, not on every keystroke).
 */
export function filterIndices(haystacks: readonly string[], query: string): number[] {
	const words = query.toLowerCase().split(/\s+/).filter(Boolean);
	const result: number[] = [];
	for (let i = 0; i < haystacks.length; i++) {
		const text = haystacks[i]!;
		if (words.every((word) => text.includes(word))) result.push(i);
	}
	return result;
}

/** A list with a text filter typed after `/`. */
export interface FilteredListState {
	readonly list: ListState;
	/** The filter text; empty shows everything. */
	readonly filter: string;
	/** True while the filter is being typed. */
	readonly editing: boolean;
}

/** Changes to a {@link FilteredListState}. Movements carry the view they apply to. */
export type FilteredListAction =
	| {readonly type: 'list'; readonly move: ListMove; readonly view: ListView}
	| {readonly type: 'start-filter'}
	| {readonly type: 'set-filter'; readonly filter: string}
	| {readonly type: 'accept-filter'}
	| {readonly type: 'clear-filter'};

/** The initial state: no filter, cursor on the first row. */
export const INITIAL_FILTERED_LIST: FilteredListState = {list: EMPTY_LIST, filter: '', editing: false};

/** Reducer of {@link FilteredListState}. */
export function reduceFilteredList(state: FilteredListState, action: FilteredListAction): FilteredListState {
	switch (action.type) {
		case 'list': {
			const list = moveList(state.list, action.move, action.view);
			return list === state.list ? state : {...state, list};
		}
		case 'start-filter':
			return {...state, editing: true};
		case 'set-filter':
			return action.filter === state.filter ? state : {...state, filter: action.filter, list: EMPTY_LIST};
		case 'accept-filter':
			return {...state, editing: false};
		case 'clear-filter':
			return {list: state.filter === '' ? state.list : EMPTY_LIST, filter: '', editing: false};
	}
}
