import {describe, expect, it} from 'vitest';
import {MAX_SUBSET_GROUPS, selectPacks, validateSubset} from '../../../engine/checker/subset.js';
import {UsageError} from '../../../engine/errors.js';

/** 256 pack IDs, one per possible first byte, in a scrambled order. */
const ids = Array.from({length: 256}, (_, i) => ((i * 97) % 256).toString(16).padStart(2, '0') + 'ab'.repeat(31));

describe('selectPacks', () => {
	it('splits packs into m disjoint groups by the first byte of their ID, as restic does', () => {
		const groups = Array.from({length: 5}, (_, n) => selectPacks(ids, {n: n + 1, m: 5}));
		expect(groups.flat().sort()).toEqual([...ids].sort());
		for (const [n, group] of groups.entries()) {
			expect(group.every((id) => Number.parseInt(id.slice(0, 2), 16) % 5 === n)).toBe(true);
		}
		expect(selectPacks(ids, {n: 1, m: 1})).toEqual(ids);
		// the order of the input is kept
		const picked = selectPacks(ids, {n: 2, m: 3});
		expect(picked).toEqual(ids.filter((id) => picked.includes(id)));
	});

	it('picks a random share of the packs, at least one, without repeats', () => {
		let seed = 1;
		const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
		const tenth = selectPacks(ids, {percent: 10}, random);
		expect(tenth).toHaveLength(25);
		expect(new Set(tenth).size).toBe(25);
		expect(selectPacks(ids, {percent: 0.01}, random)).toHaveLength(1);
		expect(selectPacks(ids, {percent: 100}, random)).toEqual(ids);
		expect(selectPacks([], {percent: 50}, random)).toEqual([]);
		// a source that returns its upper bound never picks past the end
		expect(selectPacks(ids.slice(0, 4), {percent: 50}, () => 0.9999999999)).toHaveLength(2);
	});

	it('refuses subsets out of range', () => {
		for (const bad of [{n: 0, m: 2}, {n: 3, m: 2}, {n: 1, m: MAX_SUBSET_GROUPS + 1}, {n: 1.5, m: 2}, {percent: 0}, {percent: 100.5}, {percent: Number.NaN}]) {
			expect(() => validateSubset(bad)).toThrow(UsageError);
		}
		expect(() => validateSubset({n: 256, m: 256})).not.toThrow();
	});
});
