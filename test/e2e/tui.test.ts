/**
 * End to end: the built program in a real terminal (tmux, 80×24). Quick start a repository,
 * back up a folder, open the snapshot, mark one file, restore it, compare it byte for byte,
 * and check that quitting gives the shell back.
 */
import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ensureBuilt} from '../helpers/build.js';
import {attachPane, connectTmux} from '../helpers/tmux.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'source', 'cli.js');
const SOCKET = `cairn-e2e-${process.pid}`;
const SESSION = 'cairn';
const PROMPT = 'E2E-SHELL$ ';

let dir = '';

const tmux = connectTmux(SOCKET);
const {waitForPane, keys, type} = attachPane(tmux, SESSION);

beforeAll(async () => {
	// The program as `npm start` runs it: `npm test` builds it first (WebAssembly kernels, tsc, the
	// app's bundle); build it here only when a run of this file alone finds no build.
	const bundle = join(ROOT, 'dist', 'components', 'run-app.bundle.js');
	await ensureBuilt();
	expect(existsSync(CLI)).toBe(true);
	expect(existsSync(bundle)).toBe(true);
	dir = await mkdtemp(join(tmpdir(), 'cairn-e2e-'));
}, 180_000);

afterAll(async () => {
	await tmux('kill-server').catch(() => undefined);
	// The shells may still write their history while they end.
	await new Promise((r) => setTimeout(r, 300));
	if (dir !== '') await rm(dir, {recursive: true, force: true, maxRetries: 10, retryDelay: 200});
});

