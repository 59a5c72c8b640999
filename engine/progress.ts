/**
 * Progress events. The engine emits them; the CLI and the TUI render them.
 */

/** A snapshot of an operation's progress. Totals are undefined until known. */
export interface ProgressEvent {
	readonly kind: 'backup' | 'restore' | 'check';
	readonly filesDone: number;
	readonly filesTotal?: number;
	readonly bytesDone: number;
	readonly bytesTotal?: number;
	/** The file being worked on, if any. */
	readonly currentFile?: string;
	readonly errors: number;
	/** Seconds since the operation started. */
	readonly elapsed: number;
	/** Bytes per second over the operation so far. */
	readonly bytesPerSecond: number;
	/** Estimated seconds left, when totals are known. */
	readonly eta?: number;
}

/** A receiver of progress events. It must be cheap and must not throw. */
export type ProgressListener = (event: ProgressEvent) => void;

/**
 * Accumulates counters and emits throttled progress events (at most every `intervalMs`,
 * plus one final event).
 */
export class ProgressTracker {
	filesDone = 0;
	filesTotal: number | undefined;
	bytesDone = 0;
	bytesTotal: number | undefined;
	errors = 0;
	currentFile: string | undefined;
	private readonly started = performance.now();
	private lastEmit = 0;
	private timer: NodeJS.Timeout | undefined;

	constructor(
		private readonly kind: ProgressEvent['kind'],
		private readonly listener?: ProgressListener,
		private readonly intervalMs = 200,
	) {
		if (listener) {
			this.timer = setInterval(() => this.emit(), intervalMs);
			this.timer.unref();
		}
	}

	/** Builds the current event. */
	snapshot(): ProgressEvent {
		const elapsed = (performance.now() - this.started) / 1000;
		const bytesPerSecond = elapsed > 0 ? this.bytesDone / elapsed : 0;
		let eta: number | undefined;
		if (this.bytesTotal !== undefined && bytesPerSecond > 0) eta = Math.max(0, (this.bytesTotal - this.bytesDone) / bytesPerSecond);
		return {
			kind: this.kind,
			filesDone: this.filesDone,
			filesTotal: this.filesTotal,
			bytesDone: this.bytesDone,
			bytesTotal: this.bytesTotal,
			currentFile: this.currentFile,
			errors: this.errors,
			elapsed,
			bytesPerSecond,
			eta,
		};
	}

	/** Emits now if the interval has passed. */
	maybeEmit(): void {
		if (performance.now() - this.lastEmit >= this.intervalMs) this.emit();
	}

	/** Emits an event now. */
	emit(): void {
		if (!this.listener) return;
		this.lastEmit = performance.now();
		try {
			this.listener(this.snapshot());
		} catch {
			// a listener must never break the operation
		}
	}

	/** Stops the timer and emits a final event. */
	finish(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
		this.emit();
	}
}
