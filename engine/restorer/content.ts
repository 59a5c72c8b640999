/**
 * Writing the contents of regular files, pack by pack.
 *
 * Every data blob the files need is looked up first and grouped by pack; packs are then read in
 * the order the files first need them, each in a few large ranges (neighbouring blobs together),
 * with bounded bytes, jobs and open descriptors in flight. Each range goes to a codec worker,
 * which verifies and decodes the blobs and writes them straight into the files with positioned
 * writes, so no plaintext crosses threads and nothing is read twice.
 *
 * A file is written under a temporary name in its directory and renamed into place once complete,
 * with its owner, mode and times already set, so a file under its final name is always complete.
 * A file whose pieces all lie in one job (most files) is created, written, completed and renamed
 * by the worker itself, which spreads the file-system calls over the workers; a file spanning
 * several jobs is created and completed here and held open meanwhile (beyond the descriptor limit,
 * idle ones are closed and reopened). All-zero blobs are left as holes. A file that fails (damaged
 * blob, unreadable pack, write error) is removed and reported; the others go on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {randomBytes} from 'node:crypto';
import type {TreeNode} from '../format/tree.js';
import {CancelledError} from '../errors.js';
import {goModeToUnixPermissions} from '../format/mode.js';
import {parseGoTime} from '../format/time.js';
import type {Repository} from '../repository/repository.js';
import type {BlobLocation} from '../repository/master-index.js';
import {setFdTimes, writeXattrs, type XattrWriteProblem} from '../util/file-metadata.js';
import {findMemoryBudget} from '../util/memory-budget.js';
import {MallocTrimmer} from './malloc-trim.js';
import type {BlobCodecPool, WriteBlob, WriteFile, WriteReport} from '../repository/codec-pool.js';

/** A regular file to write: where it goes and its snapshot node. */
export interface ContentFile {
	readonly rel: string;
	/** Absolute final path (already checked to lie inside the target). */
	readonly dest: string;
	readonly node: TreeNode;
	/**
	 * True when the file's directory was created by this restore and is not setgid: a new file
	 * there gets the restoring process's owner and group.
	 */
	readonly plainDirectory?: boolean;
}

/** How the writer reports what happens to each file. */
export interface ContentEvents {
	/** The file is complete under its final name. */
	onRestored(file: ContentFile): void;
	/** The file could not be restored; nothing of it is left behind. */
	onFailed(file: ContentFile, message: string): void;
	/** Plaintext bytes written (or left as holes) since the last call. */
	onBytes(bytes: number): void;
	/** A file is being worked on. */
	onCurrent?(file: ContentFile): void;
	/** An extended attribute of a restored file could not be set (the file is restored all the same). */
	onXattrProblem?(file: ContentFile, problem: XattrWriteProblem): void;
}

/** Limits of the writer; the defaults suit local disks and object stores alike. */
export interface ContentLimits {
	/** Largest single read from a pack (a larger single blob is read whole). */
	readonly maxRange: number;
	/** Unneeded bytes between two needed blobs that are still read rather than split into two reads. */
	readonly maxGap: number;
	/** Bytes of packs being read or decoded at once. */
	readonly maxBytesInFlight: number;
	/**
	 * Bytes of packs being read or decoded at once while the reads are of large blobs (see
	 * {@link ContentLimits.largeBlobBytes}); the lower of this and `maxBytesInFlight` applies to them.
	 */
	readonly maxLargeBytesInFlight: number;
	/**
	 * Mean stored size of the blobs of a read from which it counts as a read of large blobs (large
	 * files: chunks of about 1 MiB). Each such blob is decrypted, decompressed and hashed in buffers of
	 * its own size in the decoding workers and libuv's pool, so a read in flight costs several times
	 * its size in memory; for small blobs it costs about its size.
	 */
	readonly largeBlobBytes: number;
	/** Reads (decode jobs) at once (by default also bounded by the decoding workers: {@link findJobLimit}). */
	readonly maxJobs: number;
	/** Files open at once (files waiting for later packs are closed and reopened beyond this). */
	readonly maxOpenFiles: number;
	/**
	 * Files one job writes into. Each job is one read from the pack, so on a link with latency this
	 * sets the round trips for a pack of small files (256: a 12 MiB pack of 2,000 small files in
	 * about 8 reads instead of 31; the open-files limit still bounds the jobs in flight).
	 */
	readonly maxFilesPerJob: number;
}

