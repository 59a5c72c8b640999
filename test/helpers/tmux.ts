/**
 * Driving a real terminal in the end-to-end tests: a tmux server on its own socket, and the pane of
 * one of its sessions, read as text, waited on, and sent keys or literal text.
 */
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {promisify} from 'node:util';

const run = promisify(execFile);

/** The tmux binary (Debian's path first). */
export const TMUX = existsSync('/usr/bin/tmux') ? '/usr/bin/tmux' : 'tmux';

/** A tmux command line against one server; resolves with its stdout. */
export type Tmux = (...args: string[]) => Promise<string>;

/** Returns a runner of tmux commands against the server on `socket` (`tmux -L socket ...`). */
export function connectTmux(socket: string): Tmux {
	return async (...args) => (await run(TMUX, ['-L', socket, ...args])).stdout;
}

/** What a pane is waited for: a text it contains, a pattern, or a test of the whole pane. */
export type PaneMatch = string | RegExp | ((pane: string) => boolean);

/** The pane of one tmux session. */
export interface TmuxPane {
	/** The visible pane as text. */
	capture(): Promise<string>;
	/** Polls the pane every 100 ms until it matches; rejects with the pane's content after `timeoutMs`. */
	waitForPane(match: PaneMatch, timeoutMs?: number, what?: string): Promise<string>;
	/** Presses named keys (Enter, Escape, Down, Space…), one at a time, 60 ms apart. */
	keys(...names: string[]): Promise<void>;
	/** Types text literally. */
	type(text: string): Promise<void>;
}

/** Returns the pane of `session` on the server `tmux` drives. */
export function attachPane(tmux: Tmux, session: string): TmuxPane {
	const capture = (): Promise<string> => tmux('capture-pane', '-p', '-t', session);
	return {
		capture,
		async waitForPane(match, timeoutMs = 30_000, what = typeof match === 'function' ? 'the pane to match' : String(match)) {
			const test = typeof match === 'string' ? (p: string) => p.includes(match) : match instanceof RegExp ? (p: string) => match.test(p) : match;
			const deadline = Date.now() + timeoutMs;
			let pane = '';
			while (Date.now() < deadline) {
				pane = await capture();
				if (test(pane)) return pane;
				await new Promise((r) => setTimeout(r, 100));
			}
			throw new Error(`timed out waiting for ${what}; the pane shows:\n${pane}`);
		},
		async keys(...names) {
			for (const name of names) {
				await tmux('send-keys', '-t', session, name);
				await new Promise((r) => setTimeout(r, 60));
			}
		},
		async type(text) {
			await tmux('send-keys', '-t', session, '-l', text);
		},
	};
}
