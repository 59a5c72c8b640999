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
