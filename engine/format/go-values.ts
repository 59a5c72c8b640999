/**
 * Values printed the way restic's Go code prints them: os.FileMode.String(), time.Time marshalled
 * to JSON, and restic's formatBytes.
 */
import {GO_MODE} from './mode.js';
import {parseGoTime} from './time.js';

const MODE_LETTERS: Array<[number, string]> = [
	[GO_MODE.dir, 'd'], [2 ** 30, 'a'], [2 ** 29, 'l'], [2 ** 28, 'T'], [GO_MODE.symlink, 'L'], [GO_MODE.device, 'D'],
	[GO_MODE.namedPipe, 'p'], [GO_MODE.socket, 'S'], [GO_MODE.setuid, 'u'], [GO_MODE.setgid, 'g'], [GO_MODE.charDevice, 'c'],
	[GO_MODE.sticky, 't'], [GO_MODE.irregular, '?'],
];

function hasBit(mode: number, bit: number): boolean {
	return Math.floor(mode / bit) % 2 === 1;
}

/** Go's os.FileMode.String(): type letters (or `-`), then `rwxrwxrwx`. */
export function formatGoFileMode(mode: number): string {
	let text = '';
	for (const [bit, letter] of MODE_LETTERS) if (hasBit(mode, bit)) text += letter;
	if (text === '') text = '-';
	const letters = 'rwxrwxrwx';
	for (let i = 0; i < 9; i++) text += hasBit(mode, 2 ** (8 - i)) ? letters[i] : '-';
	return text;
}

/** The Go mode restic's `ls -l`/`find -l` print: the node's mode with its type bits ORed in. */
export function typedGoMode(mode: number, type: string): number {
	const typeBits: Record<string, number[]> = {dir: [GO_MODE.dir], symlink: [GO_MODE.symlink], dev: [GO_MODE.device], chardev: [GO_MODE.device, GO_MODE.charDevice], fifo: [GO_MODE.namedPipe], socket: [GO_MODE.socket]};
	let out = mode;
	for (const bit of typeBits[type] ?? []) if (!hasBit(out, bit)) out += bit;
	return out;
}

/**
 * A stored RFC 3339 time as Go re-marshals it (time.RFC3339Nano): trailing zeros of the fraction
 * dropped, the offset kept. Text that is not such a time is returned unchanged.
 */
export function normalizeGoTime(text: string): string {
	const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
	if (!match) return text;
	const fraction = (match[2] ?? '').slice(0, 9).replace(/0+$/, '');
	return `${match[1]}${fraction ? '.' + fraction : ''}${match[3] === '+00:00' ? 'Z' : match[3]}`;
}

/** restic's formatBytes: `123 B`, `1.675 KiB`, `2.000 MiB` (three decimals above 1 KiB). */
export function formatResticBytes(bytes: number): string {
	const units: Array<[number, string]> = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
	for (const [size, unit] of units) if (bytes > size) return `${(bytes / size).toFixed(3)} ${unit}`;
	return `${bytes} B`;
}

function pad(n: number): string {
	return n < 10 ? `0${n}` : String(n);
}

/** Go's TimeFormat of restic (`2006-01-02 15:04:05`) in local time, from an RFC 3339 text. */
export function formatResticLocalTime(text: string): string {
	let ms: number;
	try {
		ms = Number(parseGoTime(text) / 1_000_000n);
	} catch {
		return text;
	}
	const d = new Date(ms);
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
