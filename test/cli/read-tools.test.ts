/**
 * `cairn generate` (completions and man pages made from the program's own commands) and
 * `cairn cache` (listing and cleaning up the local cache), run as the built CLI.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {describeRun, makeTempDir, runCairn} from '../helpers/cli.js';
import {runProgram} from '../helpers/servers/processes.js';
import {buildProgram} from '../../source/program.js';

let base: string;
beforeAll(async () => {
	base = await makeTempDir('cairn-tools-');
});
afterAll(async () => {
	await fs.rm(base, {recursive: true, force: true});
});

const commands = buildProgram(() => undefined).commands.map((c) => c.name());

describe('cairn generate', () => {
	it('writes completions for bash, zsh and fish and man pages listing every command and its flags', async () => {
		const man = path.join(base, 'man');
		const files = {bash: path.join(base, 'cairn.bash'), zsh: path.join(base, '_cairn'), fish: path.join(base, 'cairn.fish')};
		const result = await runCairn(['generate', '--bash-completion', files.bash, '--zsh-completion', files.zsh, '--fish-completion', files.fish, '--man', man]);
		expect(result.code, describeRun(result)).toBe(0);
		expect(commands).toEqual(expect.arrayContaining(['diff', 'find', 'dump', 'stats', 'cat', 'list', 'generate', 'cache', 'backup', 'restore']));
		const bash = await fs.readFile(files.bash, 'utf8');
		const zsh = await fs.readFile(files.zsh, 'utf8');
		const fish = await fs.readFile(files.fish, 'utf8');
		for (const name of commands) {
			expect(bash).toMatch(new RegExp(`\\b${name}\\b`));
			expect(zsh).toContain(`'${name}:`);
			expect(fish).toContain(`-a ${name} `);
			expect(await fs.readFile(path.join(man, `cairn-${name}.1`), 'utf8')).toContain('.SH OPTIONS');
		}
		expect(bash).toContain('--archive');
		expect(fish).toContain('__fish_seen_subcommand_from dump\' -l archive -s a -r');
		// The bash script is valid bash and completes a command's flags.
		await runProgram('bash', ['-n', files.bash]);
		const completed = await runProgram('bash', ['-c', `source ${files.bash}; COMP_WORDS=(cairn dump --arch); COMP_CWORD=2; _cairn_complete; echo "\${COMPREPLY[@]}"`]);
		expect(completed.trim()).toBe('--archive');
		const commandsCompleted = await runProgram('bash', ['-c', `source ${files.bash}; COMP_WORDS=(cairn st); COMP_CWORD=1; _cairn_complete; echo "\${COMPREPLY[@]}"`]);
		expect(commandsCompleted.trim().split(' ').sort()).toEqual(commands.filter((c) => c.startsWith('st')).sort());
		// The man pages are roff with a title line and the sections man expects.
		const page = await fs.readFile(path.join(man, 'cairn-dump.1'), 'utf8');
		expect(page).toMatch(/^\.TH "CAIRN-DUMP" "1" "\d{4}-\d{2}-\d{2}" "cairn"/);
		for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS']) expect(page).toContain(`.SH ${section}\n`);
		expect(page).toContain('\\fB\\-a\\fP, \\fB\\-\\-archive\\fP \\fIvalue\\fP');
		expect(await fs.readFile(path.join(man, 'cairn.1'), 'utf8')).toContain('\\fBcairn\\-dump\\fP(1)');
		const stdout = await runCairn(['generate', '--fish-completion', '-']);
		expect(stdout.stdout).toBe(fish);
		expect((await runCairn(['generate'])).code).toBe(2);
	});
});

describe('cairn cache', () => {
	it('lists the cache directories and removes the old ones with --cleanup', async () => {
		const cache = path.join(base, 'cache');
		const env = {CAIRN_PASSWORD: 'pw', CAIRN_CACHE_DIR: cache};
		const repo = path.join(base, 'repo');
		expect((await runCairn(['init', '-r', repo], {env})).code).toBe(0);
		expect((await runCairn(['snapshots', '-r', repo], {env})).code).toBe(0);
		const old = 'a'.repeat(64);
		await fs.mkdir(path.join(cache, old, 'index'), {recursive: true});
		await fs.writeFile(path.join(cache, old, 'index', 'x'), Buffer.alloc(2048));
		const longAgo = new Date(Date.now() - 40 * 86_400_000);
		await fs.utimes(path.join(cache, old), longAgo, longAgo);
		const listed = await runCairn(['cache'], {env});
		expect(listed.code, describeRun(listed)).toBe(0);
		const lines = listed.stdout.trimEnd().split('\n');
		expect(lines[0]).toMatch(/^Repo ID\s+Last Used\s+Old\s+Size$/);
		expect(lines.find((l) => l.startsWith('aaaaaaaaaa'))).toMatch(/^aaaaaaaaaa\s+40 days ago\s+yes\s+2\.000 KiB$/);
		expect(lines.at(-1)).toBe(`2 cache dirs in ${cache}`);
		expect((await runCairn(['cache', '--no-size'], {env})).stdout.split('\n')[0]).toMatch(/^Repo ID\s+Last Used\s+Old$/);
		const cleaned = await runCairn(['cache', '--cleanup'], {env});
		expect(cleaned.stdout).toBe('remove 1 old cache directories\n');
		expect(await fs.readdir(cache)).not.toContain(old);
		expect((await runCairn(['cache', '--cleanup'], {env})).stdout).toBe('no old cache dirs found\n');
		expect((await runCairn(['--no-cache', 'cache'], {env})).code).toBe(1);
	});
});
