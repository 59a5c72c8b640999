import {createHash, randomBytes} from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {openPackFile, PackBuilder, readPackFile, STAGING_BYTES} from '../../../engine/archiver/pack-builder.js';
import {generateMasterKey, openBytes} from '../../../engine/crypto/cipher.js';
import {decodePackHeader} from '../../../engine/format/pack.js';

const opened: number[] = [];
afterEach(() => {
	for (const fd of opened.splice(0)) fs.closeSync(fd);
});

function openFile(): number {
	const fd = openPackFile();
	opened.push(fd);
	return fd;
}

async function readWhole(fd: number, size: number): Promise<Buffer> {
	return Buffer.from(await readPackFile(fd, size, Buffer.alloc(size)));
}

describe('PackBuilder', () => {
	it('lays out blobs, header and header length as the format says, and names the pack by its SHA-256', async () => {
		const key = generateMasterKey();
		const builder = new PackBuilder(key, openFile(), Buffer.alloc(STAGING_BYTES));
		// Small blobs go through the staging buffer, one larger than it is written on its own,
		// and enough small ones to fill the staging buffer more than once.
		const bodies = [randomBytes(1000), randomBytes(1), randomBytes(STAGING_BYTES + 5000), ...Array.from({length: 40}, () => randomBytes(60_000))];
		const ids = bodies.map((body) => createHash('sha256').update(body).digest('hex'));
		bodies.forEach((body, i) => builder.add(ids[i]!, body, i === 1 ? 77 : 0));
		expect(builder.blobCount).toBe(bodies.length);
		const pack = builder.finish();
		const bytes = await readWhole(pack.fd, pack.size);
		expect(pack.id).toBe(createHash('sha256').update(bytes).digest('hex'));
		const headerLength = bytes.readUInt32LE(bytes.length - 4);
		const header = decodePackHeader(openBytes(key, bytes.subarray(bytes.length - 4 - headerLength, bytes.length - 4)));
		expect(header.map((blob) => blob.id)).toEqual(ids);
		expect(header.map((blob) => blob.uncompressedLength)).toEqual(bodies.map((_, i) => (i === 1 ? 77 : 0)));
		expect(pack.blobs).toEqual(header);
		for (const [i, blob] of header.entries()) {
			expect(openBytes(key, bytes.subarray(blob.offset, blob.offset + blob.length)).equals(bodies[i]!)).toBe(true);
		}
		expect(fs.fstatSync(pack.fd).size).toBe(pack.size);
	});

	it('reuses a file: the next pack replaces the last one from offset 0', async () => {
		const key = generateMasterKey();
		const fd = openFile();
		const staging = Buffer.alloc(STAGING_BYTES);
		const first = new PackBuilder(key, fd, staging);
		first.add('a'.repeat(64), randomBytes(200_000), 0);
		expect(first.finish().size).toBeGreaterThan(200_000);
		const second = new PackBuilder(key, fd, staging);
		const body = randomBytes(100);
		second.add(createHash('sha256').update(body).digest('hex'), body, 0);
		const pack = second.finish();
		expect(fs.fstatSync(fd).size).toBe(pack.size);
		const bytes = await readWhole(fd, pack.size);
		expect(createHash('sha256').update(bytes).digest('hex')).toBe(pack.id);
		expect(openBytes(key, bytes.subarray(0, pack.blobs[0]!.length)).equals(body)).toBe(true);
	});

	it('leaves no file behind in the temporary directory, and says what to do when it cannot create one', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pack-file-'));
		try {
			const fd = openPackFile(dir);
			opened.push(fd);
			expect(fs.readdirSync(dir)).toEqual([]);
			fs.writeSync(fd, Buffer.from('still readable'));
			expect(fs.fstatSync(fd).size).toBe(14);
			expect(() => openPackFile(path.join(dir, 'missing'))).toThrow(/cannot create a temporary file for packs in .*missing.*set TMPDIR/);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	it('rejects reading a pack file shorter than the pack', async () => {
		const fd = openFile();
		fs.writeSync(fd, Buffer.from('short'));
		await expect(readPackFile(fd, 10, Buffer.alloc(10))).rejects.toThrow(/ended after 5 of 10 bytes/);
	});
});
