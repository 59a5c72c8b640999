/**
 * Browses a snapshot as a directory tree: open directories, go up, see an entry's details,
 * mark entries with Space and restore them (or the whole snapshot) with `r`.
 */
import {useEffect} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import type {TreeNode} from '../../engine/format/tree.js';
import {loadTree} from '../../engine/restorer/walk.js';
import {formatMode} from '../../engine/format/mode.js';
import {usePersistentReducer, useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {createBrowserState, currentTreeId, hasMarksBelow, pathOfEntry, readMark, reduceBrowser, selectedEntry} from '../state/browser.js';
import {readListMove, visibleRange} from '../state/list.js';
import {describeError, type Session} from '../session.js';
import {fitText, fitTextRight, formatBytes, formatLocalTime, parseRepositoryTime, shortenId, truncateEnd, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'open'},
	{keys: '←', action: 'up'},
	{keys: 'Space', action: 'mark'},
	{keys: 'r', action: 'restore'},
	{keys: 'Esc', action: 'snapshots'},
	{keys: '→', action: 'open the directory (as Enter)', more: true},
	{keys: 'Backspace', action: 'go up (as ←)', more: true},
	{keys: 'a', action: 'mark or unmark everything in this directory', more: true},
	{keys: 'u', action: 'unmark everything', more: true},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
	{keys: 'Home End', action: 'first / last (also g / G)', more: true},
];

/** Trees already loaded, by ID, kept for the session. */
function useTreeCache(): Map<string, readonly TreeNode[]> {
	const {memory} = useAppContext();
	let cache = memory.get('trees') as Map<string, readonly TreeNode[]> | undefined;
	if (cache === undefined) {
		cache = new Map();
		memory.set('trees', cache);
	}
	return cache;
}

/** Loads a directory listing (the index first, once per session). */
async function loadDirectory(session: Session, cache: Map<string, readonly TreeNode[]>, treeId: string): Promise<readonly TreeNode[]> {
	const cached = cache.get(treeId);
	if (cached !== undefined) return cached;
	await session.ensureIndex();
	const nodes = await loadTree(session.repo, treeId);
	if (cache.size > 2000) cache.clear();
	cache.set(treeId, nodes);
	return nodes;
}

/** The directory names common to the parents of all snapshot paths, e.g. `['home', 'me']` for `/home/me/docs`. */
export function findStartPath(paths: readonly string[]): string[] {
	const parents = paths.map((p) => p.split('/').filter((part) => part !== '' && part !== '.').slice(0, -1));
	if (parents.length === 0) return [];
	const common: string[] = [];
	for (let i = 0; ; i++) {
		const part = parents[0]![i];
		if (part === undefined || parents.some((parent) => parent[i] !== part)) return common;
		common.push(part);
	}
}

/** Describes an entry on one line: mode, owner, size, time, link target. */
export function describeEntry(node: TreeNode): string {
	const parts = [formatMode(node.mode ?? 0, node.type), `${node.user ?? node.uid}:${node.group ?? node.gid}`];
	if (node.type === 'file') parts.push(`${formatBytes(node.size ?? 0)} (${node.size ?? 0} bytes)`);
	parts.push(formatLocalTime(parseRepositoryTime(node.mtime), true));
	if (node.type === 'symlink') parts.push(`→ ${node.linktarget ?? '?'}`);
	if (node.error) parts.push(`error: ${node.error}`);
	return parts.join('  ');
}

