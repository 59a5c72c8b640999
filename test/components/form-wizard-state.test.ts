import {describe, expect, it} from 'vitest';
import type {Key} from 'ink';
import {checkField, createFormState, isFormValid, readChoice, readFilledValues, reduceForm, type FormField} from '../../components/state/form.js';
import {createWizardState, currentForm, reduceWizard, type WizardState} from '../../components/state/wizard.js';
import {readFormKey, formatFieldValue} from '../../components/ui/form-view.js';
import {editTextAt, sliceAroundCursor} from '../../components/ui/text-field.js';

const NO_KEY: Key = {
	upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
	return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
	super: false, hyper: false, capsLock: false, numLock: false,
};

const FIELDS: FormField[] = [
	{name: 'host', label: 'Host', kind: 'text', required: true},
	{name: 'port', label: 'Port', kind: 'number', check: (v) => (Number(v) > 0 && Number(v) < 65536 ? undefined : 'Port must be from 1 to 65535.')},
	{name: 'secret', label: 'Secret', kind: 'secret', required: true, fallback: 'from $SECRET'},
	{name: 'mode', label: 'Mode', kind: 'choice', choices: ['', 'fast', 'slow'], choiceLabels: ['default', 'fast', 'slow']},
	{name: 'url', label: 'URL', kind: 'url'},
	{name: 'key', label: 'Key', kind: 'path', required: true},
];

describe('form state', () => {
	it('checks a field when it is left, not while it is typed', () => {
		let state = createFormState(FIELDS);
		expect(state.values).toEqual({host: '', port: '', secret: '', mode: '', url: '', key: ''});
		state = reduceForm(state, {type: 'edit', value: ''}, FIELDS);
		expect(state.errors).toEqual({});
		state = reduceForm(state, {type: 'next'}, FIELDS);
		expect(state).toMatchObject({focus: 1, errors: {host: 'Host is required.'}});
		state = reduceForm(state, {type: 'edit', value: '70000'}, FIELDS);
		expect(state.errors.port).toBeUndefined();
		state = reduceForm(state, {type: 'previous'}, FIELDS);
		expect(state.errors).toEqual({host: 'Host is required.', port: 'Port must be from 1 to 65535.'});
		// Typing into a field clears its problem.
		state = reduceForm(state, {type: 'edit', value: 'nas'}, FIELDS);
		expect(state.errors).toEqual({port: 'Port must be from 1 to 65535.'});
	});

	it('checks every field before submitting and focuses the first problem; outside problems stay until edited', () => {
		let state = createFormState(FIELDS, {host: 'nas', url: 'nope'}, 5);
		state = reduceForm(state, {type: 'set-error', name: 'host', error: 'nas is unknown.'}, FIELDS);
		state = reduceForm(state, {type: 'check-all'}, FIELDS);
		expect(state.errors).toEqual({host: 'nas is unknown.', url: 'URL must be a URL such as https://host.example/path.', key: 'Key is required.'});
		expect(state.focus).toBe(0);
		expect(isFormValid(state, FIELDS)).toBe(false);
		state = reduceForm(state, {type: 'edit', value: 'nas2'}, FIELDS);
		state = reduceForm(state, {type: 'set-value', name: 'url', value: 'https://x.test'}, FIELDS);
		state = reduceForm(state, {type: 'set-value', name: 'key', value: '/k'}, FIELDS);
		expect(isFormValid(state, FIELDS)).toBe(true);
		// A required field with a value from the environment may stay empty.
		expect(checkField(FIELDS[2]!, '')).toBeUndefined();
		expect(readFilledValues(state, FIELDS)).toEqual({host: 'nas2', url: 'https://x.test', key: '/k'});
	});

	it('cycles choices and shows their labels; secrets are masked', () => {
		let state = createFormState(FIELDS, {}, 3);
		state = reduceForm(state, {type: 'cycle', direction: 1}, FIELDS);
		expect(state.values.mode).toBe('fast');
		state = reduceForm(state, {type: 'cycle', direction: -1}, FIELDS);
		state = reduceForm(state, {type: 'cycle', direction: -1}, FIELDS);
		expect(state.values.mode).toBe('slow');
		// Text edits do not touch a choice.
		expect(reduceForm(state, {type: 'edit', value: 'x'}, FIELDS)).toBe(state);
		expect(formatFieldValue(FIELDS[3]!, '')).toBe('default');
		expect(formatFieldValue(FIELDS[2]!, 'hunter2')).toBe('*******');
		expect(readChoice(FIELDS[3]!, 'bogus')).toBe('');
	});

	it('reads keys: Enter goes to the next empty required field, then submits; Tab completes paths', () => {
		const state = createFormState(FIELDS, {host: 'nas'});
		expect(readFormKey('', {...NO_KEY, return: true}, FIELDS, state)).toEqual({type: 'focus', index: 5});
		expect(readFormKey('', {...NO_KEY, return: true}, FIELDS, {...state, values: {...state.values, key: '/k'}})).toEqual({type: 'submit'});
		expect(readFormKey('', {...NO_KEY, downArrow: true}, FIELDS, state)).toEqual({type: 'next'});
		expect(readFormKey('', {...NO_KEY, tab: true, shift: true}, FIELDS, state)).toEqual({type: 'previous'});
		expect(readFormKey('', {...NO_KEY, tab: true}, FIELDS, state)).toEqual({type: 'next'});
		expect(readFormKey('', {...NO_KEY, tab: true}, FIELDS, {...state, focus: 5})).toEqual({type: 'complete'});
		expect(readFormKey('x', NO_KEY, FIELDS, state)).toEqual({type: 'edit', value: 'nasx', cursor: 4});
		expect(readFormKey(' ', NO_KEY, FIELDS, {...state, focus: 3})).toEqual({type: 'cycle', direction: 1});
		expect(readFormKey('', {...NO_KEY, escape: true}, FIELDS, state)).toBeUndefined();
	});
});

