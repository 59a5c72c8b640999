/**
 * Path patterns with restic's semantics (its internal/filter), used by backup excludes and by
 * restore's --include/--exclude:
 * - a pattern is split at `/` into parts; each part is a Go filepath.Match glob (`*`, `?`, `[a-z]`,
 *   `[^a]`, `\` escapes), and a part `**` matches any number of path components;
 * - a pattern starting with `/` must match from the root; any other pattern matches wherever its
 *   parts meet consecutive components of the path (so `foo` matches `/a/foo/b` too);
 * - a pattern starting with `!` is negated: it removes matches of the patterns before it.
 * Pure functions, no file-system access.
 */

/** One component of a pattern; `**` is stored as `any`. */
type Part = {kind: 'root'} | {kind: 'any'} | {kind: 'literal'; text: string} | {kind: 'glob'; regex: RegExp};

/** A parsed pattern. */
export interface PathPattern {
	readonly original: string;
	readonly parts: readonly Part[];
	readonly negated: boolean;
}

/** Thrown for a pattern that is not a valid glob (e.g. an unclosed `[`). */
export class PatternError extends Error {}

/** Cleans a path like Go's filepath.Clean (for slash-separated paths). */
function cleanPath(p: string): string {
	if (p === '') return '.';
	const rooted = p.startsWith('/');
	const out: string[] = [];
	for (const part of p.split('/')) {
		if (part === '' || part === '.') continue;
		if (part === '..') {
			if (out.length > 0 && out.at(-1) !== '..') out.pop();
			else if (!rooted) out.push('..');
			continue;
		}
		out.push(part);
	}
	const joined = out.join('/');
	if (rooted) return '/' + joined;
	return joined === '' ? '.' : joined;
}

function splitPath(p: string): string[] {
	const parts = p.split('/');
	if (parts[0] === '') parts[0] = '/';
	return parts;
}

const SPECIAL = /[\\[\]*?]/;

/** Translates one Go filepath.Match glob (no `/` in it) into an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
	let source = '';
	for (let i = 0; i < glob.length; i++) {
		const c = glob[i]!;
		if (c === '*') source += '[^/]*';
		else if (c === '?') source += '[^/]';
		else if (c === '\\') {
			if (i + 1 >= glob.length) throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: it ends with a lone \\`);
			source += escapeRegExp(glob[++i]!);
		} else if (c === '[') {
			let j = i + 1;
			let cls = '';
			if (glob[j] === '^') {
				cls += '^';
				j++;
			}
			let first = true;
			for (;; first = false) {
				if (j >= glob.length) throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: [ is not closed`);
				let ch = glob[j]!;
				if (ch === ']' && !first) break;
				if (ch === ']' && first) throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: empty character class`);
				if (ch === '\\') {
					j++;
					if (j >= glob.length) throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: [ is not closed`);
					ch = glob[j]!;
				}
				cls += escapeClassChar(ch);
				j++;
				if (glob[j] === '-' && glob[j + 1] !== ']' && j + 1 < glob.length) {
					let hi = glob[j + 1]!;
					j += 2;
					if (hi === '\\') {
						if (j >= glob.length) throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: [ is not closed`);
						hi = glob[j++]!;
					}
					if (hi < ch) throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: range ${ch}-${hi} is reversed`);
					cls += '-' + escapeClassChar(hi);
				}
			}
			i = j;
			source += cls.startsWith('^') ? `(?:(?!/)[${cls}])` : `[${cls}]`;
		} else if (c === ']') {
			throw new PatternError(`invalid pattern ${JSON.stringify(glob)}: ] without [`);
		} else source += escapeRegExp(c);
	}
	return new RegExp(`^${source}$`, 'su');
}

function escapeRegExp(c: string): string {
	return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClassChar(c: string): string {
	return c.replace(/[\]\\^-]/g, '\\$&');
}

/** Parses one pattern; throws PatternError for an invalid glob. */
export function parsePattern(pattern: string): PathPattern {
	let text = pattern;
	let negated = false;
	if (text.startsWith('!')) {
		negated = true;
		text = text.slice(1);
	}
	const parts = splitPath(cleanPath(text)).map((part): Part => {
		if (part === '/') return {kind: 'root'};
		if (part === '**') return {kind: 'any'};
		if (!SPECIAL.test(part)) return {kind: 'literal', text: part};
		return {kind: 'glob', regex: globToRegExp(part)};
	});
	return {original: pattern, parts, negated};
}

