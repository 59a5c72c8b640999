/**
 * Not a test: captures the main screens of the built program in a real terminal (tmux, 80×24)
 * as text, for docs/tui.md. Run after a build:
 *
 *   npx tsc -p tsconfig.json && node --import tsx test/e2e/capture-screens.ts > /tmp/screens.txt
 */
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, rm, writeFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {promisify} from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'source', 'cli.js');
const SOCKET = `cairn-capture-${process.pid}`;

async function tmux(...args: string[]): Promise<string> {
	return (await run('tmux', ['-L', SOCKET, ...args])).stdout;
}

async function waitFor(text: string): Promise<string> {
	const deadline = Date.now() + 30_000;
	let pane = '';
	while (Date.now() < deadline) {
		pane = await tmux('capture-pane', '-p', '-t', 'doc');
		if (pane.includes(text)) return pane;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`timed out waiting for ${text}:\n${pane}`);
}

async function send(...keys: string[]): Promise<void> {
	for (const key of keys) {
		await tmux('send-keys', '-t', 'doc', key);
		await new Promise((r) => setTimeout(r, 80));
	}
}

async function type(text: string): Promise<void> {
	await tmux('send-keys', '-t', 'doc', '-l', text);
	await new Promise((r) => setTimeout(r, 80));
}

function show(title: string, pane: string): void {
	const text = pane.replace(/\s+$/, '');
	process.stdout.write(`### ${title}\n\n\`\`\`text\n${text}\n\`\`\`\n\n`);
}

// The captures show a home of /home/me; it is made for the run and removed after (it must not exist).
const dir = '/home/me';
if (existsSync(dir)) throw new Error(`${dir} exists already: the capture needs to make and remove it`);
await mkdir(dir, {recursive: true});
try {
	const home = dir;
	const docs = join(home, 'Documents');
	await mkdir(join(docs, 'taxes'), {recursive: true});
	await writeFile(join(docs, 'notes.txt'), 'remember the milk\n');
	await writeFile(join(docs, 'taxes', '2024.pdf'), Buffer.alloc(120_000, 7));
	await writeFile(join(docs, 'letter.odt'), Buffer.alloc(30_000, 3));
	const env = [`HOME=${home}`, `XDG_CONFIG_HOME=${join(home, '.config')}`, `XDG_DATA_HOME=${join(home, '.local', 'share')}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'TERM=xterm-256color', 'PS1=$ '];
	await tmux('new-session', '-d', '-s', 'doc', '-x', '80', '-y', '24', '-c', home, 'env', '-i', ...env, 'bash', '--norc', '--noprofile');
	await type(`node ${CLI}`);
	await send('Enter');
	show('First run', await waitFor('Quick start'));
	await send('Enter');
	await waitFor('Repeat password');
	await type('correct horse');
	await send('Enter');
	await type('correct horse');
	await send('Enter');
	await waitFor('No snapshots yet');
	await send('b');
	await waitFor('Back up into a new snapshot');
	await type('~/Documents');
	await send('Enter', 'Down');
	await type('*.tmp');
	await send('Enter', 'Down');
	await type('daily');
	await send('Enter');
	show('Backup: paths, excludes and tags', await waitFor('#daily'));
	await send('Enter');
	show('Backup finished', await waitFor('Backup finished.'));
	await send('Enter');
	show('Snapshots, grouped by source', await waitFor('files, '));
	await send('?');
	show('Keys of a screen (?)', await waitFor('Keys of default › Snapshots'));
	await send('Escape', 'p');
	await waitFor('Keep daily');
	await send('Down', 'Down');
	await type('7');
	await send('Enter');
	show('Retention preview', await waitFor('Preview'));
	await send('Escape', 'Escape');
	await waitFor('1 snapshot from 1 source');
	await send('Enter');
	await waitFor('Documents/');
	await send('Enter');
	await waitFor('notes.txt');
	await send('Down', 'Space');
	show('Browsing a snapshot, one file marked', await waitFor('1 marked'));
	await send('f');
	await type('2024');
	await send('Enter');
	show('Find in snapshot', await waitFor('· done'));
	await send('Escape');
	await waitFor('1 marked');
	await send('r');
	show('Restore: where to', await waitFor('Restore to'));
	await send('Escape', 'Escape', 'Escape', 'Escape');
	await waitFor('Repositories');
	await send('a');
	show('Add a repository: the backends', await waitFor('step 1 of 5'));
	await send('Enter');
	await waitFor('step 2 of 5');
	await type('~/backup-disk');
	await send('Enter');
	show('Add a repository: a failed connection test', await waitFor('does not exist'));
	await send('Enter', 'Escape', 'Escape');
	await send('Escape');
	show('Repositories', await waitFor('1 saved repository'));
	await send('q');
} finally {
	await tmux('kill-server').catch(() => undefined);
	await new Promise((r) => setTimeout(r, 500));
	await rm(dir, {recursive: true, force: true, maxRetries: 10, retryDelay: 200});
}