describe('editing at the cursor', () => {
	const key = (extra: Partial<Key>): Key => ({...NO_KEY, ...extra});
	it('moves, inserts and deletes where the cursor is', () => {
		expect(editTextAt('https://nas/x', 13, '', key({leftArrow: true}))).toEqual({value: 'https://nas/x', cursor: 12});
		expect(editTextAt('https://nas/x', 11, ':8000', NO_KEY)).toEqual({value: 'https://nas:8000/x', cursor: 16});
		expect(editTextAt('abc', 1, '', key({backspace: true}))).toEqual({value: 'bc', cursor: 0});
		expect(editTextAt('abc', 0, '', key({backspace: true}))).toEqual({value: 'abc', cursor: 0});
		expect(editTextAt('abc', 3, '', key({home: true}))).toEqual({value: 'abc', cursor: 0});
		expect(editTextAt('abc', 0, 'e', key({ctrl: true}))).toEqual({value: 'abc', cursor: 3});
		expect(editTextAt('/home/me/docs', 9, 'w', key({ctrl: true}))).toEqual({value: '/home/docs', cursor: 6});
		expect(editTextAt('abcdef', 2, 'u', key({ctrl: true}))).toEqual({value: 'cdef', cursor: 0});
		expect(editTextAt('abcdef', 2, 'k', key({ctrl: true}))).toEqual({value: 'ab', cursor: 2});
		expect(editTextAt('abc', 1, '', key({return: true}))).toBeUndefined();
		// A long value scrolls so that the cursor stays in view.
		const long = 'x'.repeat(100) + 'END';
		expect(sliceAroundCursor(long, 103, 20)).toMatchObject({under: ' '});
		expect(sliceAroundCursor(long, 103, 20).before.endsWith('END')).toBe(true);
		const start = sliceAroundCursor(long, 0, 20);
		expect(start.before).toBe('');
		expect(start.under + start.after).toHaveLength(20);
	});

	it('keeps the cursor in form state: ← then typing inserts in the middle', () => {
		let state = createFormState(FIELDS, {host: 'nas.lan'});
		const apply = (input: string, extra: Partial<Key> = {}): void => {
			const result = readFormKey(input, {...NO_KEY, ...extra}, FIELDS, state);
			if (result !== undefined && result.type !== 'submit' && result.type !== 'complete') state = reduceForm(state, result, FIELDS);
		};
		for (let i = 0; i < 4; i++) apply('', {leftArrow: true});
		apply('-2');
		expect(state.values.host).toBe('nas-2.lan');
		expect(state.cursor).toBe(5);
		apply('', {end: true});
		expect(state.cursor).toBeUndefined();
		state = reduceForm(state, {type: 'next'}, FIELDS);
		expect(state).toMatchObject({focus: 1, cursor: undefined});
	});
});