/** Limits on a machine with enough memory; `maxBytesInFlight` follows the memory budget (memory-budget.ts). */
export const DEFAULT_CONTENT_LIMITS: ContentLimits = {
	maxRange: 4 * 1024 * 1024,
	maxGap: 1024 * 1024,
	maxBytesInFlight: 16 * 1024 * 1024,
	maxLargeBytesInFlight: 8 * 1024 * 1024,
	largeBlobBytes: 256 * 1024,
	maxJobs: 4,
	maxOpenFiles: 512,
	maxFilesPerJob: 256,
};

/**
 * Reads in flight for `workers` decoding workers: two per worker (one being decoded while the
 * next is read), at most {@link DEFAULT_CONTENT_LIMITS}' four. On one core (one worker) two: more
 * only queue at the worker, holding their buffers meanwhile.
 */
export function findJobLimit(workers: number): number {
	return Math.min(DEFAULT_CONTENT_LIMITS.maxJobs, 2 * Math.max(1, workers));
}

/** One place a blob's plaintext goes. */
interface Piece {
	readonly id: string;
	readonly location: BlobLocation;
	readonly file: number;
	readonly position: number;
	readonly size: number;
}

interface FileState {
	readonly entry: ContentFile;
	readonly size: number;
	temp?: string;
	/** Descriptor held by this thread (files written by several jobs). */
	fd?: number;
	/** Pieces not yet written, dropped or failed. */
	remaining: number;
	/** Jobs in flight (or being prepared) that write into the file: its descriptor must stay open until they end. */
	inflight: number;
	hole: boolean;
	failure?: string;
	/** Set when a failure must not be reported (cancellation). */
	quiet?: boolean;
	done: boolean;
	/** Last use, for closing idle descriptors. */
	used: number;
}

/** What a cancelled restore says. */
export const CANCELLED_MESSAGE = 'restore cancelled: files restored so far are complete; no partial file was left';

/**
 * Writes the contents of `files`. Resolves when every file is restored or reported as failed;
 * rejects only when `signal` fires (with a CancelledError, after removing every unfinished
 * temporary file) or on an unexpected internal error (after the same clean-up).
 */
export async function writeFileContents(repo: Repository, codecs: BlobCodecPool, files: readonly ContentFile[], events: ContentEvents, options: ContentWriteOptions = {}): Promise<void> {
	const budget = {maxBytesInFlight: findMemoryBudget().restoreBytesInFlight, maxJobs: findJobLimit(codecs.size)};
	const writer = new ContentWriter(repo, codecs, events, {...DEFAULT_CONTENT_LIMITS, ...budget, ...options.limits}, options.signal, options.flow);
	await writer.run(files, options.onDispatched);
}

/** Options of {@link writeFileContents}. */
export interface ContentWriteOptions {
	signal?: AbortSignal;
	limits?: Partial<ContentLimits>;
	/**
	 * Called once every read has been started (only the last jobs are still running), so that a
	 * caller can start the next batch of files meanwhile instead of letting the workers idle.
	 */
	onDispatched?: () => void;
	/**
	 * Reads in flight shared with other writers (one batch starting while the last drains): the
	 * byte and job limits then hold for all of them together.
	 */
	flow?: ContentFlow;
}

/** Jobs and bytes of reads in flight, shared by the writers of one restore; a finished job wakes every waiter. */
export class ContentFlow {
	jobs = 0;
	bytes = 0;
	private waiting: Array<() => void> = [];

	/** `trimmer` returns freed memory to the system as packs are restored (see malloc-trim.ts). */
	constructor(readonly trimmer = new MallocTrimmer()) {}

	/** Resolves when some job (of any writer) has finished. */
	wait(): Promise<void> {
		return new Promise((resolve) => this.waiting.push(resolve));
	}

	notify(): void {
		const waiting = this.waiting;
		this.waiting = [];
		for (const resolve of waiting) resolve();
	}
}

/** Writes the contents of a list of files; see {@link writeFileContents}. */
class ContentWriter {
	private readonly states: FileState[] = [];
	private readonly jobs = new Set<Promise<void>>();
	private readonly flow: ContentFlow;
	/** Descriptors open for the restore: held here, or by a worker for a whole file in a job. */
	private openFiles = 0;
	private readonly held = new Set<FileState>();
	private clock = 0;
	private readonly tempPrefix = `.cairn-restore-${randomBytes(4).toString('hex')}-`;
	private tempCounter = 0;
	private readonly asRoot = process.getuid?.() === 0;
	private readonly uid = process.geteuid?.() ?? -1;
	private readonly gid = process.getegid?.() ?? -1;
	/** Bits the umask removes from new files (read once; setting it is not done here). */
	private readonly umask = process.umask();

