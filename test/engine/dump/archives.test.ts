import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {crc32} from 'node:zlib';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {TarWriter} from '../../../engine/dump/tar.js';
import {ZipWriter, type ZipEntry} from '../../../engine/dump/zip.js';
import {dumpArchive, resolveDumpPath, splitDumpPath, streamFileContent} from '../../../engine/dump/dump.js';
import type {ByteSink} from '../../../engine/dump/sink.js';
import {makeTempDir} from '../../helpers/cli.js';
import {runProgram} from '../../helpers/servers/processes.js';
import {addTree, makeFakeRepo} from '../fake-trees.js';

class MemorySink implements ByteSink {
	parts: Buffer[] = [];
	async write(bytes: Uint8Array): Promise<void> {
		this.parts.push(Buffer.from(bytes));
	}
	bytes(): Buffer {
		return Buffer.concat(this.parts);
	}
}

let dir: string;
beforeAll(async () => {
	dir = await makeTempDir('cairn-archive-');
});
afterAll(async () => {
	await fs.rm(dir, {recursive: true, force: true});
});

describe('TarWriter', () => {
	it('writes what GNU tar lists and extracts: long and UTF-8 names, modes, times, symlinks, xattr records', async () => {
		const sink = new MemorySink();
		const tar = new TarWriter(sink);
		const long = `dir/${'x'.repeat(120)}/${'ü'.repeat(30)}.txt`;
		const t = 1_614_834_367_000_000_000n;
		await tar.addEntry({name: 'dir/', type: 'dir', mode: 0o750, uid: 1000, gid: 1000, uname: 'me', gname: 'me', size: 0, mtimeNs: t});
		await tar.addEntry({name: long, type: 'file', mode: 0o4755, uid: 1000, gid: 1000, uname: 'me', gname: 'me', size: 5, mtimeNs: t + 500_000_000n, extra: [['SCHILY.xattr.user.note', Buffer.from('hi')]]});
		await tar.writeData(Buffer.from('he'));
		await tar.writeData(Buffer.from('llo'));
		await tar.addEntry({name: 'dir/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtimeNs: t, linkname: 'x'.repeat(150)});
		await tar.close();
		const file = path.join(dir, 'a.tar');
		await fs.writeFile(file, sink.bytes());
		expect(sink.bytes().length % 512).toBe(0);
		const listing = await runProgram('tar', ['-tv', '--full-time', '--numeric-owner', '-f', file], {env: {...process.env, TZ: 'UTC'}});
		expect(listing).toContain('drwxr-x--- 1000/1000         0 2021-03-04 05:06:07 dir/');
		expect(listing).toContain(`-rwsr-xr-x 1000/1000         5 2021-03-04 05:06:07.5 ${long}`);
		expect(listing).toMatch(new RegExp(`lrwxrwxrwx 0/0 +0 2021-03-04 05:06:07 +dir/link -> ${'x'.repeat(150)}`));
		await fs.mkdir(path.join(dir, 'out'));
		await runProgram('tar', ['-xf', file, '-C', path.join(dir, 'out')]);
		expect(await fs.readFile(path.join(dir, 'out', long), 'utf8')).toBe('hello');
	});

	it('refuses more or less data than the entry\'s size', async () => {
		const tar = new TarWriter(new MemorySink());
		await tar.addEntry({name: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 2, mtimeNs: 0n});
		await expect(tar.writeData(Buffer.from('abc'))).rejects.toThrow(/more data/);
		await expect(tar.close()).rejects.toThrow(/not written/);
	});
});

function parseCentral(bytes: Buffer): Array<{name: string; crc: number; size: number; attrs: number; zip64: boolean}> {
	const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
	let count = bytes.readUInt16LE(eocd + 10);
	let offset = bytes.readUInt32LE(eocd + 16);
	if (offset === 0xffffffff) {
		const locator = eocd - 20;
		expect(bytes.readUInt32LE(locator)).toBe(0x07064b50);
		const record = bytes.length - 22 - 20 - 56;
		expect(bytes.readUInt32LE(record)).toBe(0x06064b50);
		count = Number(bytes.readBigUInt64LE(record + 32));
		offset = -1;
	}
	const out = [];
	let p = offset >= 0 ? offset : bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
	for (let i = 0; i < count; i++) {
		const nameLength = bytes.readUInt16LE(p + 28);
		const extraLength = bytes.readUInt16LE(p + 30);
		const extra = bytes.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
		const zip64 = extra.length >= 4 && extra.readUInt16LE(0) === 1;
		out.push({name: bytes.subarray(p + 46, p + 46 + nameLength).toString(), crc: bytes.readUInt32LE(p + 16), size: zip64 ? Number(extra.readBigUInt64LE(4)) : bytes.readUInt32LE(p + 24), attrs: bytes.readUInt32LE(p + 38), zip64});
		p += 46 + nameLength + extraLength;
	}
	return out;
}

const wall = {year: 2021, month: 3, day: 4, hour: 5, minute: 6, second: 7};

describe('ZipWriter', () => {
	it('stores entries with CRC-32, Unix modes and directories', async () => {
		const sink = new MemorySink();
		const zip = new ZipWriter(sink);
		const entry = (name: string, type: ZipEntry['type'], mode: number): ZipEntry => ({name, type, mode, mtimeSeconds: 1_614_834_367, wallClock: wall});
		await zip.addEntry(entry('d/', 'dir', 0o755), 0);
		await zip.addEntry(entry('d/f.txt', 'file', 0o640), 5);
		await zip.writeData(Buffer.from('hello'));
		await zip.addEntry(entry('d/ü-link', 'symlink', 0o777), 5);
		await zip.writeData(Buffer.from('f.txt'));
		await zip.close();
		const entries = parseCentral(sink.bytes());
		expect(entries.map((e) => [e.name, e.size, e.crc, (e.attrs >>> 16).toString(8)])).toEqual([
			['d/', 0, 0, '40755'], ['d/f.txt', 5, crc32('hello'), '100640'], ['d/ü-link', 5, crc32('f.txt'), '120777'],
		]);
	});

	it('switches to ZIP64 for an entry of 4 GiB and more, streaming it in pieces', async () => {
		const headers: Buffer[] = [];
		let total = 0;
		const sink: ByteSink = {async write(bytes) {
			total += bytes.length;
			if (bytes.length < 1024 * 1024) headers.push(Buffer.from(bytes));
		}};
		const zip = new ZipWriter(sink);
		const size = 2 ** 32 + 10;
		await zip.addEntry({name: 'huge.bin', type: 'file', mode: 0o644, mtimeSeconds: 0, wallClock: wall}, size);
		const piece = Buffer.alloc(64 * 1024 * 1024);
		let left = size;
		while (left > 0) {
			const n = Math.min(left, piece.length);
			await zip.writeData(n === piece.length ? piece : piece.subarray(0, n));
			left -= n;
		}
		await zip.addEntry({name: 'after.txt', type: 'file', mode: 0o644, mtimeSeconds: 0, wallClock: wall}, 2);
		await zip.writeData(Buffer.from('ok'));
		await zip.close();
		const tail = Buffer.concat(headers.slice(-8));
		const entries = parseCentral(tail);
		expect(entries[0]).toMatchObject({name: 'huge.bin', size, zip64: true});
		// The second entry starts beyond 4 GiB: its offset needs the ZIP64 field too.
		expect(entries[1]).toMatchObject({name: 'after.txt', size: 2, zip64: true});
		expect(total).toBeGreaterThan(size);
	}, 120_000);
});

describe('dumpArchive and resolveDumpPath', () => {
	it('resolves paths as restic does and streams a directory as tar', async () => {
		const repo = makeFakeRepo();
		const root = addTree(repo, {home: {me: {'a.txt': 'hello world', sub: {'b.txt': 'bee'}, link: {link: 'a.txt'}}}});
		expect(splitDumpPath('/')).toEqual(['']);
		expect(splitDumpPath('/home/./me/../me/a.txt')).toEqual(['home', 'me', 'a.txt']);
		const file = await resolveDumpPath(repo.load, root, '/home/me/a.txt');
		expect(file.kind).toBe('file');
		const chunks: Buffer[] = [];
		if (file.kind === 'file') await streamFileContent(file.node, async (id) => repo.blobs.get(id)!, async (b) => void chunks.push(Buffer.from(b)));
		expect(Buffer.concat(chunks).toString()).toBe('hello world');
		await expect(resolveDumpPath(repo.load, root, '/home/me/nope')).rejects.toThrow('path "/home/me/nope" not found in snapshot');
		await expect(resolveDumpPath(repo.load, root, '/home/me/a.txt/x')).rejects.toThrow('"/home/me/a.txt" should be a dir, but is a "file"');
		await expect(resolveDumpPath(repo.load, root, '/home/me/link')).rejects.toThrow('"/home/me/link" should be a file, but is a "symlink"');
		const target = await resolveDumpPath(repo.load, root, '/home/me');
		expect(target.kind).toBe('dir');
		const sink = new MemorySink();
		if (target.kind === 'dir') await dumpArchive(target.nodes, target.path, sink, {format: 'tar', loadTree: repo.load, loadBlob: async (id) => repo.blobs.get(id)!});
		const file2 = path.join(dir, 'dump.tar');
		await fs.writeFile(file2, sink.bytes());
		const names = (await runProgram('tar', ['-tf', file2])).trim().split('\n');
		expect(names).toEqual(['home/me/a.txt', 'home/me/link', 'home/me/sub/', 'home/me/sub/b.txt']);
	});
});
