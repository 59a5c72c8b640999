/**
 * Draws a form (see state/form.ts) and turns keys into form actions. One row per field, a row
 * under each field with a problem, section headings, and the description of the field with the
 * keys at the bottom. The rows scroll so that the field with the keys stays visible.
 */
import type {ReactNode} from 'react';
import {Box, Text, type Key} from 'ink';
import {readChoice, type FormAction, type FormField, type FormState} from '../state/form.js';
import {editTextAt, sliceAroundCursor} from './text-field.js';
import {useAppContext} from './app-context.js';
import {fitText, truncateEnd, truncateStart} from '../format.js';

/** What a key asks a form to do. */
export type FormKeyResult = FormAction | {readonly type: 'submit'} | {readonly type: 'complete'};

/**
 * Reads a key for a form: ↑↓ (and Shift-Tab) move between fields, Tab completes a path field
 * (and moves on elsewhere), Enter goes to the next required field that is still empty or, when
 * none is left, submits; Space and ←→ change a choice; in text fields ←→ Home End move the
 * cursor and other keys edit at the cursor (see editTextAt). Returns undefined for keys the form
 * does not use (Esc…).
 */
export function readFormKey(input: string, key: Key, fields: readonly FormField[], state: FormState): FormKeyResult | undefined {
	const field = fields[state.focus];
	if (field === undefined) return key.return ? {type: 'submit'} : undefined;
	if (key.upArrow || (key.tab && key.shift)) return {type: 'previous'};
	if (key.downArrow) return {type: 'next'};
	if (key.tab) return field.kind === 'path' ? {type: 'complete'} : {type: 'next'};
	if (key.return) {
		// Enter goes to the next required field still empty, and submits when there is none.
		const next = fields.findIndex((f, index) => index > state.focus && f.required === true && f.fallback === undefined && (state.values[f.name] ?? '').trim() === '');
		return next >= 0 ? {type: 'focus', index: next} : {type: 'submit'};
	}
	if (field.kind === 'choice') {
		if (input === ' ' || key.rightArrow) return {type: 'cycle', direction: 1};
		if (key.leftArrow) return {type: 'cycle', direction: -1};
		return undefined;
	}
	const value = state.values[field.name] ?? '';
	const edited = editTextAt(value, state.cursor ?? value.length, input, key);
	return edited === undefined ? undefined : {type: 'edit', value: edited.value, cursor: edited.cursor};
}

/** How a value is shown: secrets masked, choices by their label. */
export function formatFieldValue(field: FormField, value: string): string {
	if (field.kind === 'secret') return '*'.repeat(value.length);
	if (field.kind === 'choice') {
		const index = field.choices?.indexOf(readChoice(field, value)) ?? -1;
		return index >= 0 && field.choiceLabels?.[index] !== undefined ? field.choiceLabels[index]! : value;
	}
	return value;
}

/** One drawn row of a form. */
type FormRow =
	| {readonly type: 'section'; readonly text: string}
	| {readonly type: 'field'; readonly index: number}
	| {readonly type: 'error'; readonly index: number};

/** The rows of a form, in order. */
function layoutRows(fields: readonly FormField[], state: FormState): FormRow[] {
	const rows: FormRow[] = [];
	fields.forEach((field, index) => {
		if (field.section !== undefined) rows.push({type: 'section', text: field.section});
		rows.push({type: 'field', index});
		if (field.name in state.errors) rows.push({type: 'error', index});
	});
	return rows;
}

/** Props of {@link FormView}. */
export interface FormViewProps {
	readonly fields: readonly FormField[];
	readonly state: FormState;
	readonly width: number;
	/** Rows the form may use, description included. */
	readonly height: number;
	/** False while something else has the keys (the cursor is hidden). */
	readonly active?: boolean;
	/** Names offered by Tab completion, shown under the fields. */
	readonly candidates?: readonly string[];
}

/** The form. */
export function FormView({fields, state, width, height, active = true, candidates = []}: FormViewProps) {
	const {color} = useAppContext();
	const labelWidth = Math.min(26, Math.max(10, ...fields.map((field) => field.label.length + 4)));
	const focused = fields[state.focus];
	const description = focused?.description ?? '';
	const descriptionLines = description === '' ? 0 : Math.min(2, Math.ceil(description.length / Math.max(1, width)));
	const footer = descriptionLines + (candidates.length > 0 ? 1 : 0);
	const rows = layoutRows(fields, state);
	const room = Math.max(1, height - footer - 1);
	const focusRow = rows.findIndex((row) => row.type === 'field' && row.index === state.focus);
	// Keep the focused field (and its problem) in view; show the section heading above it when it fits.
	let start = 0;
	if (rows.length > room) {
		start = Math.max(0, Math.min(focusRow - Math.floor(room / 2), rows.length - room));
	}
	const shown = rows.slice(start, start + room);
	const valueWidth = Math.max(4, width - labelWidth - 2);
	return (
		<Box flexDirection="column">
			{shown.map((row, offset) => {
				if (row.type === 'section') return <Text key={`s${start + offset}`} bold underline>{truncateEnd(row.text, width)}</Text>;
				const field = fields[row.index]!;
				const value = state.values[field.name] ?? '';
				if (row.type === 'error') {
					return (
						<Text key={`e${row.index}`} color={color ? 'red' : undefined}>
							{truncateEnd(`${' '.repeat(labelWidth)}✗ ${state.errors[field.name] ?? ''}`, width)}
						</Text>
					);
				}
				const current = active && row.index === state.focus;
				const marker = field.name in state.errors ? '✗' : current ? '›' : ' ';
				const label = fitText(`${marker} ${field.label}`, labelWidth - 1) + ' ';
				let body: ReactNode;
				if (field.kind === 'choice') {
					const text = formatFieldValue(field, value);
					body = current ? <Text>{truncateEnd(`‹ ${text} ›`, valueWidth)}</Text> : <Text>{truncateEnd(text, valueWidth)}</Text>;
				} else if (value === '') {
					const hint = field.fallback ?? field.placeholder ?? '';
					body = (
						<Text>
							{current ? <Text inverse> </Text> : null}
							<Text dimColor>{truncateEnd(hint === '' ? '' : (field.placeholder !== undefined && field.fallback === undefined ? `e.g. ${hint}` : hint), valueWidth - 1)}</Text>
						</Text>
					);
				} else if (current) {
					const shown = formatFieldValue(field, value);
					const part = sliceAroundCursor(shown, Math.min(state.cursor ?? shown.length, shown.length), valueWidth);
					body = (
						<Text>
							{part.before}
							<Text inverse>{part.under}</Text>
							{part.after}
						</Text>
					);
				} else {
					body = <Text>{truncateStart(formatFieldValue(field, value), valueWidth - 1)}</Text>;
				}
				return (
					<Box key={`f${row.index}`} height={1}>
						<Text bold={current} color={color && field.name in state.errors ? 'red' : undefined}>{label}</Text>
						{body}
					</Box>
				);
			})}
			<Text> </Text>
			{candidates.length > 0 ? <Text color={color ? 'cyan' : undefined}>{truncateEnd(candidates.join('  '), width)}</Text> : null}
			{description !== '' ? (
				<Box height={descriptionLines} overflow="hidden">
					<Text dimColor wrap="wrap">{truncateEnd(description, width * 2 - 4)}</Text>
				</Box>
			) : null}
		</Box>
	);
}
