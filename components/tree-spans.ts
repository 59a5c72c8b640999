/**
 * Finds where each node of a tree blob's JSON (`{"nodes":[{...},{...}]}`) starts and ends,
 * without parsing it, so that the tree worker can hand the nodes to the main thread as slices of
 * the original text, to be parsed there a chunk at a time. Parsing a 100,000-entry tree twice
 * (once in the worker to cut it, once on the main thread) cost more than the whole listing should.
 * No React here.
 */

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NODES_KEY = [QUOTE, 0x6e, 0x6f, 0x64, 0x65, 0x73, QUOTE]; // "nodes"
const NULL = [0x6e, 0x75, 0x6c, 0x6c]; // null

function skipSpace(bytes: Uint8Array, at: number): number {
	let i = at;
	while (i < bytes.length) {
		const c = bytes[i]!;
		if (c !== SPACE && c !== NEWLINE && c !== RETURN && c !== TAB) break;
		i++;
	}
	return i;
}

function startsWith(bytes: Uint8Array, at: number, word: readonly number[]): boolean {
	if (at + word.length > bytes.length) return false;
	for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word[i]) return false;
	return true;
}

/** The end (exclusive) of the object starting at `at` (a `{`), or -1 when it does not end. */
function skipObject(bytes: Uint8Array, at: number): number {
	let depth = 0;
	let i = at;
	const end = bytes.length;
	while (i < end) {
		const c = bytes[i]!;
		if (c === QUOTE) {
			i++;
			while (i < end) {
				const d = bytes[i]!;
				if (d === BACKSLASH) i += 2;
				else if (d === QUOTE) break;
				else i++;
			}
			if (i >= end) return -1;
		} else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
			depth++;
		} else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
			depth--;
			if (depth === 0) return i + 1;
		}
		i++;
	}
	return -1;
}

/**
 * The byte ranges of the nodes of a tree blob: `[start0, end0, start1, end1, …]`, or undefined
 * when the text is not a tree of the usual shape (one `nodes` key holding an array of objects, or
 * null), which the caller then parses as a whole (and reports when it is not JSON). The ranges are
 * not checked to be valid JSON inside: parsing them does that.
 */
export function findNodeSpans(bytes: Uint8Array): Uint32Array | undefined {
	let spans = new Uint32Array(1024);
	let count = 0;
	let i = skipSpace(bytes, 0);
	if (bytes[i] !== OPEN_BRACE) return undefined;
	i = skipSpace(bytes, i + 1);
	if (!startsWith(bytes, i, NODES_KEY)) return undefined;
	i = skipSpace(bytes, i + NODES_KEY.length);
	if (bytes[i] !== COLON) return undefined;
	i = skipSpace(bytes, i + 1);
	if (startsWith(bytes, i, NULL)) {
		i += NULL.length;
	} else {
		if (bytes[i] !== OPEN_BRACKET) return undefined;
		i = skipSpace(bytes, i + 1);
		if (bytes[i] === CLOSE_BRACKET) {
			i++;
		} else {
			for (;;) {
				if (bytes[i] !== OPEN_BRACE) return undefined;
				const end = skipObject(bytes, i);
				if (end < 0) return undefined;
				if (count + 2 > spans.length) {
					const grown = new Uint32Array(spans.length * 2);
					grown.set(spans);
					spans = grown;
				}
				spans[count++] = i;
				spans[count++] = end;
				i = skipSpace(bytes, end);
				if (bytes[i] === COMMA) {
					i = skipSpace(bytes, i + 1);
					continue;
				}
				if (bytes[i] !== CLOSE_BRACKET) return undefined;
				i++;
				break;
			}
		}
	}
	i = skipSpace(bytes, i);
	if (bytes[i] !== CLOSE_BRACE) return undefined;
	i = skipSpace(bytes, i + 1);
	return i === bytes.length ? spans.subarray(0, count) : undefined;
}