	constructor(
		private readonly repo: Repository,
		private readonly codecs: BlobCodecPool,
		private readonly events: ContentEvents,
		private readonly limits: ContentLimits,
		private readonly signal?: AbortSignal,
		flow?: ContentFlow,
	) {
		this.flow = flow ?? new ContentFlow();
	}

	async run(files: readonly ContentFile[], onDispatched?: () => void): Promise<void> {
		try {
			const {packs, empty} = this.plan(files);
			for (let start = 0; start < empty.length; start += this.limits.maxFilesPerJob) {
				const batch = empty.slice(start, start + this.limits.maxFilesPerJob);
				await this.waitForRoom(0, batch.length);
				this.dispatch(undefined, [], new Map(batch.map((file) => [file, 0])));
			}
			for (const [packId, pieces] of packs) await this.restorePack(packId, pieces);
			onDispatched?.();
			await this.drain();
		} catch (error) {
			await this.drain();
			for (const state of this.states) {
				if (state.done) continue;
				state.failure ??= 'cancelled';
				state.quiet = true;
				this.finish(state);
			}
			throw error;
		}
	}

	/** Looks up every blob and groups the pieces by pack; files with missing blobs or inconsistent sizes fail here. */
	private plan(files: readonly ContentFile[]): {packs: Map<string, Piece[]>; empty: number[]} {
		const packs = new Map<string, Piece[]>();
		const empty: number[] = [];
		for (const entry of files) {
			const file = this.states.length;
			const state: FileState = {entry, size: entry.node.size ?? 0, remaining: 0, inflight: 0, hole: false, done: false, used: 0};
			this.states.push(state);
			const pieces: Piece[] = [];
			let position = 0;
			for (const id of entry.node.content ?? []) {
				const location = this.repo.index.lookup('data', id);
				if (!location) {
					state.failure = `data blob ${id} is missing from the index; the file cannot be restored (run \`cairn check\`)`;
					break;
				}
				const size = location.uncompressedLength || location.length - 32;
				pieces.push({id, location, file, position, size});
				position += size;
			}
			if (state.failure === undefined && entry.node.size !== undefined && position !== entry.node.size) {
				state.failure = `its blobs hold ${position} bytes but the snapshot records a size of ${entry.node.size}`;
			}
			if (state.failure !== undefined) {
				this.finish(state);
				continue;
			}
			state.remaining = pieces.length;
			if (pieces.length === 0) empty.push(file);
			for (const piece of pieces) {
				let list = packs.get(piece.location.packId);
				if (!list) packs.set(piece.location.packId, (list = []));
				list.push(piece);
			}
		}
		return {packs, empty};
	}

	private async restorePack(packId: string, pieces: Piece[]): Promise<void> {
		const live = this.dropDead(pieces);
		live.sort((a, b) => a.location.offset - b.location.offset);
		for (const range of this.splitRanges(live)) {
			let rest = range;
			while (rest.length > 0) {
				await this.waitForRoom(spanOf(rest).length, 0, this.isLarge(rest));
				const {pieces: chosen, touched, left} = this.select(rest);
				if (chosen.length > 0) this.dispatch(packId, chosen, touched);
				else if (left.length > 0) await this.waitForJob();
				rest = left;
			}
		}
	}

	/** Whether the pieces (sorted by offset) are of large blobs: see {@link ContentLimits.largeBlobBytes}. */
	private isLarge(pieces: readonly Piece[]): boolean {
		let blobs = 0;
		let bytes = 0;
		let last = -1;
		for (const piece of pieces) {
			if (piece.location.offset === last) continue; // the same blob for another file
			last = piece.location.offset;
			blobs++;
			bytes += piece.location.length;
		}
		return blobs > 0 && bytes / blobs >= this.limits.largeBlobBytes;
	}

	/**
	 * Waits until a job of `length` bytes and `files` new descriptors may start (`large`: a read of
	 * large blobs, held to the lower byte limit); throws when cancelled.
	 */
	private async waitForRoom(length: number, files: number, large = false): Promise<void> {
		this.throwIfStopped();
		const flow = this.flow;
		const maxBytes = large ? Math.min(this.limits.maxBytesInFlight, this.limits.maxLargeBytesInFlight) : this.limits.maxBytesInFlight;
		while (flow.jobs > 0 && (flow.jobs >= this.limits.maxJobs || flow.bytes + length > maxBytes || this.openFiles + files > this.limits.maxOpenFiles)) {
			await this.waitForJob();
		}
		this.throwIfStopped();
	}

