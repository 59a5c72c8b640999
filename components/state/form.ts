/**
 * A form: fields, their values, the field with the keys, and the problem of each field.
 * A field is checked when it is left (and all of them before the form is submitted); checks that
 * need the file system run outside the reducer and come back as `set-error` actions.
 * Pure functions only.
 */

/** How a field is edited and drawn. */
export type FieldKind = 'text' | 'secret' | 'path' | 'number' | 'url' | 'choice';

/**
 * One field of a form.
 *
 * Contract: `name` is unique within the form. A `choice` field's value is always one of
 * `choices` (the first is the initial value); `choiceLabels`, when given, has one label per choice.
 * `check` is called only with a non-empty value and returns a complete sentence, or undefined.
 */
export interface FormField {
	readonly name: string;
	readonly label: string;
	/** One or two sentences shown while the field has the keys. */
	readonly description?: string;
	readonly kind: FieldKind;
	readonly required?: boolean;
	readonly choices?: readonly string[];
	/** What each choice is shown as (same order as `choices`). */
	readonly choiceLabels?: readonly string[];
	/** Shown dimmed while the field is empty. */
	readonly placeholder?: string;
	/** Extra check of a non-empty value: a sentence saying what is wrong, or undefined. */
	readonly check?: (value: string) => string | undefined;
	/** The field must name a file or directory that exists (checked outside the reducer). */
	readonly mustExist?: boolean;
	/** Shown after the label while the field is empty, e.g. `from $AWS_REGION`. */
	readonly fallback?: string;
	/** A heading drawn above the field, e.g. `Advanced`. */
	readonly section?: string;
}

/** The state of a form. */
export interface FormState {
	readonly values: Readonly<Record<string, string>>;
	/** Problems by field name; a field without a problem has no key. */
	readonly errors: Readonly<Record<string, string>>;
	/** Index of the field with the keys. */
	readonly focus: number;
	/** Cursor position in the focused field; undefined means after its last character. */
	readonly cursor?: number;
}

/** Changes to a {@link FormState}. Actions that move the focus check the field left. */
export type FormAction =
	| {readonly type: 'edit'; readonly value: string; readonly cursor?: number}
	| {readonly type: 'set-value'; readonly name: string; readonly value: string}
	| {readonly type: 'next'}
	| {readonly type: 'previous'}
	| {readonly type: 'focus'; readonly index: number}
	| {readonly type: 'cycle'; readonly direction: 1 | -1}
	| {readonly type: 'set-error'; readonly name: string; readonly error?: string}
	| {readonly type: 'check-all'};

/** A form with the given values (missing ones empty, choices on their first) and the focus on the first field. */
export function createFormState(fields: readonly FormField[], values: Readonly<Record<string, string>> = {}, focus = 0): FormState {
	const filled: Record<string, string> = {};
	for (const field of fields) {
		const given = values[field.name];
		if (field.kind === 'choice') filled[field.name] = given !== undefined && field.choices?.includes(given) ? given : (field.choices?.[0] ?? '');
		else filled[field.name] = given ?? '';
	}
	return {values: filled, errors: {}, focus: Math.max(0, Math.min(focus, fields.length - 1))};
}

/** Says what is wrong with one value, or undefined: required fields, then the field's own check. */
export function checkField(field: FormField, value: string): string | undefined {
	if (value.trim() === '') return field.required === true && field.fallback === undefined ? `${field.label} is required.` : undefined;
	if (field.kind === 'number' && !/^-?\d+(\.\d+)?$/.test(value.trim())) return `${field.label} must be a number.`;
	if (field.kind === 'url' && !isUrl(value.trim())) return `${field.label} must be a URL such as https://host.example/path.`;
	return field.check?.(value);
}

function isUrl(value: string): boolean {
	try {
		return new URL(value).host !== '';
	} catch {
		return false;
	}
}

function withError(errors: Readonly<Record<string, string>>, name: string, error: string | undefined): Readonly<Record<string, string>> {
	if (error === undefined) {
		if (!(name in errors)) return errors;
		const copy = {...errors};
		delete copy[name];
		return copy;
	}
	return errors[name] === error ? errors : {...errors, [name]: error};
}

/** Moves the focus, checking the field left. */
function moveFocus(state: FormState, fields: readonly FormField[], index: number): FormState {
	const target = Math.max(0, Math.min(index, fields.length - 1));
	const left = fields[state.focus];
	const errors = left === undefined || target === state.focus ? state.errors : withError(state.errors, left.name, checkField(left, state.values[left.name] ?? ''));
	return target === state.focus && errors === state.errors ? state : {...state, focus: target, errors, cursor: undefined};
}

/** Reducer of {@link FormState}; the fields are passed in because they may change with the values. */
export function reduceForm(state: FormState, action: FormAction, fields: readonly FormField[]): FormState {
	const field = fields[state.focus];
	switch (action.type) {
		case 'edit': {
			if (field === undefined || field.kind === 'choice') return state;
			const cursor = action.cursor === undefined || action.cursor >= action.value.length ? undefined : action.cursor;
			if (state.values[field.name] === action.value) return cursor === state.cursor ? state : {...state, cursor};
			return {...state, values: {...state.values, [field.name]: action.value}, errors: withError(state.errors, field.name, undefined), cursor};
		}
		case 'set-value':
			return state.values[action.name] === action.value ? state : {...state, values: {...state.values, [action.name]: action.value}, errors: withError(state.errors, action.name, undefined), cursor: undefined};
		case 'next':
			return moveFocus(state, fields, state.focus + 1);
		case 'previous':
			return moveFocus(state, fields, state.focus - 1);
		case 'focus':
			return moveFocus(state, fields, action.index);
		case 'cycle': {
			if (field?.kind !== 'choice' || field.choices === undefined || field.choices.length === 0) return state;
			const current = Math.max(0, field.choices.indexOf(state.values[field.name] ?? ''));
			const next = field.choices[(current + action.direction + field.choices.length) % field.choices.length]!;
			return {...state, values: {...state.values, [field.name]: next}, errors: withError(state.errors, field.name, undefined)};
		}
		case 'set-error':
			return fields.some((f) => f.name === action.name) ? {...state, errors: withError(state.errors, action.name, action.error)} : state;
		case 'check-all': {
			let errors = state.errors;
			for (const f of fields) {
				// Problems found outside (files that do not exist, the connection test) stay until the value changes.
				errors = withError(errors, f.name, checkField(f, state.values[f.name] ?? '') ?? errors[f.name]);
			}
			const first = fields.findIndex((f) => f.name in errors);
			const focus = first >= 0 ? first : state.focus;
			return {...state, errors, focus, cursor: focus === state.focus ? state.cursor : undefined};
		}
	}
}

/** The value of a choice field: its value when it is one of the choices, else the first choice. */
export function readChoice(field: FormField, value: string | undefined): string {
	return value !== undefined && field.choices?.includes(value) === true ? value : (field.choices?.[0] ?? '');
}

/** Tells whether the form has no problem left. */
export function isFormValid(state: FormState, fields: readonly FormField[]): boolean {
	return fields.every((field) => !(field.name in state.errors) && checkField(field, state.values[field.name] ?? '') === undefined);
}

/** The values of the fields, without the empty ones. */
export function readFilledValues(state: FormState, fields: readonly FormField[]): Record<string, string> {
	const values: Record<string, string> = {};
	for (const field of fields) {
		const value = (state.values[field.name] ?? '').trim();
		if (value !== '') values[field.name] = field.kind === 'secret' ? (state.values[field.name] ?? '') : value;
	}
	return values;
}
