import {readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {formatBytes} from '../../components/format.js';
import {checkFrameFits, createRepository, createTestEnvironment, disposeAfterEach, KEYS, press, renderApp, saveProfile, SMALL, waitForFrame, writeTree} from './harness.js';

const resources = disposeAfterEach();

async function openBrowser(extra: Record<string, Buffer> = {}): Promise<{app: ReturnType<typeof renderApp>; id: string; source: string; binary: Buffer}> {
	resources.environment = await createTestEnvironment();
	const source = join(resources.environment.root, 'home', 'me', 'project');
	const binary = randomBytes(200_000);
	await writeTree(source, {'README.md': '# project\n', 'src/main.ts': 'console.log(1);\n', 'src/util.ts': 'export {};\n', 'data.bin': binary, ...extra});
	const repo = join(resources.environment.root, 'repo');
	const [summary] = await createRepository(repo, 'pw', [{paths: [source]}]);
	saveProfile(resources.environment.env, {name: 'main', location: `local:${repo}`});
	const app = renderApp(resources.environment);
	resources.cleanup = app.cleanup;
	await waitForFrame(app.lastFrame, 'main › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, '1 snapshot');
	await press(app.stdin, KEYS.enter);
	await waitForFrame(app.lastFrame, 'project/');
	return {app, id: summary!.snapshot_id, source, binary};
}

describe('snapshot browser', () => {
	it('starts in the folder holding the backed-up path, enters and leaves directories, shows details', async () => {
		const {app, source} = await openBrowser();
		const start = app.lastFrame() ?? '';
		expect(start).toContain(`${join(source, '..')}  ·  1 entry`);
		expect(start).toMatch(/drwx/);
		await press(app.stdin, KEYS.enter);
		const inside = await waitForFrame(app.lastFrame, 'README.md');
		expect(inside).toContain('3 entries');
		// Directories come first.
		const names = inside.split('\n').filter((line) => /^[ *+·] \S/.test(line)).map((line) => line.slice(2).split(/\s+/)[0]);
		expect(names).toEqual(['src/', 'README.md', 'data.bin']);
		await press(app.stdin, KEYS.down, KEYS.down);
		const details = await waitForFrame(app.lastFrame, '200000 bytes');
		expect(details).toMatch(/-rw-r--r--|-rw-------|-rw-rw-r--/);
		await press(app.stdin, KEYS.home, KEYS.right);
		await waitForFrame(app.lastFrame, 'main.ts');
		await press(app.stdin, KEYS.backspace);
		await waitForFrame(app.lastFrame, 'README.md');
		await press(app.stdin, KEYS.left);
		const up = await waitForFrame(app.lastFrame, '1 entry');
		expect(up).toContain('project/');
	});

	it('marks a file, restores it into a new directory and shows what was restored', async () => {
		const {app, id, source, binary} = await openBrowser();
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'README.md');
		await press(app.stdin, KEYS.end, KEYS.space);
		const marked = await waitForFrame(app.lastFrame, '1 marked');
		expect(marked).toMatch(/^\* data\.bin/m);
		await press(app.stdin, 'r');
		const confirm = await waitForFrame(app.lastFrame, 'Restore 1 marked item');
		expect(confirm).toContain(`./cairn-restore-${id.slice(0, 8)}`);
		expect(confirm).toContain(join(resources.environment!.cwd, `cairn-restore-${id.slice(0, 8)}`));
		expect(confirm).toContain('data.bin');
		// The target can be edited before starting.
		await press(app.stdin, KEYS.ctrlU, 'restored-here', KEYS.enter);
		const done = await waitForFrame(app.lastFrame, 'Restore finished.');
		expect(done).toContain('Restored 1 file');
		expect(done).toContain('What was restored:');
		expect(done).toContain('data.bin');
		const restored = await readFile(join(resources.environment!.cwd, 'restored-here', source, 'data.bin'));
		expect(restored.equals(binary)).toBe(true);
		expect(await readdir(join(resources.environment!.cwd, 'restored-here', source))).toEqual(['data.bin']);
		// Back to the files, the mark is still there. Restoring into the same directory again meets
		// the file restored before: it is identical, and the user chooses what happens.
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, '1 marked');
		await press(app.stdin, 'r', KEYS.ctrlU, 'restored-here', KEYS.enter);
		const confirm2 = await waitForFrame(app.lastFrame, 'of them differ');
		expect(confirm2.replace(/\s+/g, ' ')).toContain(`1 of 1 file (${formatBytes(binary.length)} in all) already exists in ${join(resources.environment!.cwd, 'restored-here')}; 0 of them differ from the snapshot.`);
		expect(confirm2).toContain('‹ skip existing files ›');
		expect(confirm2.replace(/\s+/g, ' ')).toContain('The existing file stays as it is, even if it differs; 0 missing files are restored.');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'Restore to');
	});

	it('restores to the original location: what exists is counted, and the chosen policy is applied', async () => {
		const {app, source} = await openBrowser();
		// After the backup: one file changed, one deleted, two left as they were.
		await writeFile(join(source, 'README.md'), '# changed since\n');
		await rm(join(source, 'src', 'util.ts'));
		await press(app.stdin, 'r');
		await waitForFrame(app.lastFrame, 'Restore the whole snapshot');
		await press(app.stdin, KEYS.up, ' ');
		const original = await waitForFrame(app.lastFrame, '‹ the original location ›');
		checkFrameFits(original, SMALL);
		expect(original).toContain(`Files go back to ${source}`);
		await press(app.stdin, KEYS.enter);
		const confirm = await waitForFrame(app.lastFrame, 'of them differ');
		checkFrameFits(confirm, SMALL);
		const flat = confirm.replace(/\s+/g, ' ');
		expect(flat).toContain('3 of 4 files');
		expect(flat).toContain('1 of them differs from the snapshot');
		expect(flat).toContain(`differs: ${join(source, 'README.md')}`);
		await press(app.stdin, ' ');
		const ifChanged = await waitForFrame(app.lastFrame, '‹ overwrite if changed ›');
		expect(ifChanged.replace(/\s+/g, ' ')).toContain('1 file that differs from the snapshot is replaced, 2 identical files are left alone; 1 missing file is restored.');
		await press(app.stdin, ' ');
		const always = await waitForFrame(app.lastFrame, '‹ overwrite ›');
		expect(always.replace(/\s+/g, ' ')).toContain('All 3 existing files are replaced');
		await press(app.stdin, KEYS.left);
		await waitForFrame(app.lastFrame, '‹ overwrite if changed ›');
		await press(app.stdin, KEYS.enter);
		const done = await waitForFrame(app.lastFrame, 'Restore finished.');
		expect(done).toContain('Restored 2 files');
		expect(done).toContain('2 existing files were left as they were.');
		expect(await readFile(join(source, 'README.md'), 'utf8')).toBe('# project\n');
		expect(await readFile(join(source, 'src', 'util.ts'), 'utf8')).toBe('export {};\n');
	});

	it('restores the whole snapshot when nothing is marked', async () => {
		const {app, id, source} = await openBrowser();
		await press(app.stdin, 'r');
		await waitForFrame(app.lastFrame, `Restore the whole snapshot ${id.slice(0, 8)}`);
		await press(app.stdin, KEYS.enter);
		const done = await waitForFrame(app.lastFrame, 'Restore finished.');
		expect(done).toContain('Restored 4 files');
		const target = join(resources.environment!.cwd, `cairn-restore-${id.slice(0, 8)}`);
		expect(await readFile(join(target, source, 'src', 'main.ts'), 'utf8')).toBe('console.log(1);\n');
	});

	it('marks a whole directory and everything in it', async () => {
		const {app} = await openBrowser();
		await press(app.stdin, KEYS.enter);
		await waitForFrame(app.lastFrame, 'README.md');
		await press(app.stdin, KEYS.space, 'a');
		const all = await waitForFrame(app.lastFrame, '3 marked');
		expect(all).toMatch(/^\* src\//m);
		await press(app.stdin, 'u');
		await waitForFrame(app.lastFrame, (frame) => !/entries {2}· {2}\d+ marked/.test(frame));
		await press(app.stdin, KEYS.home, KEYS.space, KEYS.up, KEYS.right);
		const inside = await waitForFrame(app.lastFrame, 'main.ts');
		expect(inside).toMatch(/^\+ main\.ts/m);
	});

	it('asks before cancelling a running restore and reports what happened', async () => {
		const big: Record<string, Buffer> = {};
		for (let i = 0; i < 40; i++) big[`big/part-${i}.bin`] = randomBytes(2 * 1024 * 1024);
		const {app} = await openBrowser(big);
		await press(app.stdin, 'r', KEYS.enter);
		const running = await waitForFrame(app.lastFrame, /Speed\s+\S+/);
		expect(running).toContain('Restoring the whole snapshot');
		expect(running).toMatch(/Current\s+\S+/);
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'Cancel the restore? y = cancel');
		await press(app.stdin, 'y');
		const cancelled = await waitForFrame(app.lastFrame, 'The restore was cancelled.');
		expect(cancelled.replace(/\s+/g, ' ')).toContain('no partial file was left');
		await press(app.stdin, KEYS.escape);
		await waitForFrame(app.lastFrame, 'project/');
	});
});
