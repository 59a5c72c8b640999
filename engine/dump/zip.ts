/**
 * A streaming zip writer as restic's dump uses (Go's archive/zip with its defaults): entries are
 * stored (no compression), sizes and CRC-32 follow each entry's data in a data descriptor, Unix
 * modes go into the external attributes, the modification time into the MS-DOS fields and an
 * extended-timestamp field, and ZIP64 records are written when a size, an offset or the number of
 * entries needs them. Entry data is streamed, never held whole.
 */
import {crc32} from 'node:zlib';
import type {ByteSink} from './sink.js';

/** One entry. */
export interface ZipEntry {
	/** Path inside the archive, without a leading slash; directories end in `/`. */
	name: string;
	type: 'file' | 'dir' | 'symlink';
	/** Unix permission bits plus setuid/setgid/sticky (0o7777). */
	mode: number;
	/** Modification time: seconds since the epoch, and the local wall clock of the stored time. */
	mtimeSeconds: number;
	wallClock: {year: number; month: number; day: number; hour: number; minute: number; second: number};
}

const U32 = 0xffffffff;

interface Written {
	name: Buffer;
	flags: number;
	time: number;
	date: number;
	crc: number;
	size: number;
	offset: number;
	externalAttrs: number;
	mtimeSeconds: number;
	zip64: boolean;
}

function dosTime(w: ZipEntry['wallClock']): {time: number; date: number} {
	if (w.year < 1980) return {time: 0, date: (1 << 5) | 1};
	return {time: (w.hour << 11) | (w.minute << 5) | Math.floor(w.second / 2), date: ((w.year - 1980) << 9) | (w.month << 5) | w.day};
}

function unixMode(entry: ZipEntry): number {
	const type = entry.type === 'dir' ? 0o040000 : entry.type === 'symlink' ? 0o120000 : 0o100000;
	return type | (entry.mode & 0o7777);
}

/** Writes zip entries to a sink. Call {@link ZipWriter.close} at the end. */
export class ZipWriter {
	private offset = 0;
	private readonly entries: Written[] = [];
	private current?: Written;
	private remaining = 0;

	constructor(private readonly out: ByteSink) {}

	private async emit(bytes: Uint8Array): Promise<void> {
		this.offset += bytes.length;
		await this.out.write(bytes);
	}

