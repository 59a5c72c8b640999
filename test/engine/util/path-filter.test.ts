/**
 * restic's pattern semantics (internal/filter): windows of consecutive components, anchored
 * patterns, `**`, Go globs, negation, and which directories must be descended into for includes.
 */
import {describe, expect, it} from 'vitest';
import {compilePathFilter, globToRegExp, matchList, matchPattern, parsePattern, parsePatterns, PatternError} from '../../../engine/util/path-filter.js';

const matches = (pattern: string, path: string): boolean => matchPattern(parsePattern(pattern), path);

describe('matchPattern', () => {
	it.each([
		['*.go', '/src/app/main.go', true],
		['*.c', '/src/app/main.go', false],
		['app', '/src/app/main.go', true], // a match anywhere takes everything below it
		['/app', '/src/app/main.go', false],
		['/src', '/src/app/main.go', true],
		['/src/', '/src/app', true],
		['/src/*', '/src', false],
		['/src/*/main.*', '/src/app/main.go', true],
		['/src/*main.*', '/src/app/main.go', false],
		['/a/../b', '/b', true],
		['/a//b', '/a/b', true],
		['Main.go', '/src/app/main.go', false],
		['src/**/lib/*.ts', '/home/me/src/x/y/lib/a.ts', true],
		['src/**/lib/*.ts', '/home/me/src/lib/a.ts', true],
		['src/**/lib/*.ts', '/home/me/lib/src/a.ts', false],
		['[a-c]?.txt', '/d/b1.txt', true],
		['[^a-c]?.txt', '/d/b1.txt', false],
		['\\*.txt', '/d/*.txt', true],
		['\\*.txt', '/d/a.txt', false],
	])('%s against %s: %s', (pattern, path, expected) => {
		expect(matches(pattern, path)).toBe(expected);
	});

	it('refuses invalid globs, naming them', () => {
		expect(() => globToRegExp('[abc')).toThrow(PatternError);
		expect(() => parsePatterns(['ok', 'bad[', 'also]bad'])).toThrow(/bad\[, also\]bad/);
	});
});

describe('matchList', () => {
	it('lets a later negated pattern take matches back', () => {
		const list = parsePatterns(['*.log', '!keep.log']);
		expect(matchList(list, '/var/x.log').matched).toBe(true);
		expect(matchList(list, '/var/keep.log').matched).toBe(false);
	});

	it('tells which directories may hold an included path', () => {
		const list = parsePatterns(['/home/me/docs']);
		expect(matchList(list, '/home')).toEqual({matched: false, childMayMatch: true});
		expect(matchList(list, '/home/you')).toEqual({matched: false, childMayMatch: false});
		expect(matchList(list, '/home/me/docs/a/b').matched).toBe(true);
		// An unanchored pattern may match below any directory.
		expect(matchList(parsePatterns(['*.pdf']), '/x')).toEqual({matched: false, childMayMatch: true});
	});

	it('matches the insensitive list on lower-cased paths', () => {
		const filter = compilePathFilter(['*.TXT'], ['*.Log']);
		expect(filter.matches('/a/B.TXT')).toBe(true);
		expect(filter.matches('/a/b.txt')).toBe(false);
		expect(filter.matches('/a/SERVER.LOG')).toBe(true);
	});
});
