/**
 * The in-memory index: where every blob of the repository lives.
 */
import type {BlobType, PackedBlob} from '../format/pack.js';
import type {PackEntry} from '../format/index-file.js';

/** Where one blob is stored. */
export interface BlobLocation {
	packId: string;
	offset: number;
	length: number;
	/** 0 when stored uncompressed. */
	uncompressedLength: number;
}

/**
 * Maps (type, blob ID) to the pack holding it. A blob listed in several packs keeps its first
 * location. Contract: `add` is idempotent for the same pack.
 */
export class MasterIndex {
	private readonly data = new Map<string, BlobLocation>();
	private readonly trees = new Map<string, BlobLocation>();
	private readonly packs = new Map<string, number>();

	/** Adds every blob of one pack. */
	addPack(entry: PackEntry): void {
		if (!this.packs.has(entry.packId)) this.packs.set(entry.packId, entry.blobs.length);
		for (const blob of entry.blobs) this.addBlob(entry.packId, blob);
	}

	private addBlob(packId: string, blob: PackedBlob): void {
		const map = blob.type === 'tree' ? this.trees : this.data;
		if (map.has(blob.id)) return;
		map.set(blob.id, {packId, offset: blob.offset, length: blob.length, uncompressedLength: blob.uncompressedLength});
	}

	/** The location of a blob, or undefined when it is not indexed. */
	lookup(type: BlobType, id: string): BlobLocation | undefined {
		return (type === 'tree' ? this.trees : this.data).get(id);
	}

	has(type: BlobType, id: string): boolean {
		return (type === 'tree' ? this.trees : this.data).has(id);
	}

	/** Every pack ID the index mentions. */
	packIds(): IterableIterator<string> {
		return this.packs.keys();
	}

	hasPack(packId: string): boolean {
		return this.packs.has(packId);
	}

	/** Number of indexed blobs of each type. */
	count(): {data: number; tree: number; packs: number} {
		return {data: this.data.size, tree: this.trees.size, packs: this.packs.size};
	}

	/** Iterates every (type, id, location). */
	*entries(): IterableIterator<{type: BlobType; id: string; location: BlobLocation}> {
		for (const [id, location] of this.data) yield {type: 'data', id, location};
		for (const [id, location] of this.trees) yield {type: 'tree', id, location};
	}

	/** The plaintext size of a blob, when known. */
	blobSize(type: BlobType, id: string): number | undefined {
		const loc = this.lookup(type, id);
		if (!loc) return undefined;
		return loc.uncompressedLength || loc.length - 32;
	}
}
