/**
 * The app root. Filled in by the TUI work; see components/.
 */
export async function startApp(): Promise<number> {
	const {runApp} = await import('../components/run-app.js');
	return runApp();
}
