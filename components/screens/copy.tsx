/**
 * Copies snapshots of the open repository to another saved repository (restic's `copy`): choose
 * the destination among the saved profiles, type its password (and secret options) when the
 * profile keeps none, then watch the copy: snapshot n of m, blobs and bytes, a bar. Only what the
 * destination lacks is uploaded; snapshots it already holds a copy of are skipped. Esc while it
 * runs asks before cancelling; the snapshots copied so far stay complete.
 */
import {useEffect, useMemo, useReducer, useRef, useState} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {copyBetweenRepositories, type CopyOutcome, type CopyProgress} from '../../engine/maintenance/copy.js';
import {findAdapter} from '../../adapters/registry.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {FormView, readFormKey} from '../ui/form-view.js';
import {formatBar} from '../ui/progress-view.js';
import {createFormState, isFormValid, reduceForm, type FormField} from '../state/form.js';
import {EMPTY_LIST, moveList, readListMove, visibleRange, type ListState} from '../state/list.js';
import {readLocationScheme} from '../connection.js';
import {findProfilePassword, readPasswordSourceKind} from '../password-source.js';
import type {Profile} from '../profiles.js';
import {describeError, describeLocation, describeOpenError, openSession, type Session} from '../session.js';
import {findMissingSecrets} from './unlock.js';
import {fitText, formatBytes, shortenId, truncateEnd} from '../format.js';

const CHOOSE_HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'choose'},
	{keys: 'Enter', action: 'copy'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Enter', action: 'on a repository: copy the snapshots into it (its password is asked when the profile keeps none)', more: true},
];
const PASSWORD_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'copy'},
	{keys: 'Esc', action: 'choose another repository'},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];
const RUNNING_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel (asks first; the snapshots copied so far stay)'}];
const DONE_HELP: readonly KeyHelp[] = [{keys: 'Enter', action: 'back to the snapshots'}, {keys: 'Esc', action: 'back'}];

/** Props of {@link CopyScreen}. */
export interface CopyScreenProps {
	readonly session: Session;
	/** The snapshots to copy. */
	readonly snapshots: readonly Snapshot[];
}

/** What the screen shows. */
type Phase =
	| {readonly name: 'choose'}
	| {readonly name: 'password'; readonly target: Profile}
	| {readonly name: 'opening'; readonly target: Profile}
	| {readonly name: 'running'; readonly target: Profile; readonly confirmCancel: boolean; readonly cancelling: boolean}
	| {readonly name: 'done'; readonly target: Profile; readonly outcomes: readonly CopyOutcome[]}
	| {readonly name: 'failed'; readonly target: Profile; readonly message: string; readonly cancelled: boolean};

/** One line per fact of a copy's progress (pure, for the view and its tests). */
export function describeCopyProgress(progress: CopyProgress | undefined): Array<[string, string]> {
	if (progress === undefined) return [['Status', 'opening both repositories and reading their indexes…']];
	const step = progress.phase === 'scan' ? 'reading the snapshot\'s trees' : progress.phase === 'save' ? 'saving the snapshot' : progress.phase === 'skip' ? 'already there, skipped' : progress.phase === 'done' ? 'finished' : 'copying data';
	return [
		['Snapshot', `${Math.min(progress.snapshot, progress.snapshots)} of ${progress.snapshots}${progress.snapshotId ? `  ${shortenId(progress.snapshotId)}` : ''}  (${step})`],
		['Data', `${progress.blobsDone} of ${progress.blobsTotal} blobs, ${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)}`],
		['So far', `${progress.copied} copied, ${progress.skipped} skipped`],
	];
}

/** The summary of a finished copy (pure). */
export function summarizeCopy(outcomes: readonly CopyOutcome[]): string {
	const copied = outcomes.filter((o) => o.kind === 'copied');
	const skipped = outcomes.length - copied.length;
	const bytes = copied.reduce((sum, o) => sum + (o.kind === 'copied' ? o.bytes : 0), 0);
	return `${copied.length} snapshot${copied.length === 1 ? '' : 's'} copied (${formatBytes(bytes)} read), ${skipped} already there`;
}

