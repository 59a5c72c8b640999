/**
 * A streaming tar writer as Go's archive/tar writes for restic's dump: a ustar header per entry,
 * preceded by a pax extended header only when an entry needs what ustar cannot hold (long or
 * non-ASCII names and link targets, sub-second or access/change times when given, large sizes and
 * IDs, extended attributes as SCHILY.xattr.*). Entry data is streamed, never held whole.
 */
import type {ByteSink} from './sink.js';

/** One entry's header. Times are nanoseconds since the epoch. */
export interface TarEntry {
	/** Path inside the archive, without a leading slash; directories end in `/`. */
	name: string;
	type: 'file' | 'dir' | 'symlink';
	/** Unix permission bits plus setuid/setgid/sticky (0o7777). */
	mode: number;
	uid: number;
	gid: number;
	uname?: string;
	gname?: string;
	size: number;
	mtimeNs: bigint;
	atimeNs?: bigint;
	ctimeNs?: bigint;
	linkname?: string;
	/** pax records to add (e.g. SCHILY.xattr.user.x → raw value). */
	extra?: Array<[string, Uint8Array]>;
}

const BLOCK = 512;
const ZERO_BLOCK = new Uint8Array(BLOCK);

function isAscii(text: string): boolean {
	return /^[\x00-\x7f]*$/.test(text);
}

function writeString(block: Buffer, offset: number, width: number, text: string): void {
	const bytes = Buffer.from(text, 'utf8');
	bytes.copy(block, offset, 0, Math.min(width, bytes.length));
}

/** Octal with a NUL terminator, or base-256 when the value does not fit. */
function writeNumber(block: Buffer, offset: number, width: number, value: number | bigint): void {
	const big = BigInt(value);
	const max = 8n ** BigInt(width - 1) - 1n;
	if (big >= 0n && big <= max) {
		writeString(block, offset, width - 1, big.toString(8).padStart(width - 1, '0'));
		block[offset + width - 1] = 0;
		return;
	}
	let v = big < 0n ? (1n << BigInt(8 * width)) + big : big;
	for (let i = width - 1; i > 0; i--) {
		block[offset + i] = Number(v & 0xffn);
		v >>= 8n;
	}
	block[offset] = 0x80 | (big < 0n ? 0x40 : 0);
}

