/**
 * Browses a snapshot as a directory tree: open directories, go up, see an entry's details,
 * mark entries with Space and restore them (or the whole snapshot) with `r`. `/` searches the
 * directory shown; `f` finds entries by name in the whole snapshot, in the background.
 * Large directories are decoded off the main thread and only the rows on screen are drawn.
 */
import {useEffect, useReducer, useRef, useState, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import type {TreeNode} from '../../engine/format/tree.js';
import {formatMode} from '../../engine/format/mode.js';
import {usePersistentReducer, useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {editText} from '../ui/text-field.js';
import {countListed, createBrowserState, currentTreeId, hasMarksBelow, listedEntry, pathOfEntry, readMark, reduceBrowser, selectedEntry} from '../state/browser.js';
import {createFindState, reduceFind} from '../state/find.js';
import {findInSnapshot, type FindMatch} from '../find.js';
import {readListMove, visibleRange} from '../state/list.js';
import {describeError, type Session} from '../session.js';
import {fitText, fitTextRight, formatBytes, formatLocalTime, parseRepositoryTime, shortenId, truncateEnd, truncateStart} from '../format.js';
import {resolve} from 'node:path';
import {saveEntry} from '../save-entry.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'open'},
	{keys: '←', action: 'up'},
	{keys: 'Space', action: 'mark'},
	{keys: 'r', action: 'restore'},
	{keys: '/', action: 'search'},
	{keys: 'f', action: 'find'},
	{keys: 'v', action: 'view'},
	{keys: 'Esc', action: 'snapshots'},
	{keys: 'v', action: 'view the selected file: a pager for text, hex for binary data (only what is shown is read)', more: true},
	{keys: 'w', action: 'save the selected file to a path (a directory as a tar archive), as cairn dump does', more: true},
	{keys: '→', action: 'open the directory (as Enter)', more: true},
	{keys: 'Backspace', action: 'go up (as ←)', more: true},
	{keys: '/', action: 'search names in this directory (Esc clears the search)', more: true},
	{keys: 'f', action: 'find by name in the whole snapshot (* and ? work as in a shell)', more: true},
	{keys: 'a', action: 'mark or unmark everything listed in this directory', more: true},
	{keys: 'u', action: 'unmark everything', more: true},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
	{keys: 'Home End', action: 'first / last (also g / G)', more: true},
];
const FIND_HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'go to it'},
	{keys: 'f', action: 'new search'},
	{keys: 'Esc', action: 'stop / close'},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
	{keys: 'Home End', action: 'first / last (also g / G)', more: true},
];

