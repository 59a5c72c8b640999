/**
 * The in-memory index: where every blob of the repository lives.
 *
 * Blobs are kept in one {@link BlobTable} per type (about 55 bytes a blob, no JS object per
 * blob); pack IDs are interned, so a blob stores a pack number. What the table cannot hold
 * exactly (an ID that is not 64 lowercase hex digits, or a value that is not an integer in
 * [0, 2^32), which only a damaged or foreign index file would list) goes to a plain Map, so
 * every index file still reads back as written.
 */
import type {BlobType, PackedBlob} from '../format/pack.js';
import type {PackEntry} from '../format/index-file.js';
import {BlobTable} from './blob-table.js';

/** Where one blob is stored. */
export interface BlobLocation {
	packId: string;
	offset: number;
	length: number;
	/** 0 when stored uncompressed. */
	uncompressedLength: number;
}

/** The blobs of one type: the compact table and the rare entries it cannot hold. */
interface TypeIndex {
	table: BlobTable;
	irregular: Map<string, BlobLocation>;
}

function isUint32(value: unknown): value is number {
	return typeof value === 'number' && value === value >>> 0;
}

/**
 * Maps (type, blob ID) to the pack holding it. A blob listed in several packs keeps its first
 * location. Contract: `add` is idempotent for the same pack. `lookup` returns a new object on
 * each call; its fields are copies, so changing it does not change the index.
 */
export class MasterIndex {
	private readonly data: TypeIndex = {table: new BlobTable(), irregular: new Map()};
	private readonly trees: TypeIndex = {table: new BlobTable(), irregular: new Map()};
	/** Pack ID → pack number (its position in `packNames`). */
	private readonly packs = new Map<string, number>();
	private readonly packNames: string[] = [];

	/** Adds every blob of one pack. */
	addPack(entry: PackEntry): void {
		let pack = this.packs.get(entry.packId);
		if (pack === undefined) {
			pack = this.packNames.length;
			this.packNames.push(entry.packId);
			this.packs.set(entry.packId, pack);
		}
		for (const blob of entry.blobs) this.addBlob(entry.packId, pack, blob);
	}

	private addBlob(packId: string, pack: number, blob: PackedBlob): void {
		const {table, irregular} = blob.type === 'tree' ? this.trees : this.data;
		const {id, offset, length, uncompressedLength} = blob;
		if (isUint32(offset) && isUint32(length) && isUint32(uncompressedLength) && typeof id === 'string') {
			if (irregular.size > 0 && irregular.has(id)) return;
			if (table.insertHex(id, pack, offset, length, uncompressedLength)) return;
			if (table.findHex(id) >= 0) return;
		} else if (typeof id === 'string' && table.findHex(id) >= 0) {
			return;
		}
		if (!irregular.has(id)) irregular.set(id, {packId, offset, length, uncompressedLength});
	}

	/** The location of a blob, or undefined when it is not indexed. */
	lookup(type: BlobType, id: string): BlobLocation | undefined {
		const {table, irregular} = type === 'tree' ? this.trees : this.data;
		const entry = table.findHex(id);
		if (entry >= 0) return this.locationOf(table, entry);
		return irregular.size === 0 ? undefined : irregular.get(id);
	}

	has(type: BlobType, id: string): boolean {
		const {table, irregular} = type === 'tree' ? this.trees : this.data;
		return table.findHex(id) >= 0 || (irregular.size > 0 && irregular.has(id));
	}

	/** As {@link lookup}, for a binary blob ID (the 32 bytes of the SHA-256, not hex). */
	lookupBinary(type: BlobType, id: Uint8Array): BlobLocation | undefined {
		const {table, irregular} = type === 'tree' ? this.trees : this.data;
		const entry = table.findBytes(id);
		if (entry >= 0) return this.locationOf(table, entry);
		return irregular.size === 0 ? undefined : irregular.get(Buffer.from(id.buffer, id.byteOffset, 32).toString('hex'));
	}

	/** As {@link has}, for a binary blob ID (the 32 bytes of the SHA-256, not hex). */
	hasBinary(type: BlobType, id: Uint8Array): boolean {
		const {table, irregular} = type === 'tree' ? this.trees : this.data;
		if (table.findBytes(id) >= 0) return true;
		return irregular.size > 0 && irregular.has(Buffer.from(id.buffer, id.byteOffset, 32).toString('hex'));
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
		return {
			data: this.data.table.size + this.data.irregular.size,
			tree: this.trees.table.size + this.trees.irregular.size,
			packs: this.packs.size,
		};
	}

	/** Iterates every (type, id, location): data blobs, then tree blobs. */
	*entries(): IterableIterator<{type: BlobType; id: string; location: BlobLocation}> {
		for (const [type, {table, irregular}] of [['data', this.data], ['tree', this.trees]] as const) {
			for (let entry = 0; entry < table.size; entry++) yield {type, id: table.idHexOf(entry), location: this.locationOf(table, entry)};
			for (const [id, location] of irregular) yield {type, id, location};
		}
	}

	/** The plaintext size of a blob, when known. */
	blobSize(type: BlobType, id: string): number | undefined {
		const {table} = type === 'tree' ? this.trees : this.data;
		const entry = table.findHex(id);
		if (entry >= 0) return table.uncompressedLengthOf(entry) || table.lengthOf(entry) - 32;
		const loc = this.lookup(type, id);
		if (!loc) return undefined;
		return loc.uncompressedLength || loc.length - 32;
	}

	private locationOf(table: BlobTable, entry: number): BlobLocation {
		return {
			packId: this.packNames[table.packOf(entry)]!,
			offset: table.offsetOf(entry),
			length: table.lengthOf(entry),
			uncompressedLength: table.uncompressedLengthOf(entry),
		};
	}
}
