/**
 * The diff view (`d` on two snapshots), the file preview (`v`) and saving a file (`w`) in the
 * app, on a real local repository, at 80×24.
 */
import {randomBytes} from 'node:crypto';
import {readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {Repository} from '../../engine/repository/repository.js';
import {runBackup} from '../../engine/archiver/archiver.js';
import {createLocalStorage} from '../../adapters/local.js';
import {checkFrameFits, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, type RenderedApp, saveProfile, SMALL, waitForFrame, writeTree} from './harness.js';

const resources = disposeAfterEach();

const LINES = 600_000;
const bigText = Array.from({length: LINES}, (_, i) => `line ${i + 1} of the big text file`).join('\n') + '\n';

/** A repository with two snapshots of one source, changed in between. */
async function openApp(): Promise<{app: RenderedApp; source: string}> {
	resources.environment = await createTestEnvironment();
	const source = join(resources.environment.root, 'home', 'me', 'project');
	await writeTree(source, {'keep.txt': 'unchanged\n', 'edit.txt': 'short\n', 'gone.txt': 'to be removed\n', 'big.txt': bigText, 'data.bin': Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(300_000)])});
	const repoPath = join(resources.environment.root, 'repo');
	const repo = await Repository.init(createLocalStorage(repoPath), 'pw');
	try {
		await runBackup(repo, {paths: [source], noLock: true, time: BigInt(Date.now() - 3_600_000) * 1_000_000n});
		await writeFile(join(source, 'edit.txt'), 'a longer text than before\n');
		await rm(join(source, 'gone.txt'));
		await writeTree(source, {'added/new.txt': 'brand new file\n'});
		await runBackup(repo, {paths: [source], noLock: true});
	} finally {
		await repo.close();
	}
	saveProfile(resources.environment.env, {name: 'main', location: `local:${repoPath}`});
	const app = renderApp(resources.environment);
	resources.cleanup = app.cleanup;
	await waitForFrame(app.lastFrame, 'main › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, '2 snapshots');
	return {app, source};
}

describe('comparing two snapshots', () => {
	it('d marks one snapshot, d on another shows added, removed and changed entries with sizes; Enter opens one', async () => {
		const {app} = await openApp();
		await press(app.stdin, KEYS.down);
		await press(app.stdin, 'd');
		const marked = await waitForFrame(app.lastFrame, 'move to another snapshot and press d');
		checkFrameFits(marked, SMALL);
		await press(app.stdin, KEYS.up, 'd');
		const frame = await waitForFrame(app.lastFrame, /changes · showing all/);
		checkFrameFits(frame, SMALL);
		expect(frame).toMatch(/\+ .*project\/added\/\s+dir/);
		expect(frame).toMatch(/\+ .*project\/added\/new\.txt\s+15 B/);
		expect(frame).toMatch(/- .*project\/gone\.txt\s+14 B/);
		expect(frame).toMatch(/~ .*project\/edit\.txt\s+6 B → 26 B/);
		expect(frame).not.toContain('keep.txt');
		expect(frame).toContain('+2 (15 B)  -1 (14 B)  ~1 (+20 B)');
		// a cycles the filter: only the removed entries.
		await press(app.stdin, 'a', 'a');
		const removed = await waitForFrame(app.lastFrame, 'showing removed');
		expect(removed).toContain('gone.txt');
		expect(removed).not.toContain('new.txt');
		// Enter on the removed file opens the older snapshot's directory with the file selected.
		await press(app.stdin, KEYS.enter);
		const browser = await waitForFrame(app.lastFrame, /14 B \(14 bytes\)/);
		checkFrameFits(browser, SMALL);
		expect(browser).toContain('› Files');
		expect(browser.split('\n').find((line) => line.includes('gone.txt'))).toBeDefined();
	});
});

async function openBrowser(app: RenderedApp): Promise<void> {
	await press(app.stdin, KEYS.enter);
	await waitForFrame(app.lastFrame, 'project/');
	await press(app.stdin, KEYS.enter);
	await waitForFrame(app.lastFrame, 'big.txt');
}

