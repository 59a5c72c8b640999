/**
 * Restores marked entries (or a whole snapshot) into a new directory (the default, its name
 * shown and editable) or to the original location. When files exist where the restore writes,
 * it shows how many and which differ, and the user picks skip, overwrite if changed or overwrite
 * with the consequence spelled out. Then progress, then what was restored and what failed.
 */
import {useEffect, useRef, useState} from 'react';
import {readdir} from 'node:fs/promises';
import {join} from 'node:path';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {runRestore, type OverwriteMode, type RestoreSummary} from '../../engine/restorer/restorer.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {FormView, readFormKey} from '../ui/form-view.js';
import {createFormState, reduceForm, type FormField, type FormState} from '../state/form.js';
import {describeConflicts, describePolicyName, describeRestoreConsequence, RESTORE_POLICIES, scanRestoreTarget, type RestoreConflicts} from '../restore-plan.js';
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

/**
 * Looks at a restore target: undefined when it does not exist or is an empty directory,
 * `'not-empty'` when it is a directory that holds something (what exists is then checked), or a
 * sentence saying why it cannot be used.
 */
export async function checkRestoreTarget(path: string): Promise<string | undefined> {
	try {
		const names = await readdir(path);
		return names.length > 0 ? 'not-empty' : undefined;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return undefined;
		if (code === 'ENOTDIR') return `${path} is a file: choose a directory.`;
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

/** The fields of the restore settings: where to, and the directory when it is a new one. */
export function buildRestoreFields(where: string): FormField[] {
	const fields: FormField[] = [
		{
			name: 'where', label: 'Restore to', kind: 'choice', choices: ['new', 'original'],
			choiceLabels: ['a new directory', 'the original location'],
			description: 'A new directory keeps everything that exists untouched. The original location puts files back where they were backed up from.',
		},
	];
	if (where !== 'original') fields.push({name: 'directory', label: 'Directory', kind: 'path', required: true, description: 'Files keep their path inside the snapshot, below this directory. Tab completes.'});
	return fields;
}

/** The policy field of the confirmation. */
const POLICY_FIELD: FormField = {
	name: 'policy', label: 'Existing files', kind: 'choice', choices: [...RESTORE_POLICIES], choiceLabels: RESTORE_POLICIES.map(describePolicyName),
};

const EDIT_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'start'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Space', action: 'where'},
	{keys: 'Tab', action: 'complete path'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];
const CHECK_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'stop checking'}];
const CONFIRM_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'start'},
	{keys: 'Space ←→', action: 'policy'},
	{keys: 'Esc', action: 'back'},
];
const RUN_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel (asks first)'}];
const DONE_HELP: readonly KeyHelp[] = [{keys: 'Enter Esc', action: 'back'}];
const FAILED_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'try again'},
	{keys: 'Esc', action: 'back'},
];

/** What the screen does before the restore runs. */
type Setup =
	| {readonly phase: 'edit'}
	| {readonly phase: 'checking'; readonly target: string; readonly checked: number}
	| {readonly phase: 'confirm'; readonly target: string; readonly conflicts: RestoreConflicts; readonly policy: OverwriteMode};

