/**
 * ink-text-input and ink-select-input, the packages the project card names, on the installed Ink 6
 * and React 19 (and whichever Node runs the tests: CI runs 20 and 24). They work; these tests pin
 * what they do where it differs from what the app's own fields and lists promise, which is why the
 * app keeps its own (docs/tui.md, "Why the app keeps its own fields and lists").
 */
import {useState} from 'react';
import {Box, Text, useInput} from 'ink';
import TextInput from 'ink-text-input';
import SelectInput from 'ink-select-input';
import {afterEach, describe, expect, it} from 'vitest';
import {KEYS, press, renderSized, waitForFrame} from './harness.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
	cleanup?.();
	cleanup = undefined;
});

/**
 * Presses one key once the package is ready for it, and waits for `match`. The packages subscribe
 * their key handler anew in an effect after each render; a key that arrives before that effect
 * has run reaches the previous handler, which acts on the previous state (docs/tui.md). So each
 * key here waits for the frame of the previous one and a little more.
 */
async function step(app: {stdin: {write(data: string): void}; lastFrame(): string | undefined}, key: string, match: string | RegExp | ((frame: string) => boolean)): Promise<string> {
	await new Promise((resolve) => setTimeout(resolve, 150));
	await press(app.stdin, key);
	return waitForFrame(app.lastFrame, match);
}

/** A TextInput whose value is shown (JSON, so control characters are visible) under it. */
function Field({initial = ''}: {initial?: string}) {
	const [value, setValue] = useState(initial);
	return (
		<Box flexDirection="column">
			<TextInput value={value} onChange={setValue} />
			<Text>{`value=${JSON.stringify(value)}`}</Text>
		</Box>
	);
}

const ITEMS = ['Local directory', 'SFTP server', 'Amazon S3', 'WebDAV'].map((label, index) => ({label, value: String(index)}));

/** A SelectInput that shows what was chosen, and an app-level key reader beside it. */
function Menu({limit}: {limit?: number}) {
	const [chosen, setChosen] = useState('none');
	const [keys, setKeys] = useState(0);
	useInput(() => setKeys((count) => count + 1));
	return (
		<Box flexDirection="column">
			<SelectInput items={ITEMS} limit={limit} onSelect={(item) => setChosen(item.label)} />
			<Text>{`chosen=${chosen} app-keys=${keys}`}</Text>
		</Box>
	);
}

describe('ink-text-input 6 on Ink 6 / React 19', () => {
	it('renders, takes text and moves its cursor', async () => {
		const app = renderSized(<Field />);
		cleanup = app.cleanup;
		// Each key after the previous one has been drawn: keys closer together can reach the
		// package's previous key handler (it subscribes anew after each render), see docs/tui.md.
		await step(app, 'abc', 'value="abc"');
		await step(app, KEYS.left, 'value="abc"');
		await step(app, 'X', 'value="abXc"');
		await step(app, KEYS.backspace, 'value="abc"');
	});

	it('types Ctrl-U and Ctrl-G as letters, does not remove a path component on Ctrl-W, and keeps a pasted line break as text', async () => {
		/** The field's value after `keys`, typed into a new field holding /srv/data. */
		const typeInto = async (keys: string): Promise<string> => {
			const app = renderSized(<Field initial="/srv/data" />);
			cleanup = app.cleanup;
			await waitForFrame(app.lastFrame, 'value="/srv/data"');
			await step(app, keys, () => true);
			await new Promise((resolve) => setTimeout(resolve, 150));
			const value = /value=("[^\n]*")/.exec(app.lastFrame() ?? '')?.[1];
			app.cleanup();
			cleanup = undefined;
			return JSON.parse(value ?? '""') as string;
		};
		// The app's fields: Ctrl-U clears before the cursor, Ctrl-G opens the help.
		expect(await typeInto('\u0015')).toBe('/srv/datau');
		expect(await typeInto(KEYS.ctrlG)).toBe('/srv/datag');
		// The app's Ctrl-W removes the last path component (here: /srv/).
		expect(await typeInto('\u0017')).toMatch(/^\/srv\/dataw?$/);
		// A password typed ahead with its Enter in one read ends up in the value.
		expect(await typeInto('pw\rpw')).toBe('/srv/datapw\rpw');
	});
});

describe('ink-select-input 6 on Ink 6 / React 19', () => {
	it('renders the items, moves and selects with Enter', async () => {
		const app = renderSized(<Menu />);
		cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Amazon S3');
		await step(app, KEYS.down, /❯ SFTP server/);
		await step(app, KEYS.enter, 'chosen=SFTP server');
	});

	it('selects on a digit at once, wraps around at the ends, and reads the keys the app reads too', async () => {
		const app = renderSized(<Menu />);
		cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'chosen=none');
		// A digit selects without Enter (the app's menus move to the item; Enter then opens it).
		const frame = await step(app, '3', 'chosen=Amazon S3');
		// Each key went both to the package and to the app's own reader.
		expect(frame).toContain('app-keys=1');
		// Up on the first item goes to the last one (the app's lists stop at the ends).
		await step(app, KEYS.up, /❯ WebDAV/);
		await step(app, KEYS.enter, 'chosen=WebDAV');
	});

	it('scrolls a long list by rotating it: the first item comes back after the last', async () => {
		const app = renderSized(<Menu limit={3} />);
		cleanup = app.cleanup;
		await waitForFrame(app.lastFrame, 'Amazon S3');
		for (const item of ['SFTP server', 'Amazon S3', 'WebDAV']) await step(app, KEYS.down, new RegExp(`❯ ${item}`));
		const rotated = await step(app, KEYS.down, /❯ Local directory/);
		// The ring shows WebDAV above Local directory: no first or last page, no Home or End.
		expect(rotated.indexOf('WebDAV')).toBeLessThan(rotated.indexOf('Local directory'));
	});
});