	/** Keeps the pieces of files still being written; the others are settled (dropped). */
	private dropDead(pieces: Piece[]): Piece[] {
		const live: Piece[] = [];
		for (const piece of pieces) {
			const state = this.states[piece.file]!;
			if (state.failure === undefined) live.push(piece);
			else {
				state.remaining--;
				this.finish(state);
			}
		}
		return live;
	}

	/** Splits pieces sorted by offset into reads of neighbouring blobs. */
	private splitRanges(pieces: Piece[]): Piece[][] {
		const ranges: Piece[][] = [];
		let current: Piece[] = [];
		let start = 0;
		let end = 0;
		for (const piece of pieces) {
			const {offset, length} = piece.location;
			const fits = current.length > 0 && offset - end <= this.limits.maxGap && Math.max(end, offset + length) - start <= this.limits.maxRange;
			if (current.length > 0 && (offset < end || fits)) {
				current.push(piece);
				end = Math.max(end, offset + length);
				continue;
			}
			if (current.length > 0) ranges.push(current);
			current = [piece];
			start = offset;
			end = offset + length;
		}
		if (current.length > 0) ranges.push(current);
		return ranges;
	}

	/**
	 * Picks the pieces of a range for one job: pieces of failed files are dropped, and the job stops
	 * at the limit of files per job or of open descriptors; the rest is `left` for the next job.
	 */
	private select(range: Piece[]): {pieces: Piece[]; touched: Map<number, number>; left: Piece[]} {
		const pieces: Piece[] = [];
		const touched = new Map<number, number>();
		let newFds = 0;
		for (const [index, piece] of range.entries()) {
			const state = this.states[piece.file]!;
			const count = touched.get(piece.file);
			if (count === undefined) {
				if (state.failure !== undefined) {
					state.remaining--;
					this.finish(state);
					continue;
				}
				if (touched.size >= this.limits.maxFilesPerJob) return {pieces, touched, left: range.slice(index)};
				if (state.fd === undefined) {
					while (this.openFiles + newFds >= this.limits.maxOpenFiles && this.closeIdle());
					if (this.openFiles + newFds >= this.limits.maxOpenFiles && (pieces.length > 0 || this.jobs.size > 0)) {
						return {pieces, touched, left: range.slice(index)};
					}
					newFds++;
				}
			}
			touched.set(piece.file, (count ?? 0) + 1);
			pieces.push(piece);
		}
		return {pieces, touched, left: []};
	}

	/**
	 * Starts a job for the chosen pieces (or, without a pack, for empty files): a file whose every
	 * remaining piece is in the job is created and completed by the worker; others are held open here.
	 */
	private dispatch(packId: string | undefined, chosen: Piece[], touched: Map<number, number>): void {
		const files: WriteFile[] = [];
		const whole = new Set<number>();
		let pieces = chosen;
		for (const [file, count] of touched) {
			const state = this.states[file]!;
			state.inflight++;
			state.used = ++this.clock;
			if (state.temp === undefined && count === state.remaining) {
				state.temp = this.nextTemp(state);
				whole.add(file);
				this.openFiles++;
				const {node} = state.entry;
				files.push({file, whole: {
					temp: state.temp, dest: state.entry.dest, size: state.size, ...this.findModes(node),
					owner: this.needsChown(state.entry) ? {uid: node.uid, gid: node.gid} : undefined,
					atimeNs: parseNodeTime(node.atime), mtimeNs: parseNodeTime(node.mtime),
					...(node.extended_attributes?.length ? {xattrs: node.extended_attributes, xattrsAsRoot: this.asRoot} : {}),
				}});
				continue;
			}
			if (state.fd === undefined) this.open(state);
			if (state.fd !== undefined) {
				files.push({file, fd: state.fd});
				continue;
			}
			// could not be opened: its pieces leave the job
			pieces = pieces.filter((piece) => piece.file !== file);
			touched.delete(file);
			state.inflight--;
			state.remaining -= count;
			this.finish(state);
		}
		if (files.length === 0) return;
		let blobs: WriteBlob[] = [];
		let offset = 0;
		let length = 0;
		if (pieces.length > 0) {
			({offset, length} = spanOf(pieces));
			blobs = [];
			for (const piece of pieces) {
				const last = blobs.at(-1);
				const start = piece.location.offset - offset;
				if (last && last.start === start && last.id === piece.id) last.targets.push(piece.file, piece.position);
				else blobs.push({id: piece.id, start, length: piece.location.length, uncompressedLength: piece.location.uncompressedLength, targets: [piece.file, piece.position]});
			}
		}
		this.flow.bytes += length;
		this.flow.jobs++;
		const job = this.runJob(pieces.length > 0 ? packId : undefined, offset, length, files, blobs, pieces, touched, whole).finally(() => {
			this.flow.bytes -= length;
			this.flow.jobs--;
			this.flow.trimmer.note(length);
			this.jobs.delete(job);
			this.flow.notify();
		});
		this.jobs.add(job);
	}

