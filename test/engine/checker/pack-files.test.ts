import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {computeHeaderSize, computePackSize} from '../../../engine/checker/pack-files.js';
import {generateMasterKey, sealBytes} from '../../../engine/crypto/cipher.js';
import type {PackedBlob} from '../../../engine/format/pack.js';
import {assemblePack} from '../../../engine/repository/pack-uploader.js';
import {hashHex} from '../../../engine/util/hash.js';

describe('computePackSize', () => {
	it('equals the size of an assembled pack with plain and compressed blobs', () => {
		const key = generateMasterKey();
		const parts: Buffer[] = [];
		const blobs: PackedBlob[] = [];
		let offset = 0;
		for (const [type, size, uncompressedLength] of [['data', 100, 0], ['data', 1000, 4000], ['tree', 10, 0]] as const) {
			const sealed = sealBytes(key, randomBytes(size));
			parts.push(sealed);
			blobs.push({type, id: hashHex(sealed), offset, length: sealed.length, uncompressedLength});
			offset += sealed.length;
		}
		const {bytes} = assemblePack(key, parts, blobs);
		expect(computePackSize(blobs)).toBe(bytes.length);
		// header: IV + MAC, 37 bytes per plain entry, 41 per compressed entry
		expect(computeHeaderSize(blobs)).toBe(32 + 37 + 41 + 37);
		expect(computePackSize([])).toBe(36);
	});
});
