/**
 * Starts the full-screen app on the terminal and gives the terminal back afterwards, on quit,
 * Ctrl-C, SIGTERM, and crashes alike (SIGHUP is ignored, as restic does).
 */
import {render} from 'ink';
import {App} from './app.js';
import {enterFullScreen} from './terminal.js';

/** Runs the app until the user quits; resolves with the process exit code. */
export async function runApp(): Promise<number> {
	const {stdin, stdout, stderr} = process;
	if (!stdin.isTTY || !stdout.isTTY) {
		stderr.write('cairn: the full-screen app needs a terminal. Run `cairn --help` for the command line.\n');
		return 2;
	}
	const screen = enterFullScreen({stdout, stdin});
	const crash = (error: unknown): void => {
		screen.restore();
		stderr.write(`cairn crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(70);
	};
	const onSignal = (signal: NodeJS.Signals): void => {
		screen.restore();
		process.exit(signal === 'SIGINT' ? 130 : 143);
	};
	const onExit = (): void => screen.restore();
	process.on('uncaughtException', crash);
	process.on('unhandledRejection', crash);
	process.on('SIGTERM', onSignal);
	// restic sends SIGHUP to probe whether a lock holder on this host is alive, and ignores it
	// itself; so does cairn. A terminal that really hung up makes the next write fail, which ends
	// the app through the crash handler.
	const onHangup = (): void => undefined;
	process.on('SIGHUP', onHangup);
	process.on('SIGINT', onSignal);
	process.on('exit', onExit);

	const instance = render(<App env={process.env} cwd={process.cwd()} />, {
		stdout,
		stdin,
		stderr,
		exitOnCtrlC: false,
		patchConsole: true,
		maxFps: 30,
	});
	// A resize can leave stale characters: clear the screen and draw everything again.
	const onResize = (): void => {
		stdout.write('\u001B[2J\u001B[H');
		instance.clear();
	};
	stdout.on('resize', onResize);
	try {
		await instance.waitUntilExit();
		return 0;
	} catch (error) {
		screen.restore();
		stderr.write(`cairn stopped on an error: ${error instanceof Error ? error.message : String(error)}\n`);
		return 1;
	} finally {
		stdout.off('resize', onResize);
		instance.cleanup();
		screen.restore();
		process.off('uncaughtException', crash);
		process.off('unhandledRejection', crash);
		process.off('SIGTERM', onSignal);
		process.off('SIGHUP', onHangup);
		process.off('SIGINT', onSignal);
		process.off('exit', onExit);
		// Ink keeps stdin referenced in raw mode; let the process end.
		stdin.pause();
	}
}
