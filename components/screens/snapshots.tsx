/**
 * The snapshots of the open repository, newest first, with a `/` filter. Only the rows on
 * screen are drawn, so repositories with tens of thousands of snapshots stay fluid.
 */
import {useEffect, useMemo, useState, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {usePersistentReducer, useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {editText} from '../ui/text-field.js';
import {filterIndices, INITIAL_FILTERED_LIST, readListMove, reduceFilteredList, visibleRange} from '../state/list.js';
import {describeError, type Session, type SnapshotList} from '../session.js';
import {fitText, formatLocalTime, formatRelativeTime, parseRepositoryTime, shortenId, truncateEnd, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'browse'},
	{keys: '/', action: 'filter'},
	{keys: 'b', action: 'back up'},
	{keys: 'r', action: 'restore all'},
	{keys: 'Esc', action: 'repositories'},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
	{keys: 'Home End', action: 'first / last (also g / G)', more: true},
];

/** A snapshot with what its row shows, computed once. */
export interface SnapshotRow {
	readonly snapshot: Snapshot;
	readonly date?: Date;
	readonly absolute: string;
	/** Lowercase text the filter searches: ID, time, host, tags, paths. */
	readonly haystack: string;
}

/** Prepares rows for a list of snapshots. */
export function prepareSnapshotRows(snapshots: readonly Snapshot[]): SnapshotRow[] {
	return snapshots.map((snapshot) => {
		const date = parseRepositoryTime(snapshot.time);
		const absolute = formatLocalTime(date);
		const haystack = [snapshot.id, absolute, snapshot.hostname ?? '', ...(snapshot.tags ?? []), ...snapshot.paths].join(' ').toLowerCase();
		return {snapshot, date, absolute, haystack};
	});
}

/** Column widths of the snapshot table for a width. */
function columns(width: number): {id: number; when: number; date: number; host: number; rest: number} {
	const id = 10;
	const when = 12;
	const date = 18;
	const host = width >= 90 ? 18 : 13;
	return {id, when, date, host, rest: Math.max(8, width - 2 - id - when - date - host)};
}

/** Tags and paths of a snapshot in `width` columns: `#daily  …/me/docs` (paths keep their end). */
export function describeContents(snapshot: Snapshot, width: number): string {
	const tags = (snapshot.tags ?? []).map((tag) => `#${tag}`).join(' ');
	const prefix = tags === '' ? '' : truncateEnd(tags, Math.max(8, Math.floor(width / 2))) + '  ';
	return prefix + truncateStart(snapshot.paths.join(' '), Math.max(0, width - prefix.length));
}

/** The snapshots screen. */
export function SnapshotsScreen({session}: {session: Session}) {
	const {navigate, color} = useAppContext();
	const {width, height} = useBodySize();
	const [loaded, setLoaded] = useState<SnapshotList | undefined>(session.cachedSnapshots);
	const [error, setError] = useState<string>();
	const [state, dispatch] = usePersistentReducer('snapshots', reduceFilteredList, () => INITIAL_FILTERED_LIST);

	useEffect(() => {
		let live = true;
		session.loadSnapshots().then(
			(list) => live && setLoaded(list),
			(caught: unknown) => live && setError(describeError(caught)),
		);
		return () => {
			live = false;
		};
	}, [session]);

	const rows = useMemo(() => prepareSnapshotRows(loaded?.snapshots ?? []), [loaded]);
	const haystacks = useMemo(() => rows.map((row) => row.haystack), [rows]);
	const shown = useMemo(() => (state.filter === '' ? undefined : filterIndices(haystacks, state.filter)), [haystacks, state.filter]);
	const count = shown?.length ?? rows.length;
	const listHeight = Math.max(1, height - 2);
	const view = {count, height: listHeight};
	const rowAt = (index: number): SnapshotRow | undefined => rows[shown === undefined ? index : shown[index]!];
	const selected = rowAt(state.list.cursor);

	useScreenKeys((input, key) => {
		if (state.editing) {
			if (key.return || key.downArrow || key.upArrow) {
				dispatch({type: 'accept-filter'});
				return;
			}
			if (key.escape) {
				dispatch({type: 'clear-filter'});
				return;
			}
			const edited = editText(state.filter, input, key);
			if (edited !== undefined) dispatch({type: 'set-filter', filter: edited});
			return;
		}
		const move = readListMove(input, key);
		if (move !== undefined) {
			dispatch({type: 'list', move, view});
			return;
		}
		if (key.escape) {
			if (state.filter !== '') dispatch({type: 'clear-filter'});
			else navigate({type: 'pop'});
		} else if (input === '/') dispatch({type: 'start-filter'});
		else if ((key.return || key.rightArrow) && selected !== undefined) navigate({type: 'push', route: {name: 'browser', snapshot: selected.snapshot}});
		else if (input === 'b') navigate({type: 'push', route: {name: 'backup'}});
		else if (input === 'r' && selected !== undefined) navigate({type: 'push', route: {name: 'restore', snapshot: selected.snapshot, includes: []}});
	});

	// Forget the kept cursor if the list shrank under it (e.g. another filter).
	useEffect(() => {
		if (state.list.cursor >= count && count > 0) dispatch({type: 'list', move: {type: 'last'}, view});
	});

	const cols = columns(width);
	const {start, end} = visibleRange(state.list, view);
	const now = Date.now();
	const title = `${session.profile.name} › Snapshots`;
	let status: StatusMessage | ReactNode;
	if (state.editing) {
		status = (
			<Text>
				<Text bold>/</Text>
				{state.filter}
				<Text inverse> </Text>
				<Text dimColor>{`  ${count} of ${rows.length} · Enter keeps the filter, Esc clears it`}</Text>
			</Text>
		);
	} else if (error !== undefined) status = {text: error, tone: 'error'};
	else if (loaded === undefined) status = {text: 'Loading snapshots…'};
	else if (state.filter !== '') status = {text: `Filter "${state.filter}": ${count} of ${rows.length} snapshots · Esc clears the filter`};
	else status = {text: `${rows.length} snapshot${rows.length === 1 ? '' : 's'}${loaded.unreadable > 0 ? ` (${loaded.unreadable} could not be read)` : ''}`, tone: loaded.unreadable > 0 ? 'warning' : 'info'};

	return (
		<ScreenFrame title={title} help={HELP} status={status} textMode={state.editing}>
			<Box flexDirection="column">
				<Text bold>{'  ' + fitText('ID', cols.id) + fitText('When', cols.when) + fitText('Date', cols.date) + fitText('Host', cols.host) + fitText('Paths', cols.rest)}</Text>
				<Box flexDirection="column" height={listHeight}>
					{loaded !== undefined && rows.length === 0 ? (
						<Box flexDirection="column">
							<Text>{'  No snapshots yet.'}</Text>
							<Text>{'  Press b to back up a folder: its files are saved as the first snapshot.'}</Text>
						</Box>
					) : loaded !== undefined && count === 0 ? (
						<Text>{`  No snapshot matches "${state.filter}".`}</Text>
					) : (
						Array.from({length: end - start}, (_, offset) => {
							const index = start + offset;
							const row = rowAt(index)!;
							const current = index === state.list.cursor;
							const text = (current ? '› ' : '  ') + fitText(shortenId(row.snapshot.id), cols.id) + fitText(formatRelativeTime(row.date, now), cols.when) + fitText(row.absolute, cols.date) + fitText(row.snapshot.hostname ?? '', cols.host) + fitText(describeContents(row.snapshot, cols.rest), cols.rest);
							return (
								<Text key={row.snapshot.id} inverse={current} color={!current && color && index === 0 && state.filter === '' ? 'green' : undefined}>
									{text}
								</Text>
							);
						})
					)}
				</Box>
				<Text dimColor>{selected === undefined ? ' ' : truncateEnd(`  ${selected.snapshot.id}  ${selected.snapshot.username ? `by ${selected.snapshot.username}  ` : ''}${(selected.snapshot.tags ?? []).map((tag) => `#${tag} `).join('')}${selected.snapshot.paths.join(' ')}`, width)}</Text>
			</Box>
		</ScreenFrame>
	);
}
