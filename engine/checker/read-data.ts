/**
 * The read-data pass of a check: load whole packs and verify everything in them: the file's
 * SHA-256 against its name, the encrypted header against the index, and every blob the index
 * places in the pack (MAC, decompression, length and SHA-256 against the blob ID).
 */
import {isStorageError} from '../../adapters/storage.js';
import {openBytes} from '../crypto/cipher.js';
import {decodePackHeader, type PackedBlob} from '../format/pack.js';
import type {Repository} from '../repository/repository.js';
import {hashHex} from '../util/hash.js';
import {mapConcurrent} from '../util/concurrency.js';
import {describeError, formatPackFile} from './describe.js';
import type {IndexedPack} from './index-files.js';
import {HEADER_LENGTH_FIELD} from './pack-files.js';
import type {CheckContext} from './types.js';

/** Packs read at once: each is held in memory whole. */
const READ_CONCURRENCY = 4;

/** What verifying one pack found. */
export interface PackVerification {
	/** Each problem as a sentence about the pack; empty when the pack is sound. */
	problems: string[];
	/** Blobs decrypted and hashed. */
	blobsChecked: number;
	/** Bytes loaded (0 when the pack could not be read). */
	bytesRead: number;
}

function keyOf(blob: PackedBlob): string {
	return `${blob.type}:${blob.id}:${blob.offset}`;
}

/** Decrypts and parses the header at the end of a pack; returns its blobs and where it starts, or a problem. */
export function readPackHeader(repo: Repository, bytes: Uint8Array): {blobs: PackedBlob[]; start: number} | {problem: string; start?: number} {
	if (bytes.length < HEADER_LENGTH_FIELD) return {problem: `the file (${bytes.length} bytes) is too short to hold a pack header`};
	const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const headerLength = view.readUInt32LE(bytes.length - HEADER_LENGTH_FIELD);
	const start = bytes.length - HEADER_LENGTH_FIELD - headerLength;
	if (start < 0) return {problem: `the header length field says ${headerLength} bytes, but the file has only ${bytes.length}`};
	let plain: Buffer;
	try {
		plain = openBytes(repo.key, bytes.subarray(start, bytes.length - HEADER_LENGTH_FIELD));
	} catch (error) {
		return {problem: `the pack header cannot be decrypted: ${describeError(error)}`, start};
	}
	try {
		return {blobs: decodePackHeader(plain), start};
	} catch (error) {
		return {problem: `the pack header is malformed: ${describeError(error)}`, start};
	}
}

/** Compares the header's blob list with the index's; returns a problem per disagreement. */
export function compareHeaderWithIndex(header: readonly PackedBlob[], headerStart: number, indexed: readonly PackedBlob[]): string[] {
	const problems: string[] = [];
	const blobBytes = header.reduce((sum, blob) => sum + blob.length, 0);
	if (blobBytes !== headerStart) {
		problems.push(`the pack header describes ${blobBytes} bytes of blobs, but the header starts at byte ${headerStart}`);
	}
	const fromIndex = new Map(indexed.map((blob) => [keyOf(blob), blob]));
	const fromHeader = new Map(header.map((blob) => [keyOf(blob), blob]));
	for (const blob of header) {
		const match = fromIndex.get(keyOf(blob));
		if (!match) {
			problems.push(`${blob.type} blob ${blob.id} at offset ${blob.offset} is in the pack header but not in the index at that position`);
		} else if (match.length !== blob.length || match.uncompressedLength !== blob.uncompressedLength) {
			problems.push(`${blob.type} blob ${blob.id} at offset ${blob.offset}: the pack header says ${blob.length} bytes (${blob.uncompressedLength} uncompressed), the index ${match.length} (${match.uncompressedLength} uncompressed)`);
		}
	}
	for (const blob of indexed) {
		if (!fromHeader.has(keyOf(blob))) problems.push(`the index lists ${blob.type} blob ${blob.id} at offset ${blob.offset}, but the pack header does not`);
	}
	return problems;
}

