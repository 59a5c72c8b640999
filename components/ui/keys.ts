/**
 * Key handling. The app reads keys once and hands them to the screen one at a time, each after
 * the previous one has been rendered, so that keys arriving together (typing fast over SSH,
 * pasting, tmux send-keys) all see the state the earlier keys left.
 */
import {useLayoutEffect} from 'react';
import type {Key} from 'ink';
import {useAppContext} from './app-context.js';

/** A key press: the text typed and the special keys. */
export interface KeyPress {
	readonly input: string;
	readonly key: Key;
}

/** Handles one key of the screen shown. */
export type KeyHandler = (input: string, key: Key) => void;

/** Makes `handler` receive the keys while this screen is shown and nothing above it takes them. */
export function useScreenKeys(handler: KeyHandler): void {
	const {keyHandler} = useAppContext();
	useLayoutEffect(() => {
		keyHandler.current = handler;
	});
	useLayoutEffect(() => () => {
		keyHandler.current = undefined;
	}, [keyHandler]);
}

const NO_KEY: Key = {
	upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
	return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
	super: false, hyper: false, capsLock: false, numLock: false,
};

/** A key press made of one control character typed among other text. */
function readControl(char: string): KeyPress {
	if (char === '\r' || char === '\n') return {input: '', key: {...NO_KEY, return: true}};
	if (char === '\t') return {input: '', key: {...NO_KEY, tab: true}};
	if (char === '\u007f') return {input: '', key: {...NO_KEY, delete: true}};
	if (char === '\b') return {input: '', key: {...NO_KEY, backspace: true}};
	const code = char.charCodeAt(0);
	return {input: String.fromCharCode(code + 96), key: {...NO_KEY, ctrl: true}};
}

/**
 * Splits text that arrived in one read (`secret\rsecret\r`) into the key presses it holds:
 * runs of characters stay together (they are typed text or a paste), and each Enter, Tab,
 * Backspace or Ctrl-letter becomes its own press. Anything else is returned unchanged.
 */
export function splitKeyPresses(input: string, key: Key): KeyPress[] {
	if (input.length <= 1 || key.ctrl || key.meta || key.escape || !/[\u0000-\u001f\u007f]/.test(input)) return [{input, key}];
	const presses: KeyPress[] = [];
	let text = '';
	for (const char of input) {
		if (/[\u0000-\u001f\u007f]/.test(char) && char !== '\u001b') {
			if (text !== '') presses.push({input: text, key: NO_KEY});
			text = '';
			presses.push(readControl(char));
		} else {
			text += char;
		}
	}
	if (text !== '') presses.push({input: text, key: NO_KEY});
	return presses;
}
