import {describe, expect, it} from 'vitest';
import {createBackupForm, parseTagInput, reduceBackupForm} from '../../components/state/backup-form.js';

describe('backup form state', () => {
	it('adds typed items to the focused list once, removes the last one on an empty line, and moves between lists', () => {
		let state = createBackupForm({paths: ['/a']});
		state = reduceBackupForm(state, {type: 'type', value: '/b'});
		expect(state.inputs.paths).toBe('/b');
		state = reduceBackupForm(state, {type: 'add', list: 'paths', items: ['/b', '/a', '/b']});
		expect(state.paths).toEqual(['/a', '/b']);
		expect(state.inputs.paths).toBe('');
		state = reduceBackupForm(state, {type: 'focus', direction: 1});
		expect(state.focus).toBe('excludes');
		state = reduceBackupForm(state, {type: 'focus', direction: 1});
		state = reduceBackupForm(state, {type: 'add', list: 'tags', items: parseTagInput(' daily, work  x ')});
		expect(state.tags).toEqual(['daily', 'work', 'x']);
		state = reduceBackupForm(state, {type: 'remove-last'});
		expect(state.tags).toEqual(['daily', 'work']);
		// Not while something is typed.
		state = reduceBackupForm(state, {type: 'type', value: 'y'});
		expect(reduceBackupForm(state, {type: 'remove-last'})).toBe(state);
		state = reduceBackupForm(state, {type: 'focus', direction: 1});
		expect(state.focus).toBe('paths');
		state = reduceBackupForm(state, {type: 'error', error: 'nope'});
		expect(state.error).toBe('nope');
		expect(reduceBackupForm(state, {type: 'type', value: 'z'}).error).toBeUndefined();
	});
});