/** Loads a directory listing through the session's tree loader (the index first, once per session). */
async function loadDirectory(session: Session, treeId: string): Promise<readonly TreeNode[]> {
	const cached = session.trees.peek(treeId);
	if (cached !== undefined) return cached;
	await session.ensureIndex();
	return session.trees.load(treeId);
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
export function BrowserScreen({session, snapshot, open}: {session: Session; snapshot: Snapshot; open?: string}) {
	const {navigate, color, cwd} = useAppContext();
	const {width, height} = useBodySize();
	const [state, dispatch] = usePersistentReducer(`browser:${snapshot.id}${open === undefined ? '' : `:${open}`}`, reduceBrowser, () => createBrowserState(snapshot.tree));
	const [saving, setSaving] = useState<{path: string; node: TreeNode; source: string; phase: 'typing' | 'running' | 'done' | 'failed'; message?: string} | undefined>();
	const saveAbort = useRef<AbortController | undefined>(undefined);
	const [find, dispatchFind] = useReducer(reduceFind, undefined, () => createFindState());
	const [finding, setFinding] = useState(false);
	const findAbort = useRef<AbortController | undefined>(undefined);
	const listHeight = Math.max(1, height - 2);
	const treeId = currentTreeId(state);
	const needsStart = !state.started;

	// The first visit opens the directory holding the backed-up paths.
	useEffect(() => {
		if (!needsStart) return;
		let live = true;
		void (async () => {
			const opened = open === undefined ? undefined : open.split('/').filter(Boolean);
			const start = opened ? opened.slice(0, -1) : findStartPath(snapshot.paths);
			const trees = [snapshot.tree];
			const path: string[] = [];
			try {
				for (const name of start) {
					const nodes = await loadDirectory(session, trees[trees.length - 1]!);
					const node = nodes.find((n) => n.name === name);
					if (node?.type !== 'dir' || !node.subtree) break;
					path.push(name);
					trees.push(node.subtree);
				}
			} catch {
				// The listing effect below reports the failure.
			}
			const select = opened ? opened.at(-1) : snapshot.paths.length === 1 ? snapshot.paths[0]!.split('/').filter(Boolean).at(-1) : undefined;
			if (live && path.length > 0) dispatch({type: 'jump', path, trees, select});
			else if (live) dispatch({type: 'jump', path: [], trees: [snapshot.tree], select});
		})();
		return () => {
			live = false;
		};
	}, [needsStart, snapshot, session, dispatch, open]);

	useEffect(() => {
		if (state.entries !== undefined || needsStart) return;
		let live = true;
		loadDirectory(session, treeId).then(
			(entries) => live && dispatch({type: 'loaded', treeId, entries}),
			(error: unknown) => live && dispatch({type: 'failed', treeId, message: describeError(error)}),
		);
		return () => {
			live = false;
		};
	}, [treeId, state.entries, needsStart, session, dispatch]);

	useEffect(() => () => {
		findAbort.current?.abort();
		saveAbort.current?.abort();
	}, []);

	const startSave = (target: string, node: TreeNode, source: string): void => {
		const controller = new AbortController();
		saveAbort.current = controller;
		setSaving({path: target, node, source, phase: 'running', message: 'saving…'});
		void (async () => {
			try {
				await session.ensureIndex();
				const written = await saveEntry(session, node, source, resolve(cwd, target), controller.signal, (bytes) => setSaving((current) => current && {...current, message: `saving… ${formatBytes(bytes)}`}));
				setSaving((current) => current && {...current, phase: 'done', message: `Saved ${source} to ${resolve(cwd, target)} (${formatBytes(written)}).`});
			} catch (error) {
				if (!controller.signal.aborted) setSaving((current) => current && {...current, phase: 'failed', message: describeError(error)});
				else setSaving(undefined);
			}
		})();
	};

	// The worker that decodes large directories starts now, not when the first one is opened.
	useEffect(() => {
		session.trees.prepare();
	}, [session]);

	const startFind = (): void => {
		if (find.query.trim() === '') return;
		findAbort.current?.abort();
		const controller = new AbortController();
		findAbort.current = controller;
		dispatchFind({type: 'start'});
		let batch: FindMatch[] = [];
		let checked = 0;
		// Results and counts reach the screen a few times a second, never once per entry.
		const timer = setInterval(() => {
			if (batch.length > 0) dispatchFind({type: 'matches', matches: batch});
			batch = [];
			dispatchFind({type: 'progress', checked});
		}, 150);
		void (async () => {
			try {
				await session.ensureIndex();
				const result = await findInSnapshot(session.trees, snapshot.tree, find.query, {
					signal: controller.signal,
					onMatches: (matches) => {
						batch = batch.concat(matches);
					},
					onProgress: (count) => {
						checked = count;
					},
				});
				clearInterval(timer);
				if (batch.length > 0) dispatchFind({type: 'matches', matches: batch});
				dispatchFind({type: 'finish', truncated: result.truncated, checked: result.checked});
			} catch (error) {
				clearInterval(timer);
				if (batch.length > 0) dispatchFind({type: 'matches', matches: batch});
				dispatchFind({type: 'progress', checked});
				if (controller.signal.aborted) dispatchFind({type: 'cancel'});
				else dispatchFind({type: 'fail', message: describeError(error)});
			}
		})();
	};

	const stopFind = (): void => {
		findAbort.current?.abort();
		findAbort.current = undefined;
	};

	useScreenKeys((input, key) => {
		if (saving !== undefined) {
			if (saving.phase === 'typing') {
				if (key.escape) setSaving(undefined);
				else if (key.return && saving.path.trim() !== '') startSave(saving.path.trim(), saving.node, saving.source);
				else {
					const edited = editText(saving.path, input, key);
					if (edited !== undefined) setSaving({...saving, path: edited});
				}
			} else if (saving.phase === 'running') {
				if (key.escape) saveAbort.current?.abort();
			} else setSaving(undefined);
			return;
		}
		if (finding) {
			if (find.phase === 'typing') {
				if (key.escape) {
					if (find.results.length > 0) dispatchFind({type: 'back'});
					else setFinding(false);
				} else if (key.return) startFind();
				else {
					const edited = editText(find.query, input, key);
					if (edited !== undefined) dispatchFind({type: 'type', query: edited});
				}
				return;
			}
			const move = readListMove(input, key);
			if (move !== undefined) {
				dispatchFind({type: 'list', move, height: listHeight});
				return;
			}
			if (key.escape) {
				if (find.phase === 'searching') stopFind();
				else setFinding(false);
			} else if (input === 'f' || input === '/') {
				stopFind();
				dispatchFind({type: 'edit'});
			} else if (key.return || key.rightArrow) {
				const match = find.results[find.list.cursor];
				if (match === undefined) return;
				stopFind();
				setFinding(false);
				dispatch({type: 'jump', path: match.dir, trees: match.trees, select: match.name});
			}
			return;
		}
		if (state.editing) {
			if (key.return || key.downArrow || key.upArrow) dispatch({type: 'accept-filter'});
			else if (key.escape) dispatch({type: 'clear-filter'});
			else {
				const edited = editText(state.filter, input, key);
				if (edited !== undefined) dispatch({type: 'set-filter', filter: edited});
			}
			return;
		}
		const move = readListMove(input, key);
		if (move !== undefined) {
			dispatch({type: 'list', move, height: listHeight});
			return;
		}
		if (key.escape) {
			if (state.filter !== '') dispatch({type: 'clear-filter'});
			else navigate({type: 'pop'});
		} else if (key.return || key.rightArrow) dispatch({type: 'enter'});
		else if (key.leftArrow || key.backspace || key.delete) dispatch({type: 'up'});
		else if (input === ' ') dispatch({type: 'toggle-mark', height: listHeight});
		else if (input === 'a') dispatch({type: 'toggle-all'});
		else if (input === 'u') dispatch({type: 'clear-marks'});
		else if (input === '/') dispatch({type: 'start-filter'});
		else if (input === 'f') {
			setFinding(true);
			dispatchFind({type: 'edit'});
		} else if (input === 'r') navigate({type: 'push', route: {name: 'restore', snapshot, includes: state.marks}});
		else if (input === 'v' || input === 'w') {
			const entry = selectedEntry(state);
			if (input === 'v' && entry?.type === 'file') navigate({type: 'push', route: {name: 'preview', snapshot, path: pathOfEntry(state, entry.name), node: entry}});
			else if (input === 'w' && entry !== undefined && (entry.type === 'file' || entry.type === 'dir')) {
				setSaving({path: entry.type === 'dir' ? `${entry.name}.tar` : entry.name, node: entry, source: pathOfEntry(state, entry.name), phase: 'typing'});
			}
		}
	});

	const title = `${session.profile.name} › ${shortenId(snapshot.id)} › ${finding ? 'Find' : 'Files'}`;
	const sizeWidth = 11;
	const timeWidth = 17;
	if (finding) {
		const view = {count: find.results.length, height: listHeight};
		const {start, end} = visibleRange(find.list, view);
		const selected = find.results[find.list.cursor];
		const found = `${find.results.length}${find.truncated ? '+' : ''} found`;
		const phase = find.phase === 'searching' ? 'searching…' : find.phase === 'cancelled' ? 'stopped' : find.phase === 'failed' ? 'failed' : find.phase === 'done' ? 'done' : '';
		const header = find.phase === 'typing' && find.results.length === 0 ? 'Find by name in the whole snapshot' : `"${find.query}": ${found} · ${find.checked} entries looked at${phase === '' ? '' : ` · ${phase}`}`;
		let status: StatusMessage | ReactNode;
		if (find.phase === 'typing') {
			status = (
				<Text>
					<Text bold>Find: </Text>
					{find.query}
					<Text inverse> </Text>
					<Text dimColor>{'  Enter searches (* ? as in a shell), Esc closes'}</Text>
				</Text>
			);
		} else if (find.phase === 'failed') status = {text: find.error ?? 'The search failed.', tone: 'error'};
		else if (find.phase === 'searching') status = {text: 'Searching in the background: move and open results already; Esc stops.'};
		else status = {text: find.results.length === 0 ? `Nothing named like "${find.query}". f searches again.` : 'Enter goes to the entry; f searches again; Esc closes.'};
		const nameWidth = Math.max(10, width - 4 - sizeWidth);
		return (
			<ScreenFrame title={title} help={FIND_HELP} status={status} textMode={find.phase === 'typing'}>
				<Box flexDirection="column">
					<Text bold>{truncateEnd(header, width)}</Text>
					<Box flexDirection="column" height={listHeight}>
						{find.results.slice(start, end).map((match, offset) => {
							const index = start + offset;
							const current = index === find.list.cursor;
							const name = '/' + match.path + (match.type === 'dir' ? '/' : '');
							const size = match.type === 'file' ? formatBytes(match.size ?? 0) : match.type === 'dir' ? '' : match.type;
							return (
								<Text key={match.path} inverse={current}>
									{`${current ? '›' : ' '} ${fitText(truncateStart(name, nameWidth), nameWidth)} ${fitTextRight(size, sizeWidth)}`}
								</Text>
							);
						})}
					</Box>
					<Text dimColor>{selected === undefined ? ' ' : truncateStart(`in /${selected.dir.join('/')}`, width)}</Text>
				</Box>
			</ScreenFrame>
		);
	}

	const count = countListed(state);
	const view = {count, height: listHeight};
	const {start, end} = visibleRange(state.list, view);
	const selected = selectedEntry(state);
	const nameWidth = Math.max(10, width - 5 - sizeWidth - timeWidth);
	const where = '/' + state.path.join('/');
	const marked = state.marks.length;
	const total = state.entries?.length ?? 0;
	const counted = state.entries === undefined ? (state.started ? 'loading…' : 'opening…') : state.shown !== undefined ? `${count} of ${total} entries match "${state.filter}"` : `${total} entr${total === 1 ? 'y' : 'ies'}`;
	const rest = `  ·  ${counted}${marked > 0 ? `  ·  ${marked} marked` : ''}`;
	const header = truncateStart(where, Math.max(10, width - rest.length)) + rest;
	let status: StatusMessage | ReactNode;
	if (state.editing) {
		status = (
			<Text>
				<Text bold>/</Text>
				{state.filter}
				<Text inverse> </Text>
				<Text dimColor>{`  ${count} of ${total} · Enter keeps the search, Esc clears it`}</Text>
			</Text>
		);
	} else if (state.error !== undefined) status = {text: state.error, tone: 'error'};
	else if (state.entries === undefined) status = {text: 'Loading…'};
	else if (state.filter !== '') status = {text: `Search "${state.filter}": ${count} of ${total} · Esc clears the search`};
	else status = {text: marked > 0 ? `${marked} marked: r restores ${marked === 1 ? 'it' : 'them'}, u unmarks all` : 'Space marks; r restores. v views a file, w saves it. / searches, f finds'};
	if (saving !== undefined) {
		status = saving.phase === 'typing' ? (
			<Text>
				<Text bold>Save to: </Text>
				{saving.path}
				<Text inverse> </Text>
				<Text dimColor>{`  ${saving.node.type === 'dir' ? 'as a tar archive; ' : ''}Enter saves, Esc cancels`}</Text>
			</Text>
		) : {text: saving.message ?? '', tone: saving.phase === 'failed' ? 'error' : saving.phase === 'done' ? 'success' : 'info'};
	}
	return (
		<ScreenFrame title={title} help={HELP} status={status} textMode={state.editing || saving?.phase === 'typing'}>
			<Box flexDirection="column">
				<Text bold>{truncateEnd(header, width)}</Text>
				<Box flexDirection="column" height={listHeight}>
					{state.entries !== undefined && total === 0 && state.error === undefined ? <Text>{'  (empty directory)'}</Text> : null}
					{state.entries !== undefined && total > 0 && count === 0 ? <Text>{`  No name here contains "${state.filter}".`}</Text> : null}
					{Array.from({length: Math.max(0, end - start)}, (_, offset) => {
						const index = start + offset;
						const node = listedEntry(state, index);
						if (node === undefined) return null;
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
