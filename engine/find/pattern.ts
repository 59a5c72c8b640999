/**
 * restic's path patterns for `find` (internal/filter's Match and ChildMatch on plain strings): the
 * parts matching is the one of ../util/path-filter.ts; each glob part is Go's filepath.Match
 * (matchGlob), which throws BadPatternError only when matching reaches a malformed spot.
 */
import {BadPatternError, childMatchParts, cleanPath, matchGlob, matchParts, parseParts, splitPath, type Part} from '../util/path-filter.js';

export {BadPatternError, cleanPath, matchGlob};

function preparePattern(pattern: string): Part[] {
	return parseParts(pattern, (glob) => (component) => matchGlob(glob, component));
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
	return childMatchParts(preparePattern(pattern), splitPath(path));
}
