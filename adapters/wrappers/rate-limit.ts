/**
 * Bandwidth limits (`--limit-upload`, `--limit-download`, in KiB/s as restic's): a token bucket per
 * direction shared by every operation of the storage. The bucket starts empty and saves up at most
 * a tenth of a second of traffic while idle, so a transfer never runs ahead of the limit by more.
 *
 * The Storage interface moves whole buffers, so the wrapper paces whole operations: a save waits
 * until the bucket has paid for its bytes, then sends them; a ranged load is read in slices of
 * about a quarter second each, paced one by one; a load of unknown length is paid for after it
 * arrives. Over any stretch longer than one file, the rate is the limit; within one upload the
 * bytes go at the link's speed (smaller packs, `--pack-size`, make uploads smoother).
 */
import {throwIfAborted, type LoadOptions, type Storage} from '../storage.js';
import {sleep} from './shared.js';

/** Limits in KiB/s; undefined or 0 means unlimited. */
export interface RateLimits {
	uploadKiB?: number;
	downloadKiB?: number;
}

/** Seconds of traffic the bucket holds at most. */
const BURST_SECONDS = 0.1;
/** Seconds of traffic one slice of a ranged load carries. */
const SLICE_SECONDS = 0.25;
/** The smallest slice of a ranged load. */
const MIN_SLICE = 64 * 1024;

/** A token bucket of bytes that may go negative: a caller pays first, then waits off its debt. */
export class ByteBucket {
	private tokens = 0;
	private last: number;

	/** `rate` in bytes per second; `now` in milliseconds (for tests). */
	constructor(readonly rate: number, private readonly now: () => number = () => performance.now()) {
		this.last = now();
	}

	/** Takes `bytes` from the bucket and resolves when they are paid for. */
	async take(bytes: number, signal?: AbortSignal): Promise<void> {
		const wait = this.reserve(bytes);
		if (wait > 0) await sleep(wait, signal);
	}

	/** Takes `bytes` and returns the milliseconds to wait until they are paid for. */
	reserve(bytes: number): number {
		const now = this.now();
		this.tokens = Math.min(this.rate * BURST_SECONDS, this.tokens + ((now - this.last) / 1000) * this.rate);
		this.last = now;
		this.tokens -= bytes;
		return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
	}
}

/** Parses a limit in KiB/s from a flag or an environment variable; throws a message for anything but a positive number. */
export function parseRateLimit(text: string | undefined, name: string): number | undefined {
	if (text === undefined || text.trim() === '') return undefined;
	const value = Number(text.trim());
	if (!Number.isFinite(value) || value < 0) throw new Error(`invalid ${name} ${JSON.stringify(text)}: give a number of KiB/s, e.g. ${name} 1024 for 1 MiB/s (0 for no limit)`);
	return value === 0 ? undefined : value;
}

/** Wraps a Storage with the limits; returns it unchanged when neither is set. */
export function withRateLimits(storage: Storage, limits: RateLimits): Storage {
	const up = limits.uploadKiB ? new ByteBucket(limits.uploadKiB * 1024) : undefined;
	const down = limits.downloadKiB ? new ByteBucket(limits.downloadKiB * 1024) : undefined;
	if (!up && !down) return storage;
	const load = async (handle: Parameters<Storage['load']>[0], options?: LoadOptions): Promise<Uint8Array> => {
		if (!down) return storage.load(handle, options);
		throwIfAborted(options?.signal);
		const length = options?.length;
		if (length === undefined) {
			const data = await storage.load(handle, options);
			await down.take(data.byteLength, options?.signal);
			return data;
		}
		const slice = Math.max(MIN_SLICE, Math.round(down.rate * SLICE_SECONDS));
		if (length <= slice || !storage.capabilities.rangedLoad) {
			await down.take(length, options?.signal);
			return storage.load(handle, options);
		}
		const out = new Uint8Array(length);
		const start = options?.offset ?? 0;
		let done = 0;
		while (done < length) {
			const part = Math.min(slice, length - done);
			await down.take(part, options?.signal);
			const data = await storage.load(handle, {...options, offset: start + done, length: part});
			out.set(data, done);
			done += data.byteLength;
			if (data.byteLength < part) return out.subarray(0, done);
		}
		return out;
	};
	return {
		location: storage.location,
		capabilities: storage.capabilities,
		create: (options) => storage.create(options),
		save: async (handle, data, options) => {
			if (up) await up.take(data.byteLength, options?.signal);
			return storage.save(handle, data, options);
		},
		load,
		stat: (handle, options) => storage.stat(handle, options),
		list: (type, options) => storage.list(type, options),
		remove: (handle, options) => storage.remove(handle, options),
		close: () => storage.close(),
		// Optional abilities (see Storage) pass through unchanged.
		...(storage.thaw === undefined ? {} : {thaw: storage.thaw.bind(storage)}),
		...(storage.extendRetention === undefined ? {} : {extendRetention: storage.extendRetention.bind(storage)}),
		...(storage.storageConfig === undefined ? {} : {storageConfig: storage.storageConfig}),
	};
}