	/** Starts an entry of `size` data bytes (a symlink's data is its target); write them with {@link writeData}. */
	async addEntry(entry: ZipEntry, size: number): Promise<void> {
		await this.finishEntry();
		const name = Buffer.from(entry.name, 'utf8');
		const dir = entry.type === 'dir';
		const utf8 = !/^[\x20-\x7e]*$/.test(entry.name);
		const zip64 = size >= U32 || this.offset >= U32;
		const flags = (dir ? 0 : 0x8) | (utf8 ? 0x800 : 0);
		const {time, date} = dosTime(entry.wallClock);
		let externalAttrs = (unixMode(entry) << 16) >>> 0;
		if (dir) externalAttrs |= 0x10;
		if ((entry.mode & 0o200) === 0) externalAttrs |= 0x01;
		const written: Written = {name, flags, time, date, crc: 0, size: dir ? 0 : size, offset: this.offset, externalAttrs: externalAttrs >>> 0, mtimeSeconds: entry.mtimeSeconds, zip64};
		const extra = this.timestampExtra(entry.mtimeSeconds);
		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04034b50, 0);
		local.writeUInt16LE(zip64 ? 45 : 20, 4);
		local.writeUInt16LE(flags, 6);
		local.writeUInt16LE(0, 8);
		local.writeUInt16LE(time, 10);
		local.writeUInt16LE(date, 12);
		// With a data descriptor, CRC and sizes are zero here.
		local.writeUInt16LE(name.length, 26);
		local.writeUInt16LE(extra.length, 28);
		await this.emit(Buffer.concat([local, name, extra]));
		this.current = written;
		this.remaining = written.size;
	}

	private timestampExtra(mtimeSeconds: number): Buffer {
		const extra = Buffer.alloc(9);
		extra.writeUInt16LE(0x5455, 0);
		extra.writeUInt16LE(5, 2);
		extra.writeUInt8(1, 4);
		extra.writeUInt32LE(Math.max(0, Math.min(U32, mtimeSeconds)) >>> 0, 5);
		return extra;
	}

	/** Writes part of the current entry's data. */
	async writeData(bytes: Uint8Array): Promise<void> {
		const entry = this.current;
		if (!entry || bytes.length > this.remaining) throw new Error('zip: more data than the entry\'s size');
		entry.crc = crc32(bytes, entry.crc);
		this.remaining -= bytes.length;
		await this.emit(bytes);
	}

	private async finishEntry(): Promise<void> {
		const entry = this.current;
		if (!entry) return;
		if (this.remaining > 0) throw new Error(`zip: ${this.remaining} bytes of ${entry.name.toString()} were not written`);
		this.current = undefined;
		this.entries.push(entry);
		if ((entry.flags & 0x8) === 0) return;
		const descriptor = Buffer.alloc(entry.zip64 ? 24 : 16);
		descriptor.writeUInt32LE(0x08074b50, 0);
		descriptor.writeUInt32LE(entry.crc >>> 0, 4);
		if (entry.zip64) {
			descriptor.writeBigUInt64LE(BigInt(entry.size), 8);
			descriptor.writeBigUInt64LE(BigInt(entry.size), 16);
		} else {
			descriptor.writeUInt32LE(entry.size, 8);
			descriptor.writeUInt32LE(entry.size, 12);
		}
		await this.emit(descriptor);
	}

	/** Writes the central directory and ends the archive. */
	async close(): Promise<void> {
		await this.finishEntry();
		const start = this.offset;
		const parts: Buffer[] = [];
		for (const e of this.entries) {
			const big = e.size >= U32 || e.offset >= U32;
			const z64: Buffer[] = [];
			if (big) {
				const field = Buffer.alloc(28);
				field.writeUInt16LE(0x0001, 0);
				field.writeUInt16LE(24, 2);
				field.writeBigUInt64LE(BigInt(e.size), 4);
				field.writeBigUInt64LE(BigInt(e.size), 12);
				field.writeBigUInt64LE(BigInt(e.offset), 20);
				z64.push(field);
			}
			const extra = Buffer.concat([...z64, this.timestampExtra(e.mtimeSeconds)]);
			const central = Buffer.alloc(46);
			central.writeUInt32LE(0x02014b50, 0);
			central.writeUInt16LE((3 << 8) | (big || e.zip64 ? 45 : 20), 4);
			central.writeUInt16LE(big || e.zip64 ? 45 : 20, 6);
			central.writeUInt16LE(e.flags, 8);
			central.writeUInt16LE(0, 10);
			central.writeUInt16LE(e.time, 12);
			central.writeUInt16LE(e.date, 14);
			central.writeUInt32LE(e.crc >>> 0, 16);
			central.writeUInt32LE(big ? U32 : e.size, 20);
			central.writeUInt32LE(big ? U32 : e.size, 24);
			central.writeUInt16LE(e.name.length, 28);
			central.writeUInt16LE(extra.length, 30);
			central.writeUInt32LE(e.externalAttrs, 38);
			central.writeUInt32LE(big ? U32 : e.offset, 42);
			parts.push(central, e.name, extra);
		}
		const directory = Buffer.concat(parts);
		await this.emit(directory);
		const end = this.offset;
		const count = this.entries.length;
		const size = directory.length;
		const needs64 = count >= 0xffff || size >= U32 || start >= U32;
		if (needs64) {
			const record = Buffer.alloc(56);
			record.writeUInt32LE(0x06064b50, 0);
			record.writeBigUInt64LE(44n, 4);
			record.writeUInt16LE(45, 12);
			record.writeUInt16LE(45, 14);
			record.writeBigUInt64LE(BigInt(count), 24);
			record.writeBigUInt64LE(BigInt(count), 32);
			record.writeBigUInt64LE(BigInt(size), 40);
			record.writeBigUInt64LE(BigInt(start), 48);
			const locator = Buffer.alloc(20);
			locator.writeUInt32LE(0x07064b50, 0);
			locator.writeBigUInt64LE(BigInt(end), 8);
			locator.writeUInt32LE(1, 16);
			await this.emit(Buffer.concat([record, locator]));
		}
		const eocd = Buffer.alloc(22);
		eocd.writeUInt32LE(0x06054b50, 0);
		eocd.writeUInt16LE(needs64 ? 0xffff : count, 8);
		eocd.writeUInt16LE(needs64 ? 0xffff : count, 10);
		eocd.writeUInt32LE(needs64 ? U32 : size, 12);
		eocd.writeUInt32LE(needs64 ? U32 : start, 16);
		await this.emit(eocd);
	}
}
