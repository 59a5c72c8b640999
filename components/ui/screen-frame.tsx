/**
 * The frame every screen is drawn in: a title bar, the body, a status line and a key help line.
 * `?` replaces the body with every key of the screen.
 */
import {useEffect, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from './app-context.js';
import {fitText, truncateEnd} from '../format.js';

/** One key (or key group) and what it does. */
export interface KeyHelp {
	/** As shown, e.g. `Enter`, `↑↓`, `Space`. */
	readonly keys: string;
	readonly action: string;
	/** Left out of the one-line help (still listed by `?`). */
	readonly more?: boolean;
}

/** Keys the app handles on every screen. */
const GLOBAL_KEYS: readonly KeyHelp[] = [
	{keys: '?', action: 'show or hide this help (Ctrl-G while typing in a field)'},
	{keys: 'Esc', action: 'go back, or cancel what is being typed'},
	{keys: 'q', action: 'quit (asks first while a backup or restore runs)'},
	{keys: 'Ctrl-C', action: 'quit at once (a running operation is cancelled cleanly)'},
];

/** Rows the frame takes around the body: title, status and help line. */
export const FRAME_ROWS = 3;

/** The body's size for the current terminal. */
export function useBodySize(): {width: number; height: number} {
	const {width, height} = useAppContext();
	return {width, height: Math.max(1, height - FRAME_ROWS)};
}

/** Status line content: a message and its tone. */
export interface StatusMessage {
	readonly text: string;
	readonly tone?: 'info' | 'error' | 'success' | 'warning';
}

/** Props of {@link ScreenFrame}. */
export interface ScreenFrameProps {
	/** Shown in the title bar after `cairn`, e.g. `default › Snapshots`. */
	readonly title: string;
	readonly help: readonly KeyHelp[];
	/** A line under the body: a message, or a node (e.g. a filter field). */
	readonly status?: StatusMessage | ReactNode;
	/** A text field has the keys: `q` and `?` are typed into it. */
	readonly textMode?: boolean;
	readonly children: ReactNode;
}

function isStatusMessage(value: unknown): value is StatusMessage {
	return typeof value === 'object' && value !== null && 'text' in value && typeof (value as StatusMessage).text === 'string';
}

/** Draws a status message in its tone (colour only when allowed). */
export function StatusText({message, width}: {message: StatusMessage; width: number}) {
	const {color} = useAppContext();
	const colors = {info: undefined, error: 'red', success: 'green', warning: 'yellow'} as const;
	const tone = message.tone ?? 'info';
	return (
		<Text color={color ? colors[tone] : undefined} bold={tone === 'error'}>
			{truncateEnd(message.text, width)}
		</Text>
	);
}

/**
 * The one-line key help: the screen's main keys that fit in `width` columns, always followed
 * by `? help  q quit`, or `Ctrl-G help` while a text field has the keys.
 */
export function formatHelpLine(help: readonly KeyHelp[], textMode: boolean, width: number): Array<{keys: string; action: string}> {
	const globals = textMode ? [{keys: 'Ctrl-G', action: 'help'}] : [{keys: '?', action: 'help'}, {keys: 'q', action: 'quit'}];
	const size = (item: {keys: string; action: string}): number => item.keys.length + item.action.length + 3;
	let room = width - globals.reduce((sum, item) => sum + size(item), 0);
	const shown: Array<{keys: string; action: string}> = [];
	for (const {keys, action, more} of help) {
		if (more === true) continue;
		if (size({keys, action}) > room) break;
		shown.push({keys, action});
		room -= size({keys, action});
	}
	return [...shown, ...globals];
}

/** The frame. */
export function ScreenFrame({title, help, status, textMode = false, children}: ScreenFrameProps) {
	const context = useAppContext();
	const {width, height, helpOpen, appStatus, setTextMode} = context;
	useEffect(() => {
		setTextMode(textMode);
	}, [setTextMode, textMode]);
	const bodyHeight = Math.max(1, height - FRAME_ROWS);
	const shownHelp = formatHelpLine(help, textMode, width);
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box height={1}>
				<Text inverse bold>
					{fitText(` cairn › ${title}`, width - 8)}
				</Text>
				<Text inverse>{(textMode ? ' ^G help' : '  ? help').padEnd(8)}</Text>
			</Box>
			<Box flexDirection="column" height={bodyHeight} overflow="hidden">
				{helpOpen ? <HelpOverlay title={title} help={help} width={width} height={bodyHeight} /> : children}
			</Box>
			<Box height={1}>
				{appStatus !== undefined ? (
					<StatusText message={{text: appStatus, tone: 'warning'}} width={width} />
				) : isStatusMessage(status) ? (
					<StatusText message={status} width={width} />
				) : (
					status ?? <Text> </Text>
				)}
			</Box>
			<Box height={1}>
				{shownHelp.map((item, index) => (
					<Text key={index}>
						<Text bold inverse>
							{item.keys}
						</Text>
						<Text>{` ${item.action}  `}</Text>
					</Text>
				))}
			</Box>
		</Box>
	);
}

/** Every key of the screen and the global keys; in two columns when one does not fit. */
function HelpOverlay({title, help, width, height}: {title: string; help: readonly KeyHelp[]; width: number; height: number}) {
	// A key listed twice, short for the help line and long for this overlay, is shown once, long.
	const longer = help.filter((row) => row.more === true);
	const repeated = (row: KeyHelp): boolean => row.more !== true && longer.some((other) => other.keys === row.keys && other.action.toLowerCase().startsWith(row.action.toLowerCase()));
	const rows = [...help.filter((row) => !repeated(row)), ...GLOBAL_KEYS];
	const room = Math.max(1, height - 3);
	const columns = rows.length > room && width >= 60 ? 2 : 1;
	const perColumn = Math.ceil(rows.length / columns);
	const columnWidth = Math.floor(width / columns);
	const keyWidth = Math.min(14, Math.max(...rows.map((row) => row.keys.length)) + 2);
	const cell = (row: KeyHelp | undefined): ReactNode =>
		row === undefined ? null : (
			<>
				<Text bold>{fitText('  ' + row.keys, keyWidth + 2)}</Text>
				<Text>{fitText(row.action, columnWidth - keyWidth - 3)}</Text>
			</>
		);
	return (
		<Box flexDirection="column">
			<Text bold>{truncateEnd(`Keys of ${title}`, width)}</Text>
			<Text> </Text>
			{Array.from({length: Math.min(room, perColumn)}, (_, index) => (
				<Box key={index} height={1}>
					{cell(rows[index])}
					{columns === 2 ? cell(rows[index + perColumn]) : null}
				</Box>
			))}
			<Text dimColor>{truncateEnd(perColumn > room ? `… ${rows.length - room * columns} more not shown; a wider terminal shows them. Esc closes.` : 'Press Esc to close this help.', width)}</Text>
		</Box>
	);
}