describe('wizard state', () => {
	const start = (): WizardState => createWizardState({intent: 'connect', finish: {name: 'default'}});

	it('goes from the backend to the form, keeps values per backend, and back', () => {
		let state = start();
		expect(state.step).toBe('backend');
		state = reduceWizard(state, {type: 'move-backend', move: {type: 'move', delta: 1}, count: 3, height: 10});
		expect(state.backends.cursor).toBe(1);
		state = reduceWizard(state, {type: 'choose-backend', scheme: 'x', fields: FIELDS});
		state = reduceWizard(state, {type: 'form', action: {type: 'edit', value: 'nas'}, fields: FIELDS});
		state = reduceWizard(state, {type: 'back'});
		expect(state.step).toBe('backend');
		state = reduceWizard(state, {type: 'choose-backend', scheme: 'x', fields: FIELDS});
		expect(currentForm(state)?.values.host).toBe('nas');
		// Keys of other steps are ignored.
		expect(reduceWizard(state, {type: 'password-done'})).toBe(state);
	});

	it('returns a failed test to the form with the problem on its field, and switches intent when offered', () => {
		let state = reduceWizard(start(), {type: 'choose-backend', scheme: 'x', fields: FIELDS, values: {host: 'nas', key: '/k'}});
		state = reduceWizard(state, {type: 'test-start'});
		expect(state.step).toBe('testing');
		state = reduceWizard(state, {type: 'test-failed', fields: FIELDS, problem: {message: 'No repository at nas.', field: 'key', suggest: 'create'}});
		expect(state.step).toBe('problem');
		const fixed = reduceWizard(state, {type: 'fix', fields: FIELDS});
		expect(fixed.step).toBe('form');
		expect(currentForm(fixed)).toMatchObject({focus: 5, errors: {key: 'No repository at nas.'}, values: {host: 'nas', key: '/k'}});
		const switched = reduceWizard(state, {type: 'switch-intent'});
		expect(switched).toMatchObject({intent: 'create', step: 'testing'});
		const passed = reduceWizard(switched, {type: 'test-passed', location: 'x:nas'});
		expect(passed).toMatchObject({step: 'password', location: 'x:nas'});
	});

	it('a wrong password at the end returns to the password step with the password cleared', () => {
		let state = reduceWizard(start(), {type: 'choose-backend', scheme: 'x', fields: FIELDS});
		state = reduceWizard(reduceWizard(state, {type: 'test-start'}), {type: 'test-passed', location: 'x:'});
		state = reduceWizard(state, {type: 'password', action: {type: 'focus', index: 1}, fields: [{name: 'source', label: 'S', kind: 'choice', choices: ['ask']}, {name: 'password', label: 'P', kind: 'secret'}]});
		state = reduceWizard(state, {type: 'password', action: {type: 'edit', value: 'bad'}, fields: [{name: 'source', label: 'S', kind: 'choice', choices: ['ask']}, {name: 'password', label: 'P', kind: 'secret'}]});
		state = reduceWizard(reduceWizard(state, {type: 'password-done'}), {type: 'work-start'});
		expect(state.step).toBe('working');
		state = reduceWizard(state, {type: 'work-failed', step: 'password', message: 'Wrong password.'});
		expect(state).toMatchObject({step: 'password', message: 'Wrong password.'});
		expect(state.password.values.password).toBe('');
	});
});
