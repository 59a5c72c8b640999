/**
 * What the file preview shows, computed from bytes read around a position: text lines for a
 * pager, or hex rows with a summary for binary files. Pure.
 */

/** Tells whether bytes look like text: no NUL byte and (almost) valid UTF-8. */
export function looksLikeText(bytes: Uint8Array): boolean {
	if (bytes.includes(0)) return false;
	const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
	let bad = 0;
	for (const ch of text) if (ch === '\uFFFD') bad++;
	// A sample cut at an arbitrary byte may end inside a character.
	return bad <= 2;
}

const MAGIC: Array<[string, number[]]> = [
	['PNG image', [0x89, 0x50, 0x4e, 0x47]], ['JPEG image', [0xff, 0xd8, 0xff]], ['GIF image', [0x47, 0x49, 0x46, 0x38]],
	['PDF document', [0x25, 0x50, 0x44, 0x46]], ['gzip data', [0x1f, 0x8b]], ['zip archive', [0x50, 0x4b, 0x03, 0x04]],
	['ELF executable', [0x7f, 0x45, 0x4c, 0x46]], ['zstd data', [0x28, 0xb5, 0x2f, 0xfd]], ['xz data', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
	['SQLite database', [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65]],
];

/** A short description of binary content from its first bytes. */
export function describeBinary(head: Uint8Array): string {
	for (const [name, magic] of MAGIC) if (magic.every((byte, i) => head[i] === byte)) return name;
	if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return 'tar archive';
	return 'binary data';
}

/** Hex rows of 16 bytes: offset, hex bytes, printable characters. */
export function formatHexRows(bytes: Uint8Array, offset: number): string[] {
	const rows: string[] = [];
	for (let i = 0; i < bytes.length; i += 16) {
		const chunk = bytes.subarray(i, i + 16);
		const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0'));
		const left = hex.slice(0, 8).join(' ');
		const right = hex.slice(8).join(' ');
		const text = Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
		rows.push(`${(offset + i).toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  ${text}`);
	}
	return rows;
}

/** Lines of a text window, with the byte offset where each starts. Tabs become spaces, control characters dots. */
export function splitTextLines(bytes: Uint8Array, offset: number, complete: boolean): Array<{offset: number; text: string}> {
	const lines: Array<{offset: number; text: string}> = [];
	let start = 0;
	for (let i = 0; i <= bytes.length; i++) {
		if (i < bytes.length && bytes[i] !== 0x0a) continue;
		if (i === bytes.length && (i === start || !complete)) break;
		const raw = Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('utf8');
		// eslint-disable-next-line no-control-regex
		lines.push({offset: offset + start, text: raw.replace(/\r$/, '').replace(/\t/g, '    ').replace(/[\x00-\x1f\x7f]/g, '·')});
		start = i + 1;
	}
	return lines;
}

/** The offset where the line before `offset` starts, from the bytes just before it (`before` ends at `offset`). */
export function findPreviousLineStart(before: Uint8Array, offset: number): number {
	// Skip the line break ending the previous line, then look for the one before it.
	let i = before.length - 1;
	if (i >= 0 && before[i] === 0x0a) i--;
	for (; i >= 0; i--) if (before[i] === 0x0a) return offset - before.length + i + 1;
	return offset - before.length;
}
