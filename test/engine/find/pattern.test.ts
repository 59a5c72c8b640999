import {describe, expect, it} from 'vitest';
import {BadPatternError, childMayMatch, cleanPath, matchGlob, matchPattern} from '../../../engine/find/pattern.js';

describe('matchGlob (Go filepath.Match on one component)', () => {
	it.each([
		['*.txt', 'a.txt', true], ['*.txt', 'a.txt.bak', false], ['a?c', 'abc', true], ['a?c', 'ac', false],
		['[a-c]x', 'bx', true], ['[^a-c]x', 'bx', false], ['[^a-c]x', 'dx', true], ['\\*', '*', true], ['\\*', 'a', false],
		['ü*', 'über', true], ['*', '', true], ['[]]', ']', false],
	])('%s on %s is %s', (pattern, name, expected) => {
		if (pattern === '[]]') {
			expect(() => matchGlob(pattern, name)).toThrow(BadPatternError);
			return;
		}
		expect(matchGlob(pattern, name)).toBe(expected);
	});

	it('rejects a malformed class and a trailing escape', () => {
		expect(() => matchGlob('[a-', 'a')).toThrow(BadPatternError);
		expect(() => matchGlob('a\\', 'a')).toThrow(BadPatternError);
	});
});

describe('matchPattern (restic filter.Match)', () => {
	it.each([
		['*.txt', '/home/me/notes.txt', true],
		['notes.txt', '/home/me/notes.txt', true],
		['me/notes.txt', '/home/me/notes.txt', true],
		['/home/*/notes.txt', '/home/me/notes.txt', true],
		['/me/notes.txt', '/home/me/notes.txt', false],
		['home', '/home/me/notes.txt', true], // any run of components, as restic matches
		['/home/**/notes.txt', '/home/me/a/b/notes.txt', true],
		['**/b/*', '/home/me/a/b/notes.txt', true],
		['/home/**', '/home/me', true],
		['', '/anything', true],
		['foo/../bar', '/x/bar', true],
	])('%s matches %s: %s', (pattern, path, expected) => {
		expect(matchPattern(pattern, path)).toBe(expected);
	});
});

describe('childMayMatch (restic filter.ChildMatch)', () => {
	it('is true for floating patterns and for directories on the way to an anchored one', () => {
		expect(childMayMatch('*.txt', '/anywhere')).toBe(true);
		expect(childMayMatch('/home/me/x', '/home')).toBe(true);
		expect(childMayMatch('/home/me/x', '/home/me')).toBe(true);
		expect(childMayMatch('/home/me/x', '/srv')).toBe(false);
		expect(childMayMatch('/home/**/x', '/home/a/b/c')).toBe(true);
	});
});

describe('cleanPath', () => {
	it('behaves like Go path.Clean', () => {
		expect(cleanPath('/a/./b/../c/')).toBe('/a/c');
		expect(cleanPath('a//b')).toBe('a/b');
		expect(cleanPath('../a')).toBe('../a');
		expect(cleanPath('/..')).toBe('/');
		expect(cleanPath('')).toBe('.');
	});
});