describe('cairn in a terminal', () => {
	it('quick starts, backs up, browses, restores one file exactly, and gives the terminal back', async () => {
		const home = join(dir, 'home');
		const work = join(dir, 'work');
		const source = join(dir, 'source', 'docs');
		await mkdir(home, {recursive: true});
		await mkdir(work, {recursive: true});
		await mkdir(join(source, 'sub'), {recursive: true});
		const photo = randomBytes(100_000);
		await writeFile(join(source, 'notes.txt'), 'remember the milk\n');
		await writeFile(join(source, 'photo.bin'), photo);
		await writeFile(join(source, 'sub', 'deep.txt'), 'deep\n');

		const env = [
			`HOME=${home}`,
			`XDG_CONFIG_HOME=${join(home, '.config')}`,
			`XDG_DATA_HOME=${join(home, '.local', 'share')}`,
			`PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
			'TERM=xterm-256color',
			`PS1=${PROMPT}`,
		];
		await tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', '-c', work, 'env', '-i', ...env, 'bash', '--norc', '--noprofile');
		await waitForPane(PROMPT.trimEnd());
		await type(`node ${CLI}; echo "CAIRN-EXIT=$?"`);
		await keys('Enter');

		// First run: the quick start, one confirmation, the password twice.
		const welcome = await waitForPane('Quick start: create a new repository at');
		expect(welcome).toContain('? help');
		await keys('Enter');
		await waitForPane('Repeat password');
		await type('correct horse');
		await keys('Enter');
		await type('correct horse');
		await keys('Enter');
		await waitForPane('No snapshots yet');

		// Back up the folder.
		await keys('b');
		await waitForPane('Back up into a new snapshot');
		await type(source);
		await keys('Enter');
		await waitForPane('Enter on an empty line starts the backup');
		await keys('Enter');
		const summary = await waitForPane('Backup finished.');
		expect(summary).toMatch(/Files\s+3 new/);
		await keys('Enter');
		await waitForPane('1 snapshot');

		// Open the snapshot: it starts beside the backed-up folder.
		await keys('Enter');
		await waitForPane(/docs\/\s/);
		await keys('Enter');
		await waitForPane('photo.bin');
		await keys('Down', 'Down');
		await waitForPane('(100000 bytes)');
		await keys('Space');
		const marked = await waitForPane('1 marked');
		expect(marked).toMatch(/^\* photo\.bin/m);

		// Restore it into the suggested new directory.
		await keys('r');
		const confirm = await waitForPane('Restore 1 marked item');
		expect(confirm).toContain('./cairn-restore-');
		await keys('Enter');
		const done = await waitForPane('Restore finished.');
		expect(done).toContain('Restored 1 file');
		const targets = (await readdir(work)).filter((name) => name.startsWith('cairn-restore-'));
		expect(targets).toHaveLength(1);
		const restored = await readFile(join(work, targets[0]!, source, 'photo.bin'));
		expect(restored.equals(photo)).toBe(true);
		expect(existsSync(join(work, targets[0]!, source, 'notes.txt'))).toBe(false);

		// Quit: the shell is back, the app's screen is gone.
		await keys('q');
		const after = await waitForPane('CAIRN-EXIT=0');
		expect(after).toContain(PROMPT.trimEnd());
		expect(after).not.toContain('cairn ›');
		expect(after).not.toContain('Restore finished.');
		expect(after).toContain(`node ${CLI}`.slice(0, 40));
	}, 180_000);

	it('adds an existing repository with the wizard: a wrong path is explained, then the right one connects', async () => {
		const home = join(dir, 'home-wizard');
		const work = join(dir, 'work-wizard');
		await mkdir(home, {recursive: true});
		await mkdir(work, {recursive: true});
		const repository = join(work, 'vault');
		// A repository made by the program itself, from the command line.
		const init = await run(process.execPath, [CLI, 'init', '--repo', repository], {env: {...process.env, CAIRN_PASSWORD: 'open sesame', HOME: home}}).catch((error: {stderr?: string}) => ({stdout: '', stderr: error.stderr ?? 'init failed'}));
		expect(existsSync(join(repository, 'config')), init.stderr).toBe(true);
		const env = [`HOME=${home}`, `XDG_CONFIG_HOME=${join(home, '.config')}`, `XDG_DATA_HOME=${join(home, '.local', 'share')}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'TERM=xterm-256color', `PS1=${PROMPT}`];
		await tmux('new-session', '-d', '-s', 'wizard', '-x', '80', '-y', '24', '-c', work, 'env', '-i', ...env, 'bash', '--norc', '--noprofile');
		const wizard = attachPane(tmux, 'wizard');
		const pane = wizard.capture;
		const waitFor = (test: (text: string) => boolean, what: string): Promise<string> => wizard.waitForPane(test, 30_000, what);
		const send = wizard.keys;
		const typeText = wizard.type;
		await waitFor((text) => text.includes(PROMPT.trimEnd()), 'the shell');
		await typeText(`node ${CLI}; echo "CAIRN-EXIT=$?"`);
		await send('Enter');
		await waitFor((text) => text.includes('Add an existing repository'), 'the welcome screen');
		await send('2', 'Enter');
		const backends = await waitFor((text) => text.includes('step 1 of 5'), 'the backend list');
		expect(backends).toMatch(/› Local directory/);
		await send('Enter');
		await waitFor((text) => text.includes('step 2 of 5') && text.includes('Path'), 'the form');
		// A wrong path: the test explains it in words and keeps what was typed.
		await typeText('vualt');
		await send('Enter');
		const wrong = await waitFor((text) => text.includes('does not exist'), 'the explanation');
		const flat = wrong.replace(/\s+/g, ' ');
		expect(flat).toContain(`The directory ${join(work, 'vualt')} does not exist`);
		expect(flat).toContain('c: create a new repository there');
		await send('Enter');
		const kept = await waitFor((text) => text.includes('step 2 of 5') && !text.includes('c: create'), 'the form again');
		expect(kept).toContain('vualt');
		// The right one.
		await send('C-u');
		await typeText('vault');
		await send('Enter');
		await waitFor((text) => text.includes('step 4 of 5'), 'the password step');
		await send('Enter');
		await typeText('open sesame');
		await send('Enter');
		await waitFor((text) => text.includes('step 5 of 5'), 'the last step');
		await send('C-u');
		await typeText('vault');
		await send('Enter');
		const opened = await waitFor((text) => text.includes('vault › Snapshots') && text.includes('No snapshots yet'), 'the empty snapshot list');
		expect(opened).toContain('Press b to back up');
		const config = await readFile(join(home, '.config', 'cairn', 'config.json'), 'utf8');
		expect(JSON.parse(config)).toEqual({profiles: [{name: 'vault', location: `local:${repository}`}]});
		await send('q');
		const after = await waitFor((text) => /CAIRN-EXIT=\d/.test(text), 'the shell after quitting');
		expect(after).toContain('CAIRN-EXIT=0');
	}, 120_000);

	it('respects NO_COLOR, follows resizes and gives the terminal back on Ctrl-C', async () => {
		const home = join(dir, 'home-2');
		await mkdir(home, {recursive: true});
		const env = [`HOME=${home}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'TERM=xterm-256color', 'NO_COLOR=1', `PS1=${PROMPT}`];
		await tmux('new-session', '-d', '-s', 'second', '-x', '80', '-y', '24', '-c', home, 'env', '-i', ...env, 'bash', '--norc', '--noprofile');
		const second = attachPane(tmux, 'second');
		const pane = second.capture;
		const waitFor = (test: (text: string) => boolean): Promise<string> => second.waitForPane(test);
		await waitFor((text) => text.includes(PROMPT.trimEnd()));
		await tmux('send-keys', '-t', 'second', '-l', `node ${CLI}; echo "CAIRN-EXIT=$?"`);
		await tmux('send-keys', '-t', 'second', 'Enter');
		const first = await waitFor((text) => text.includes('Quick start: create'));
		expect(first).toContain(join(home, '.local', 'share', 'cairn', 'repository'));
		// NO_COLOR: bold and inverse only, no colour codes.
		const styled = await tmux('capture-pane', '-p', '-e', '-t', 'second');
		expect(styled).toContain('\u001B[');
		expect(styled).not.toMatch(/(\u001B\[|;)(3[0-7]|9[0-7]|38;)[0-9;]*m/);
		await tmux('resize-window', '-t', 'second', '-x', '100', '-y', '30');
		const wide = await waitFor((text) => /\? help\s*$/m.test(text.split('\n')[0] ?? '') && (text.split('\n')[0] ?? '').length > 90);
		expect(wide.split('\n')[0]).toContain('cairn › Welcome');
		await tmux('resize-window', '-t', 'second', '-x', '60', '-y', '20');
		const narrow = await waitFor((text) => (text.split('\n')[0] ?? '').trimEnd().length <= 60 && text.includes('Quick start'));
		expect(narrow.split('\n').filter((line) => line.includes('cairn › Welcome'))).toHaveLength(1);
		await tmux('send-keys', '-t', 'second', 'C-c');
		const after = await waitFor((text) => /CAIRN-EXIT=\d/.test(text));
		expect(after).toContain('CAIRN-EXIT=0');
		expect(after).not.toContain('Quick start');
	}, 120_000);
});
