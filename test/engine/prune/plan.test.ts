/**
 * planPrune as a pure function: synthetic indexes with known sizes, and the decisions restic's
 * algorithm makes for them.
 */
import {createHash} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {computePackSize} from '../../../engine/checker/pack-files.js';
import type {BlobType, PackedBlob} from '../../../engine/format/pack.js';
import {blobKey, type IndexedPack, type PackIndex} from '../../../engine/prune/pack-index.js';
import {computeTargetPackSize, MIN_PACK_SIZE, planPrune, PruneRefusedError, SMALL_PACKS_TO_REPACK, type PlanInput} from '../../../engine/prune/plan.js';

const MiB = 1024 * 1024;

function id(name: string): string {
	return createHash('sha256').update(name).digest('hex');
}

type BlobSpec = [type: BlobType, name: string, length: number];

/** Builds a pack from blob specs; its ID is derived from its name. */
function pack(name: string, specs: readonly BlobSpec[]): IndexedPack {
	let offset = 0;
	const blobs: PackedBlob[] = specs.map(([type, blobName, length]) => {
		const blob: PackedBlob = {type, id: id(blobName), offset, length, uncompressedLength: 0};
		offset += length;
		return blob;
	});
	return {packId: id(`pack:${name}`), blobs};
}

function input(packs: readonly IndexedPack[], used: readonly BlobSpec[] | readonly string[], options: {stored?: Map<string, number>; maxUnused?: number; hasRepeatedPacks?: boolean} = {}): PlanInput {
	const index: PackIndex = {packs: new Map(packs.map((p) => [p.packId, p])), indexIds: [id('index')], hasRepeatedPacks: options.hasRepeatedPacks ?? false};
	const keys = used.map((u) => (typeof u === 'string' ? u : blobKey(u[0], id(u[1]))));
	const stored = options.stored ?? new Map(packs.map((p) => [p.packId, computePackSize(p.blobs)]));
	return {index, used: new Set(keys), stored, maxUnused: options.maxUnused ?? 5};
}

const d = (name: string, length = MiB): BlobSpec => ['data', name, length];
const t = (name: string, length = 1000): BlobSpec => ['tree', name, length];

