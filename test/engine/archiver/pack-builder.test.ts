import {createHash, randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {PackBuilder} from '../../../engine/archiver/pack-builder.js';
import {generateMasterKey, openBytes} from '../../../engine/crypto/cipher.js';
import {decodePackHeader} from '../../../engine/format/pack.js';

describe('PackBuilder', () => {
	it('lays out blobs, header and header length as the format says, and names the pack by its SHA-256', () => {
		const key = generateMasterKey();
		const builder = new PackBuilder(key, new ArrayBuffer(64 * 1024));
		const bodies = [randomBytes(1000), randomBytes(1), randomBytes(5000)];
		const ids = bodies.map((body) => createHash('sha256').update(body).digest('hex'));
		bodies.forEach((body, i) => expect(builder.add(ids[i]!, body, i === 1 ? 77 : 0)).toBe(true));
		const pack = builder.finish();
		const bytes = Buffer.from(pack.buffer, 0, pack.size);
		expect(pack.id).toBe(createHash('sha256').update(bytes).digest('hex'));
		const headerLength = bytes.readUInt32LE(bytes.length - 4);
		const header = decodePackHeader(openBytes(key, bytes.subarray(bytes.length - 4 - headerLength, bytes.length - 4)));
		expect(header.map((blob) => blob.id)).toEqual(ids);
		expect(header.map((blob) => blob.uncompressedLength)).toEqual([0, 77, 0]);
		expect(pack.blobs).toEqual(header);
		for (const [i, blob] of header.entries()) {
			expect(openBytes(key, bytes.subarray(blob.offset, blob.offset + blob.length)).equals(bodies[i]!)).toBe(true);
		}
	});

	it('says a blob does not fit instead of overrunning its buffer, counting the header it would add', () => {
		const key = generateMasterKey();
		const builder = new PackBuilder(key, new ArrayBuffer(220));
		expect(builder.add('a'.repeat(64), randomBytes(100), 0)).toBe(true);
		// 132 bytes of blob and 32 + 4 + 37 of header take 205: another 1-byte blob (33 + 37) no longer fits.
		expect(builder.add('b'.repeat(64), randomBytes(1), 0)).toBe(false);
		expect(builder.blobCount).toBe(1);
		const pack = builder.finish();
		expect(pack.size).toBe(205);
	});
});
