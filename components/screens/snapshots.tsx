/**
 * The snapshots of the open repository, grouped by source (host and paths): time (relative and
 * absolute), short ID, files and size when known, tags. `/` filters, `s` sorts, Enter on a
 * heading folds its group. Only the rows on screen are drawn, so repositories with tens of
 * thousands of snapshots stay fluid. The files and size of the selected snapshot are counted in
 * the background when the snapshot does not record them.
 */
import {useEffect, useMemo, useState, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {usePersistentReducer, useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {editText} from '../ui/text-field.js';
import {readListMove, visibleRange} from '../state/list.js';
import {buildSnapshotRows, findSourceKey, INITIAL_SNAPSHOT_LIST, reduceSnapshotList, SORT_LABELS, type SnapshotEntry, type SnapshotRowItem, type SnapshotStats} from '../state/snapshot-list.js';
import {describeError, type Session, type SnapshotList} from '../session.js';
import {orderByTime} from '../state/diff-view.js';
import {fitText, fitTextRight, formatBytes, formatLocalTime, formatRelativeTime, parseRepositoryTime, shortenId, truncateEnd, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'browse'},
	{keys: '/', action: 'filter'},
	{keys: 's', action: 'sort'},
	{keys: 'b', action: 'back up'},
	{keys: 'r', action: 'restore'},
	{keys: 'p', action: 'retention'},
	{keys: 'c', action: 'copy'},
	{keys: 'd', action: 'compare'},
	{keys: 'd', action: 'compare: d marks a snapshot, d on a second one shows what changed between them', more: true},
	{keys: 'Enter', action: 'on a source heading: fold or unfold its snapshots', more: true},
	{keys: 's', action: 'sort: newest first, oldest first, largest first', more: true},
	{keys: 'r', action: 'restore the whole selected snapshot', more: true},
	{keys: 'p', action: 'retention policy: preview what it keeps and removes, then apply it', more: true},
	{keys: 'c', action: 'copy the selected snapshot (on a source heading: all its snapshots) to another saved repository', more: true},
	{keys: 'R', action: 'read the list again (after backups made elsewhere, e.g. by cron)', more: true},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
	{keys: 'Home End', action: 'first / last (also g / G)', more: true},
];

/** Prepares the entries of a list of snapshots (once per list). */
export function prepareSnapshotEntries(snapshots: readonly Snapshot[]): SnapshotEntry[] {
	return snapshots.map((snapshot) => {
		const date = parseRepositoryTime(snapshot.time);
		const absolute = formatLocalTime(date);
		const groupLabel = `${snapshot.hostname ?? '?'}  ${snapshot.paths.join(' ')}`;
		const haystack = [snapshot.id, absolute, snapshot.hostname ?? '', ...(snapshot.tags ?? []).map((tag) => `#${tag} ${tag}`), ...snapshot.paths].join(' ').toLowerCase();
		return {snapshot, date, time: date?.getTime() ?? 0, groupKey: findSourceKey(snapshot), groupLabel, haystack};
	});
}

/** Column widths of the snapshot table for a width. */
function layoutColumns(width: number): {id: number; when: number; date: number; files: number; size: number; tags: number} {
	const id = 10;
	const when = 12;
	const date = 18;
	const files = width >= 100 ? 10 : 8;
	const size = 11;
	return {id, when, date, files, size, tags: Math.max(6, width - 4 - id - when - date - files - size)};
}

/** Files and size for a row: the numbers, or blanks while unknown. */
export function formatStats(stats: SnapshotStats | undefined): {files: string; size: string} {
	return stats === undefined ? {files: '', size: ''} : {files: String(stats.files), size: formatBytes(stats.bytes)};
}

/** The snapshots screen. */
export function SnapshotsScreen({session}: {session: Session}) {
	const {navigate, color, store, reloadProfiles} = useAppContext();
	const {width, height} = useBodySize();
	const [loaded, setLoaded] = useState<SnapshotList | undefined>(session.cachedSnapshots);
	const [error, setError] = useState<string>();
	const [state, dispatch] = usePersistentReducer('snapshots', reduceSnapshotList, () => INITIAL_SNAPSHOT_LIST);
	const [statsTick, setStatsTick] = useState(0);
	const [counting, setCounting] = useState<string>();
	const [reloads, setReloads] = useState(0);
	/** The snapshot marked with `d`, waiting for a second one to compare with. */
	const [compareWith, setCompareWith] = useState<Snapshot>();

	useEffect(() => {
		let live = true;
		session.loadSnapshots().then(
			(list) => {
				if (!live) return;
				setLoaded(list);
				// Remember when the newest backup was, for the list of repositories.
				const newest = list.snapshots.reduce<number | undefined>((max, snapshot) => {
					const time = parseRepositoryTime(snapshot.time)?.getTime();
					return time !== undefined && (max === undefined || time > max) ? time : max;
				}, undefined);
				const saved = store.findProfile(session.profile.name);
				if (newest !== undefined && saved !== undefined && (saved.lastBackup === undefined || Date.parse(saved.lastBackup) < newest)) {
					try {
						store.saveProfile({...saved, lastBackup: new Date(newest).toISOString()});
						reloadProfiles();
					} catch {
						// Only a convenience for the list of repositories.
					}
				}
			},
			(caught: unknown) => live && setError(describeError(caught)),
		);
		return () => {
			live = false;
		};
	}, [session, store, reloadProfiles, reloads]);

	const entries = useMemo(() => prepareSnapshotEntries(loaded?.snapshots ?? []), [loaded]);
	const sizeOf = (entry: SnapshotEntry): number | undefined => session.stats.peek(entry.snapshot)?.bytes;
	// Sizes arrive in the background; the largest-first order follows them.
	const rows = useMemo(() => buildSnapshotRows(entries, state, sizeOf), [entries, state.filter, state.sort, state.collapsed, state.sort === 'largest' ? statsTick : 0]);
	const listHeight = Math.max(1, height - 3);
	const view = {count: rows.length, height: listHeight};
	const current: SnapshotRowItem | undefined = rows[Math.min(state.list.cursor, rows.length - 1)];
	const selected = current?.type === 'snapshot' ? current.entry.snapshot : undefined;
	const matching = rows.reduce((sum, row) => sum + (row.type === 'group' ? row.count : 0), 0);

	// Count the selected snapshot's files and size when it does not record them.
	useEffect(() => {
		if (selected === undefined || session.stats.peek(selected) !== undefined) return;
		const controller = new AbortController();
		const timer = setTimeout(() => {
			setCounting(selected.id);
			void (async () => {
				try {
					await session.ensureIndex();
					await session.stats.count(selected, controller.signal);
					if (!controller.signal.aborted) setStatsTick((tick) => tick + 1);
				} catch {
					// Counting is a nicety: a damaged tree shows up when the snapshot is opened.
				} finally {
					if (!controller.signal.aborted) setCounting(undefined);
				}
			})();
		}, 250);
		return () => {
			clearTimeout(timer);
			controller.abort();
		};
	}, [selected, session]);

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
		if (input === 'd' && selected !== undefined) {
			if (compareWith === undefined) setCompareWith(selected);
			else if (compareWith.id === selected.id) setCompareWith(undefined);
			else {
				const [before, after] = orderByTime(compareWith, selected);
				setCompareWith(undefined);
				navigate({type: 'push', route: {name: 'diff', before, after}});
			}
			return;
		}
		if (key.escape && compareWith !== undefined) {
			setCompareWith(undefined);
			return;
		}
		if (key.escape) {
			if (state.filter !== '') dispatch({type: 'clear-filter'});
			else navigate({type: 'pop'});
		} else if (input === '/') dispatch({type: 'start-filter'});
		else if (input === 's') dispatch({type: 'cycle-sort'});
		else if (input === 'R') {
			session.forgetSnapshots();
			setLoaded(undefined);
			setError(undefined);
			setReloads((count) => count + 1);
		}
		else if ((key.return || key.rightArrow || input === ' ') && current?.type === 'group') dispatch({type: 'toggle-group', key: current.key});
		else if ((key.return || key.rightArrow) && selected !== undefined) navigate({type: 'push', route: {name: 'browser', snapshot: selected}});
		else if (input === 'b') navigate({type: 'push', route: {name: 'backup'}});
		else if (input === 'p') navigate({type: 'push', route: {name: 'retention'}});
		else if (input === 'r' && selected !== undefined) navigate({type: 'push', route: {name: 'restore', snapshot: selected, includes: []}});
		else if (input === 'c' && (selected !== undefined || current?.type === 'group')) navigate({type: 'push', route: {name: 'copy', snapshots: selected !== undefined ? [selected] : entries.filter((entry) => current?.type === 'group' && entry.groupKey === current.key).map((entry) => entry.snapshot).reverse()}});
	});

	// Keep the cursor within the list when it shrank (another filter, a folded group).
	useEffect(() => {
		if (state.list.cursor >= rows.length && rows.length > 0) dispatch({type: 'list', move: {type: 'last'}, view});
	});

	const cols = layoutColumns(width);
	const {start, end} = visibleRange(state.list, view);
	const now = Date.now();
	const title = `${session.profile.name} › Snapshots`;
	const total = entries.length;
	let status: StatusMessage | ReactNode;
	if (state.editing) {
		status = (
			<Text>
				<Text bold>/</Text>
				{state.filter}
				<Text inverse> </Text>
				<Text dimColor>{`  ${matching} of ${total} · Enter keeps the filter, Esc clears it`}</Text>
			</Text>
		);
	} else if (error !== undefined) status = {text: error, tone: 'error'};
	else if (compareWith !== undefined) status = {text: `Comparing with ${shortenId(compareWith.id)}: move to another snapshot and press d (Esc cancels)`, tone: 'warning'};
	else if (loaded === undefined) status = {text: 'Loading snapshots…'};
	else if (state.filter !== '') status = {text: `Filter "${state.filter}": ${matching} of ${total} snapshots · Esc clears the filter`};
	else {
		const groups = rows.filter((row) => row.type === 'group').length;
		status = {text: `${total} snapshot${total === 1 ? '' : 's'} from ${groups} source${groups === 1 ? '' : 's'} · ${SORT_LABELS[state.sort]}${loaded.unreadable > 0 ? ` · ${loaded.unreadable} could not be read` : ''}`, tone: loaded.unreadable > 0 ? 'warning' : 'info'};
	}
	const selectedStats = selected === undefined ? undefined : session.stats.peek(selected);
	const detail = selected === undefined
		? current?.type === 'group' ? `  ${current.count} snapshot${current.count === 1 ? '' : 's'} of ${current.label} · Enter ${current.collapsed ? 'unfolds' : 'folds'}` : ' '
		: `  ${selectedStats !== undefined ? `${selectedStats.files} files, ${formatBytes(selectedStats.bytes)}` : counting === selected.id ? 'counting files…' : 'files not counted yet'}  ·  ${selected.username ? `by ${selected.username}  ·  ` : ''}${selected.id}`;

	return (
		<ScreenFrame title={title} help={HELP} status={status} textMode={state.editing}>
			<Box flexDirection="column">
				<Text bold>{'    ' + fitText('ID', cols.id) + fitText('When', cols.when) + fitText('Date', cols.date) + fitTextRight('Files', cols.files - 1) + ' ' + fitTextRight('Size', cols.size - 1) + '  ' + fitText('Tags', cols.tags - 2)}</Text>
				<Box flexDirection="column" height={listHeight}>
					{loaded !== undefined && total === 0 ? (
						<Box flexDirection="column">
							<Text>{'  No snapshots yet.'}</Text>
							<Text>{'  Press b to back up a folder: its files are saved as the first snapshot.'}</Text>
						</Box>
					) : loaded !== undefined && rows.length === 0 ? (
						<Text>{`  No snapshot matches "${state.filter}".`}</Text>
					) : (
						rows.slice(start, end).map((row, offset) => {
							const index = start + offset;
							const isCursor = index === state.list.cursor;
							if (row.type === 'group') {
								const count = row.count === row.total ? `${row.total}` : `${row.count} of ${row.total}`;
								const text = `${isCursor ? '›' : ' '} ${row.collapsed ? '▸' : '▾'} ${truncateEnd(row.label, Math.max(10, width - 20))}  (${count})`;
								return (
									<Text key={`g:${row.key}`} bold inverse={isCursor} color={color && !isCursor ? 'cyan' : undefined}>
										{fitText(text, width)}
									</Text>
								);
							}
							const {snapshot} = row.entry;
							const stats = formatStats(session.stats.peek(snapshot));
							const tags = (snapshot.tags ?? []).map((tag) => `#${tag}`).join(' ');
							const text = (isCursor ? '  › ' : compareWith?.id === snapshot.id ? '  d ' : '    ') + fitText(shortenId(snapshot.id), cols.id) + fitText(formatRelativeTime(row.entry.date, now), cols.when) + fitText(formatLocalTime(row.entry.date), cols.date) + fitTextRight(stats.files, cols.files - 1) + ' ' + fitTextRight(stats.size, cols.size - 1) + '  ' + fitText(tags, cols.tags - 2);
							return (
								<Text key={snapshot.id} inverse={isCursor}>
									{text}
								</Text>
							);
						})
					)}
				</Box>
				<Text dimColor>{truncateEnd(detail, width)}</Text>
				<Text dimColor>{selected === undefined ? ' ' : truncateStart(`  ${selected.hostname ?? '?'}: ${selected.paths.join(' ')}`, width)}</Text>
			</Box>
		</ScreenFrame>
	);
}
