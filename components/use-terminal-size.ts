/**
 * The terminal's size, following resizes.
 */
import {useEffect, useState} from 'react';
import {useStdout} from 'ink';

/** Columns and rows of the terminal. */
export interface TerminalSize {
	readonly columns: number;
	readonly rows: number;
}

/** Falls back to 80×24 when the stream does not say (pipes, tests). */
export function readTerminalSize(stream: {columns?: number; rows?: number}): TerminalSize {
	return {columns: stream.columns || 80, rows: stream.rows || 24};
}

/** The size of Ink's stdout, updated on every `resize` event. */
export function useTerminalSize(): TerminalSize {
	const {stdout} = useStdout();
	const [size, setSize] = useState(() => readTerminalSize(stdout));
	useEffect(() => {
		const update = (): void => {
			const next = readTerminalSize(stdout);
			setSize((previous) => (previous.columns === next.columns && previous.rows === next.rows ? previous : next));
		};
		stdout.on('resize', update);
		return () => {
			stdout.off('resize', update);
		};
	}, [stdout]);
	return size;
}
