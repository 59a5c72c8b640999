/**
 * A compact table of blob locations keyed by 32-byte blob ID, for the in-memory index.
 *
 * Layout: entries are appended, in insertion order, to chunks of 65,536 entries (the first chunk
 * starts small and doubles up to that size). One entry is 12 uint32 words: the 32-byte ID as
 * 8 words, then pack number, offset, length and uncompressed length, so 48 bytes a blob, with no
 * JS object or string per blob. An open-addressing hash table with linear probing (`slots`, one
 * uint32 per slot: 0 when empty, else entry number + 1 and the rest of the ID's first word, see
 * `placeEntry`) finds entries; the home slot is taken from the ID's first 4 bytes, which are
 * uniformly distributed because IDs are SHA-256 hashes. The slot table is doubled when more than
 * 3/4 full, so it costs about 5.3 to 10.7 bytes a blob.
 */

/** Entries per full chunk (a power of two). */
const CHUNK_SHIFT = 16;
const CHUNK_ENTRIES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ENTRIES - 1;
/** Words per entry: 8 for the ID, then pack number, offset, length, uncompressed length. */
const STRIDE = 12;
const PACK = 8;
const OFFSET = 9;
const LENGTH = 10;
const UNCOMPRESSED = 11;
const FIRST_CHUNK_ENTRIES = 256;
const FIRST_SLOTS = 512;

/** Length of a blob ID in bytes. */
export const ID_BYTES = 32;

/** Nibble value of each byte value; 16 marks a byte that is not a lowercase hex digit. */
const NIBBLES = (() => {
	const table = new Uint8Array(256).fill(16);
	for (let digit = 0; digit < 16; digit++) table[digit.toString(16).charCodeAt(0)] = digit;
	return table;
})();

/**
 * Decodes a blob ID written as 64 lowercase hex digits into the first 32 bytes of `into`.
 * Returns false (leaving `into` partly written) for any other string, including uppercase hex,
 * so that exactly the strings `Buffer#toString('hex')` produces are accepted.
 */
export function decodeHexId(hex: string, into: Uint8Array): boolean {
	if (hex.length !== 64) return false;
	let codes = 0;
	let nibbles = 0;
	for (let byte = 0, char = 0; byte < ID_BYTES; byte++, char += 2) {
		const high = hex.charCodeAt(char);
		const low = hex.charCodeAt(char + 1);
		const a = NIBBLES[high & 255]!;
		const b = NIBBLES[low & 255]!;
		codes |= high | low;
		nibbles |= a | b;
		into[byte] = (a << 4) | b;
	}
	return codes < 128 && nibbles < 16;
}

/** Whether this machine stores a uint32's low byte first (then a word is 4 ID bytes in order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * As {@link decodeHexId}, into 8 words laid out in memory as the 32 bytes would be (so a
 * little-endian machine only): 8 digits make one word, with no byte stores. About a fifth faster.
 */
function decodeHexWords(hex: string, into: Uint32Array): boolean {
	if (hex.length !== 64) return false;
	let codes = 0;
	let nibbles = 0;
	for (let word = 0, char = 0; word < 8; word++, char += 8) {
		const c0 = hex.charCodeAt(char);
		const c1 = hex.charCodeAt(char + 1);
		const c2 = hex.charCodeAt(char + 2);
		const c3 = hex.charCodeAt(char + 3);
		const c4 = hex.charCodeAt(char + 4);
		const c5 = hex.charCodeAt(char + 5);
		const c6 = hex.charCodeAt(char + 6);
		const c7 = hex.charCodeAt(char + 7);
		codes |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7;
		const n0 = NIBBLES[c0 & 255]!;
		const n1 = NIBBLES[c1 & 255]!;
		const n2 = NIBBLES[c2 & 255]!;
		const n3 = NIBBLES[c3 & 255]!;
		const n4 = NIBBLES[c4 & 255]!;
		const n5 = NIBBLES[c5 & 255]!;
		const n6 = NIBBLES[c6 & 255]!;
		const n7 = NIBBLES[c7 & 255]!;
		nibbles |= n0 | n1 | n2 | n3 | n4 | n5 | n6 | n7;
		into[word] = ((n0 << 4) | n1) | ((n2 << 12) | (n3 << 8)) | ((n4 << 20) | (n5 << 16)) | ((n6 << 28) | (n7 << 24));
	}
	return codes < 128 && nibbles < 16;
}

