import {describe, expect, it} from 'vitest';
import {parseGoTime, toDate} from '../../engine/format/time.js';
import {parseRepositoryTime, parseTimeMs} from '../../components/format.js';
import {formatLocalTime, OutputBuffer} from '../../source/commands/snapshots.js';

describe('reading repository times', () => {
	it('agrees with the engine\'s parser to the millisecond, in the common form and the others Go accepts', () => {
		const times = [
			'2024-03-01T10:00:00Z',
			'2024-03-01T10:00:00.123456789+01:00',
			'2024-03-01T10:00:00.9999999-07:30',
			'2024-12-31T23:59:59.5+14:00',
			'0001-01-01T00:00:00Z',
			'0099-06-15T12:00:00Z',
			'1969-12-31T23:59:59Z',
			'2262-04-11T23:47:16.854775807Z',
			'2024-03-01t10:00:00z',
			'2024-03-01 10:00:00+0100',
			'12024-03-01T10:00:00Z',
			// No zone: UTC for Go, local time for Date.parse.
			'2024-03-01T10:00:00',
		];
		for (const text of times) expect(parseTimeMs(text), text).toBe(toDate(parseGoTime(text)).getTime());
		expect(parseRepositoryTime('2024-03-01T10:00:00.5Z')?.toISOString()).toBe('2024-03-01T10:00:00.500Z');
	});

	it('gives undefined for what is not a time, and the CLI shows such text as it is', () => {
		for (const text of ['', 'yesterday', '2024-03-01T10:00']) {
			expect(parseTimeMs(text), text).toBeUndefined();
		}
		expect(parseRepositoryTime('soon')).toBeUndefined();
		expect(formatLocalTime('soon')).toBe('soon');
		const local = new Date(Date.UTC(2024, 2, 1, 10, 0, 5));
		const pad = (n: number): string => String(n).padStart(2, '0');
		expect(formatLocalTime('2024-03-01T10:00:05.75+00:00')).toBe(`${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())} ${pad(local.getHours())}:${pad(local.getMinutes())}:05`);
	});
});

describe('the output buffer of the CLI', () => {
	it('writes whole lines in blocks of about the size asked, and the rest on flush', () => {
		const writes: string[] = [];
		const out = new OutputBuffer({write: (text: string) => writes.push(text)}, 100);
		const lines = Array.from({length: 50}, (_, i) => `line ${i} ${'x'.repeat(i % 7)}`);
		for (const line of lines) out.line(line);
		const before = writes.length;
		out.flush();
		out.flush();
		expect(before).toBeGreaterThan(3);
		expect(writes.length).toBe(before + 1);
		expect(writes.every((text) => text.endsWith('\n'))).toBe(true);
		expect(writes.join('')).toBe(lines.map((line) => `${line}\n`).join(''));
	});
});
