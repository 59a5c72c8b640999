/**
 * Backs up paths into a new snapshot: lists of paths (Tab completes), exclude patterns and tags,
 * then live progress (Esc asks before cancelling), then the summary: new, changed and unchanged
 * files, data added and duration.
 */
import {useReducer, useState, type ReactNode} from 'react';
import {stat} from 'node:fs/promises';
import {Box, Text} from 'ink';
import {runBackup, type BackupSummary} from '../../engine/archiver/archiver.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {editText} from '../ui/text-field.js';
import {BACKUP_LISTS, createBackupForm, parseTagInput, reduceBackupForm, type BackupList} from '../state/backup-form.js';
import {ProgressView} from '../ui/progress-view.js';
import {useOperation} from '../ui/use-operation.js';
import {completePath, expandPath} from '../path-completion.js';
import type {Session} from '../session.js';
import {IssueList} from './restore.js';
import {fitText, formatBytes, formatDuration, shortenId, truncateEnd, truncateStart} from '../format.js';

const EDIT_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'add / start'},
	{keys: 'Tab', action: 'complete path'},
	{keys: '↑↓', action: 'list'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Enter', action: 'add what is typed; on an empty line, start the backup', more: true},
	{keys: 'Backspace', action: 'on an empty line, remove the last item of the list', more: true},
	{keys: 'Ctrl-W', action: 'delete the last path component', more: true},
	{keys: 'Ctrl-U', action: 'clear the line', more: true},
];
const RUN_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel (asks first)'}];
const END_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'back to the snapshots'},
	{keys: 'Esc', action: 'back'},
];

/** Splits a tag field (`daily, work`) into tags. */
export const parseTags = parseTagInput;

const LIST_LABELS: Record<BackupList, string> = {paths: 'Paths', excludes: 'Excludes', tags: 'Tags'};
const LIST_HINTS: Record<BackupList, string> = {
	paths: 'add a folder or file (Tab completes)',
	excludes: 'add a pattern, e.g. *.tmp or node_modules',
	tags: 'add tags, e.g. daily, work',
};

