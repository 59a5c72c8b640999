/**
 * restic's path patterns (internal/filter): a pattern is split at `/` into parts; a leading `/`
 * anchors it at the root, otherwise it may match any trailing run of path components; `**` matches
 * any number of components; every other part is a shell glob of Go's filepath.Match (`*`, `?`,
 * `[...]`, `\` escapes) that stays inside one component.
 */

/** Thrown for a malformed glob (Go's filepath.ErrBadPattern). */
export class BadPatternError extends Error {}

interface Part {
	/** "/" for the root of an anchored pattern, "" for `**`. */
	pattern: string;
	simple: boolean;
}

function splitPath(p: string): string[] {
	const parts = p.split('/');
	if (parts[0] === '') parts[0] = '/';
	return parts;
}

/** Go's path.Clean for slash-separated paths. */
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

function preparePattern(pattern: string): Part[] {
	return splitPath(cleanPath(pattern)).map((part) => ({pattern: part === '**' ? '' : part, simple: !/[\\[\]*?]/.test(part)}));
}

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

function doubleWildcard(parts: Part[]): number {
	return parts.findIndex((part) => part.pattern === '');
}

function matchParts(parts: Part[], strs: string[]): boolean {
	const pos = doubleWildcard(parts);
	if (pos >= 0) {
		for (let i = 0; i <= strs.length - parts.length + 1; i++) {
			const expanded = parts.slice(0, pos);
			for (let k = 0; k < i; k++) expanded.push({pattern: '*', simple: false});
			expanded.push(...parts.slice(pos + 1));
			if (matchParts(expanded, strs)) return true;
		}
		return false;
	}
	if (parts.length === 0) return strs.length === 0;
	if (parts.length > strs.length) return false;
	let minOffset = 0;
	let maxOffset = strs.length - parts.length;
	if (parts[0]!.pattern === '/') maxOffset = 0;
	else if (strs[0] === '/') minOffset = 1;
	outer: for (let offset = maxOffset; offset >= minOffset; offset--) {
		for (let i = parts.length - 1; i >= 0; i--) {
			const part = parts[i]!;
			const ok = part.simple ? part.pattern === strs[offset + i] : matchGlob(part.pattern, strs[offset + i]!);
			if (!ok) continue outer;
		}
		return true;
	}
	return false;
}

/** Whether `path` (slash-separated) matches the pattern, as restic's filter.Match. An empty pattern matches all. */
export function matchPattern(pattern: string, path: string): boolean {
	if (pattern === '') return true;
	if (path === '') throw new Error('filter.Match: string is empty');
	return matchParts(preparePattern(pattern), splitPath(path));
}

/** Whether something below `path` may match, as restic's filter.ChildMatch. */
export function childMayMatch(pattern: string, path: string): boolean {
	if (pattern === '') return true;
	if (path === '') throw new Error('filter.Match: string is empty');
	const parts = preparePattern(pattern);
	if (parts[0]!.pattern !== '/') return true;
	let strs = splitPath(path);
	const pos = doubleWildcard(parts);
	if (pos >= 0 && strs.length >= pos) strs = strs.slice(0, pos);
	const l = Math.min(strs.length, parts.length);
	return matchParts(parts.slice(0, l), strs);
}
