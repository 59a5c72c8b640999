import {describe, expect, it} from 'vitest';
import {formatGoTime, parseGoTime, parseLocalDateTime} from '../../../engine/format/time.js';

describe('Go RFC 3339 times', () => {
	it.each([
		['2015-01-02T18:10:50.895208559+01:00', 1420218650895208559n],
		['2022-03-04T05:06:07Z', 1646370367000000000n],
		['1970-01-01T00:00:00.000000001Z', 1n],
		['2021-12-31T23:59:59.5-05:30', 1641014999500000000n],
	])('parses %s', (text, ns) => {
		expect(parseGoTime(text)).toBe(ns);
	});

	it('formats UTC with trailing fraction zeros dropped, as Go does', () => {
		expect(formatGoTime(1420218650895208559n, true)).toBe('2015-01-02T17:10:50.895208559Z');
		expect(formatGoTime(1646370367500000000n, true)).toBe('2022-03-04T05:06:07.5Z');
		expect(formatGoTime(1646370367000000000n, true)).toBe('2022-03-04T05:06:07Z');
	});

	it('round-trips local times exactly, to the nanosecond', () => {
		for (const ns of [0n, 1n, 1700000000123456789n, 1111111111999999999n]) expect(parseGoTime(formatGoTime(ns))).toBe(ns);
	});

	it('rejects text that is not a time', () => {
		expect(() => parseGoTime('yesterday')).toThrow(/invalid time/);
	});

	it('reads backup --time values in local time and refuses impossible dates', () => {
		const ns = parseLocalDateTime('2020-01-02 03:04:05');
		expect(ns).toBe(BigInt(new Date(2020, 0, 2, 3, 4, 5).getTime()) * 1_000_000n);
		expect(parseLocalDateTime('2020-02-30 00:00:00')).toBeUndefined();
		expect(parseLocalDateTime('02/03/2020')).toBeUndefined();
	});
});