/** Parses patterns, leaving out empty ones; throws PatternError naming every invalid one. */
export function parsePatterns(patterns: readonly string[]): PathPattern[] {
	const parsed: PathPattern[] = [];
	const invalid: string[] = [];
	for (const pattern of patterns) {
		if (pattern === '') continue;
		try {
			parsed.push(parsePattern(pattern));
		} catch {
			invalid.push(pattern);
		}
	}
	if (invalid.length > 0) throw new PatternError(`invalid pattern(s): ${invalid.join(', ')}`);
	return parsed;
}

function partMatches(part: Part, component: string): boolean {
	switch (part.kind) {
		case 'root': return component === '/';
		case 'literal': return part.text === component;
		case 'glob': return component !== '/' && part.regex.test(component);
		case 'any': return true;
	}
}

const STAR: Part = {kind: 'glob', regex: /^[^/]*$/su};

function matchParts(parts: readonly Part[], strs: readonly string[]): boolean {
	const any = parts.findIndex((p) => p.kind === 'any');
	if (any >= 0) {
		// `**` becomes zero, one, two ... `*` parts in turn.
		for (let i = 0; i <= strs.length - parts.length + 1; i++) {
			const expanded = [...parts.slice(0, any), ...Array.from({length: Math.max(0, i)}, () => STAR), ...parts.slice(any + 1)];
			if (matchParts(expanded, strs)) return true;
		}
		return false;
	}
	if (parts.length === 0) return strs.length === 0;
	if (parts.length > strs.length) return false;
	let minOffset = 0;
	let maxOffset = strs.length - parts.length;
	if (parts[0]!.kind === 'root') maxOffset = 0;
	else if (strs[0] === '/') minOffset = 1;
	outer: for (let offset = maxOffset; offset >= minOffset; offset--) {
		for (let i = parts.length - 1; i >= 0; i--) {
			if (!partMatches(parts[i]!, strs[offset + i]!)) continue outer;
		}
		return true;
	}
	return false;
}

/** Whether a path (absolute, `/`-separated) could have a child that the pattern matches. */
function childMatchParts(parts: readonly Part[], strs: readonly string[]): boolean {
	if (parts[0]?.kind !== 'root') return true;
	let path = strs;
	const any = parts.findIndex((p) => p.kind === 'any');
	if (any >= 0 && path.length >= any) path = path.slice(0, any);
	const length = Math.min(path.length, parts.length);
	return matchParts(parts.slice(0, length), path);
}

/** Whether one pattern (ignoring its negation) matches the path. */
export function matchPattern(pattern: PathPattern, path: string): boolean {
	if (path === '') return false;
	return matchParts(pattern.parts, splitPath(path));
}

/**
 * Matches a path against a list like restic's filter.ListWithChild: whether the list selects the
 * path, and whether a child of it may be selected (so a directory must be descended into).
 */
export function matchList(patterns: readonly PathPattern[], path: string): {matched: boolean; childMayMatch: boolean} {
	let matched = false;
	let childMayMatch = false;
	if (patterns.length === 0 || path === '') return {matched, childMayMatch};
	const strs = splitPath(path);
	const hasNegated = patterns.some((p) => p.negated);
	for (const pattern of patterns) {
		const m = matchParts(pattern.parts, strs);
		if (pattern.negated) {
			matched &&= !m;
			childMayMatch &&= !m;
			continue;
		}
		matched ||= m;
		childMayMatch ||= childMatchParts(pattern.parts, strs);
		if (matched && childMayMatch && !hasNegated) break;
	}
	return {matched, childMayMatch};
}

/** A matcher of absolute paths for a list of patterns plus a list matched case-insensitively. */
export function compilePathFilter(patterns: readonly string[], insensitive: readonly string[] = []): {matches: (path: string) => boolean; empty: boolean; list: (path: string) => {matched: boolean; childMayMatch: boolean}} {
	const exact = parsePatterns(patterns);
	const folded = parsePatterns(insensitive.map((p) => p.toLowerCase()));
	const list = (path: string): {matched: boolean; childMayMatch: boolean} => {
		const a = matchList(exact, path);
		const b = matchList(folded, path.toLowerCase());
		return {matched: a.matched || b.matched, childMayMatch: a.childMayMatch || b.childMayMatch};
	};
	return {matches: (path) => list(path).matched, empty: exact.length === 0 && folded.length === 0, list};
}