/** The browser screen. */
export function BrowserScreen({session, snapshot}: {session: Session; snapshot: Snapshot}) {
	const {navigate, color} = useAppContext();
	const {width, height} = useBodySize();
	const cache = useTreeCache();
	const [state, dispatch] = usePersistentReducer(`browser:${snapshot.id}`, reduceBrowser, () => createBrowserState(snapshot.tree));
	const listHeight = Math.max(1, height - 2);
	const treeId = currentTreeId(state);
	const needsStart = !state.started;

	// The first visit opens the directory holding the backed-up paths.
	useEffect(() => {
		if (!needsStart) return;
		let live = true;
		void (async () => {
			const start = findStartPath(snapshot.paths);
			const trees = [snapshot.tree];
			const path: string[] = [];
			try {
				for (const name of start) {
					const nodes = await loadDirectory(session, cache, trees[trees.length - 1]!);
					const node = nodes.find((n) => n.name === name);
					if (node?.type !== 'dir' || !node.subtree) break;
					path.push(name);
					trees.push(node.subtree);
				}
			} catch {
				// The listing effect below reports the failure.
			}
			const select = snapshot.paths.length === 1 ? snapshot.paths[0]!.split('/').filter(Boolean).at(-1) : undefined;
			if (live && path.length > 0) dispatch({type: 'jump', path, trees, select});
			else if (live) dispatch({type: 'jump', path: [], trees: [snapshot.tree], select});
		})();
		return () => {
			live = false;
		};
	}, [needsStart, snapshot, session, cache, dispatch]);

	useEffect(() => {
		if (state.entries !== undefined || needsStart) return;
		let live = true;
		loadDirectory(session, cache, treeId).then(
			(entries) => live && dispatch({type: 'loaded', treeId, entries}),
			(error: unknown) => live && dispatch({type: 'failed', treeId, message: describeError(error)}),
		);
		return () => {
			live = false;
		};
	}, [treeId, state.entries, needsStart, session, cache, dispatch]);

	useScreenKeys((input, key) => {
		const move = readListMove(input, key);
		if (move !== undefined) {
			dispatch({type: 'list', move, height: listHeight});
			return;
		}
		if (key.escape) navigate({type: 'pop'});
		else if (key.return || key.rightArrow) dispatch({type: 'enter'});
		else if (key.leftArrow || key.backspace || key.delete) dispatch({type: 'up'});
		else if (input === ' ') dispatch({type: 'toggle-mark', height: listHeight});
		else if (input === 'a') dispatch({type: 'toggle-all'});
		else if (input === 'u') dispatch({type: 'clear-marks'});
		else if (input === 'r') navigate({type: 'push', route: {name: 'restore', snapshot, includes: state.marks}});
	});

	const entries = state.entries ?? [];
	const view = {count: entries.length, height: listHeight};
	const {start, end} = visibleRange(state.list, view);
	const selected = selectedEntry(state);
	const sizeWidth = 11;
	const timeWidth = 17;
	const nameWidth = Math.max(10, width - 5 - sizeWidth - timeWidth);
	const where = '/' + state.path.join('/');
	const marked = state.marks.length;
	const counted = state.entries === undefined ? (state.started ? 'loading…' : 'opening…') : `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`;
	const header = `${truncateStart(where, Math.max(10, width - 40))}  ·  ${counted}${marked > 0 ? `  ·  ${marked} marked` : ''}`;
	const status = state.error !== undefined
		? {text: state.error, tone: 'error' as const}
		: state.entries === undefined
			? {text: 'Loading…'}
			: {text: marked > 0 ? `${marked} marked: r restores ${marked === 1 ? 'it' : 'them'}, u unmarks all` : 'Space marks files and directories; r restores the marked ones, or the whole snapshot'};

	return (
		<ScreenFrame title={`${session.profile.name} › ${shortenId(snapshot.id)} › Files`} help={HELP} status={status}>
			<Box flexDirection="column">
				<Text bold>{truncateEnd(header, width)}</Text>
				<Box flexDirection="column" height={listHeight}>
					{state.entries !== undefined && entries.length === 0 && state.error === undefined ? <Text>{'  (empty directory)'}</Text> : null}
					{entries.slice(start, end).map((node, offset) => {
						const index = start + offset;
						const current = index === state.list.cursor;
						const path = pathOfEntry(state, node.name);
						const mark = readMark(state.marks, path);
						const sign = mark === 'marked' ? '*' : mark === 'inside' ? '+' : node.type === 'dir' && hasMarksBelow(state.marks, path) ? '·' : ' ';
						const name = node.type === 'dir' ? `${node.name}/` : node.type === 'symlink' ? `${node.name} → ${node.linktarget ?? ''}` : node.name;
						const size = node.type === 'file' ? formatBytes(node.size ?? 0) : node.type === 'dir' ? '' : node.type;
						const text = `${sign} ${fitText(name, nameWidth)} ${fitTextRight(size, sizeWidth)}  ${fitText(formatLocalTime(parseRepositoryTime(node.mtime)), timeWidth)}`;
						return (
							<Text key={node.name} inverse={current} color={color && !current ? (mark !== undefined ? 'yellow' : node.type === 'dir' ? 'blue' : undefined) : undefined} bold={mark === 'marked'}>
								{text}
							</Text>
						);
					})}
				</Box>
				<Text>{selected === undefined ? ' ' : truncateEnd(describeEntry(selected), width)}</Text>
			</Box>
		</ScreenFrame>
	);
}