async function select(app: RenderedApp, name: string): Promise<void> {
	const order = ['big.txt', 'data.bin', 'edit.txt', 'keep.txt'];
	await press(app.stdin, KEYS.home);
	// The first row is the directory added/; each Down moves one row (waiting until it is drawn).
	for (const next of order) {
		await press(app.stdin, KEYS.down);
		await waitForFrame(app.lastFrame, (frame) => selectedName(frame) === next);
		if (next === name) return;
	}
	throw new Error(`could not select ${name}:\n${app.lastFrame()}`);
}

/** The name on the browser's cursor row, told by the size on the details line. */
function selectedName(frame: string): string | undefined {
	const sizes: Record<string, RegExp> = {'big.txt': new RegExp(`\\(${bigText.length} bytes\\)`), 'data.bin': /\(300004 bytes\)/, 'edit.txt': /\(26 bytes\)/, 'keep.txt': /\(10 bytes\)/};
	for (const [name, re] of Object.entries(sizes)) if (re.test(frame)) return name;
	return undefined;
}

describe('previewing and saving a file', () => {
	it('v shows a text file in a pager that reads only what it shows, to the end and back', async () => {
		const {app} = await openApp();
		await openBrowser(app);
		await select(app, 'big.txt');
		await press(app.stdin, 'v');
		const first = await waitForFrame(app.lastFrame, 'line 1 of the big text file');
		checkFrameFits(first, SMALL);
		expect(first).toContain(`${bigText.length}`);
		const read = Number(/(\d+) of (\d+) blobs read/.exec(first)![1]);
		const blobs = Number(/(\d+) of (\d+) blobs read/.exec(first)![2]);
		expect(blobs).toBeGreaterThan(1);
		expect(read).toBe(1);
		await press(app.stdin, KEYS.pageDown);
		await waitForFrame(app.lastFrame, /^line 20 of the big/m);
		await press(app.stdin, 'G');
		const end = await waitForFrame(app.lastFrame, `line ${LINES} of the big text file`);
		expect(end).toContain('(end)');
		// The end was reached without reading the blobs in between.
		expect(Number(/(\d+) of \d+ blobs read/.exec(end)![1])).toBeLessThanOrEqual(3);
		await press(app.stdin, KEYS.up);
		await waitForFrame(app.lastFrame, (f) => f.includes(`line ${LINES - 1} of`) && !f.includes('(end)'));
		await press(app.stdin, 'g');
		await waitForFrame(app.lastFrame, /^line 1 of the big/m);
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, '› Files');
	});

	it('v shows binary data as hex with a summary', async () => {
		const {app} = await openApp();
		await openBrowser(app);
		await select(app, 'data.bin');
		await press(app.stdin, 'v');
		const frame = await waitForFrame(app.lastFrame, /^00000000 /m);
		checkFrameFits(frame, SMALL);
		expect(frame).toContain('PNG image');
		expect(frame).toMatch(/^00000000 {2}89 50 4e 47/m);
		await press(app.stdin, 'G');
		const end = await waitForFrame(app.lastFrame, /^000493e0/m);
		expect(end).toContain('hex');
	});

	it('w saves a file to a path as dump does, and never replaces an existing file', async () => {
		const {app} = await openApp();
		await openBrowser(app);
		await select(app, 'edit.txt');
		await press(app.stdin, 'w');
		await waitForFrame(app.lastFrame, 'Save to: edit.txt');
		const target = join(resources.environment!.root, 'saved-edit.txt');
		await press(app.stdin, KEYS.ctrlU, target, KEYS.enter);
		const done = await waitForFrame(app.lastFrame, 'Saved ');
		checkFrameFits(done, SMALL);
		expect(await readFile(target, 'utf8')).toBe('a longer text than before\n');
		await press(app.stdin, KEYS.escape);
		await press(app.stdin, 'w', KEYS.ctrlU, target, KEYS.enter);
		await waitForFrame(app.lastFrame, 'exists already');
		expect(await readFile(target, 'utf8')).toBe('a longer text than before\n');
	});
});
