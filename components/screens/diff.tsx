/**
 * Compares two snapshots (opened with `d` on two snapshots of the list): every entry added,
 * removed or changed from the older to the newer one, with sizes, found in the background
 * (restic's diff, in its order). Enter opens the entry in the browser of the snapshot that has it.
 */
import {useEffect, useReducer, useState} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {diffTrees} from '../../engine/diff/diff.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {EMPTY_LIST, moveList, readListMove, visibleRange, type ListState} from '../state/list.js';
import {addToTotals, EMPTY_TOTALS, locateRow, toDiffRow, type DiffRow, type DiffTotals} from '../state/diff-view.js';
import {describeError, type Session} from '../session.js';
import {fitText, fitTextRight, formatBytes, formatLocalTime, parseRepositoryTime, shortenId, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'open in browser'},
	{keys: 'a', action: 'all / added / removed / changed'},
	{keys: 'Esc', action: 'snapshots'},
	{keys: 'Enter', action: 'show the entry in the snapshot that has it (removed: the older one)', more: true},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
	{keys: 'Home End', action: 'first / last (also g / G)', more: true},
];

type Filter = 'all' | DiffRow['kind'];
const FILTERS: readonly Filter[] = ['all', 'added', 'removed', 'changed'];

interface State {
	rows: DiffRow[];
	totals: DiffTotals;
	phase: 'running' | 'done' | 'failed';
	error?: string;
	list: ListState;
	filter: Filter;
}

type Action =
	| {type: 'rows'; rows: DiffRow[]}
	| {type: 'done'}
	| {type: 'failed'; message: string}
	| {type: 'list'; move: Parameters<typeof moveList>[1]; count: number; height: number}
	| {type: 'filter'};

function reduce(state: State, action: Action): State {
	switch (action.type) {
		case 'rows':
			return {...state, rows: state.rows.concat(action.rows), totals: action.rows.reduce(addToTotals, state.totals)};
		case 'done':
			return {...state, phase: 'done'};
		case 'failed':
			return {...state, phase: 'failed', error: action.message};
		case 'list':
			return {...state, list: moveList(state.list, action.move, {count: action.count, height: action.height})};
		case 'filter':
			return {...state, filter: FILTERS[(FILTERS.indexOf(state.filter) + 1) % FILTERS.length]!, list: EMPTY_LIST};
	}
}

function sizeText(row: DiffRow): string {
	if (row.kind === 'added') return row.sizeAfter === undefined ? row.type : formatBytes(row.sizeAfter);
	if (row.kind === 'removed') return row.sizeBefore === undefined ? row.type : formatBytes(row.sizeBefore);
	if (row.sizeBefore !== undefined && row.sizeAfter !== undefined) return `${formatBytes(row.sizeBefore)} → ${formatBytes(row.sizeAfter)}`;
	return row.type;
}

const LABEL: Record<DiffRow['kind'], string> = {added: '+', removed: '-', changed: '~'};

