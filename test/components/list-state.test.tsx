import {describe, expect, it} from 'vitest';
import {EMPTY_LIST, filterIndices, INITIAL_FILTERED_LIST, moveList, placeCursor, readListMove, reduceFilteredList, visibleRange} from '../../components/state/list.js';

const noKey = {upArrow: false, downArrow: false, pageUp: false, pageDown: false, home: false, end: false};

describe('list cursor and window', () => {
	it('keeps the cursor inside the list and scrolls only as needed', () => {
		const view = {count: 100, height: 10};
		let state = moveList(EMPTY_LIST, {type: 'move', delta: -1}, view);
		expect(state).toEqual({cursor: 0, offset: 0});
		state = moveList(state, {type: 'move', delta: 9}, view);
		expect(state).toEqual({cursor: 9, offset: 0});
		state = moveList(state, {type: 'move', delta: 1}, view);
		expect(state).toEqual({cursor: 10, offset: 1});
		state = moveList(state, {type: 'last'}, view);
		expect(state).toEqual({cursor: 99, offset: 90});
		state = moveList(state, {type: 'move', delta: -5}, view);
		expect(state).toEqual({cursor: 94, offset: 90});
		state = moveList(state, {type: 'first'}, view);
		expect(state).toEqual({cursor: 0, offset: 0});
	});

	it('pages by whole screens', () => {
		const view = {count: 35, height: 10};
		let state = moveList(EMPTY_LIST, {type: 'page', direction: 1}, view);
		expect(state).toEqual({cursor: 10, offset: 10});
		state = moveList(state, {type: 'page', direction: 1}, view);
		state = moveList(state, {type: 'page', direction: 1}, view);
		expect(state).toEqual({cursor: 30, offset: 25});
		state = moveList(state, {type: 'page', direction: 1}, view);
		expect(state).toEqual({cursor: 34, offset: 25});
		state = moveList(state, {type: 'page', direction: -1}, view);
		expect(state).toEqual({cursor: 24, offset: 15});
		state = moveList(state, {type: 'page', direction: -1}, view);
		state = moveList(state, {type: 'page', direction: -1}, view);
		expect(state.offset).toBe(0);
		state = moveList(state, {type: 'page', direction: -1}, view);
		expect(state).toEqual({cursor: 0, offset: 0});
	});

	it('handles empty lists and shrinking lists', () => {
		expect(placeCursor({cursor: 5, offset: 3}, 5, {count: 0, height: 10})).toEqual(EMPTY_LIST);
		expect(placeCursor({cursor: 50, offset: 45}, 50, {count: 20, height: 10})).toEqual({cursor: 19, offset: 10});
	});

	it('returns only the visible window of a huge list', () => {
		const view = {count: 10_000, height: 20};
		const state = moveList(EMPTY_LIST, {type: 'select', index: 5_000}, view);
		const range = visibleRange(state, view);
		expect(range.end - range.start).toBe(20);
		expect(range.start).toBeLessThanOrEqual(5_000);
		expect(range.end).toBeGreaterThan(5_000);
	});

	it('reads movement keys', () => {
		expect(readListMove('', {...noKey, upArrow: true})).toEqual({type: 'move', delta: -1});
		expect(readListMove('j', noKey)).toEqual({type: 'move', delta: 1});
		expect(readListMove('', {...noKey, pageDown: true})).toEqual({type: 'page', direction: 1});
		expect(readListMove('G', noKey)).toEqual({type: 'last'});
		expect(readListMove('x', noKey)).toBeUndefined();
	});
});

describe('filtering', () => {
	it('matches every word, case-insensitively', () => {
		const haystacks = ['abc host-a /home/me', 'def host-b /srv', 'abd host-a /srv daily'];
		expect(filterIndices(haystacks, 'HOST-A')).toEqual([0, 2]);
		expect(filterIndices(haystacks, 'host-a srv')).toEqual([2]);
		expect(filterIndices(haystacks, '  ')).toEqual([0, 1, 2]);
		expect(filterIndices(haystacks, 'nothing')).toEqual([]);
	});

	it('filters 10,000 rows to exactly the rows holding every word', () => {
		const haystacks = Array.from({length: 10_000}, (_, i) => `${i.toString(16).padStart(8, '0')} host-${i % 7} /data/${i}`);
		const result = filterIndices(haystacks, 'host-3 /data/1');
		const expected = haystacks.flatMap((text, i) => (text.includes('host-3') && text.includes('/data/1') ? [i] : []));
		expect(result).toEqual(expected);
		expect(result.length).toBeGreaterThan(0);
	});

	it('resets the cursor when the filter changes and clears it on demand', () => {
		const view = {count: 50, height: 10};
		let state = reduceFilteredList(INITIAL_FILTERED_LIST, {type: 'list', move: {type: 'select', index: 30}, view});
		expect(state.list.cursor).toBe(30);
		state = reduceFilteredList(state, {type: 'start-filter'});
		expect(state.editing).toBe(true);
		state = reduceFilteredList(state, {type: 'set-filter', filter: 'abc'});
		expect(state).toMatchObject({filter: 'abc', list: EMPTY_LIST, editing: true});
		state = reduceFilteredList(state, {type: 'accept-filter'});
		expect(state.editing).toBe(false);
		state = reduceFilteredList(state, {type: 'clear-filter'});
		expect(state).toEqual(INITIAL_FILTERED_LIST);
	});
});
