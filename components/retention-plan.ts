/**
 * The retention screen's link to the engine: a policy from the fields of a profile, and the
 * preview rows of a plan (keep or remove, with reasons). No React here.
 */
import {planRetention, type RetentionPlanGroup} from '../engine/retention/plan.js';
import {isEmptyPolicy, parseKeepCount, parseWithinDuration, PolicyError, readPolicyOptions, type RetentionPolicy} from '../engine/retention/policy.js';
import {parseRecordedTime} from '../engine/retention/calendar.js';
import type {Snapshot} from '../engine/format/snapshot.js';
import type {FormField} from './state/form.js';

/** The policy fields, by option name, in the order shown. */
export const RETENTION_FIELDS: readonly FormField[] = ([
	{name: 'keep-latest', label: 'Keep latest', kind: 'text', placeholder: '3', description: 'The newest N snapshots of each source. A number, or "unlimited".'},
	{name: 'keep-hourly', label: 'Keep hourly', kind: 'text', description: 'The newest snapshot of each of the last N hours that have one.'},
	{name: 'keep-daily', label: 'Keep daily', kind: 'text', placeholder: '7', description: 'The newest snapshot of each of the last N days that have one.'},
	{name: 'keep-weekly', label: 'Keep weekly', kind: 'text', placeholder: '4', description: 'The newest snapshot of each of the last N weeks (ISO weeks) that have one.'},
	{name: 'keep-monthly', label: 'Keep monthly', kind: 'text', placeholder: '12', description: 'The newest snapshot of each of the last N months that have one.'},
	{name: 'keep-annual', label: 'Keep annual', kind: 'text', description: 'The newest snapshot of each of the last N years that have one.'},
	{name: 'keep-within', label: 'Keep within', kind: 'text', placeholder: '30d or 1y6m', description: 'Every snapshot younger than this, counted back from the newest one: e.g. 30d, 2w, 1y6m, 12h.'},
	{name: 'keep-tag', label: 'Keep tagged', kind: 'text', placeholder: 'important', description: 'Every snapshot with these tags: a,b needs both; separate alternatives with ;'},
] as const satisfies readonly Omit<FormField, 'check'>[]).map((field): FormField => ({...field, check: (value: string) => checkRetentionValue(field.name, value)}));

/** Checks one policy value; returns a sentence saying what is wrong, or undefined. */
export function checkRetentionValue(option: string, value: string): string | undefined {
	try {
		if (option === 'keep-within') parseWithinDuration(value, option);
		else if (option !== 'keep-tag') parseKeepCount(value, option);
		return undefined;
	} catch (error) {
		return error instanceof PolicyError ? error.message : String(error);
	}
}

/** The policy of filled-in fields (option name to text); throws PolicyError for a bad value. */
export function buildPolicy(values: Readonly<Record<string, string>>): RetentionPolicy {
	const options: Record<string, string | string[]> = {};
	for (const [option, value] of Object.entries(values)) {
		if (value.trim() === '') continue;
		if (option === 'keep-tag') options[option] = value.split(';').map((list) => list.trim()).filter(Boolean);
		else options[option] = value.trim();
	}
	return readPolicyOptions(options);
}

/** A row of the preview: a group heading or a decision. */
export type RetentionRow =
	| {readonly type: 'group'; readonly label: string; readonly keep: number; readonly remove: number}
	| {readonly type: 'decision'; readonly snapshot: Snapshot; readonly keep: boolean; readonly reasons: readonly string[]};

/** What a policy would do to the snapshots, for the preview. */
export interface RetentionPreview {
	readonly groups: readonly RetentionPlanGroup<Snapshot>[];
	readonly rows: readonly RetentionRow[];
	readonly keep: number;
	readonly remove: number;
	/** Groups the policy would empty (the engine refuses to apply such a plan). */
	readonly emptied: readonly string[];
	/** Snapshots whose time cannot be read (left out, as restic does). */
	readonly unreadable: number;
}

/** Applies a policy to the snapshots (as forget will, now being `now`) and lays the result out in rows. */
export function previewRetention(snapshots: readonly Snapshot[], policy: RetentionPolicy, now: number = Date.now()): RetentionPreview {
	let unreadable = 0;
	const readable = snapshots.filter((snapshot) => {
		try {
			parseRecordedTime(snapshot.time);
			return true;
		} catch {
			unreadable++;
			return false;
		}
	});
	if (isEmptyPolicy(policy)) return {groups: [], rows: [], keep: readable.length, remove: 0, emptied: [], unreadable};
	const groups = planRetention(readable, policy, {now});
	const rows: RetentionRow[] = [];
	const emptied: string[] = [];
	let keep = 0;
	let remove = 0;
	for (const group of groups) {
		const label = `${group.key.hostname || '?'}  ${group.key.paths?.join(' ') ?? ''}`;
		rows.push({type: 'group', label, keep: group.keep.length, remove: group.remove.length});
		for (const decision of group.decisions) rows.push({type: 'decision', snapshot: decision.snapshot, keep: decision.keep, reasons: decision.reasons});
		keep += group.keep.length;
		remove += group.remove.length;
		if (group.keep.length === 0 && group.remove.length > 0) emptied.push(label);
	}
	return {groups, rows, keep, remove, emptied, unreadable};
}
