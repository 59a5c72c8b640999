/**
 * Single-line text fields: a pure editing function and a component that draws a field.
 */
import {Box, Text, type Key} from 'ink';
import {truncateStart} from '../format.js';

/** Keys that edit a field. */
export type EditKey = Pick<Key, 'backspace' | 'delete' | 'ctrl' | 'meta' | 'return' | 'escape' | 'tab' | 'upArrow' | 'downArrow' | 'leftArrow' | 'rightArrow' | 'pageUp' | 'pageDown'>;

/**
 * Applies a key to a field's text (the cursor is always at the end): characters and pasted
 * text are added, Backspace removes one character, Ctrl-U clears, Ctrl-W removes the last word
 * or path component. Returns undefined for keys that do not edit (Enter, Esc, Tab, arrows…).
 */
export function editText(value: string, input: string, key: EditKey): string | undefined {
	if (key.backspace || key.delete) return value.slice(0, -1);
	if (key.ctrl && input === 'u') return '';
	if (key.ctrl && input === 'w') return value.replace(/[^/\s]*[/\s]?$/, '');
	if (key.ctrl || key.meta || key.return || key.escape || key.tab) return undefined;
	if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown) return undefined;
	// Pasted text arrives at once; drop line breaks and other control characters.
	const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
	return text === '' ? undefined : value + text;
}

/** A text and the position of the cursor in it (0 … length). */
export interface TextAtCursor {
	readonly value: string;
	readonly cursor: number;
}

/**
 * Applies a key to a field's text at the cursor: characters and pasted text are inserted,
 * Backspace removes the character before the cursor, ← → move, Home/Ctrl-A and End/Ctrl-E go to
 * the start and end, Ctrl-U removes what is before the cursor, Ctrl-K what is after it, Ctrl-W the
 * word or path component before it. Returns undefined for keys that neither edit nor move.
 */
export function editTextAt(value: string, cursor: number, input: string, key: EditKey & Pick<Key, 'home' | 'end'>): TextAtCursor | undefined {
	const at = Math.max(0, Math.min(cursor, value.length));
	const before = value.slice(0, at);
	const after = value.slice(at);
	if (key.leftArrow) return {value, cursor: Math.max(0, at - 1)};
	if (key.rightArrow) return {value, cursor: Math.min(value.length, at + 1)};
	if (key.home || (key.ctrl && input === 'a')) return {value, cursor: 0};
	if (key.end || (key.ctrl && input === 'e')) return {value, cursor: value.length};
	if (key.backspace || key.delete) return at === 0 ? {value, cursor: 0} : {value: before.slice(0, -1) + after, cursor: at - 1};
	if (key.ctrl && input === 'u') return {value: after, cursor: 0};
	if (key.ctrl && input === 'k') return {value: before, cursor: at};
	if (key.ctrl && input === 'w') {
		const kept = before.replace(/[^/\s]*[/\s]?$/, '');
		return {value: kept + after, cursor: kept.length};
	}
	if (key.ctrl || key.meta || key.return || key.escape || key.tab) return undefined;
	if (key.upArrow || key.downArrow || key.pageUp || key.pageDown) return undefined;
	const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
	return text === '' ? undefined : {value: before + text + after, cursor: at + text.length};
}

/** The part of a text to show in `room` columns so that the cursor is visible: the text before and after the cursor, and the character under it. */
export function sliceAroundCursor(text: string, cursor: number, room: number): {before: string; under: string; after: string} {
	const width = Math.max(2, room);
	let start = 0;
	if (text.length + 1 > width) start = Math.max(0, Math.min(cursor - Math.floor(width * 0.7), text.length + 1 - width));
	if (cursor - start >= width) start = cursor - width + 1;
	const end = start + width - 1;
	return {before: text.slice(start, cursor), under: text[cursor] ?? ' ', after: text.slice(cursor + 1, end + 1)};
}

/** Props of {@link TextField}. */
export interface TextFieldProps {
	readonly label: string;
	readonly value: string;
	/** Show `*` instead of the characters (passwords). */
	readonly masked?: boolean;
	/** Draw the cursor and highlight the label. */
	readonly focused: boolean;
	/** Shown dimmed while the field is empty. */
	readonly placeholder?: string;
	/** Columns for the whole line. */
	readonly width: number;
	/** Columns reserved for the label. */
	readonly labelWidth?: number;
}

/** One labelled field on one line: `Label  value█`. Long values show their end. */
export function TextField({label, value, masked = false, focused, placeholder, width, labelWidth = label.length + 2}: TextFieldProps) {
	const shown = masked ? '*'.repeat(value.length) : value;
	const room = Math.max(4, width - labelWidth - 2);
	return (
		<Box height={1}>
			<Text bold={focused}>{(focused ? '›' : ' ') + label.padEnd(labelWidth - 1)}</Text>
			{shown === '' && !focused && placeholder ? <Text dimColor>{truncateStart(placeholder, room)}</Text> : <Text>{truncateStart(shown, room - 1)}</Text>}
			{shown === '' && focused && placeholder ? (
				<>
					<Text inverse> </Text>
					<Text dimColor>{truncateStart(placeholder, room - 1)}</Text>
				</>
			) : focused ? (
				<Text inverse> </Text>
			) : null}
		</Box>
	);
}