/** Tells where the index's blobs overlap or leave gaps; restic treats both as damage. */
export function findIndexGaps(blobs: readonly PackedBlob[]): string | undefined {
	let end = 0;
	for (const blob of blobs) {
		if (blob.offset !== end) return `the index lists blobs with gaps or overlaps (${blob.type} blob ${blob.id} at offset ${blob.offset}, where byte ${end} was expected)`;
		end = blob.offset + blob.length;
	}
	return undefined;
}

/** Reads one pack whole and verifies it (see the module comment). */
export async function verifyPack(repo: Repository, pack: IndexedPack, signal?: AbortSignal): Promise<PackVerification> {
	const result: PackVerification = {problems: [], blobsChecked: 0, bytesRead: 0};
	const blobs = [...pack.blobs].sort((a, b) => a.offset - b.offset);
	if (blobs.length === 0) result.problems.push('the index lists no blobs for this pack');
	const gaps = findIndexGaps(blobs);
	if (gaps) result.problems.push(gaps);
	let bytes: Uint8Array;
	try {
		bytes = await repo.storage.load({type: 'data', name: pack.packId}, {signal});
	} catch (error) {
		if (signal?.aborted) throw error;
		const what = isStorageError(error, 'not-found') ? 'the pack is missing' : 'the pack cannot be read';
		result.problems.push(`${what}: ${describeError(error)}`);
		return result;
	}
	result.bytesRead = bytes.length;
	const hash = hashHex(bytes);
	if (hash !== pack.packId) result.problems.push(`the file's content does not match its name: its SHA-256 is ${hash}`);

	const header = readPackHeader(repo, bytes);
	const blobArea = header.start ?? bytes.length;
	if ('problem' in header) result.problems.push(header.problem);
	else result.problems.push(...compareHeaderWithIndex(header.blobs, header.start, blobs));

	for (const blob of blobs) {
		const end = blob.offset + blob.length;
		if (end > blobArea) {
			result.problems.push(`${blob.type} blob ${blob.id}: the index places it at bytes ${blob.offset}–${end}, past the ${blobArea} bytes of blob data in the pack`);
			continue;
		}
		result.blobsChecked++;
		try {
			await repo.decodeBlob(blob.type, blob.id, bytes.subarray(blob.offset, end), pack.packId, blob.uncompressedLength);
		} catch (error) {
			result.problems.push(`${describeError(error, `pack ${pack.packId}`)} (offset ${blob.offset}, ${blob.length} bytes)`);
		}
	}
	return result;
}

/**
 * Verifies packs, a few at a time. A pack that fails is read once more, as restic does, to tell
 * damage from a passing fault: when the second read is sound the first failure is a warning.
 * The totals count each pack once, whether or not it was read again.
 */
export async function readPacks(ctx: CheckContext, packs: readonly IndexedPack[]): Promise<{blobsChecked: number; bytesRead: number}> {
	const totals = {blobsChecked: 0, bytesRead: 0};
	await mapConcurrent(packs, Math.min(READ_CONCURRENCY, ctx.concurrency), async (pack) => {
		const file = formatPackFile(pack.packId);
		ctx.progress.currentFile = file;
		let result = await verifyPack(ctx.repo, pack, ctx.signal);
		const first = result;
		if (result.problems.length > 0) result = await verifyPack(ctx.repo, pack, ctx.signal);
		totals.blobsChecked += first.blobsChecked;
		totals.bytesRead += first.bytesRead;
		if (first.problems.length > 0 && result.problems.length === 0) {
			ctx.report(file, `failed the first read but passed the second, which suggests a passing fault: ${first.problems.join('; ')}`, 'warning');
		}
		for (const problem of result.problems) ctx.report(file, problem);
		ctx.progress.filesDone++;
		ctx.progress.bytesDone += first.bytesRead;
		ctx.progress.maybeEmit();
	});
	return totals;
}
