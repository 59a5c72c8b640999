/**
 * A ring of reusable memory for buffers that are released in the order they were taken, such as
 * chunks waiting in a pipeline. Taking and releasing allocate nothing, so a worker that moves a
 * gigabyte through it keeps the same few megabytes the whole time.
 */

interface Region {
	start: number;
	end: number;
}

/**
 * Contract: `take` returns a view of `size` bytes that stays the caller's until the matching
 * `release`; releases happen in the order of the takes (first taken, first released). `take`
 * returns undefined when the ring has no room now (release the oldest and try again), and
 * throws RangeError for a size larger than the ring.
 */
export class FifoArena {
	private readonly memory: Buffer;
	private readonly regions: Region[] = [];

	constructor(readonly capacity: number) {
		this.memory = Buffer.allocUnsafeSlow(capacity);
	}

	/** Number of regions taken and not yet released. */
	get taken(): number {
		return this.regions.length;
	}

	/** A view of `size` bytes, or undefined when it does not fit until older regions are released. */
	take(size: number): Buffer | undefined {
		if (size > this.capacity) throw new RangeError(`${size} bytes do not fit in a ${this.capacity}-byte ring`);
		const start = this.findRoom(size);
		if (start === undefined) return undefined;
		this.regions.push({start, end: start + size});
		return this.memory.subarray(start, start + size);
	}

	/** Gives back the oldest region. */
	release(): void {
		if (this.regions.length === 0) throw new Error('release without a region taken');
		this.regions.shift();
	}

	private findRoom(size: number): number | undefined {
		if (this.regions.length === 0) return 0;
		const oldest = this.regions[0]!.start;
		const newest = this.regions[this.regions.length - 1]!;
		if (newest.start >= oldest) {
			// Not wrapped: free space after the newest region, then before the oldest.
			if (this.capacity - newest.end >= size) return newest.end;
			return oldest >= size ? 0 : undefined;
		}
		// Wrapped: the only free space lies between the newest and the oldest region.
		return oldest - newest.end >= size ? newest.end : undefined;
	}
}