/**
 * A set of blob IDs, each with four uint32 values (pack number, offset, length, uncompressed
 * length), that only grows. Contract: `insert*` keeps the first entry of an ID and reports false
 * for a repeat; entry numbers are dense (0 to `size` - 1), in insertion order, and never change;
 * the `*Of` accessors take an entry number below `size`. Not safe to share between threads; the
 * methods keep no state across calls apart from the table itself.
 */
export class BlobTable {
	private chunks: Uint32Array[] = [new Uint32Array(FIRST_CHUNK_ENTRIES * STRIDE)];
	/** A Buffer over each chunk, made when first needed, for turning IDs into hex. */
	private views: Array<Buffer | undefined> = [];
	private slots = new Uint32Array(FIRST_SLOTS);
	private mask = FIRST_SLOTS - 1;
	private used = 0;
	/** The ID being looked up or inserted, aligned so it can be compared a word at a time. */
	private readonly key = new Uint32Array(ID_BYTES / 4);
	private readonly keyBytes = new Uint8Array(this.key.buffer);

	/** Number of entries. */
	get size(): number {
		return this.used;
	}

	/** Bytes of typed arrays the table holds (entries, including unused capacity, and slots). */
	get allocatedBytes(): number {
		let bytes = this.slots.byteLength;
		for (const chunk of this.chunks) bytes += chunk.byteLength;
		return bytes;
	}

	/** The entry number of a hex ID, or -1 when absent or when `hex` is not 64 lowercase hex digits. */
	findHex(hex: string): number {
		if (!this.setKeyHex(hex)) return -1;
		return this.findKey();
	}

	/** The entry number of a binary ID (its first 32 bytes), or -1 when absent. */
	findBytes(id: Uint8Array): number {
		this.setKeyBytes(id);
		return this.findKey();
	}

	/**
	 * Adds a hex ID with its values unless present. Returns false when the ID was present (its
	 * values are kept) or is not 64 lowercase hex digits (nothing is added). Values must be
	 * integers in [0, 2^32).
	 */
	insertHex(hex: string, pack: number, offset: number, length: number, uncompressedLength: number): boolean {
		if (!this.setKeyHex(hex)) return false;
		return this.insertKey(pack, offset, length, uncompressedLength);
	}

	/** As {@link insertHex}, for a binary ID (its first 32 bytes). */
	insertBytes(id: Uint8Array, pack: number, offset: number, length: number, uncompressedLength: number): boolean {
		this.setKeyBytes(id);
		return this.insertKey(pack, offset, length, uncompressedLength);
	}

	packOf(entry: number): number {
		return this.chunks[entry >>> CHUNK_SHIFT]![(entry & CHUNK_MASK) * STRIDE + PACK]!;
	}

	offsetOf(entry: number): number {
		return this.chunks[entry >>> CHUNK_SHIFT]![(entry & CHUNK_MASK) * STRIDE + OFFSET]!;
	}

	lengthOf(entry: number): number {
		return this.chunks[entry >>> CHUNK_SHIFT]![(entry & CHUNK_MASK) * STRIDE + LENGTH]!;
	}

	uncompressedLengthOf(entry: number): number {
		return this.chunks[entry >>> CHUNK_SHIFT]![(entry & CHUNK_MASK) * STRIDE + UNCOMPRESSED]!;
	}

	/** The ID of an entry as 64 lowercase hex digits. */
	idHexOf(entry: number): string {
		const index = entry >>> CHUNK_SHIFT;
		let view = this.views[index];
		if (view === undefined) {
			const chunk = this.chunks[index]!;
			view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
			this.views[index] = view;
		}
		const start = (entry & CHUNK_MASK) * STRIDE * 4;
		return view.toString('hex', start, start + ID_BYTES);
	}

