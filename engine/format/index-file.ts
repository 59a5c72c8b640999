/**
 * Index files: JSON listing packs and their blobs, plus the index files they supersede.
 */
import type {BlobType, PackedBlob} from './pack.js';
import {stringifyGoJson} from './json.js';

/** A decoded index file. */
export interface IndexFile {
	supersedes?: string[];
	packs: Array<{id: string; blobs: Array<{id: string; type: BlobType; offset: number; length: number; uncompressed_length?: number}>}>;
}

/** One pack and its blobs, the unit an index file lists. */
export interface PackEntry {
	packId: string;
	blobs: readonly PackedBlob[];
}

/** Encodes packs as an index file. */
export function encodeIndexFile(packs: readonly PackEntry[], supersedes: readonly string[] = []): Buffer {
	const doc: IndexFile = {packs: []};
	if (supersedes.length) doc.supersedes = [...supersedes];
	for (const pack of packs) {
		doc.packs.push({
			id: pack.packId,
			blobs: pack.blobs.map((b) => {
				const entry: IndexFile['packs'][number]['blobs'][number] = {id: b.id, type: b.type, offset: b.offset, length: b.length};
				if (b.uncompressedLength > 0) entry.uncompressed_length = b.uncompressedLength;
				return entry;
			}),
		});
	}
	return Buffer.from(stringifyGoJson(doc.supersedes ? {supersedes: doc.supersedes, packs: doc.packs} : {packs: doc.packs}), 'utf8');
}

/** Checks and converts a decoded index file into pack entries. */
export function decodeIndexFile(value: unknown, id: string): {packs: PackEntry[]; supersedes: string[]} {
	const doc = value as IndexFile;
	// Very old restic index files were a bare array of packs (index format v0).
	const packs = Array.isArray(value) ? (value as IndexFile['packs']) : doc?.packs;
	if (!Array.isArray(packs)) throw new Error(`index ${id.slice(0, 8)} has no pack list`);
	return {
		supersedes: Array.isArray(doc?.supersedes) ? doc.supersedes : [],
		packs: packs.map((p) => ({
			packId: p.id,
			blobs: (p.blobs ?? []).map((b) => ({id: b.id, type: b.type, offset: b.offset, length: b.length, uncompressedLength: b.uncompressed_length ?? 0})),
		})),
	};
}
