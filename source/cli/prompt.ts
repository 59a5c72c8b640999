/**
 * Reads a line from the terminal without echoing it.
 */

/** Prompts on stderr and reads a line from stdin (a TTY) with echo turned off. */
export async function promptHidden(question: string): Promise<string> {
	const stdin = process.stdin;
	process.stderr.write(question);
	const wasRaw = stdin.isRaw;
	stdin.setRawMode?.(true);
	stdin.resume();
	return new Promise((resolve, reject) => {
		let value = '';
		const finish = (error?: Error): void => {
			stdin.removeListener('data', onData);
			stdin.setRawMode?.(wasRaw);
			stdin.pause();
			process.stderr.write('\n');
			if (error) reject(error);
			else resolve(value);
		};
		const onData = (data: Buffer): void => {
			for (const char of data.toString('utf8')) {
				if (char === '\r' || char === '\n') return finish();
				if (char === '\u0003') return finish(Object.assign(new Error('interrupted'), {exitCode: 130}));
				if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
				else value += char;
			}
		};
		stdin.on('data', onData);
	});
}
