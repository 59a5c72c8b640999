import {describe, expect, it} from 'vitest';
import {createNavigation, currentRoute, needsSession, reduceNavigation} from '../../components/state/navigation.js';
import {createOperationState, MAX_ISSUES, reduceOperation, type OperationState} from '../../components/state/operation.js';
import type {ProgressEvent} from '../../engine/progress.js';

describe('navigation', () => {
	it('starts with the welcome screen, the only profile\'s password, or the list', () => {
		expect(currentRoute(createNavigation([])).name).toBe('welcome');
		const one = createNavigation([{name: 'default', location: 'local:/r'}]);
		expect(one.stack.map((r) => r.name)).toEqual(['repositories', 'unlock']);
		expect(currentRoute(createNavigation([{name: 'a', location: 'local:/a'}, {name: 'b', location: 'local:/b'}])).name).toBe('repositories');
	});

	it('pushes, pops (never the last route), replaces and resets', () => {
		let state = createNavigation([]);
		state = reduceNavigation(state, {type: 'push', route: {name: 'quick-start'}});
		expect(currentRoute(state).name).toBe('quick-start');
		state = reduceNavigation(state, {type: 'pop'});
		expect(reduceNavigation(state, {type: 'pop'})).toBe(state);
		state = reduceNavigation(state, {type: 'replace', route: {name: 'repositories'}});
		expect(state.stack).toEqual([{name: 'repositories'}]);
		expect(needsSession(state)).toBe(false);
		state = reduceNavigation(state, {type: 'reset', stack: [{name: 'repositories'}, {name: 'snapshots'}]});
		expect(needsSession(state)).toBe(true);
		expect(reduceNavigation(state, {type: 'reset', stack: []})).toBe(state);
	});
});

const progress: ProgressEvent = {kind: 'backup', filesDone: 1, bytesDone: 10, errors: 0, elapsed: 1, bytesPerSecond: 10};

describe('operation phases', () => {
	it('goes from editing to running to done', () => {
		let state: OperationState<string> = createOperationState<string>();
		state = reduceOperation(state, {type: 'invalid', error: 'no path'});
		expect(state).toEqual({phase: 'edit', error: 'no path'});
		state = reduceOperation(state, {type: 'start'});
		expect(state.phase).toBe('running');
		state = reduceOperation(state, {type: 'progress', progress});
		state = reduceOperation(state, {type: 'issues', issues: [{path: '/x', message: 'denied'}]});
		state = reduceOperation(state, {type: 'finish', summary: 'ok'});
		expect(state).toEqual({phase: 'done', summary: 'ok', progress, issues: [{path: '/x', message: 'denied'}]});
		expect(reduceOperation(state, {type: 'progress', progress})).toBe(state);
		expect(reduceOperation(state, {type: 'edit'}).phase).toBe('edit');
	});

	it('asks before cancelling and can keep going', () => {
		let state = reduceOperation(createOperationState<string>(), {type: 'start'});
		state = reduceOperation(state, {type: 'ask-cancel'});
		expect(state).toMatchObject({phase: 'running', confirmCancel: true});
		state = reduceOperation(state, {type: 'keep-going'});
		expect(state).toMatchObject({confirmCancel: false, cancelling: false});
		state = reduceOperation(state, {type: 'ask-cancel'});
		state = reduceOperation(state, {type: 'cancel'});
		expect(state).toMatchObject({confirmCancel: false, cancelling: true});
		expect(reduceOperation(state, {type: 'ask-cancel'})).toBe(state);
		state = reduceOperation(state, {type: 'fail', message: 'backup cancelled', cancelled: true});
		expect(state).toEqual({phase: 'failed', message: 'backup cancelled', cancelled: true, issues: []});
	});

	it('keeps a bounded number of issues', () => {
		let state = reduceOperation(createOperationState<string>(), {type: 'start'});
		const issues = Array.from({length: MAX_ISSUES + 50}, (_, i) => ({path: `/f${i}`, message: 'unreadable'}));
		state = reduceOperation(state, {type: 'issues', issues});
		expect(state.phase === 'running' && state.issues.length).toBe(MAX_ISSUES);
	});
});
