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

	/** The ring's memory, for a reader that fills it in place (see {@link spaceAfter}, {@link claim}). */
	get bytes(): Buffer {
		return this.memory;
	}

	/**
	 * Where a reader that fills the ring in place starts: after the newest region, or at 0 when
	 * no region is taken (so that a ring that keeps emptying reuses the same first pages).
	 */
	head(): number {
		return this.regions.length === 0 ? 0 : this.regions[this.regions.length - 1]!.end;
	}

	/**
	 * Free bytes from `position` on, for a reader whose bytes at `position` lie outside every
	 * region taken (after the newest one): up to the oldest region when that lies ahead, else to
	 * the end of the ring.
	 */
	spaceAfter(position: number): number {
		const oldest = this.regions[0]?.start;
		return (oldest !== undefined && oldest >= position ? oldest : this.capacity) - position;
	}

	/**
	 * Free bytes at the start of the ring that a reader at `position` (after every region, not
	 * wrapped) may move its bytes to: up to the oldest region, the whole ring when none is taken,
	 * and none when the reader has wrapped already (regions lie ahead of it).
	 */
	spaceAtStart(position: number): number {
		const oldest = this.regions[0]?.start;
		if (oldest === undefined) return this.capacity;
		// Regions behind the reader start before it; one starting at (or after) the reader means
		// the reader has wrapped already and caught up with the oldest region.
		return oldest < position ? oldest : 0;
	}

	/**
	 * Takes `view` (a view of {@link bytes} that a reader filled at its place, right after the
	 * newest region or at the start of the ring when wrapping) as the newest region, released
	 * in turn like one from {@link take}.
	 */
	claim(view: Uint8Array): void {
		if (view.buffer !== this.memory.buffer) throw new RangeError('the view is not in this ring');
		const start = view.byteOffset - this.memory.byteOffset;
		this.regions.push({start, end: start + view.length});
	}

	/** Gives back the oldest region. */
	release(): void {
		if (this.regions.length === 0) throw new Error('release without a region taken');
		this.regions.shift();
	}

	private findRoom(size: number): number | undefined {
		// The same room a reader filling the ring in place has: after the newest region, else
		// (not wrapped) before the oldest.
		const at = this.head();
		if (this.spaceAfter(at) >= size) return at;
		return this.spaceAtStart(at) >= size ? 0 : undefined;
	}
}
