/**
 * Backs up a path into a new snapshot: a path field with Tab completion and optional tags,
 * then live progress (Esc asks before cancelling), then the summary.
 */
import {useState} from 'react';
import {stat} from 'node:fs/promises';
import {Box, Text} from 'ink';
import {runBackup, type BackupSummary} from '../../engine/archiver/archiver.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {editText, TextField} from '../ui/text-field.js';
import {ProgressView} from '../ui/progress-view.js';
import {useOperation} from '../ui/use-operation.js';
import {completePath, expandPath} from '../path-completion.js';
import type {Session} from '../session.js';
import {IssueList} from './restore.js';
import {formatBytes, formatDuration, shortenId, truncateEnd, truncateStart} from '../format.js';

const EDIT_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'start'},
	{keys: 'Tab', action: 'complete path'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-W', action: 'delete the last path component', more: true},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];
const RUN_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel (asks first)'}];
const END_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'back to the snapshots'},
	{keys: 'Esc', action: 'back'},
];

/** Splits a tag field (`daily, work`) into tags. */
export function parseTags(text: string): string[] {
	return text.split(/[,\s]+/).map((tag) => tag.trim()).filter(Boolean);
}

/** The backup screen. */
export function BackupScreen({session}: {session: Session}) {
	const {navigate, cwd, home, store, profiles, reloadProfiles, memory, color} = useAppContext();
	const {width, height} = useBodySize();
	const [path, setPath] = useState(() => (profiles.find((p) => p.name === session.profile.name) ?? session.profile).backupPaths?.[0] ?? '');
	const [tags, setTags] = useState('');
	const [field, setField] = useState<0 | 1>(0);
	const [candidates, setCandidates] = useState<readonly string[]>([]);
	const [source, setSource] = useState('');
	const operation = useOperation<BackupSummary>();
	const {state} = operation;
	const absolute = path.trim() === '' ? '' : expandPath(path.trim(), cwd, home);

	const begin = async (): Promise<void> => {
		if (absolute === '') {
			operation.dispatch({type: 'invalid', error: 'Type the path of a folder or file to back up (Tab completes).'});
			return;
		}
		try {
			await stat(absolute);
		} catch {
			operation.dispatch({type: 'invalid', error: `${absolute} does not exist or cannot be read.`});
			return;
		}
		setSource(absolute);
		const tagList = parseTags(tags);
		operation.start(async ({signal, onProgress, onIssue}) => {
			const summary = await runBackup(session.repo, {paths: [absolute], tags: tagList, signal, onProgress, onWarning: onIssue});
			session.forgetSnapshots();
			memory.delete('snapshots');
			try {
				const saved = store.listProfiles().find((p) => p.name === session.profile.name) ?? session.profile;
				store.saveProfile({...saved, backupPaths: [absolute]});
				reloadProfiles();
			} catch {
				// Remembering the path is a convenience; the backup itself succeeded.
			}
			return summary;
		});
	};

	useScreenKeys((input, key) => {
		switch (state.phase) {
			case 'edit': {
				if (key.escape) navigate({type: 'pop'});
				else if (key.return) void begin();
				else if (key.upArrow || key.downArrow || (key.tab && field === 1)) {
					setField(field === 0 ? 1 : 0);
					setCandidates([]);
				} else if (key.tab) {
					void completePath(path, cwd, home).then((completion) => {
						setPath(completion.value);
						setCandidates(completion.candidates);
					});
				} else {
					const edited = editText(field === 0 ? path : tags, input, key);
					if (edited !== undefined) {
						if (field === 0) setPath(edited);
						else setTags(edited);
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

	const title = `${session.profile.name} › Back up`;
	if (state.phase === 'edit') {
		return (
			<ScreenFrame title={title} help={EDIT_HELP} textMode status={state.error ? {text: state.error, tone: 'error'} : {text: 'Enter starts the backup.'}}>
				<Box flexDirection="column" paddingX={1}>
					<Text>Back up a folder (or a file) into a new snapshot. Unchanged files are not read again.</Text>
					<Text> </Text>
					<TextField label="Path" value={path} focused={field === 0} width={width - 2} labelWidth={7} placeholder={`e.g. ${home}/Documents`} />
					<Text dimColor>{'       ' + (absolute === '' ? ' ' : '= ' + truncateStart(absolute, width - 12))}</Text>
					<TextField label="Tags" value={tags} focused={field === 1} width={width - 2} labelWidth={7} placeholder="optional, e.g. daily, work" />
					<Text> </Text>
					{candidates.length > 0 ? <Text color={color ? 'cyan' : undefined}>{truncateEnd(candidates.join('  '), (width - 2) * 3)}</Text> : null}
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
		['Added', `${formatBytes(summary.data_added)} to the repository`],
		['Took', formatDuration(summary.total_duration)],
		['Errors', String(summary.errors)],
	];
	return (
		<ScreenFrame title={title} help={END_HELP} status={summary.errors > 0 ? {text: `Backup finished with ${summary.errors} error${summary.errors === 1 ? '' : 's'}: some files were not saved.`, tone: 'warning'} : {text: 'Backup finished.', tone: 'success'}}>
			<Box flexDirection="column" paddingX={1}>
				<Text bold>{'Backed up ' + truncateStart(source, width - 12)}</Text>
				<Text> </Text>
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