/** The restore screen. */
export function RestoreScreen({session, snapshot, includes}: RestoreScreenProps) {
	const {navigate, cwd, home, color} = useAppContext();
	const {width, height} = useBodySize();
	const [form, setForm] = useState<FormState>(() => createFormState(buildRestoreFields('new'), {where: 'new', directory: suggestRestoreTarget(snapshot.id)}, 1));
	const [setup, setSetup] = useState<Setup>({phase: 'edit'});
	const [candidates, setCandidates] = useState<readonly string[]>([]);
	const [targetUsed, setTargetUsed] = useState('');
	const checkAbort = useRef<AbortController | undefined>(undefined);
	const operation = useOperation<RestoreSummary>();
	const {state} = operation;
	const where = form.values.where === 'original' ? 'original' : 'new';
	const fields = buildRestoreFields(where);
	const directory = (form.values.directory ?? '').trim();
	const absolute = where === 'original' ? '/' : expandPath(directory === '' ? '.' : directory, cwd, home);
	const what = includes.length === 0 ? `the whole snapshot ${shortenId(snapshot.id)}` : `${includes.length} marked item${includes.length === 1 ? '' : 's'} of snapshot ${shortenId(snapshot.id)}`;

	useEffect(() => () => checkAbort.current?.abort(), []);

	const run = (target: string, policy: OverwriteMode): void => {
		setTargetUsed(target);
		setSetup({phase: 'edit'});
		operation.start(({signal, onProgress, onIssue}) =>
			runRestore(session.repo, snapshot.id, target, {includes: [...includes], overwrite: policy, signal, onProgress, onError: onIssue, loadTree: (id, treeSignal) => session.trees.load(id, treeSignal)}),
		);
	};

	const begin = async (): Promise<void> => {
		if (where === 'new' && directory === '') {
			operation.dispatch({type: 'invalid', error: 'Type the directory to restore into.'});
			return;
		}
		const problem = await checkRestoreTarget(absolute);
		if (problem !== undefined && problem !== 'not-empty') {
			operation.dispatch({type: 'invalid', error: problem});
			return;
		}
		if (problem === undefined && where === 'new') {
			run(absolute, 'never');
			return;
		}
		// Something exists there: find out what, then let the user choose.
		const controller = new AbortController();
		checkAbort.current = controller;
		setSetup({phase: 'checking', target: absolute, checked: 0});
		try {
			await session.ensureIndex();
			let last = 0;
			const conflicts = await scanRestoreTarget(session.trees, snapshot, includes, absolute, {
				signal: controller.signal,
				onProgress: (checked) => {
					const now = Date.now();
					if (now - last < 200) return;
					last = now;
					setSetup({phase: 'checking', target: absolute, checked});
				},
			});
			if (controller.signal.aborted) return;
			if (conflicts.existing === 0) run(absolute, 'never');
			else setSetup({phase: 'confirm', target: absolute, conflicts, policy: 'never'});
		} catch (error) {
			if (controller.signal.aborted) return;
			setSetup({phase: 'edit'});
			operation.dispatch({type: 'invalid', error: describeError(error)});
		}
	};

	useScreenKeys((input, key) => {
		if (setup.phase === 'checking') {
			if (key.escape) {
				checkAbort.current?.abort();
				setSetup({phase: 'edit'});
			}
			return;
		}
		if (setup.phase === 'confirm') {
			if (key.escape) setSetup({phase: 'edit'});
			else if (key.return) run(setup.target, setup.policy);
			else if (input === ' ' || key.rightArrow || key.leftArrow) {
				const index = RESTORE_POLICIES.indexOf(setup.policy);
				const next = RESTORE_POLICIES[(index + (key.leftArrow ? -1 : 1) + RESTORE_POLICIES.length) % RESTORE_POLICIES.length]!;
				setSetup({...setup, policy: next});
			}
			return;
		}
		switch (state.phase) {
			case 'edit': {
				if (key.escape) {
					navigate({type: 'pop'});
					return;
				}
				const result = readFormKey(input, key, fields, form);
				if (result === undefined) return;
				if (result.type === 'submit') void begin();
				else if (result.type === 'complete') {
					void completePath(form.values.directory ?? '', cwd, home).then((completion) => {
						setForm((current) => reduceForm(current, {type: 'set-value', name: 'directory', value: completion.value}, fields));
						setCandidates(completion.candidates);
					});
				} else {
					setForm((current) => reduceForm(current, result, fields));
					setCandidates([]);
					operation.dispatch({type: 'invalid', error: ''});
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
	const header = (
		<Text>
			<Text bold>Restore </Text>
			{truncateEnd(what, width - 10)}
		</Text>
	);
	if (setup.phase === 'checking') {
		return (
			<ScreenFrame title={title} help={CHECK_HELP} status={{text: `Checking what already exists in ${setup.target}… ${setup.checked} entries checked`}}>
				<Box flexDirection="column" paddingX={1}>
					{header}
					<Text> </Text>
					<Text>{truncateEnd(`Looking at ${setup.target} for files the restore would meet.`, width - 2)}</Text>
					<Text>{`${setup.checked} entries checked so far. Esc stops and goes back.`}</Text>
				</Box>
			</ScreenFrame>
		);
	}
	if (setup.phase === 'confirm') {
		const {conflicts} = setup;
		const examples = conflicts.examples.slice(0, Math.max(0, Math.min(conflicts.examples.length, height - 12)));
		return (
			<ScreenFrame title={title} help={CONFIRM_HELP} status={{text: 'Choose what happens to existing files, then Enter starts the restore.', tone: 'warning'}}>
				<Box flexDirection="column" paddingX={1}>
					{header}
					<Text>{'into ' + truncateStart(setup.target, width - 7)}</Text>
					<Text> </Text>
					<Text wrap="wrap">{describeConflicts(conflicts, setup.target)}</Text>
					{examples.map((example) => (
						<Text key={example} dimColor>{'  differs: ' + truncateStart(example, width - 14)}</Text>
					))}
					<Text> </Text>
					<FormView fields={[POLICY_FIELD]} state={{values: {policy: setup.policy}, errors: {}, focus: 0}} width={width - 2} height={2} />
					<Text wrap="wrap" bold>{describeRestoreConsequence(conflicts, setup.policy)}</Text>
					<Text> </Text>
					<Text dimColor wrap="wrap">Files are written whole (temporary name, then rename): a file is never left half written, also when the restore is cancelled.</Text>
				</Box>
			</ScreenFrame>
		);
	}
	if (state.phase === 'edit') {
		const shownIncludes = includes.slice(0, Math.max(1, height - 13));
		return (
			<ScreenFrame title={title} help={EDIT_HELP} textMode={fields[form.focus]?.kind !== 'choice'} status={state.error ? {text: state.error, tone: 'error'} : {text: where === 'new' ? 'Enter starts the restore into the new directory.' : 'Enter checks what exists at the original location first.'}}>
				<Box flexDirection="column" paddingX={1}>
					{header}
					{shownIncludes.map((item) => (
						<Text key={item}>{'  /' + truncateStart(item, width - 6)}</Text>
					))}
					{includes.length > shownIncludes.length ? <Text>{`  … and ${includes.length - shownIncludes.length} more`}</Text> : null}
					<Text> </Text>
					<FormView fields={fields} state={form} width={width - 2} height={where === 'new' ? 6 : 5} candidates={candidates} />
					{where === 'new' ? (
						<Text dimColor>{truncateEnd(`Into ${truncateStart(absolute, width - 8)}`, width - 2)}</Text>
					) : (
						<Text dimColor wrap="wrap">{`Files go back to ${describeRestoredItems('/', includes, snapshot).slice(0, 2).join(', ')}${includes.length > 2 || (includes.length === 0 && snapshot.paths.length > 2) ? ', …' : ''}. What exists there is checked first.`}</Text>
					)}
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
