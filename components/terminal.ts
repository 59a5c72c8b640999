/**
 * The terminal around the app: the alternate screen on start, and a restore that runs exactly
 * once however the app ends (quit, Ctrl-C, a signal, an uncaught exception).
 */

/** Switches to the alternate screen and clears it. */
export const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[2J\u001B[H';
/** Leaves the alternate screen, showing the cursor again. */
export const LEAVE_ALTERNATE_SCREEN = '\u001B[?25h\u001B[?1049l';

/** The streams the terminal session needs. */
export interface TerminalStreams {
	readonly stdout: {write(text: string): unknown};
	readonly stdin?: {isTTY?: boolean; setRawMode?(mode: boolean): unknown};
}

/** An entered full-screen session. */
export interface FullScreen {
	/** Leaves the alternate screen and raw mode. Safe to call many times; only the first acts. */
	restore(): void;
	/** True once restored. */
	readonly restored: boolean;
}

/** Enters the alternate screen. Call `restore()` when the app ends, whatever the reason. */
export function enterFullScreen(streams: TerminalStreams): FullScreen {
	let restored = false;
	streams.stdout.write(ENTER_ALTERNATE_SCREEN);
	return {
		restore() {
			if (restored) return;
			restored = true;
			try {
				if (streams.stdin?.isTTY) streams.stdin.setRawMode?.(false);
			} catch {
				// stdin may already be closed
			}
			streams.stdout.write(LEAVE_ALTERNATE_SCREEN);
		},
		get restored() {
			return restored;
		},
	};
}
