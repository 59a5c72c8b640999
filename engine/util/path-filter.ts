/**
 * Path patterns with restic's semantics (its internal/filter), used by backup excludes and by
 * restore's --include/--exclude:
 * - a pattern is split at `/` into parts; each part is a Go filepath.Match glob (`*`, `?`, `[a-z]`,
 *   `[^a]`, `\` escapes), and a part `**` matches any number of path components;
 * - a pattern starting with `/` must match from the root; any other pattern matches wherever its
 *   parts meet consecutive components of the path (so `foo` matches `/a/foo/b` too);
 * - a pattern starting with `!` is negated: it removes matches of the patterns before it.
 * The same parts matching also serves `find` (engine/find/pattern.ts), whose globs follow Go's
 * filepath.Match lazily (matchGlob) instead of being validated and compiled up front (globToRegExp).
 * Pure functions, no file-system access.
 */

/** One component of a pattern; `**` is stored as `any`; a glob part holds its matcher of one component. */
export type Part = {kind: 'root'} | {kind: 'any'} | {kind: 'literal'; text: string} | {kind: 'glob'; test: (component: string) => boolean};

/** A parsed pattern. */
export interface PathPattern {
	readonly original: string;
	readonly parts: readonly Part[];
	readonly negated: boolean;
}

/** Thrown for a pattern that is not a valid glob (e.g. an unclosed `[`). */
export class PatternError extends Error {}

/** Cleans a path like Go's filepath.Clean (for slash-separated paths). */
export function cleanPath(p: string): string {
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

/** Splits a slash-separated path into components; the root of an absolute path is the component `/`. */
export function splitPath(p: string): string[] {
	const parts = p.split('/');
	if (parts[0] === '') parts[0] = '/';
	return parts;
}

const SPECIAL = /[\\[\]*?]/;

/** Thrown by matchGlob for a malformed glob (Go's filepath.ErrBadPattern). */
export class BadPatternError extends Error {}

/** Go's filepath.Match on one component (no `/` inside). Throws BadPatternError for a malformed pattern. */
export function matchGlob(pattern: string, name: string): boolean {
	const p = [...pattern];
	const s = [...name];
	const matchFrom = (pi: number, si: number): boolean => {
		while (pi < p.length) {
			const c = p[pi]!;
			if (c === '*') {
				while (p[pi] === '*') pi++;
				if (pi === p.length) return !s.slice(si).includes('/');
				for (let k = si; k <= s.length; k++) {
					if (k > si && s[k - 1] === '/') break;
					if (matchFrom(pi, k)) return true;
				}
				return false;
			}
			if (si >= s.length) {
				checkRest(p, pi);
				return false;
			}
			if (c === '?') {
				if (s[si] === '/') return false;
				pi++;
				si++;
				continue;
			}
			if (c === '[') {
				const [matched, next] = matchClass(p, pi + 1, s[si]!);
				if (!matched || s[si] === '/') return false;
				pi = next;
				si++;
				continue;
			}
			let literal = c;
			if (c === '\\') {
				pi++;
				if (pi >= p.length) throw new BadPatternError('syntax error in pattern');
				literal = p[pi]!;
			}
			if (s[si] !== literal) return false;
			pi++;
			si++;
		}
		return si === s.length;
	};
	return matchFrom(0, 0);
}

/** Validates the remainder of a pattern as Go does when the name ran out. */
function checkRest(p: string[], pi: number): void {
	for (let i = pi; i < p.length; i++) {
		if (p[i] === '\\') {
			i++;
			if (i >= p.length) throw new BadPatternError('syntax error in pattern');
		} else if (p[i] === '[') {
			i = matchClass(p, i + 1, '\0')[1] - 1;
		}
	}
}

/** Matches one character against a class starting after `[`; returns whether it matched and the index after `]`. */
function matchClass(p: string[], start: number, ch: string): [boolean, number] {
	let i = start;
	let negated = false;
	if (p[i] === '^') {
		negated = true;
		i++;
	}
	let matched = false;
	let count = 0;
	for (;;) {
		if (i >= p.length) throw new BadPatternError('syntax error in pattern');
		if (p[i] === ']' && count > 0) {
			i++;
			break;
		}
		const lo = readClassChar(p, i);
		i = lo.next;
		let hi = lo.ch;
		if (p[i] === '-') {
			const h = readClassChar(p, i + 1);
			hi = h.ch;
			i = h.next;
		}
		if (lo.ch <= ch && ch <= hi) matched = true;
		count++;
	}
	return [matched !== negated, i];
}

function readClassChar(p: string[], i: number): {ch: string; next: number} {
	let c = p[i];
	if (c === undefined || c === '-' || c === ']') throw new BadPatternError('syntax error in pattern');
	if (c === '\\') {
		i++;
		c = p[i];
		if (c === undefined) throw new BadPatternError('syntax error in pattern');
	}
	return {ch: c, next: i + 1};
}

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
	const parts = parseParts(text, (glob) => {
		const regex = globToRegExp(glob);
		return (component) => component !== '/' && regex.test(component);
	});
	return {original: pattern, parts, negated};
}

/** Splits a cleaned pattern into parts, making each glob part's matcher with `compileGlob`. */
export function parseParts(pattern: string, compileGlob: (glob: string) => (component: string) => boolean): Part[] {
	return splitPath(cleanPath(pattern)).map((part): Part => {
		if (part === '/') return {kind: 'root'};
		if (part === '**') return {kind: 'any'};
		if (!SPECIAL.test(part)) return {kind: 'literal', text: part};
		return {kind: 'glob', test: compileGlob(part)};
	});
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
		case 'glob': return part.test(component);
		case 'any': return true;
	}
}

const STAR: Part = {kind: 'glob', test: (component) => !component.includes('/')};

/** Whether the parts match the path components, as restic's filter.match. */
export function matchParts(parts: readonly Part[], strs: readonly string[]): boolean {
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
export function childMatchParts(parts: readonly Part[], strs: readonly string[]): boolean {
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