	private async runJob(packId: string | undefined, offset: number, length: number, files: WriteFile[], blobs: WriteBlob[], pieces: Piece[], touched: Map<number, number>, whole: Set<number>): Promise<void> {
		let report: WriteReport | undefined;
		let failure: string | undefined;
		try {
			let raw: Uint8Array | undefined;
			if (packId !== undefined) {
				try {
					raw = await this.repo.storage.load({type: 'data', name: packId}, {offset, length, signal: this.signal});
				} catch (error) {
					throw new Error(`cannot read pack ${packId}: ${(error as Error).message}`, {cause: error});
				}
			}
			report = await this.codecs.write(packId ?? '', raw, files, blobs);
		} catch (error) {
			failure = (error as Error).message;
		}
		const quiet = this.signal?.aborted === true;
		const failed = new Set<number>();
		for (const item of report?.failures ?? []) {
			failed.add(item.file);
			this.states[item.file]!.failure ??= item.code === undefined ? item.message : describeWriteError({code: item.code, message: item.message} as NodeJS.ErrnoException);
		}
		for (const file of report?.holes ?? []) this.states[file]!.hole = true;
		for (const problem of report?.xattrProblems ?? []) this.events.onXattrProblem?.(this.states[problem.file]!.entry, problem);
		const completed = new Set(report?.completed ?? []);
		if (failure === undefined) {
			let bytes = 0;
			for (const piece of pieces) if (!failed.has(piece.file) && this.states[piece.file]!.failure === undefined) bytes += piece.size;
			if (bytes > 0) this.events.onBytes(bytes);
		}
		for (const [file, count] of touched) {
			const state = this.states[file]!;
			state.inflight--;
			state.remaining -= count;
			if (whole.has(file)) {
				this.openFiles--;
				if (completed.has(file)) {
					state.done = true;
					state.temp = undefined;
					this.events.onRestored(state.entry);
					continue;
				}
				state.failure ??= failure ?? 'internal error: a decoding worker neither completed the file nor said why';
			}
			if (failure !== undefined) state.failure ??= failure;
			if (quiet && state.failure !== undefined) state.quiet = true;
			this.finish(state);
		}
	}

	/**
	 * The mode a worker creates a whole file with, and the mode it sets afterwards if that is still
	 * needed: plain permissions that the umask leaves alone are given at creation (one call less);
	 * setuid, setgid and sticky bits are set after the owner, which would clear them.
	 */
	private findModes(node: TreeNode): {createMode: number; mode?: number} {
		if (node.mode === undefined) return {createMode: 0o600};
		const mode = goModeToUnixPermissions(node.mode);
		// Extended attributes are set before the mode: user.* needs a writable file.
		if (node.extended_attributes?.length && !this.asRoot) return {createMode: 0o600, mode};
		if ((mode & ~0o777) === 0 && (mode & this.umask) === 0) return {createMode: mode};
		return {createMode: 0o600, mode};
	}

	/**
	 * Whether the owner must be set (only as root): not when the file is new in a plain directory
	 * (see {@link ContentFile.plainDirectory}) and the snapshot's owner is the one it got at creation.
	 */
	private needsChown(entry: ContentFile): boolean {
		if (!this.asRoot) return false;
		return !(entry.plainDirectory === true && entry.node.uid === this.uid && entry.node.gid === this.gid);
	}

	/** A new temporary name beside the file's final name. */
	private nextTemp(state: FileState): string {
		this.events.onCurrent?.(state.entry);
		return path.join(path.dirname(state.entry.dest), `${this.tempPrefix}${(this.tempCounter++).toString(36)}`);
	}