function paxTime(ns: bigint): string {
	const sec = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n);
	const frac = ns - sec * 1_000_000_000n;
	if (frac === 0n) return sec.toString();
	return `${sec}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
}

function paxRecord(key: string, value: Uint8Array): Buffer {
	const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
	let length = body.length + 1;
	while (String(length).length + body.length !== length) length = String(length).length + body.length;
	return Buffer.concat([Buffer.from(String(length)), body]);
}

function header(name: string, typeflag: string, entry: Omit<TarEntry, 'name' | 'type' | 'linkname' | 'size'> & {size: number | bigint; linkname?: string}): Buffer {
	const block = Buffer.alloc(BLOCK);
	writeString(block, 0, 100, name);
	writeNumber(block, 100, 8, entry.mode);
	writeNumber(block, 108, 8, entry.uid);
	writeNumber(block, 116, 8, entry.gid);
	writeNumber(block, 124, 12, entry.size);
	writeNumber(block, 136, 12, entry.mtimeNs >= 0n ? entry.mtimeNs / 1_000_000_000n : 0n);
	block.fill(0x20, 148, 156);
	block.write(typeflag, 156, 'latin1');
	writeString(block, 157, 100, entry.linkname ?? '');
	block.write('ustar\x0000', 257, 'latin1');
	writeString(block, 265, 32, entry.uname ?? '');
	writeString(block, 297, 32, entry.gname ?? '');
	writeNumber(block, 329, 8, 0);
	writeNumber(block, 337, 8, 0);
	let sum = 0;
	for (const byte of block) sum += byte;
	writeString(block, 148, 7, sum.toString(8).padStart(6, '0') + '\0');
	return block;
}

/** Cuts a name to what a ustar field of `width` bytes holds (ASCII only; the pax record has the real name). */
function fallbackName(name: string, width: number): string {
	// eslint-disable-next-line no-control-regex
	const ascii = name.replace(/[^\x20-\x7e]/g, '_');
	return ascii.length <= width ? ascii : ascii.slice(ascii.length - width);
}

/** Writes tar entries to a sink. Call {@link TarWriter.close} at the end. */
export class TarWriter {
	private remaining = 0;
	private padding = 0;

	constructor(private readonly out: ByteSink) {}

	/** Starts an entry; for a file, write exactly `size` bytes with {@link writeData} next. */
	async addEntry(entry: TarEntry): Promise<void> {
		if (this.remaining > 0) throw new Error(`tar: ${this.remaining} bytes of the previous entry were not written`);
		const records: Buffer[] = [];
		const needs = (key: string, value: string | Uint8Array): void => {
			records.push(paxRecord(key, typeof value === 'string' ? Buffer.from(value, 'utf8') : value));
		};
		if (Buffer.byteLength(entry.name) > 100 || !isAscii(entry.name)) needs('path', entry.name);
		if (entry.linkname !== undefined && (Buffer.byteLength(entry.linkname) > 100 || !isAscii(entry.linkname))) needs('linkpath', entry.linkname);
		if (entry.uname !== undefined && (Buffer.byteLength(entry.uname) > 32 || !isAscii(entry.uname))) needs('uname', entry.uname);
		if (entry.gname !== undefined && (Buffer.byteLength(entry.gname) > 32 || !isAscii(entry.gname))) needs('gname', entry.gname);
		if (entry.uid > 0o7777777) needs('uid', String(entry.uid));
		if (entry.gid > 0o7777777) needs('gid', String(entry.gid));
		if (entry.size > 0o77777777777) needs('size', String(entry.size));
		if (entry.mtimeNs % 1_000_000_000n !== 0n || entry.mtimeNs < 0n || entry.mtimeNs / 1_000_000_000n > 0o77777777777n) needs('mtime', paxTime(entry.mtimeNs));
		if (entry.atimeNs !== undefined) needs('atime', paxTime(entry.atimeNs));
		if (entry.ctimeNs !== undefined) needs('ctime', paxTime(entry.ctimeNs));
		for (const [key, value] of entry.extra ?? []) needs(key, value);
		const base = entry.name.replace(/\/$/, '').split('/').pop() ?? '';
		const paxBody = Buffer.concat(records);
		const paxName = fallbackName(`PaxHeaders.0/${base}`, 100);
		const blocks: Buffer[] = records.length === 0 ? [] : [header(paxName, 'x', {...entry, size: paxBody.length, linkname: undefined, uname: undefined, gname: undefined}), paxBody, Buffer.alloc((BLOCK - (paxBody.length % BLOCK)) % BLOCK)];
		const typeflag = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';
		const size = entry.type === 'file' ? entry.size : 0;
		blocks.push(header(fallbackName(entry.name, 100), typeflag, {
			...entry, size: size > 0o77777777777 ? 0 : size,
			linkname: entry.linkname === undefined ? undefined : fallbackName(entry.linkname, 100),
			uname: entry.uname !== undefined && isAscii(entry.uname) ? entry.uname.slice(0, 32) : '',
			gname: entry.gname !== undefined && isAscii(entry.gname) ? entry.gname.slice(0, 32) : '',
			uid: Math.min(entry.uid, 0o7777777), gid: Math.min(entry.gid, 0o7777777),
		}));
		await this.out.write(Buffer.concat(blocks));
		this.remaining = size;
		this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
		if (size === 0) this.padding = 0;
	}

	/** Writes part of the current file's data. */
	async writeData(bytes: Uint8Array): Promise<void> {
		if (bytes.length > this.remaining) throw new Error('tar: more data than the entry\'s size');
		this.remaining -= bytes.length;
		await this.out.write(bytes);
		if (this.remaining === 0 && this.padding > 0) {
			await this.out.write(new Uint8Array(this.padding));
			this.padding = 0;
		}
	}

	/** Ends the archive (two zero blocks). */
	async close(): Promise<void> {
		if (this.remaining > 0) throw new Error(`tar: ${this.remaining} bytes of the last entry were not written`);
		await this.out.write(Buffer.concat([ZERO_BLOCK, ZERO_BLOCK]));
	}
}
