/**
 * Exclude patterns, with restic's semantics: a pattern starting with `/` is matched against the
 * whole absolute path; any other pattern is matched against every trailing part of the path
 * (so `*.log` excludes every .log file and `cache/tmp` excludes any `.../cache/tmp`).
 * `*` stays inside one path component and `**` crosses components.
 */
import picomatch from 'picomatch';

/** A compiled exclude list. */
export type ExcludeMatcher = (absolutePath: string) => boolean;

/** Compiles glob patterns into a matcher. An empty list excludes nothing. */
export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
	const anchored: Array<(p: string) => boolean> = [];
	const floating: Array<(p: string) => boolean> = [];
	for (const raw of patterns) {
		const pattern = raw.trim();
		if (!pattern) continue;
		const matcher = picomatch(pattern.replace(/\/+$/, ''), {dot: true});
		(pattern.startsWith('/') ? anchored : floating).push(matcher);
	}
	if (anchored.length === 0 && floating.length === 0) return () => false;
	return (absolutePath) => {
		if (anchored.some((m) => m(absolutePath))) return true;
		if (floating.length === 0) return false;
		const parts = absolutePath.split('/').filter(Boolean);
		for (let i = 0; i < parts.length; i++) {
			const tail = parts.slice(i).join('/');
			if (floating.some((m) => m(tail))) return true;
		}
		return false;
	};
}