/** The backup screen. */
export function BackupScreen({session}: {session: Session}) {
	const {navigate, cwd, home, store, profiles, reloadProfiles, memory, color} = useAppContext();
	const {width, height} = useBodySize();
	const [form, dispatchForm] = useReducer(reduceBackupForm, undefined, () => {
		const saved = profiles.find((p) => p.name === session.profile.name) ?? session.profile;
		return createBackupForm({paths: saved.backupPaths, excludes: saved.excludes, tags: saved.tags});
	});
	const [candidates, setCandidates] = useState<readonly string[]>([]);
	const [sources, setSources] = useState<readonly string[]>([]);
	const operation = useOperation<BackupSummary>();
	const {state} = operation;
	const typed = form.inputs[form.focus];

	const addTyped = async (): Promise<void> => {
		const text = typed.trim();
		if (form.focus === 'tags') dispatchForm({type: 'add', list: 'tags', items: parseTagInput(text)});
		else if (form.focus === 'excludes') dispatchForm({type: 'add', list: 'excludes', items: [text]});
		else {
			const absolute = expandPath(text, cwd, home);
			try {
				await stat(absolute);
				dispatchForm({type: 'add', list: 'paths', items: [absolute]});
			} catch {
				dispatchForm({type: 'error', error: `${absolute} does not exist or cannot be read.`});
			}
		}
	};

	const begin = async (): Promise<void> => {
		if (form.paths.length === 0) {
			dispatchForm({type: 'error', error: 'Add the path of a folder or file to back up first (type it, then Enter; Tab completes).'});
			return;
		}
		for (const path of form.paths) {
			try {
				await stat(path);
			} catch {
				dispatchForm({type: 'error', error: `${path} does not exist or cannot be read: remove it with Backspace on the empty line.`});
				return;
			}
		}
		const paths = [...form.paths];
		const excludes = [...form.excludes];
		const tags = [...form.tags];
		setSources(paths);
		operation.start(async ({signal, onProgress, onIssue}) => {
			const summary = await runBackup(session.repo, {paths, excludes, tags, signal, onProgress, onWarning: onIssue});
			session.forgetSnapshots();
			session.stats.remember(summary.snapshot_id, {files: summary.total_files_processed, bytes: summary.total_bytes_processed});
			memory.delete('snapshots');
			try {
				const saved = store.listProfiles().find((p) => p.name === session.profile.name) ?? session.profile;
				store.saveProfile({...saved, backupPaths: paths, excludes, tags, lastBackup: new Date().toISOString()});
				reloadProfiles();
			} catch {
				// Remembering the settings is a convenience; the backup itself succeeded.
			}
			return summary;
		});
	};

	useScreenKeys((input, key) => {
		switch (state.phase) {
			case 'edit': {
				if (key.escape) navigate({type: 'pop'});
				else if (key.return) {
					if (typed.trim() !== '') void addTyped();
					else void begin();
				} else if (key.upArrow || (key.tab && key.shift)) {
					dispatchForm({type: 'focus', direction: -1});
					setCandidates([]);
				} else if (key.downArrow || (key.tab && form.focus !== 'paths')) {
					dispatchForm({type: 'focus', direction: 1});
					setCandidates([]);
				} else if (key.tab) {
					void completePath(typed, cwd, home).then((completion) => {
						dispatchForm({type: 'type', value: completion.value});
						setCandidates(completion.candidates);
					});
				} else if ((key.backspace || key.delete) && typed === '') {
					dispatchForm({type: 'remove-last'});
				} else {
					const edited = editText(typed, input, key);
					if (edited !== undefined) {
						dispatchForm({type: 'type', value: edited});
						setCandidates([]);
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

	const title = `${session.profile.name} › Back up`;
	const source = sources.length === 1 ? sources[0]! : `${sources.length} paths`;
	if (state.phase === 'edit') {
		// Rows for the lists: the paths get most of them.
		const room = Math.max(6, height - 6 - (candidates.length > 0 ? 1 : 0));
		const shares: Record<BackupList, number> = {paths: Math.max(2, room - 6), excludes: 3, tags: 2};
		const status = form.error !== undefined
			? {text: form.error, tone: 'error' as const}
			: typed.trim() !== ''
				? {text: `Enter adds ${form.focus === 'paths' ? 'the path' : form.focus === 'tags' ? 'the tags' : 'the pattern'}.`}
				: form.paths.length > 0
					? {text: `Enter on an empty line starts the backup of ${form.paths.length === 1 ? form.paths[0] : `${form.paths.length} paths`}.`}
					: {text: 'Type a path to back up, then Enter.'};
		const labelWidth = 10;
		return (
			<ScreenFrame title={title} help={EDIT_HELP} textMode status={status}>
				<Box flexDirection="column" paddingX={1}>
					<Text>Back up into a new snapshot. Unchanged files are not read again.</Text>
					<Text> </Text>
					{BACKUP_LISTS.map((list) => {
						const items = form[list];
						const focused = form.focus === list;
						// Tags share one row; paths and patterns get a row each.
						const rowItems = list === 'tags' ? (items.length === 0 ? [] : [items.map((tag) => `#${tag}`).join(' ')]) : items;
						const maxItems = Math.max(0, shares[list] - 1);
						const hidden = Math.max(0, rowItems.length - maxItems);
						const shown = rowItems.slice(hidden);
						const input = form.inputs[list];
						const rows: ReactNode[] = [];
						if (hidden > 0) rows.push(<Text key="more" dimColor>{`${' '.repeat(labelWidth)}… ${hidden} more`}</Text>);
						shown.forEach((item, index) => {
							const label = index === 0 && hidden === 0 ? LIST_LABELS[list] : '';
							rows.push(<Text key={`i${index}`}>{fitText(label, labelWidth) + (list === 'tags' ? truncateEnd(item, width - labelWidth - 2) : truncateStart(item, width - labelWidth - 2))}</Text>);
						});
						const label = items.length === 0 ? LIST_LABELS[list] : '';
						rows.push(
							<Box key="input" height={1}>
								<Text bold={focused}>{fitText(`${label}`, labelWidth - 2) + (focused ? '› ' : '  ')}</Text>
								{input === '' ? (
									<>
										{focused ? <Text inverse> </Text> : null}
										<Text dimColor>{truncateEnd(`+ ${LIST_HINTS[list]}`, width - labelWidth - 3)}</Text>
									</>
								) : (
									<>
										<Text>{truncateStart(input, width - labelWidth - 4)}</Text>
										{focused ? <Text inverse> </Text> : null}
									</>
								)}
							</Box>,
						);
						return (
							<Box key={list} flexDirection="column" marginBottom={list === 'tags' ? 0 : 1}>
								{rows}
							</Box>
						);
					})}
					{candidates.length > 0 ? <Text color={color ? 'cyan' : undefined}>{truncateEnd(candidates.join('  '), width - 2)}</Text> : null}
				</Box>
			</ScreenFrame>
		);
	}
	if (state.phase === 'running') {
		const status = state.confirmCancel
			? {text: 'Cancel the backup? y = cancel (no snapshot is saved), n = keep going', tone: 'warning' as const}
			: state.cancelling
				? {text: 'Cancelling…', tone: 'warning' as const}
				: {text: `Backing up ${source}`};
		return (
			<ScreenFrame title={title} help={RUN_HELP} status={status}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{'Backing up ' + truncateStart(source, width - 13)}</Text>
					{sources.length > 1 ? <Text dimColor>{truncateEnd(sources.join('  '), width - 2)}</Text> : null}
					<Text> </Text>
					<ProgressView progress={state.progress} width={width - 2} />
					<IssueList issues={state.issues} width={width - 2} rows={Math.max(0, height - 12)} />
				</Box>
			</ScreenFrame>
		);
	}
	if (state.phase === 'failed') {
		return (
			<ScreenFrame title={title} help={[{keys: 'Enter', action: 'try again'}, {keys: 'Esc', action: 'back'}]} status={{text: state.cancelled ? 'Backup cancelled.' : 'Backup failed.', tone: state.cancelled ? 'warning' : 'error'}}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{state.cancelled ? 'The backup was cancelled.' : 'The backup failed:'}</Text>
					<Text wrap="wrap">{state.cancelled ? 'No snapshot was saved. Data already sent stays in the repository and the next backup reuses it.' : state.message}</Text>
					<Text> </Text>
					<IssueList issues={state.issues} width={width - 2} rows={Math.max(0, height - 6)} />
				</Box>
			</ScreenFrame>
		);
	}
	const summary = state.summary;
	const rows: Array<[string, string]> = [
		['Snapshot', `${shortenId(summary.snapshot_id)} saved`],
		['Files', `${summary.files_new} new, ${summary.files_changed} changed, ${summary.files_unmodified} unchanged`],
		['Folders', `${summary.dirs_new} new, ${summary.dirs_changed} changed, ${summary.dirs_unmodified} unchanged`],
		['Processed', `${summary.total_files_processed} files, ${formatBytes(summary.total_bytes_processed)}`],
		['Added', `${formatBytes(summary.data_added)} of new data (${formatBytes(summary.data_added_packed)} stored after compression)`],
		['Took', formatDuration(summary.total_duration)],
		['Errors', String(summary.errors)],
	];
	return (
		<ScreenFrame title={title} help={END_HELP} status={summary.errors > 0 ? {text: `Backup finished with ${summary.errors} error${summary.errors === 1 ? '' : 's'}: some files were not saved.`, tone: 'warning'} : {text: 'Backup finished.', tone: 'success'}}>
			<Box flexDirection="column" paddingX={1}>
				<Text bold>{'Backed up ' + truncateStart(source, width - 12)}</Text>
				{sources.length > 1 ? <Text dimColor>{truncateEnd(sources.join('  '), width - 2)}</Text> : <Text> </Text>}
				{rows.map(([label, value]) => (
					<Text key={label}>
						<Text bold>{label.padEnd(11)}</Text>
						{truncateEnd(value, width - 14)}
					</Text>
				))}
				<Text> </Text>
				<IssueList issues={state.issues} width={width - 2} rows={Math.max(0, height - 11)} />
			</Box>
		</ScreenFrame>
	);
}
