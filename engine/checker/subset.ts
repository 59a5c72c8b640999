/**
 * Choosing the packs `--read-data-subset` reads, by restic's rules: `n/m` takes the packs whose
 * first ID byte modulo m is n - 1 (stable across runs, so m runs with n = 1…m cover every pack);
 * a percentage takes that share of the packs at random, at least one.
 */
import {UsageError} from '../errors.js';
import type {ReadDataSubset} from './types.js';

/** The largest m of `n/m`: the selection looks at one byte of the pack ID. */
export const MAX_SUBSET_GROUPS = 256;

/** Throws UsageError when a subset is out of range. */
export function validateSubset(subset: ReadDataSubset): void {
	if ('percent' in subset) {
		if (!Number.isFinite(subset.percent) || subset.percent <= 0 || subset.percent > 100) {
			throw new UsageError(`invalid read-data subset ${subset.percent}%: the percentage must be above 0 and at most 100`);
		}
		return;
	}
	const {n, m} = subset;
	if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1 || n > m) {
		throw new UsageError(`invalid read-data subset ${n}/${m}: n and m must be positive integers with n ≤ m, e.g. 1/5`);
	}
	if (m > MAX_SUBSET_GROUPS) throw new UsageError(`invalid read-data subset ${n}/${m}: m must be at most ${MAX_SUBSET_GROUPS}`);
}

/** Selects the packs of a subset from `packIds`, keeping their order. */
export function selectPacks(packIds: readonly string[], subset: ReadDataSubset, random: () => number = Math.random): string[] {
	validateSubset(subset);
	if ('percent' in subset) {
		if (packIds.length === 0) return [];
		const count = Math.max(1, Math.floor(packIds.length * (subset.percent / 100)));
		const order = packIds.map((_, position) => position);
		// Fisher–Yates: the first `count` positions become a uniform random sample.
		for (let i = 0; i < count; i++) {
			const j = Math.min(order.length - 1, i + Math.floor(random() * (order.length - i)));
			[order[i], order[j]] = [order[j]!, order[i]!];
		}
		const chosen = new Set(order.slice(0, count));
		return packIds.filter((_, position) => chosen.has(position));
	}
	return packIds.filter((id) => Number.parseInt(id.slice(0, 2), 16) % subset.m === subset.n - 1);
}
