/**
 * Restores marked entries (or a whole snapshot) into a new directory: the target is shown and
 * editable first, then progress, then what was restored and what failed.
 */
import {useState} from 'react';
import {readdir} from 'node:fs/promises';
import {join} from 'node:path';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {runRestore, type RestoreSummary} from '../../engine/restorer/restorer.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {editText, TextField} from '../ui/text-field.js';
import {ProgressView} from '../ui/progress-view.js';
import {useOperation} from '../ui/use-operation.js';
import {completePath, expandPath} from '../path-completion.js';
import {describeError, type Session} from '../session.js';
import type {OperationIssue} from '../state/operation.js';
import {formatBytes, formatDuration, shortenId, truncateEnd, truncateStart} from '../format.js';

/** The default target: `./cairn-restore-<short id>`. */
export function suggestRestoreTarget(snapshotId: string): string {
	return `./cairn-restore-${shortenId(snapshotId)}`;
}

/** Tells why a directory cannot be a new restore target (it exists and holds files), or undefined. */
export async function checkRestoreTarget(path: string): Promise<string | undefined> {
	try {
		const names = await readdir(path);
		return names.length > 0 ? `${path} already exists and is not empty: choose a new directory.` : undefined;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return undefined;
		if (code === 'ENOTDIR') return `${path} is a file: choose a new directory.`;
		return describeError(error);
	}
}

/** Where each restored item ends up: the target joined with its snapshot path. */
export function describeRestoredItems(target: string, includes: readonly string[], snapshot: Snapshot): string[] {
	const items = includes.length > 0 ? includes : snapshot.paths.map((p) => p.replace(/^\/+/, ''));
	return items.map((item) => join(target, item));
}

/** Props of {@link RestoreScreen}. */
export interface RestoreScreenProps {
	readonly session: Session;
	readonly snapshot: Snapshot;
	/** Snapshot paths (no leading slash) to restore; empty restores everything. */
	readonly includes: readonly string[];
}

const EDIT_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'start'},
	{keys: 'Tab', action: 'complete path'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];
const RUN_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel (asks first)'}];
const DONE_HELP: readonly KeyHelp[] = [{keys: 'Enter Esc', action: 'back'}];
const FAILED_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'try again'},
	{keys: 'Esc', action: 'back'},
];

