import {describe, expect, it} from 'vitest';
import {compileIncludes} from '../../../engine/restorer/restorer.js';

describe('restore include matching', () => {
	it('includes listed paths and everything below them, and nothing that only shares a prefix', () => {
		const included = compileIncludes(['/home/me/docs', 'srv/www/', 'etc/*.conf'])!;
		expect(included('home/me/docs')).toBe(true);
		expect(included('home/me/docs/a/b.txt')).toBe(true);
		expect(included('home/me/docs2')).toBe(false);
		expect(included('home/me')).toBe(false);
		expect(included('srv/www/index.html')).toBe(true);
		expect(included('etc/app.conf')).toBe(true);
		expect(included('etc/app.ini')).toBe(false);
	});

	it('handles 100,000 marked entries, each matched by its own listing', () => {
		const marked = Array.from({length: 100_000}, (_, i) => `data/dir-${i % 100}/file-${i}`);
		const included = compileIncludes(marked)!;
		expect(marked.every((p) => included(p))).toBe(true);
		expect(included('data/dir-1/file-100001')).toBe(false);
		expect(included('data/dir-1')).toBe(false);
	});

	it('means "everything" when nothing is listed', () => {
		expect(compileIncludes([])).toBeUndefined();
		expect(compileIncludes(['/', ''])).toBeUndefined();
	});
});
