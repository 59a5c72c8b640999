import {describe, expect, it} from 'vitest';
import {formatGoFileMode, formatResticBytes, normalizeGoTime, typedGoMode} from '../../../engine/format/go-values.js';
import {GO_MODE} from '../../../engine/format/mode.js';

describe('Go values', () => {
	it('formats file modes like os.FileMode.String', () => {
		expect(formatGoFileMode(0o644)).toBe('-rw-r--r--');
		expect(formatGoFileMode(GO_MODE.dir + 0o755)).toBe('drwxr-xr-x');
		expect(formatGoFileMode(GO_MODE.symlink + 0o777)).toBe('Lrwxrwxrwx');
		expect(formatGoFileMode(GO_MODE.dir + GO_MODE.sticky + 0o777)).toBe('dtrwxrwxrwx');
		expect(formatGoFileMode(GO_MODE.setuid + 0o755)).toBe('urwxr-xr-x');
		expect(formatGoFileMode(typedGoMode(0o600, 'chardev'))).toBe('Dcrw-------');
		expect(typedGoMode(GO_MODE.dir + 0o700, 'dir')).toBe(GO_MODE.dir + 0o700);
	});

	it('normalizes times as Go marshals them and sizes as restic prints them', () => {
		expect(normalizeGoTime('2021-03-04T05:06:07.120000000+01:00')).toBe('2021-03-04T05:06:07.12+01:00');
		expect(normalizeGoTime('2021-03-04T05:06:07.000Z')).toBe('2021-03-04T05:06:07Z');
		expect(normalizeGoTime('not a time')).toBe('not a time');
		expect(formatResticBytes(1024)).toBe('1024 B');
		expect(formatResticBytes(1715)).toBe('1.675 KiB');
		expect(formatResticBytes(3 * 2 ** 30 + 1)).toBe('3.000 GiB');
	});
});
