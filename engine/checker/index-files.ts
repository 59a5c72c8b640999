/**
 * First pass of a check: load every index file on its own, report the ones that cannot be used,
 * and build the full blob list of every indexed pack (the master index keeps only one location
 * per blob, which is not enough to compare a pack with its header).
 */
import {decodeIndexFile, type PackEntry} from '../format/index-file.js';
import type {PackedBlob} from '../format/pack.js';
import {mapConcurrent} from '../util/concurrency.js';
import {describeLoadFailure, formatPackFile, isFullId, shortenId} from './describe.js';
import type {CheckContext} from './types.js';

/** An indexed pack: its blobs as the first index file listing it describes them. */
export interface IndexedPack {
	readonly packId: string;
	readonly blobs: readonly PackedBlob[];
	/** The index files that list the pack, sorted. */
	readonly indexIds: string[];
}

/** Every pack the usable index files list, by pack ID. */
export type PackMap = Map<string, IndexedPack>;

/** Finds the first malformed entry of a decoded index file; undefined when all are well formed. */
export function findMalformedEntry(packs: readonly PackEntry[]): string | undefined {
	for (const pack of packs) {
		if (!isFullId(pack.packId)) return `a pack has the invalid ID ${JSON.stringify(pack.packId)}`;
		if (!Array.isArray(pack.blobs)) return `pack ${shortenId(pack.packId)} has no blob list`;
		for (const blob of pack.blobs) {
			const where = `pack ${shortenId(pack.packId)}`;
			if (!isFullId(blob.id)) return `${where} lists a blob with the invalid ID ${JSON.stringify(blob.id)}`;
			if (blob.type !== 'data' && blob.type !== 'tree') return `${where} lists blob ${shortenId(blob.id)} with the invalid type ${JSON.stringify(blob.type)}`;
			for (const [name, value] of [['offset', blob.offset], ['length', blob.length], ['uncompressed_length', blob.uncompressedLength]] as const) {
				if (!Number.isSafeInteger(value) || value < 0) return `${where} lists blob ${shortenId(blob.id)} with the invalid ${name} ${JSON.stringify(value)}`;
			}
		}
	}
	return undefined;
}

/** A canonical text of a pack's blob list, to tell whether two index files agree about a pack. */
function describeBlobList(blobs: readonly PackedBlob[]): string {
	return [...blobs]
		.sort((a, b) => a.offset - b.offset || a.id.localeCompare(b.id))
		.map((b) => `${b.type}:${b.id}:${b.offset}:${b.length}:${b.uncompressedLength}`)
		.join(',');
}

/**
 * Loads every index file, adds the usable ones to `repo.index` (unless already loaded) and returns
 * the packs they list. Reports: unreadable or malformed index files (errors), a pack described
 * differently by two index files (error), a pack listed by several index files and packs mixing
 * tree and data blobs (warnings, as restic treats them).
 */
export async function loadIndexFiles(ctx: CheckContext, indexIds: readonly string[]): Promise<{packs: PackMap; loaded: number}> {
	const {repo} = ctx;
	const docs = await mapConcurrent(indexIds, ctx.concurrency, async (id) => {
		const file = `index/${id}`;
		try {
			const packs = decodeIndexFile(await repo.loadJson('index', id, ctx.signal), id).packs;
			const malformed = findMalformedEntry(packs);
			if (malformed) {
				ctx.report(file, `is malformed: ${malformed}; the index file was not used`);
				return undefined;
			}
			return packs;
		} catch (error) {
			if (ctx.signal?.aborted) throw error;
			ctx.report(file, `${describeLoadFailure(error, file, `index ${shortenId(id)}`)}; the index file was not used`);
			return undefined;
		} finally {
			ctx.progress.filesDone++;
			ctx.progress.currentFile = file;
			ctx.progress.maybeEmit();
		}
	});

	const packs: PackMap = new Map();
	const signatures = new Map<string, string>();
	let loaded = 0;
	for (const [position, id] of indexIds.entries()) {
		const entries = docs[position];
		if (!entries) continue;
		loaded++;
		const known = repo.indexFiles.has(id);
		for (const entry of entries) {
			if (!known) repo.index.addPack(entry);
			const seen = packs.get(entry.packId);
			if (!seen) {
				packs.set(entry.packId, {packId: entry.packId, blobs: entry.blobs, indexIds: [id]});
				signatures.set(entry.packId, describeBlobList(entry.blobs));
				continue;
			}
			if (!seen.indexIds.includes(id)) seen.indexIds.push(id);
			if (describeBlobList(entry.blobs) !== signatures.get(entry.packId)) {
				ctx.report(formatPackFile(entry.packId), `is described differently by index files ${seen.indexIds.map(shortenId).join(' and ')}: the index is damaged`);
				signatures.set(entry.packId, '');
			}
		}
		repo.indexFiles.add(id);
	}
	for (const pack of packs.values()) {
		const file = formatPackFile(pack.packId);
		if (pack.indexIds.length > 1 && signatures.get(pack.packId) !== '') {
			ctx.report(file, `is listed by ${pack.indexIds.length} index files (${pack.indexIds.map(shortenId).join(', ')}); this is harmless, and prune writes a clean index`, 'warning');
		}
		const types = new Set(pack.blobs.map((b) => b.type));
		if (types.size > 1) ctx.report(file, 'holds both tree and data blobs; this is harmless, and prune repacks it', 'warning');
	}
	return {packs, loaded};
}
