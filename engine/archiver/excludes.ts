/**
 * Exclude patterns, with restic's semantics (see ../util/path-filter.ts): a pattern starting with
 * `/` is matched from the root of the absolute path; any other pattern wherever its parts meet
 * consecutive components (so `*.log` excludes every .log file and `cache/tmp` any `.../cache/tmp`).
 * `*` stays inside one path component, `**` crosses components, `!pattern` takes paths back in.
 */
import {compilePathFilter} from '../util/path-filter.js';

/** A compiled exclude list. */
export type ExcludeMatcher = (absolutePath: string) => boolean;

/**
 * Compiles glob patterns (and ones matched ignoring case, `--iexclude`) into a matcher. An empty
 * list excludes nothing. Throws PatternError for an invalid pattern.
 */
export function compileExcludes(patterns: readonly string[], insensitive: readonly string[] = []): ExcludeMatcher {
	const clean = (list: readonly string[]): string[] => list.map((p) => p.trim()).filter(Boolean);
	const filter = compilePathFilter(clean(patterns), clean(insensitive));
	if (filter.empty) return () => false;
	return filter.matches;
}
