/**
 * Shows a file of a snapshot before restoring it: a pager for text, a hex view with a summary for
 * binary data. Only the bytes on screen are read (the blobs around them, through the index), so a
 * file of any size opens at once; `G` jumps to the end without reading what lies between.
 */
import {useEffect, useState} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import type {TreeNode} from '../../engine/format/tree.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {SnapshotFileReader} from '../file-reader.js';
import {describeBinary, findPreviousLineStart, formatHexRows, looksLikeText, splitTextLines} from '../state/preview.js';
import {describeError, type Session} from '../session.js';
import {fitText, formatBytes, shortenId, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'scroll'},
	{keys: 'PgUp PgDn', action: 'page'},
	{keys: 'g G', action: 'start / end'},
	{keys: 'x', action: 'text / hex'},
	{keys: 'Esc', action: 'files'},
	{keys: 'Home End', action: 'start / end of the file (as g / G)', more: true},
	{keys: 'x', action: 'switch between the text pager and the hex view', more: true},
];

/** Bytes read for one screen of text (lines longer than this are cut). */
const TEXT_WINDOW = 64 * 1024;

interface View {
	offset: number;
	lines: string[];
	/** Offsets where the shown lines start (text), for scrolling by line. */
	starts: number[];
	/** The offset just past what is shown. */
	next: number;
}

/** The preview screen. */
export function PreviewScreen({session, snapshot, path, node}: {session: Session; snapshot: Snapshot; path: string; node: TreeNode}) {
	const {navigate} = useAppContext();
	const {width, height} = useBodySize();
	const rows = Math.max(1, height - 2);
	const [reader, setReader] = useState<SnapshotFileReader>();
	const [mode, setMode] = useState<'text' | 'hex'>();
	const [kind, setKind] = useState('');
	const [offset, setOffset] = useState(0);
	const [view, setView] = useState<View>();
	const [error, setError] = useState<string>();

	useEffect(() => {
		let live = true;
		void (async () => {
			try {
				await session.ensureIndex();
				const index = session.repo.index;
				const opened = new SnapshotFileReader(node, (id) => index.blobSize('data', id), (id) => session.repo.loadBlob('data', id));
				const head = await opened.read(0, 8192);
				if (!live) return;
				const text = looksLikeText(head);
				setKind(text ? 'text' : describeBinary(head));
				setMode(text ? 'text' : 'hex');
				setReader(opened);
			} catch (caught) {
				if (live) setError(describeError(caught));
			}
		})();
		return () => {
			live = false;
		};
	}, [session, node]);

	// Reads what the screen shows at the current offset.
	useEffect(() => {
		if (reader === undefined || mode === undefined) return;
		let live = true;
		void (async () => {
			try {
				if (mode === 'hex') {
					const bytes = await reader.read(offset, rows * 16);
					if (live) setView({offset, lines: formatHexRows(bytes, offset), starts: [], next: offset + bytes.length});
					return;
				}
				const bytes = await reader.read(offset, TEXT_WINDOW);
				const complete = offset + bytes.length >= reader.size;
				let lines = splitTextLines(bytes, offset, complete);
				if (lines.length === 0 && bytes.length > 0) lines = [{offset, text: bytes.toString('utf8')}];
				const shown = lines.slice(0, rows);
				const next = lines[rows]?.offset ?? (complete ? reader.size : offset + bytes.length);
				if (live) setView({offset, lines: shown.map((l) => l.text), starts: shown.map((l) => l.offset), next});
			} catch (caught) {
				if (live) setError(describeError(caught));
			}
		})();
		return () => {
			live = false;
		};
	}, [reader, mode, offset, rows]);

	const size = reader?.size ?? node.size ?? 0;
	const lastHexPage = Math.max(0, Math.ceil(size / 16) * 16 - rows * 16);

	/** The offset of the line `count` lines above `from` (text mode). */
	const linesUp = async (from: number, count: number): Promise<number> => {
		let at = from;
		for (let i = 0; i < count && at > 0; i++) {
			const before = await reader!.read(Math.max(0, at - TEXT_WINDOW), Math.min(at, TEXT_WINDOW));
			at = findPreviousLineStart(before, at);
		}
		return at;
	};

	useScreenKeys((input, key) => {
		if (key.escape || input === 'q') {
			navigate({type: 'pop'});
			return;
		}
		if (reader === undefined || view === undefined) return;
		if (input === 'x') {
			setMode(mode === 'text' ? 'hex' : 'text');
			setOffset(mode === 'text' ? Math.floor(offset / 16) * 16 : offset);
			return;
		}
		if (mode === 'hex') {
			const step = key.pageDown || input === ' ' ? rows * 16 : key.pageUp ? -rows * 16 : key.downArrow || input === 'j' ? 16 : key.upArrow || input === 'k' ? -16 : 0;
			if (step !== 0) setOffset(Math.max(0, Math.min(lastHexPage, offset + step)));
			else if (key.home || input === 'g') setOffset(0);
			else if (key.end || input === 'G') setOffset(lastHexPage);
			return;
		}
		if (key.downArrow || input === 'j') {
			if (view.starts[1] !== undefined && view.next < size) setOffset(view.starts[1]);
		} else if (key.pageDown || input === ' ') {
			if (view.next < size) setOffset(view.next);
		} else if (key.upArrow || input === 'k') void linesUp(offset, 1).then(setOffset);
		else if (key.pageUp) void linesUp(offset, rows).then(setOffset);
		else if (key.home || input === 'g') setOffset(0);
		else if (key.end || input === 'G') void linesUp(size, rows).then(setOffset);
	});

	const percent = size === 0 ? 100 : Math.min(100, Math.round(((view?.next ?? 0) / size) * 100));
	const header = `${truncateStart(path, Math.max(10, width - 40))}  ${formatBytes(size)}  ${kind}${mode === 'hex' && kind !== 'text' ? '' : ''}`;
	let status: StatusMessage;
	if (error !== undefined) status = {text: error, tone: 'error'};
	else if (view === undefined) status = {text: 'Reading…'};
	else status = {text: `${mode === 'hex' ? 'hex' : 'text'} · bytes ${view.offset}–${view.next} of ${size} (${percent}%) · ${reader?.blobsLoaded ?? 0} of ${node.content?.length ?? 0} blobs read · x switches view`};
	return (
		<ScreenFrame title={`${session.profile.name} › ${shortenId(snapshot.id)} › View`} help={HELP} status={status}>
			<Box flexDirection="column">
				<Text bold>{fitText(header, width)}</Text>
				<Box flexDirection="column" height={rows}>
					{(view?.lines ?? []).map((line, i) => <Text key={i}>{fitText(line, width)}</Text>)}
					{view !== undefined && size === 0 ? <Text dimColor>{'  (empty file)'}</Text> : null}
				</Box>
				<Text dimColor>{fitText(view === undefined ? ' ' : view.next >= size ? '  (end)' : '  ↓ more', width)}</Text>
			</Box>
		</ScreenFrame>
	);
}

export type {View as PreviewView};