	private setKeyHex(hex: string): boolean {
		return LITTLE_ENDIAN ? decodeHexWords(hex, this.key) : decodeHexId(hex, this.keyBytes);
	}

	private setKeyBytes(id: Uint8Array): void {
		if (id.length < ID_BYTES) throw new RangeError(`a blob ID has ${ID_BYTES} bytes, got ${id.length}`);
		this.keyBytes.set(id.length === ID_BYTES ? id : id.subarray(0, ID_BYTES));
	}

	/** The entry number of `key`, or -1. */
	private findKey(): number {
		const key = this.key;
		const k0 = key[0]!;
		const slots = this.slots;
		const mask = this.mask;
		const tag = k0 & ~mask;
		for (let slot = k0 & mask; ; slot = (slot + 1) & mask) {
			const stored = slots[slot]!;
			if (stored === 0) return -1;
			if ((stored & ~mask) !== tag) continue;
			const entry = (stored & mask) - 1;
			const chunk = this.chunks[entry >>> CHUNK_SHIFT]!;
			const base = (entry & CHUNK_MASK) * STRIDE;
			if (chunk[base] === k0 && chunk[base + 1] === key[1] && chunk[base + 2] === key[2] && chunk[base + 3] === key[3]
				&& chunk[base + 4] === key[4] && chunk[base + 5] === key[5] && chunk[base + 6] === key[6] && chunk[base + 7] === key[7]) {
				return entry;
			}
		}
	}

	/** Adds `key` with its values unless present; false when present. */
	private insertKey(pack: number, offset: number, length: number, uncompressedLength: number): boolean {
		if ((this.used + 1) * 4 > this.slots.length * 3) this.growSlots();
		if (this.findKey() >= 0) return false;
		const entry = this.used;
		const chunk = this.chunkFor(entry);
		const base = (entry & CHUNK_MASK) * STRIDE;
		chunk.set(this.key, base);
		chunk[base + PACK] = pack;
		chunk[base + OFFSET] = offset;
		chunk[base + LENGTH] = length;
		chunk[base + UNCOMPRESSED] = uncompressedLength;
		this.placeEntry(this.slots, this.mask, this.key[0]!, entry);
		this.used = entry + 1;
		return true;
	}

	/**
	 * Puts an entry into the first free slot from its home slot on. A slot holds the entry number
	 * + 1 in its low bits (below `mask`, never 0, as entries < 3/4 of the slots) and, above them,
	 * the bits of the ID's first word that the home slot does not use, so most probes that cannot
	 * match are rejected without reading the entry.
	 */
	private placeEntry(slots: Uint32Array, mask: number, k0: number, entry: number): void {
		let slot = k0 & mask;
		while (slots[slot] !== 0) slot = (slot + 1) & mask;
		slots[slot] = (k0 & ~mask) | (entry + 1);
	}

	/** The chunk that entry number `entry` (the next one to add) goes into, growing storage as needed. */
	private chunkFor(entry: number): Uint32Array {
		const index = entry >>> CHUNK_SHIFT;
		if (index === this.chunks.length) {
			const chunk = new Uint32Array(CHUNK_ENTRIES * STRIDE);
			this.chunks.push(chunk);
			return chunk;
		}
		const chunk = this.chunks[index]!;
		if ((entry & CHUNK_MASK) * STRIDE < chunk.length) return chunk;
		// Only the first chunk is ever partial: double it, up to a full chunk.
		const grown = new Uint32Array(Math.min(chunk.length * 2, CHUNK_ENTRIES * STRIDE));
		grown.set(chunk);
		this.chunks[index] = grown;
		this.views[index] = undefined;
		return grown;
	}

	/** Doubles the slot table and re-inserts every entry. */
	private growSlots(): void {
		const slots = new Uint32Array(this.slots.length * 2);
		const mask = slots.length - 1;
		for (let entry = 0; entry < this.used; entry++) {
			this.placeEntry(slots, mask, this.chunks[entry >>> CHUNK_SHIFT]![(entry & CHUNK_MASK) * STRIDE]!, entry);
		}
		this.slots = slots;
		this.mask = mask;
	}
}
