/**
 * `repair index` (restic 0.14's `rebuild-index`): writes a new index from the pack files. Packs
 * the old index lists with the right size keep their entries; packs it does not list, or lists
 * with another size, have their headers read; with `readAllPacks` every header is read. Packs the
 * index lists but storage lacks are dropped. The new index files replace every old one.
 * The caller holds an exclusive lock.
 */
import type {PackEntry} from '../format/index-file.js';
import {decodeIndexFile} from '../format/index-file.js';
import type {Repository} from '../repository/repository.js';
import {computePackSize, readStoredPackHeader} from '../repository/unindexed-packs.js';
import {mapConcurrent} from '../util/concurrency.js';

/** Blobs per new index file (restic's full-index limit is of this order). */
const BLOBS_PER_INDEX_FILE = 50_000;

/** Something worth telling while the index is rebuilt, as restic words it. */
export type RepairIndexEvent =
	| {readonly kind: 'invalid-index'; readonly id: string; readonly error: Error}
	| {readonly kind: 'pack-added'; readonly id: string}
	| {readonly kind: 'pack-resized'; readonly id: string; readonly size: number; readonly expected: number}
	| {readonly kind: 'pack-missing'; readonly id: string}
	| {readonly kind: 'pack-incomplete'; readonly id: string}
	| {readonly kind: 'reading-packs'; readonly count: number}
	| {readonly kind: 'pack-read'; readonly done: number; readonly total: number};

/** Settings of {@link repairIndex}. */
export interface RepairIndexOptions {
	readonly readAllPacks?: boolean;
	readonly signal?: AbortSignal;
	readonly onEvent?: (event: RepairIndexEvent) => void;
}

/** What {@link repairIndex} did. */
export interface RepairIndexResult {
	readonly packsIndexed: number;
	readonly packsRead: number;
	readonly indexFilesWritten: number;
	readonly indexFilesRemoved: number;
}

/** Splits packs into groups of at most {@link BLOBS_PER_INDEX_FILE} blobs (pure). */
export function groupPacksForIndex(packs: readonly PackEntry[], limit = BLOBS_PER_INDEX_FILE): PackEntry[][] {
	const groups: PackEntry[][] = [];
	let current: PackEntry[] = [];
	let blobs = 0;
	for (const pack of packs) {
		if (current.length > 0 && blobs + pack.blobs.length > limit) {
			groups.push(current);
			current = [];
			blobs = 0;
		}
		current.push(pack);
		blobs += pack.blobs.length;
	}
	if (current.length > 0) groups.push(current);
	return groups;
}

/** Rebuilds the index; see the module comment. */
export async function repairIndex(repo: Repository, options: RepairIndexOptions = {}): Promise<RepairIndexResult> {
	const {signal} = options;
	const tell = (event: RepairIndexEvent): void => options.onEvent?.(event);
	const oldIndexIds = await repo.listIds('index', signal);
	const indexed = new Map<string, PackEntry>();
	if (!options.readAllPacks) {
		await mapConcurrent(oldIndexIds, 8, async (id) => {
			try {
				for (const pack of decodeIndexFile(await repo.loadJson('index', id, signal), id).packs) {
					if (!indexed.has(pack.packId)) indexed.set(pack.packId, pack);
				}
			} catch (error) {
				if (signal?.aborted) throw error;
				tell({kind: 'invalid-index', id, error: error as Error});
			}
		});
	}
	const keep: PackEntry[] = [];
	const toRead: Array<{name: string; size: number}> = [];
	const listed = new Set<string>();
	for await (const info of repo.storage.list('data', {signal})) {
		listed.add(info.name);
		const entry = indexed.get(info.name);
		const expected = entry ? computePackSize(entry.blobs) : undefined;
		if (entry && expected === info.size) {
			keep.push(entry);
			continue;
		}
		toRead.push(info);
		if (!options.readAllPacks) {
			if (!entry) tell({kind: 'pack-added', id: info.name});
			else tell({kind: 'pack-resized', id: info.name, size: info.size, expected: expected!});
		}
	}
	for (const id of indexed.keys()) if (!listed.has(id)) tell({kind: 'pack-missing', id});
	if (toRead.length > 0) tell({kind: 'reading-packs', count: toRead.length});
	let done = 0;
	const read: Array<PackEntry | undefined> = await mapConcurrent(toRead, Math.max(1, Math.min(8, repo.storage.capabilities.concurrency)), async ({name, size}) => {
		let blobs;
		try {
			blobs = await readStoredPackHeader(repo, name, size, signal);
		} catch (error) {
			if (signal?.aborted) throw error;
		}
		tell({kind: 'pack-read', done: ++done, total: toRead.length});
		if (!blobs) {
			tell({kind: 'pack-incomplete', id: name});
			return undefined;
		}
		const entry: PackEntry = {packId: name, blobs};
		return entry;
	});
	const packs = [...keep, ...read.filter((p): p is PackEntry => p !== undefined)];
	packs.sort((a, b) => (a.packId < b.packId ? -1 : a.packId > b.packId ? 1 : 0));
	let written = 0;
	for (const group of groupPacksForIndex(packs)) {
		await repo.saveIndex(group, oldIndexIds, signal);
		written++;
	}
	let removed = 0;
	for (const id of oldIndexIds) {
		await repo.storage.remove({type: 'index', name: id}, {signal});
		removed++;
	}
	return {packsIndexed: packs.length, packsRead: toRead.length, indexFilesWritten: written, indexFilesRemoved: removed};
}
