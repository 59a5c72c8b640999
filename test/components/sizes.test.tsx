/**
 * Every screen at 80×24 and at a wide size: the frame fits the terminal, the title bar and the
 * key help line are there, and the wide frame uses the room it has.
 */
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {checkFrameFits, createRepository, createTestEnvironment, KEYS, press, renderApp, SMALL, waitForFrame, WIDE, writeTree, type RenderedApp, type TerminalSize, type TestEnvironment} from './harness.js';

let environment: TestEnvironment | undefined;
let app: RenderedApp | undefined;
afterEach(async () => {
	app?.cleanup();
	app = undefined;
	await environment?.dispose();
	environment = undefined;
});

/** Checks a screen's frame at a size; returns it. */
function checkScreen(frame: string, size: TerminalSize, title: string): string {
	const lines = checkFrameFits(frame, size);
	expect(lines[0]).toMatch(/^ cairn › /);
	expect(lines[0]).toContain(title);
	expect(lines.at(-1)).toMatch(/(\? help {2}q quit|Ctrl-G help) *$/);
	// The title bar spans the width the app uses (one column is kept free).
	expect([...lines[0]!].length).toBe(size.columns - 1);
	return frame;
}

describe.each([['80×24', SMALL], ['wide', WIDE]] as const)('every screen at %s', (_name, size) => {
	it('fits: welcome, wizard, repositories, password, snapshots, files, find, restore, backup, retention, help', async () => {
		environment = await createTestEnvironment();
		const source = join(environment.root, 'home', 'me', 'project');
		await writeTree(source, {'README.md': '# project\n', 'src/main.ts': 'console.log(1);\n'});
		const repo = join(environment.root, 'repo');
		await createRepository(repo, 'pw', [{paths: [source], tags: ['daily']}]);
		app = renderApp(environment, size);
		checkScreen(await waitForFrame(app.lastFrame, 'Add an existing repository'), size, 'Welcome');
		await press(app.stdin, '2', KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, 'step 1 of 5'), size, 'Add a repository › Backend');
		await press(app.stdin, KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, 'step 2 of 5'), size, 'Add a repository › Settings');
		await press(app.stdin, repo, KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, 'step 4 of 5'), size, 'Add a repository › Password');
		await press(app.stdin, KEYS.enter, 'pw', KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, 'step 5 of 5'), size, 'Add a repository › Name and options');
		await press(app.stdin, KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, '1 snapshot from 1 source'), size, 'default › Snapshots');
		await press(app.stdin, '?');
		const help = checkScreen(await waitForFrame(app.lastFrame, 'Keys of default › Snapshots'), size, 'default › Snapshots');
		expect(help).toContain('Ctrl-C');
		await press(app.stdin, KEYS.escape, KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, 'project/'), size, 'Files');
		await press(app.stdin, 'f', 'main', KEYS.enter);
		checkScreen(await waitForFrame(app.lastFrame, '· done'), size, 'Find');
		await press(app.stdin, KEYS.escape, 'r');
		checkScreen(await waitForFrame(app.lastFrame, 'Restore the whole snapshot'), size, 'Restore');
		await press(app.stdin, KEYS.escape, KEYS.escape, 'b');
		checkScreen(await waitForFrame(app.lastFrame, 'Back up into a new snapshot'), size, 'default › Back up');
		await press(app.stdin, KEYS.escape, 'p');
		checkScreen(await waitForFrame(app.lastFrame, 'Keep daily'), size, 'default › Retention');
		await press(app.stdin, KEYS.escape, KEYS.escape);
		const list = checkScreen(await waitForFrame(app.lastFrame, '1 saved repository'), size, 'Repositories');
		expect(list).toMatch(/default\s+Local directory/);
	}, 90_000);
});