describe('planPrune', () => {
	it('keeps fully used packs, deletes unused ones and repacks a partly used one above the limit', () => {
		const full = pack('full', [d('a', 5 * MiB), d('b', 5 * MiB)]);
		const unused = pack('unused', [d('x', 5 * MiB)]);
		const partly = pack('partly', [d('c', 2 * MiB), d('y', 3 * MiB)]);
		const trees = pack('trees', [t('root')]);
		const plan = planPrune(input([full, unused, partly, trees], [d('a'), d('b'), d('c'), t('root')]));
		expect([...plan.removePacks]).toEqual([unused.packId]);
		expect([...plan.repackPacks]).toEqual([partly.packId]);
		expect(plan.unreferencedPacks).toEqual([]);
		expect([...plan.keepBlobs]).toEqual([blobKey('data', id('c'))]);
		expect(plan.stats.blobs).toMatchObject({used: 4, unused: 2, duplicate: 0, total: 6, repack: 2, repackRemove: 1, remove: 1, removeTotal: 2, remaining: 4});
		expect(plan.stats.bytes).toMatchObject({used: 12 * MiB + 1000, unused: 8 * MiB, remove: 5 * MiB, repackRemove: 3 * MiB, removeTotal: 8 * MiB, remainingUnused: 0});
		// The trees pack is small but alone: fewer than ten small packs are kept.
		expect(plan.stats.packs).toMatchObject({used: 2, unused: 1, partlyUsed: 1, keep: 2, repack: 1, remove: 1, removeTotal: 2, total: 4});
	});

	it('tolerates unused space up to --max-unused, measured against the used space', () => {
		// 100 MiB used, 4 MiB unused in one 24 MiB pack: 4 / 104 ≈ 3.8% unused.
		const big = Array.from({length: 4}, (_, i) => pack(`big${i}`, [d(`u${i}`, 19 * MiB)]));
		const partly = pack('partly', [d('used', 20 * MiB), d('unused', 4 * MiB)]);
		const used = [...big.map((_, i) => d(`u${i}`)), d('used')];
		expect(planPrune(input([...big, partly], used, {maxUnused: 5})).repackPacks.size).toBe(0);
		// 3 / 97 of the used space is below 4 MiB: repack.
		expect([...planPrune(input([...big, partly], used, {maxUnused: 3})).repackPacks]).toEqual([partly.packId]);
		expect([...planPrune(input([...big, partly], used, {maxUnused: 0})).repackPacks]).toEqual([partly.packId]);
		const kept = planPrune(input([...big, partly], used, {maxUnused: 5}));
		expect(kept.stats.bytes.remainingUnused).toBe(4 * MiB);
		expect(kept.keepBlobs.size).toBe(0);
	});

	it('repacks packs holding trees whatever the limit, and the most wasteful data packs first', () => {
		const treePack = pack('trees', [t('root'), t('old')]);
		const wasteful = pack('wasteful', [d('a', 5 * MiB), d('waste-a', 15 * MiB)]);
		const mild = pack('mild', [d('b', 15 * MiB), d('waste-b', 5 * MiB)]);
		const plan = planPrune(input([treePack, wasteful, mild], [t('root'), d('a'), d('b')], {maxUnused: 40}));
		// 40% tolerates 40/60 of the 20 MiB used, about 13.3 MiB unused: repacking the wasteful pack
		// leaves 5 MiB, so the mild pack stays. The tree pack goes first, whatever the limit.
		expect([...plan.repackPacks].sort()).toEqual([treePack.packId, wasteful.packId].sort());
	});

	it('deletes packs that no index lists first, and forgets missing packs that hold nothing needed', () => {
		const kept = pack('kept', [d('a', 5 * MiB)]);
		const gone = pack('gone', [d('old', 5 * MiB)]);
		const stray = id('stray pack');
		const stored = new Map([[kept.packId, computePackSize(kept.blobs)], [stray, 12345]]);
		const plan = planPrune(input([kept, gone], [d('a')], {stored}));
		expect(plan.unreferencedPacks).toEqual([stray]);
		expect([...plan.missingPacks]).toEqual([gone.packId]);
		expect(plan.removePacks.size).toBe(0);
		expect(plan.stats.bytes.unreferenced).toBe(12345);
		expect(plan.stats.packs).toMatchObject({unreferenced: 1, missing: 1, keep: 1});
	});

	it('refuses when a needed blob is not indexed, naming it', () => {
		const p = pack('p', [d('a')]);
		const missing = blobKey('data', id('lost'));
		expect(() => planPrune(input([p], [blobKey('data', id('a')), missing]))).toThrow(PruneRefusedError);
		expect(() => planPrune(input([p], [blobKey('data', id('a')), missing]))).toThrow(new RegExp(`not in the index \\(data blob ${id('lost')}\\).*cairn check`));
	});

	it('refuses when a needed pack is missing or has the wrong size; an unneeded one of the wrong size is deleted', () => {
		const needed = pack('needed', [d('a')]);
		const other = pack('other', [d('b')]);
		expect(() => planPrune(input([needed, other], [d('a')], {stored: new Map([[other.packId, computePackSize(other.blobs)]])}))).toThrow(new RegExp(`only in pack files missing from storage \\(${needed.packId}\\).*cairn check`));
		expect(() => planPrune(input([needed], [d('a')], {stored: new Map([[needed.packId, 99]])}))).toThrow(/do not have the size the index gives them/);
		const plan = planPrune(input([needed, other], [d('a')], {stored: new Map([[needed.packId, computePackSize(needed.blobs)], [other.packId, 99]])}));
		expect([...plan.removePacks]).toEqual([other.packId]);
	});

	it('keeps one copy of a duplicated blob, preferring a pack with other used blobs', () => {
		const withOthers = pack('with-others', [d('a', 5 * MiB), d('dup', 5 * MiB)]);
		const alone = pack('alone', [d('dup', 5 * MiB), d('junk', 5 * MiB)]);
		const plan = planPrune(input([withOthers, alone], [d('a'), d('dup')]));
		expect(plan.stats.blobs).toMatchObject({used: 2, duplicate: 1, unused: 1});
		expect([...plan.removePacks]).toEqual([alone.packId]);
		expect(plan.repackPacks.size).toBe(0);
		expect(plan.stats.bytes.removeTotal).toBe(10 * MiB);
	});

	it('keeps a pack made only of duplicates (what an interrupted repack leaves) and drops the old copies', () => {
		const old = pack('old', [d('a', 3 * MiB), d('b', 3 * MiB), d('junk', 6 * MiB)]);
		const repacked = pack('repacked', [d('a', 3 * MiB), d('b', 3 * MiB)]);
		for (const order of [[old, repacked], [repacked, old]]) {
			const plan = planPrune(input(order, [d('a'), d('b')]));
			expect([...plan.removePacks]).toEqual([old.packId]);
			expect(plan.repackPacks.size).toBe(0);
			expect(plan.stats.blobs).toMatchObject({used: 2, duplicate: 2, unused: 1});
		}
	});

	it('copies a needed blob whose only other copy is in a missing pack', () => {
		const repackMe = pack('repack-me', [t('root'), t('old-tree')]);
		const missing = pack('missing', [t('root')]);
		const stored = new Map([[repackMe.packId, computePackSize(repackMe.blobs)]]);
		const plan = planPrune(input([repackMe, missing], [t('root')], {stored}));
		expect([...plan.repackPacks]).toEqual([repackMe.packId]);
		expect([...plan.missingPacks]).toEqual([missing.packId]);
		expect([...plan.keepBlobs]).toEqual([blobKey('tree', id('root'))]);
	});

	it('repacks small fully used packs only when there are at least ten', () => {
		const small = (n: number): IndexedPack[] => Array.from({length: n}, (_, i) => pack(`small${i}`, [d(`s${i}`, 100_000)]));
		const used = (n: number): BlobSpec[] => Array.from({length: n}, (_, i) => d(`s${i}`));
		expect(planPrune(input(small(SMALL_PACKS_TO_REPACK - 1), used(SMALL_PACKS_TO_REPACK - 1))).repackPacks.size).toBe(0);
		const plan = planPrune(input(small(SMALL_PACKS_TO_REPACK), used(SMALL_PACKS_TO_REPACK)));
		expect(plan.repackPacks.size).toBe(SMALL_PACKS_TO_REPACK);
		expect(plan.keepBlobs.size).toBe(SMALL_PACKS_TO_REPACK);
		expect(plan.stats.blobs.repackRemove).toBe(0);
	});

	it('repacks packs that mix trees and data', () => {
		const mixed = pack('mixed', [t('root'), d('a', 5 * MiB)]);
		const plan = planPrune(input([mixed], [t('root'), d('a')]));
		expect([...plan.repackPacks]).toEqual([mixed.packId]);
	});

	it('rejects a limit outside 0 ≤ maxUnused < 100', () => {
		const p = pack('p', [d('a')]);
		expect(() => planPrune(input([p], [d('a')], {maxUnused: 100}))).toThrow(/maxUnused/);
		expect(() => planPrune(input([p], [d('a')], {maxUnused: -1}))).toThrow(/maxUnused/);
	});
});

describe('computeTargetPackSize', () => {
	it('is 80% of the larger of 4 MiB and the 3rd-percentile pack size', () => {
		expect(computeTargetPackSize([])).toBe(0);
		expect(computeTargetPackSize([MiB])).toBe(Math.floor((MIN_PACK_SIZE * 4) / 5));
		const sizes = Array.from({length: 100}, (_, i) => (20 + i) * MiB);
		expect(computeTargetPackSize(sizes)).toBe(Math.floor((23 * MiB * 4) / 5));
	});
});
