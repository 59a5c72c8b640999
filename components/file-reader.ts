/**
 * Random access to a file of a snapshot without reading all of it: the blob boundaries come from
 * the index (no data is read for them), and a read loads only the blobs that overlap the range
 * asked for, keeping the last few. A preview of a byte range of a 10 GiB file reads one or two
 * blobs.
 */
import type {TreeNode} from '../engine/format/tree.js';

/** Reads byte ranges of one file node. */
export class SnapshotFileReader {
	/** Start offset of each blob, plus the file's end. */
	private readonly starts: number[] = [0];
	private readonly kept = new Map<number, Promise<Uint8Array>>();
	/** Blobs loaded so far (for tests and the status line). */
	blobsLoaded = 0;

	/**
	 * @param blobSize plaintext size of a data blob from the index
	 * @param loadBlob loads a data blob's plaintext
	 */
	constructor(readonly node: TreeNode, blobSize: (id: string) => number | undefined, private readonly loadBlob: (id: string) => Promise<Uint8Array>, private readonly keep = 4) {
		for (const id of node.content ?? []) {
			const size = blobSize(id);
			if (size === undefined) throw new Error(`data blob ${id.slice(0, 8)} of ${node.name} is not in the index`);
			this.starts.push(this.starts.at(-1)! + size);
		}
	}

	/** The file's size as its blobs add up. */
	get size(): number {
		return this.starts.at(-1)!;
	}

	private blobAt(offset: number): number {
		let lo = 0;
		let hi = this.starts.length - 2;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (this.starts[mid]! <= offset) lo = mid;
			else hi = mid - 1;
		}
		return lo;
	}

	private load(index: number): Promise<Uint8Array> {
		let blob = this.kept.get(index);
		if (blob) {
			this.kept.delete(index);
			this.kept.set(index, blob);
			return blob;
		}
		this.blobsLoaded++;
		blob = this.loadBlob(this.node.content![index]!);
		blob.catch(() => this.kept.delete(index));
		this.kept.set(index, blob);
		while (this.kept.size > this.keep) this.kept.delete(this.kept.keys().next().value!);
		return blob;
	}

	/** Reads up to `length` bytes from `offset` (fewer at the end of the file). */
	async read(offset: number, length: number): Promise<Buffer> {
		const start = Math.max(0, Math.min(offset, this.size));
		const end = Math.min(this.size, start + Math.max(0, length));
		if (end <= start) return Buffer.alloc(0);
		const parts: Buffer[] = [];
		for (let index = this.blobAt(start); index < this.starts.length - 1 && this.starts[index]! < end; index++) {
			const blob = await this.load(index);
			const from = Math.max(0, start - this.starts[index]!);
			const to = Math.min(blob.length, end - this.starts[index]!);
			parts.push(Buffer.from(blob.buffer, blob.byteOffset + from, to - from));
		}
		return Buffer.concat(parts);
	}
}
