import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type {Command} from 'commander';
import {UsageError} from '../../engine/errors.js';
import {generateBashCompletion, generateFishCompletion, generateManPages, generateZshCompletion} from '../cli/generate.js';

/** Flags of `cairn generate`. */
export interface GenerateFlags {
	bashCompletion?: string;
	zshCompletion?: string;
	fishCompletion?: string;
	man?: string;
	quiet?: boolean;
}

async function writeOut(file: string, text: string, quiet?: boolean): Promise<void> {
	if (file === '-') {
		process.stdout.write(text);
		return;
	}
	await fs.writeFile(file, text);
	if (!quiet) process.stderr.write(`writing completion file to ${file}\n`);
}

/** `cairn generate`: writes shell completions and man pages made from the program's own command list. */
export async function runGenerate(program: Command, flags: GenerateFlags): Promise<number> {
	if (!flags.bashCompletion && !flags.zshCompletion && !flags.fishCompletion && !flags.man) {
		throw new UsageError('nothing to do: give --bash-completion FILE, --zsh-completion FILE, --fish-completion FILE and/or --man DIR');
	}
	if (flags.man) {
		await fs.mkdir(flags.man, {recursive: true});
		for (const [name, text] of generateManPages(program)) {
			const file = path.join(flags.man, name);
			if (!flags.quiet) process.stderr.write(`writing man page ${file}\n`);
			await fs.writeFile(file, text);
		}
	}
	if (flags.bashCompletion) await writeOut(flags.bashCompletion, generateBashCompletion(program), flags.quiet);
	if (flags.zshCompletion) await writeOut(flags.zshCompletion, generateZshCompletion(program), flags.quiet);
	if (flags.fishCompletion) await writeOut(flags.fishCompletion, generateFishCompletion(program), flags.quiet);
	return 0;
}
