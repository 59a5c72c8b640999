/**
 * Second pass of a check: compare the pack files in storage with the packs the index lists.
 * Sizes are compared with what the index implies (blobs + encrypted header + 4-byte length),
 * which finds truncated and padded packs without reading them.
 */
import {CIPHERTEXT_OVERHEAD} from '../crypto/cipher.js';
import {headerEntrySize, type PackedBlob} from '../format/pack.js';
import {formatPackFile, shortenId} from './describe.js';
import type {PackMap} from './index-files.js';
import type {CheckContext} from './types.js';

/** Bytes of the header-length field at the end of a pack. */
export const HEADER_LENGTH_FIELD = 4;

/** Size of the encrypted header of a pack holding these blobs. */
export function computeHeaderSize(blobs: readonly PackedBlob[]): number {
	let size = CIPHERTEXT_OVERHEAD;
	for (const blob of blobs) size += headerEntrySize(blob.uncompressedLength > 0);
	return size;
}

/** Size of a pack file holding exactly these blobs: blobs, encrypted header, header length. */
export function computePackSize(blobs: readonly PackedBlob[]): number {
	let size = computeHeaderSize(blobs) + HEADER_LENGTH_FIELD;
	for (const blob of blobs) size += blob.length;
	return size;
}

/**
 * Reports indexed packs missing from storage and packs of the wrong size (errors), and packs in
 * storage that no index lists (warnings: restic treats them as leftovers for prune).
 */
export function comparePackFiles(ctx: CheckContext, indexed: PackMap, stored: ReadonlyMap<string, number>): void {
	for (const pack of indexed.values()) {
		const file = formatPackFile(pack.packId);
		const size = stored.get(pack.packId);
		const listedBy = `listed by index ${pack.indexIds.map(shortenId).join(', ')}`;
		if (size === undefined) {
			ctx.report(file, `pack ${pack.packId} is in the index but missing from storage (${listedBy}); the blobs it held are lost unless another pack has them`);
			continue;
		}
		const expected = computePackSize(pack.blobs);
		if (size < expected) {
			ctx.report(file, `is truncated: the file has ${size} bytes, the index (${listedBy}) implies ${expected}`);
		} else if (size > expected) {
			ctx.report(file, `has an unexpected size: the file has ${size} bytes, the index (${listedBy}) implies ${expected}`);
		}
	}
	for (const packId of stored.keys()) {
		if (!indexed.has(packId)) {
			ctx.report(formatPackFile(packId), 'is not referenced by any index; `prune` removes it', 'warning');
		}
	}
}
