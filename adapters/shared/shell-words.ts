/**
 * Splits a command line given as one string (an option such as `sftp.command` or `rclone.args`)
 * into words, as a POSIX shell would, without running a shell: whitespace separates words,
 * single quotes keep everything literally, double quotes keep whitespace and allow `\"`, `\\`,
 * `\$` and `` \` `` escapes, and a backslash outside quotes escapes the next character.
 * Variables, globs and other shell features are not expanded.
 */

/**
 * The words of `text`. Throws an Error whose message says what is wrong for an unterminated quote
 * or a trailing backslash.
 */
export function splitShellWords(text: string): string[] {
	const words: string[] = [];
	let word = '';
	let inWord = false;
	let quote: '"' | "'" | undefined;
	for (let index = 0; index < text.length; index++) {
		const char = text[index]!;
		if (quote === "'") {
			if (char === "'") quote = undefined;
			else word += char;
			continue;
		}
		if (quote === '"') {
			if (char === '"') quote = undefined;
			else if (char === '\\' && index + 1 < text.length && '"\\$`'.includes(text[index + 1]!)) word += text[++index];
			else word += char;
			continue;
		}
		if (char === "'" || char === '"') {
			quote = char;
			inWord = true;
		} else if (char === '\\') {
			if (index + 1 >= text.length) throw new Error(`the command line ${JSON.stringify(text)} ends with a lone backslash`);
			word += text[++index];
			inWord = true;
		} else if (/\s/.test(char)) {
			if (inWord) words.push(word);
			word = '';
			inWord = false;
		} else {
			word += char;
			inWord = true;
		}
	}
	if (quote !== undefined) throw new Error(`the command line ${JSON.stringify(text)} has an unterminated ${quote === '"' ? 'double' : 'single'} quote`);
	if (inWord) words.push(word);
	return words;
}

/** Quotes one word so that {@link splitShellWords} (and a POSIX shell) gives it back unchanged. */
export function quoteShellWord(word: string): string {
	if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
	return `'${word.replace(/'/g, `'\\''`)}'`;
}