/** The copy screen. */
export function CopyScreen({session, snapshots}: CopyScreenProps) {
	const {navigate, profiles, env, color, trackOperation} = useAppContext();
	const {width, height} = useBodySize();
	const targets = useMemo(() => profiles.filter((p) => p.name !== session.profile.name), [profiles, session]);
	const [list, setList] = useState<ListState>(EMPTY_LIST);
	const [phase, setPhase] = useState<Phase>({name: 'choose'});
	const [error, setError] = useState<string>();
	const [progress, setProgress] = useState<CopyProgress>();
	const [lines, setLines] = useState<string[]>([]);
	const controller = useRef<AbortController | undefined>(undefined);

	const target = phase.name === 'choose' ? targets[list.cursor] : phase.target;
	const adapter = target === undefined ? undefined : findAdapter(readLocationScheme(target.location));
	const secretFields = useMemo(() => (target === undefined ? [] : findMissingSecrets(target, adapter, env)), [target, adapter, env]);
	const askPassword = target !== undefined && readPasswordSourceKind(target) === 'ask';
	const fields = useMemo<FormField[]>(() => [...secretFields, ...(askPassword ? [{name: 'password', label: 'Password', kind: 'secret' as const, required: true}] : [])], [secretFields, askPassword]);
	const [form, dispatchForm] = useReducer((state: ReturnType<typeof createFormState>, action: Parameters<typeof reduceForm>[1]) => reduceForm(state, action, fields), fields, (initial) => createFormState(initial));

	useEffect(() => () => controller.current?.abort(), []);

	const run = (chosen: Profile): void => {
		setError(undefined);
		setPhase({name: 'opening', target: chosen});
		const abort = new AbortController();
		controller.current = abort;
		const secrets = Object.fromEntries(secretFields.map((field) => [field.name, form.values[field.name] ?? '']));
		const done = (async () => {
			let password: string;
			try {
				password = askPassword ? (form.values.password ?? '') : (await findProfilePassword(chosen)) ?? '';
			} catch (caught) {
				setPhase({name: 'failed', target: chosen, message: describeError(caught), cancelled: false});
				return;
			}
			let destination: Session;
			try {
				destination = await openSession(chosen, password, {secrets, env});
			} catch (caught) {
				if (askPassword || secretFields.length > 0) {
					dispatchForm({type: 'set-value', name: 'password', value: ''});
					setError(describeOpenError(caught));
					setPhase({name: 'password', target: chosen});
				} else {
					setPhase({name: 'failed', target: chosen, message: describeOpenError(caught), cancelled: false});
				}
				return;
			}
			setPhase({name: 'running', target: chosen, confirmCancel: false, cancelling: false});
			try {
				const outcomes = await copyBetweenRepositories(session.repo, destination.repo, snapshots, {
					signal: abort.signal,
					onProgress: setProgress,
					onOutcome: (outcome) => setLines((previous) => [...previous, outcome.kind === 'copied'
						? `${shortenId(outcome.snapshot.id)} copied as ${shortenId(outcome.newId)} (${outcome.blobs} blobs, ${formatBytes(outcome.bytes)})`
						: `${shortenId(outcome.snapshot.id)} skipped: already copied as ${shortenId(outcome.existing)}`]),
				});
				setPhase({name: 'done', target: chosen, outcomes});
			} catch (caught) {
				setPhase({name: 'failed', target: chosen, message: describeError(caught), cancelled: abort.signal.aborted});
			} finally {
				await destination.close();
			}
		})();
		const untrack = trackOperation({cancel: () => abort.abort(), done});
		void done.finally(untrack);
	};

	const choose = (chosen: Profile): void => {
		if (!describeLocation(chosen.location).available) {
			setError(`${describeLocation(chosen.location).backend} is not available in this build.`);
			return;
		}
		if (fields.length > 0) setPhase({name: 'password', target: chosen});
		else run(chosen);
	};

	const listHeight = Math.max(1, height - 6);
	useScreenKeys((input, key) => {
		switch (phase.name) {
			case 'choose': {
				if (key.escape) navigate({type: 'pop'});
				else if (key.return && target !== undefined) choose(target);
				else {
					const move = readListMove(input, key);
					if (move !== undefined) setList((state) => moveList(state, move, {count: targets.length, height: listHeight}));
				}
				return;
			}
			case 'password': {
				if (key.escape) {
					setError(undefined);
					setPhase({name: 'choose'});
					return;
				}
				const result = readFormKey(input, key, fields, form);
				if (result === undefined || result.type === 'complete') return;
				if (result.type === 'submit') {
					dispatchForm({type: 'check-all'});
					if (isFormValid(reduceForm(form, {type: 'check-all'}, fields), fields)) run(phase.target);
					return;
				}
				dispatchForm(result);
				return;
			}
			case 'running': {
				if (phase.confirmCancel) {
					if (input === 'y' || input === 'Y') {
						controller.current?.abort();
						setPhase({...phase, confirmCancel: false, cancelling: true});
					} else if (input === 'n' || input === 'N' || key.escape) setPhase({...phase, confirmCancel: false});
				} else if (key.escape && !phase.cancelling) setPhase({...phase, confirmCancel: true});
				return;
			}
			case 'done':
			case 'failed':
				if (key.escape || key.return) {
					if (phase.name === 'done') session.forgetSnapshots();
					navigate({type: 'pop'});
				}
				return;
			case 'opening':
				return;
		}
	});

	const what = snapshots.length === 1 ? `snapshot ${shortenId(snapshots[0]!.id)}` : `${snapshots.length} snapshots`;
	const title = `${session.profile.name} › Copy ${what}`;
	let status: StatusMessage | undefined;
	if (error !== undefined) status = {text: error, tone: 'error'};
	else if (phase.name === 'choose') status = {text: targets.length === 0 ? 'No other saved repository to copy to.' : `Copy ${what} to which repository? Enter copies, Esc goes back.`};
	else if (phase.name === 'password') status = {text: `The password of ${phase.target.name}: Enter copies, Esc chooses another repository.`};
	else if (phase.name === 'opening') status = {text: `Opening ${phase.target.name}…`};
	else if (phase.name === 'running') status = phase.confirmCancel ? {text: 'Cancel the copy? The snapshots copied so far stay. y = cancel, n = keep going', tone: 'warning'} : {text: phase.cancelling ? 'Cancelling…' : `Copying to ${phase.target.name}… Esc cancels`};
	else if (phase.name === 'done') status = {text: `Done: ${summarizeCopy(phase.outcomes)}.`, tone: 'success'};
	else status = {text: `${phase.cancelled ? 'Cancelled' : 'The copy failed'}: ${phase.message}`, tone: phase.cancelled ? 'warning' : 'error'};

	const {start, end} = visibleRange(list, {count: targets.length, height: listHeight});
	return (
		<ScreenFrame title={title} help={phase.name === 'choose' ? CHOOSE_HELP : phase.name === 'password' ? PASSWORD_HELP : phase.name === 'done' || phase.name === 'failed' ? DONE_HELP : RUNNING_HELP} status={status} textMode={phase.name === 'password'}>
			<Box flexDirection="column" paddingX={1}>
				{phase.name === 'choose' ? (
					targets.length === 0 ? (
						<Box flexDirection="column">
							<Text>No other repository is saved.</Text>
							<Text wrap="wrap">Add the repository to copy to from the list of repositories (Esc twice, then a), then come back and press c.</Text>
						</Box>
					) : (
						<Box flexDirection="column">
							<Text bold>{fitText('Repository', 20) + truncateEnd('Location', width - 24)}</Text>
							{targets.slice(start, end).map((profile, offset) => {
								const index = start + offset;
								const where = describeLocation(profile.location);
								return (
									<Text key={profile.name} inverse={index === list.cursor}>
										{fitText(`${index === list.cursor ? '› ' : '  '}${profile.name}`, 20) + truncateEnd(`${where.backend}: ${where.location}`, width - 24)}
									</Text>
								);
							})}
						</Box>
					)
				) : (
					<Box flexDirection="column">
						<Text>
							<Text bold>{'To         '}</Text>
							{truncateEnd(`${phase.target.name} (${describeLocation(phase.target.location).backend}: ${describeLocation(phase.target.location).location})`, width - 14)}
						</Text>
						<Text> </Text>
						{phase.name === 'password' ? (
							<FormView fields={fields} state={form} width={width - 2} height={Math.max(3, Math.min(height - 6, fields.length * 2 + 2))} />
						) : (
							<Box flexDirection="column">
								{describeCopyProgress(progress).map(([label, value]) => (
									<Text key={label}>
										<Text bold>{label.padEnd(11)}</Text>
										{truncateEnd(value, width - 14)}
									</Text>
								))}
								<Text color={color ? 'green' : undefined}>{formatBar(progress && progress.bytesTotal > 0 ? progress.bytesDone / progress.bytesTotal : phase.name === 'done' ? 1 : 0, Math.max(10, width - 4))}</Text>
								<Text> </Text>
								{lines.slice(-Math.max(1, height - 10)).map((line, index) => (
									<Text key={index} dimColor>{truncateEnd(line, width - 2)}</Text>
								))}
							</Box>
						)}
					</Box>
				)}
			</Box>
		</ScreenFrame>
	);
}

