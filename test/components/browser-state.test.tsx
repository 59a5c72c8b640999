import {describe, expect, it} from 'vitest';
import type {TreeNode} from '../../engine/format/tree.js';
import {createBrowserState, currentTreeId, hasMarksBelow, readMark, reduceBrowser, selectedEntry, sortEntries, toggleMark, type BrowserState} from '../../components/state/browser.js';

function node(name: string, type: 'file' | 'dir', subtree?: string): TreeNode {
	return {name, type, mtime: '2024-01-02T03:04:05Z', atime: '', ctime: '', uid: 0, gid: 0, content: type === 'file' ? [] : null, subtree};
}

const ROOT = 'root-tree';
const rootEntries = [node('b.txt', 'file'), node('docs', 'dir', 'docs-tree'), node('a.txt', 'file'), node('src', 'dir', 'src-tree')];
const docsEntries = [node('x.md', 'file'), node('y.md', 'file')];

function loadedRoot(): BrowserState {
	let state = reduceBrowser(createBrowserState(ROOT), {type: 'jump', path: [], trees: [ROOT]});
	state = reduceBrowser(state, {type: 'loaded', treeId: ROOT, entries: rootEntries});
	return state;
}

describe('browser state', () => {
	it('lists directories first, keeping the tree order otherwise', () => {
		expect(sortEntries(rootEntries).map((n) => n.name)).toEqual(['docs', 'src', 'b.txt', 'a.txt']);
	});

	it('enters a directory and comes back to the same row', () => {
		let state = loadedRoot();
		state = reduceBrowser(state, {type: 'list', move: {type: 'move', delta: 1}, height: 10});
		expect(selectedEntry(state)?.name).toBe('src');
		state = reduceBrowser(state, {type: 'list', move: {type: 'move', delta: -1}, height: 10});
		state = reduceBrowser(state, {type: 'enter'});
		expect(state.path).toEqual(['docs']);
		expect(currentTreeId(state)).toBe('docs-tree');
		expect(state.entries).toBeUndefined();
		state = reduceBrowser(state, {type: 'loaded', treeId: 'docs-tree', entries: docsEntries});
		expect(selectedEntry(state)?.name).toBe('x.md');
		state = reduceBrowser(state, {type: 'up'});
		expect(state.path).toEqual([]);
		state = reduceBrowser(state, {type: 'loaded', treeId: ROOT, entries: rootEntries});
		expect(selectedEntry(state)?.name).toBe('docs');
	});

	it('does not enter files and ignores listings of other directories', () => {
		let state = loadedRoot();
		state = reduceBrowser(state, {type: 'list', move: {type: 'last'}, height: 10});
		expect(reduceBrowser(state, {type: 'enter'})).toBe(state);
		expect(reduceBrowser(state, {type: 'loaded', treeId: 'other', entries: docsEntries})).toBe(state);
		expect(reduceBrowser(state, {type: 'up'})).toBe(state);
	});

	it('selects the backed-up folder after a jump, and walks up from there', () => {
		let state = reduceBrowser(createBrowserState(ROOT), {type: 'jump', path: ['home', 'me'], trees: [ROOT, 'home-tree', 'me-tree'], select: 'docs'});
		expect(state.started).toBe(true);
		state = reduceBrowser(state, {type: 'loaded', treeId: 'me-tree', entries: [node('a', 'file'), node('docs', 'dir', 'd')]});
		expect(selectedEntry(state)?.name).toBe('docs');
		state = reduceBrowser(state, {type: 'up'});
		state = reduceBrowser(state, {type: 'loaded', treeId: 'home-tree', entries: [node('other', 'dir', 'o'), node('me', 'dir', 'me-tree')]});
		expect(selectedEntry(state)?.name).toBe('me');
	});

	it('marks and unmarks entries with Space, moving down', () => {
		let state = loadedRoot();
		state = reduceBrowser(state, {type: 'toggle-mark', height: 10});
		expect(state.marks).toEqual(['docs']);
		expect(selectedEntry(state)?.name).toBe('src');
		state = reduceBrowser(state, {type: 'list', move: {type: 'first'}, height: 10});
		state = reduceBrowser(state, {type: 'toggle-mark', height: 10});
		expect(state.marks).toEqual([]);
		state = reduceBrowser(state, {type: 'toggle-all'});
		expect(state.marks).toEqual(['a.txt', 'b.txt', 'docs', 'src']);
		state = reduceBrowser(state, {type: 'toggle-all'});
		expect(state.marks).toEqual([]);
		state = reduceBrowser(state, {type: 'toggle-mark', height: 10});
		expect(reduceBrowser(state, {type: 'clear-marks'}).marks).toEqual([]);
	});

	it('treats a marked directory as covering what is inside it', () => {
		let marks = toggleMark([], 'docs/x.md');
		expect(hasMarksBelow(marks, 'docs')).toBe(true);
		marks = toggleMark(marks, 'docs');
		expect(marks).toEqual(['docs']);
		expect(readMark(marks, 'docs/x.md')).toBe('inside');
		expect(toggleMark(marks, 'docs/x.md')).toBe(marks);
		expect(readMark(marks, 'docsx')).toBeUndefined();
	});

	it('reports a listing that failed', () => {
		const state = reduceBrowser(reduceBrowser(createBrowserState(ROOT), {type: 'jump', path: [], trees: [ROOT]}), {type: 'failed', treeId: ROOT, message: 'tree is damaged'});
		expect(state.error).toBe('tree is damaged');
		expect(state.entries).toEqual([]);
	});
});