	/** Creates the temporary file (or reopens it) and holds it open; on failure sets the file's failure. */
	private open(state: FileState): void {
		try {
			if (state.temp === undefined) {
				const temp = this.nextTemp(state);
				state.fd = fs.openSync(temp, 'wx', 0o600);
				state.temp = temp;
			} else {
				state.fd = fs.openSync(state.temp, 'r+');
			}
			this.openFiles++;
			this.held.add(state);
		} catch (error) {
			state.failure ??= describeWriteError(error as NodeJS.ErrnoException);
		}
	}

	private closeFd(state: FileState): void {
		if (state.fd === undefined) return;
		const fd = state.fd;
		state.fd = undefined;
		this.openFiles--;
		this.held.delete(state);
		fs.closeSync(fd);
	}

	/** Closes the least recently used held file that no job writes into; false when there is none. */
	private closeIdle(): boolean {
		let best: FileState | undefined;
		for (const state of this.held) {
			if (state.inflight === 0 && !state.done && (!best || state.used < best.used)) best = state;
		}
		if (!best) return false;
		try {
			this.closeFd(best);
		} catch (error) {
			best.failure ??= describeWriteError(error as NodeJS.ErrnoException);
			this.finish(best);
		}
		return true;
	}

	/**
	 * Finishes a held file when it can be: a failed file once no job writes into it (closed,
	 * removed, reported), a complete one once every piece is written (metadata, close, rename).
	 */
	private finish(state: FileState): void {
		if (state.done) return;
		if (state.failure === undefined) {
			if (state.remaining > 0) return;
			try {
				this.complete(state);
				state.done = true;
				this.events.onRestored(state.entry);
				return;
			} catch (error) {
				state.failure = describeWriteError(error as NodeJS.ErrnoException);
			}
		}
		if (state.inflight > 0) return;
		state.done = true;
		try {
			this.closeFd(state);
		} catch {
			// the file is removed below anyway
		}
		if (state.temp !== undefined) {
			try {
				fs.unlinkSync(state.temp);
			} catch {
				// already gone (or never created)
			}
		}
		if (!state.quiet) this.events.onFailed(state.entry, state.failure!);
	}

	/** Sets size (after holes), owner, mode and times through the descriptor, closes it and renames the file into place. */
	private complete(state: FileState): void {
		if (state.fd === undefined) this.open(state);
		if (state.fd === undefined) throw Object.assign(new Error(state.failure ?? 'the temporary file cannot be opened'), {code: 'EIO'});
		const {node} = state.entry;
		const fd = state.fd;
		if (state.hole) fs.ftruncateSync(fd, state.size);
		if (this.asRoot) {
			try {
				fs.fchownSync(fd, node.uid, node.gid);
			} catch {
				// like restic: a failed chown is not fatal
			}
		}
		// Attributes before the mode: setting user.* needs write permission on the file.
		for (const problem of writeXattrs({fd}, node.extended_attributes, this.asRoot)) this.events.onXattrProblem?.(state.entry, problem);
		if (node.mode !== undefined) fs.fchmodSync(fd, goModeToUnixPermissions(node.mode));
		setFdTimes(fd, parseNodeTime(node.atime), parseNodeTime(node.mtime));
		this.closeFd(state);
		fs.renameSync(state.temp!, state.entry.dest);
	}

	private waitForJob(): Promise<void> {
		return this.flow.wait();
	}

	private async drain(): Promise<void> {
		while (this.jobs.size > 0) await Promise.allSettled([...this.jobs]);
	}

	private throwIfStopped(): void {
		if (this.signal?.aborted) throw new CancelledError(CANCELLED_MESSAGE);
	}
}

/** The byte range of a pack that pieces sorted by offset cover. */
function spanOf(pieces: readonly Piece[]): {offset: number; length: number} {
	const offset = pieces[0]!.location.offset;
	let end = offset;
	for (const piece of pieces) end = Math.max(end, piece.location.offset + piece.location.length);
	return {offset, length: end - offset};
}

/** Nanoseconds since the epoch of a node's Go time string (now when it cannot be parsed). */
export function parseNodeTime(text: string | undefined): bigint {
	try {
		return parseGoTime(text ?? '');
	} catch {
		return BigInt(Date.now()) * 1_000_000n;
	}
}

/** A message a person can act on for a failed file-system call. */
export function describeWriteError(e: NodeJS.ErrnoException): string {
	if (e.code === 'ENOSPC') return 'no space left on the target device';
	if (e.code === 'EDQUOT') return 'disk quota exceeded on the target';
	if (e.code === 'EROFS') return 'the target file system is read-only';
	if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied: ${e.message}`;
	return e.message ?? String(e);
}