/** The diff screen. */
export function DiffScreen({session, before, after}: {session: Session; before: Snapshot; after: Snapshot}) {
	const {navigate, color} = useAppContext();
	const {width, height} = useBodySize();
	const [state, dispatch] = useReducer(reduce, undefined, (): State => ({rows: [], totals: EMPTY_TOTALS, phase: 'running', list: EMPTY_LIST, filter: 'all'}));
	const [started] = useState(() => Date.now());

	useEffect(() => {
		const controller = new AbortController();
		let batch: DiffRow[] = [];
		const timer = setInterval(() => {
			if (batch.length > 0) dispatch({type: 'rows', rows: batch});
			batch = [];
		}, 100);
		void (async () => {
			try {
				await session.ensureIndex();
				const index = session.repo.index;
				await diffTrees((id) => session.trees.load(id, controller.signal), before.tree, after.tree, {blobSize: (type, id) => index.blobSize(type, id)}, (change) => {
					controller.signal.throwIfAborted();
					batch.push(toDiffRow(change));
				});
				clearInterval(timer);
				if (batch.length > 0) dispatch({type: 'rows', rows: batch});
				if (!controller.signal.aborted) dispatch({type: 'done'});
			} catch (error) {
				clearInterval(timer);
				if (!controller.signal.aborted) dispatch({type: 'failed', message: describeError(error)});
			}
		})();
		return () => {
			clearInterval(timer);
			controller.abort();
		};
	}, [session, before, after]);

	const shown = state.filter === 'all' ? state.rows : state.rows.filter((row) => row.kind === state.filter);
	const listHeight = Math.max(1, height - 3);
	useScreenKeys((input, key) => {
		const move = readListMove(input, key);
		if (move !== undefined) {
			dispatch({type: 'list', move, count: shown.length, height: listHeight});
			return;
		}
		if (key.escape) navigate({type: 'pop'});
		else if (input === 'a') dispatch({type: 'filter'});
		else if (key.return || key.rightArrow) {
			const row = shown[state.list.cursor];
			if (row === undefined) return;
			const {side, path} = locateRow(row);
			navigate({type: 'push', route: {name: 'browser', snapshot: side === 'before' ? before : after, open: path}});
		}
	});

	const {start, end} = visibleRange(state.list, {count: shown.length, height: listHeight});
	const t = state.totals;
	const sizeWidth = 23;
	const pathWidth = Math.max(10, width - 5 - sizeWidth);
	const summary = `+${t.added} (${formatBytes(t.bytesAdded)})  -${t.removed} (${formatBytes(t.bytesRemoved)})  ~${t.changed} (${t.bytesChanged < 0 ? '-' : '+'}${formatBytes(Math.abs(t.bytesChanged))})`;
	let status: StatusMessage;
	if (state.phase === 'failed') status = {text: state.error ?? 'The comparison failed.', tone: 'error'};
	else if (state.phase === 'running') status = {text: `Comparing… ${state.rows.length} changes so far (${Math.round((Date.now() - started) / 1000)} s); move and open them already.`};
	else status = {text: state.rows.length === 0 ? 'The two snapshots hold the same files.' : `${state.rows.length} changes · showing ${state.filter} · a switches · Enter opens in the browser`, tone: 'success'};
	const when = (s: Snapshot): string => `${shortenId(s.id)} (${formatLocalTime(parseRepositoryTime(s.time))})`;
	return (
		<ScreenFrame title={`${session.profile.name} › Compare ${shortenId(before.id)} → ${shortenId(after.id)}`} help={HELP} status={status}>
			<Box flexDirection="column">
				<Text bold>{fitText(`${when(before)} → ${when(after)}`, width)}</Text>
				<Text>{fitText(`  ${summary}`, width)}</Text>
				<Box flexDirection="column" height={listHeight}>
					{state.phase !== 'running' && shown.length === 0 ? <Text>{state.rows.length === 0 ? '  No differences.' : `  Nothing ${state.filter}.`}</Text> : null}
					{shown.slice(start, end).map((row, offset) => {
						const index = start + offset;
						const current = index === state.list.cursor;
						const text = `${current ? '›' : ' '} ${LABEL[row.kind]} ${fitText(truncateStart(row.path, pathWidth), pathWidth)} ${fitTextRight(sizeText(row), sizeWidth)}`;
						const tone = row.kind === 'added' ? 'green' : row.kind === 'removed' ? 'red' : 'yellow';
						return <Text key={row.path + row.modifier} inverse={current} color={color && !current ? tone : undefined}>{text}</Text>;
					})}
				</Box>
				<Text dimColor>{fitText(shown[state.list.cursor] === undefined ? ' ' : `  ${shown[state.list.cursor]!.modifier.padEnd(3)}${shown[state.list.cursor]!.type}`, width)}</Text>
			</Box>
		</ScreenFrame>
	);
}