/** The restore screen. */
export function RestoreScreen({session, snapshot, includes}: RestoreScreenProps) {
	const {navigate, cwd, home, color} = useAppContext();
	const {width, height} = useBodySize();
	const [target, setTarget] = useState(() => suggestRestoreTarget(snapshot.id));
	const [candidates, setCandidates] = useState<readonly string[]>([]);
	const [targetUsed, setTargetUsed] = useState('');
	const operation = useOperation<RestoreSummary>();
	const {state} = operation;
	const absolute = expandPath(target.trim() === '' ? '.' : target.trim(), cwd, home);
	const what = includes.length === 0 ? `the whole snapshot ${shortenId(snapshot.id)}` : `${includes.length} marked item${includes.length === 1 ? '' : 's'} of snapshot ${shortenId(snapshot.id)}`;

	const begin = async (): Promise<void> => {
		if (target.trim() === '') {
			operation.dispatch({type: 'invalid', error: 'Type the directory to restore into.'});
			return;
		}
		const problem = await checkRestoreTarget(absolute);
		if (problem !== undefined) {
			operation.dispatch({type: 'invalid', error: problem});
			return;
		}
		setTargetUsed(absolute);
		operation.start(({signal, onProgress, onIssue}) =>
			runRestore(session.repo, snapshot.id, absolute, {includes: [...includes], overwrite: 'never', signal, onProgress, onError: onIssue}),
		);
	};

	useScreenKeys((input, key) => {
		switch (state.phase) {
			case 'edit': {
				if (key.escape) navigate({type: 'pop'});
				else if (key.return) void begin();
				else if (key.tab) {
					void completePath(target, cwd, home).then((completion) => {
						setTarget(completion.value);
						setCandidates(completion.candidates);
					});
				} else {
					const edited = editText(target, input, key);
					if (edited !== undefined) {
						setTarget(edited);
						setCandidates([]);
						operation.dispatch({type: 'invalid', error: ''});
					}
				}
				return;
			}
			case 'running':
				if (state.confirmCancel) {
					if (input === 'y' || input === 'Y') operation.cancel();
					else if (input === 'n' || input === 'N' || key.escape) operation.dispatch({type: 'keep-going'});
				} else if (key.escape) operation.dispatch({type: 'ask-cancel'});
				return;
			case 'done':
				if (key.return || key.escape) navigate({type: 'pop'});
				return;
			case 'failed':
				if (key.escape) navigate({type: 'pop'});
				else if (key.return) operation.dispatch({type: 'edit'});
				return;
		}
	});

	const title = `${session.profile.name} › ${shortenId(snapshot.id)} › Restore`;
	if (state.phase === 'edit') {
		return (
			<ScreenFrame title={title} help={EDIT_HELP} textMode status={state.error ? {text: state.error, tone: 'error'} : {text: 'Enter starts the restore. Existing files are never overwritten.'}}>
				<Box flexDirection="column" paddingX={1}>
					<Text>
						<Text bold>Restore </Text>
						{what}
					</Text>
					{includes.slice(0, Math.max(1, height - 10)).map((item) => (
						<Text key={item}>{'  /' + truncateStart(item, width - 6)}</Text>
					))}
					{includes.length > height - 10 && includes.length > 1 ? <Text>{`  … and ${includes.length - Math.max(1, height - 10)} more`}</Text> : null}
					<Text> </Text>
					<TextField label="Into" value={target} focused width={width - 2} labelWidth={7} />
					<Text dimColor>{'       = ' + truncateStart(absolute, width - 12)}</Text>
					{candidates.length > 0 ? <Text color={color ? 'cyan' : undefined}>{truncateEnd(candidates.join('  '), width - 2)}</Text> : null}
					<Text> </Text>
					<Text dimColor>Files keep their path inside the snapshot, below this directory.</Text>
				</Box>
			</ScreenFrame>
		);
	}
	if (state.phase === 'running') {
		const status = state.confirmCancel
			? {text: 'Cancel the restore? y = cancel (finished files stay), n = keep going', tone: 'warning' as const}
			: state.cancelling
				? {text: 'Cancelling…', tone: 'warning' as const}
				: {text: `Restoring into ${targetUsed}`};
		return (
			<ScreenFrame title={title} help={RUN_HELP} status={status}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{truncateEnd(`Restoring ${what}`, width - 2)}</Text>
					<Text>{'into ' + truncateStart(targetUsed, width - 7)}</Text>
					<Text> </Text>
					<ProgressView progress={state.progress} width={width - 2} />
					<IssueList issues={state.issues} width={width - 2} rows={Math.max(0, height - 14)} />
				</Box>
			</ScreenFrame>
		);
	}
	if (state.phase === 'failed') {
		return (
			<ScreenFrame title={title} help={FAILED_HELP} status={{text: state.cancelled ? 'Restore cancelled.' : 'Restore failed.', tone: state.cancelled ? 'warning' : 'error'}}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{state.cancelled ? 'The restore was cancelled.' : 'The restore failed:'}</Text>
					<Text wrap="wrap">{state.cancelled ? `Files restored so far into ${targetUsed} are complete; no partial file was left.` : state.message}</Text>
					<Text> </Text>
					<IssueList issues={state.issues} width={width - 2} rows={Math.max(0, height - 6)} />
				</Box>
			</ScreenFrame>
		);
	}
	const summary = state.summary;
	const items = describeRestoredItems(targetUsed, includes, snapshot);
	const errors = summary.errors.map((error) => ({path: error.path, message: error.message}));
	const itemRows = Math.max(1, Math.min(items.length, height - 9 - Math.min(errors.length, 4)));
	const seconds = state.progress?.elapsed ?? 0;
	return (
		<ScreenFrame title={title} help={DONE_HELP} status={errors.length > 0 ? {text: `Restore finished with ${errors.length} error${errors.length === 1 ? '' : 's'}.`, tone: 'warning'} : {text: 'Restore finished.', tone: 'success'}}>
			<Box flexDirection="column" paddingX={1}>
				<Text bold>{truncateEnd(`Restored ${summary.filesRestored} file${summary.filesRestored === 1 ? '' : 's'} (${formatBytes(summary.bytesRestored)}) and ${summary.dirsRestored} director${summary.dirsRestored === 1 ? 'y' : 'ies'} in ${formatDuration(seconds)}`, width - 2)}</Text>
				<Text>{'into ' + truncateStart(targetUsed, width - 7)}</Text>
				{summary.skipped.length > 0 ? <Text>{`${summary.skipped.length} existing file${summary.skipped.length === 1 ? ' was' : 's were'} left as they were.`}</Text> : null}
				<Text> </Text>
				<Text bold>What was restored:</Text>
				{items.slice(0, itemRows).map((item) => (
					<Text key={item} color={color ? 'green' : undefined}>{'  ' + truncateStart(item, width - 4)}</Text>
				))}
				{items.length > itemRows ? <Text>{`  … and ${items.length - itemRows} more`}</Text> : null}
				<IssueList issues={errors} width={width - 2} rows={4} />
			</Box>
		</ScreenFrame>
	);
}

/** The first problems of an operation, and how many more there are. */
export function IssueList({issues, width, rows}: {issues: readonly OperationIssue[]; width: number; rows: number}) {
	const {color} = useAppContext();
	if (issues.length === 0 || rows <= 0) return null;
	const shown = issues.slice(0, Math.max(1, rows - 1));
	return (
		<Box flexDirection="column">
			<Text bold color={color ? 'red' : undefined}>{`Errors (${issues.length}${issues.length >= 500 ? '+' : ''}):`}</Text>
			{shown.map((issue, index) => (
				<Text key={index}>{'  ' + truncateEnd(`${issue.path}: ${issue.message}`, width - 2)}</Text>
			))}
			{issues.length > shown.length ? <Text>{`  … and ${issues.length - shown.length} more`}</Text> : null}
		</Box>
	);
}
